"""A two-month sample, loaded and audited once per test session, and a fresh copy of its database per test."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from typer.testing import CliRunner, Result

from coaltrace.cli import app


@dataclass(frozen=True)
class Audited:
    """The sample (December 2021 and January 2022) loaded, with December audited."""

    sample: Path
    db: Path  # the pristine database: copy it, never change it
    truth: pl.DataFrame
    december: dict[str, Any]  # `audit --json` of December


def prepare(root: Path) -> Audited:
    runner = CliRunner()
    sample, db = root / "sample", root / "pristine.duckdb"
    done = runner.invoke(app, ["sample", str(sample), "--scale", "0.02", "--seed", "7", "--months", "2"])
    assert done.exit_code == 0, done.output
    done = runner.invoke(app, ["load", str(sample / "data"), "--db", str(db)])
    assert done.exit_code == 0, done.output
    done = runner.invoke(app, ["audit", "--period", "2021-12", "--db", str(db), "--json"])
    assert done.exit_code == 0, done.output
    truth = pl.read_csv(sample / "truth.csv", infer_schema_length=0)
    return Audited(sample, db, truth, json.loads(done.stdout))


def copy_db(audited: Audited, to: Path) -> Path:
    target = to / "ledger.duckdb"
    shutil.copy(audited.db, target)
    return target


def cli(db: Path, *args: str, lang: str = "en") -> Result:
    return CliRunner().invoke(app, ["--lang", lang, *args, "--db", str(db)])


def ok(db: Path, *args: str, lang: str = "en") -> Result:
    done = cli(db, *args, lang=lang)
    assert done.exit_code == 0, f"{args}: {done.output}"
    return done


def items(db: Path, *args: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = json.loads(ok(db, "ledger", "list", "--json", *args).stdout)
    return rows


def item_of(db: Path, facility_id: str, problem_type: str) -> dict[str, Any]:
    [found] = [r for r in items(db) if r["facility_id"] == facility_id and r["problem_type"] == problem_type]
    return found


def case_facility(audited: Audited, case: str, rule: str) -> str:
    """The facility of a planted case (`01.1`) as truth.csv names it."""
    rows = audited.truth.filter(
        (pl.col("case_id") == case) & (pl.col("rule_id") == rule) & (pl.col("period") == "2021-12")
    )
    return str(rows["facility_id"][0])


def history_count(db: Path) -> int:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        [(n,)] = con.execute("SELECT count(*) FROM ledger_history").fetchall()
    finally:
        con.close()
    return int(n)
