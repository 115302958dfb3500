"""`load-findings DIR`: an audit that ran elsewhere (on Spark), brought into a local store.

The folder is what `coaltrace audit --engine spark --out DIR` writes
(`coaltrace.spark.output`, which names its files). Reading it needs no pyspark.
Bringing it in stores, all or nothing:

- the findings, replacing the period's findings of the rules that run ran,
  exactly as an audit on this machine replaces them;
- the run in `audit_runs`, its figures counted once again here from the
  findings (the same SQL as on Spark, so the same figures);
- the period's balances, flows and origin shares, so the report, the yard
  page and `trace` show what the findings rest on;
- the registers (facilities, licences, zones), when the store has none: a
  store made only for the findings then has names, counties and places;
  a store that has registers keeps its own;
- the findings filed in the ledger, as an audit here files them.

Bringing in the same folder again changes nothing.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coaltrace.config import AuditConfig, ProvenanceConfig
from coaltrace.errors import InputFileError, Location
from coaltrace.period import Period
from coaltrace.provenance.storage import stored_frame
from coaltrace.rules.findings import NAMES, ensure_tables
from coaltrace.rules.runner import AuditResult, record_run
from coaltrace.spark.output import AUDIT, FINDINGS, LAYOUT, PROVENANCE, REGISTER_TABLES, REGISTERS
from coaltrace.store import Store
from coaltrace.store.schema import mark_data_changed

if TYPE_CHECKING:
    import polars as pl

PROVENANCE_TABLES = ("balances", "running_breaches", "origin_shares", "flows")


@dataclass(frozen=True)
class Imported:
    run_id: str
    period: str
    findings: int
    registers_loaded: bool  # False: the store's own registers were kept
    result: AuditResult


def _bad(folder: Path, name: str, message: str, zh: str) -> InputFileError:
    return InputFileError(
        message,
        zh=zh,
        location=Location(file=str(folder / name)),
        hint="Give the folder `coaltrace audit --engine spark --out DIR` wrote.",
        hint_zh="请指定 `coaltrace audit --engine spark --out 目录` 写出的目录。",
    )


@dataclass(frozen=True)
class AuditFolder:
    """An audit output folder, read and checked, before anything is written."""

    folder: Path
    record: dict[str, Any]
    result: AuditResult
    findings: pl.DataFrame
    provenance: dict[str, pl.DataFrame]


def read_folder(folder: Path) -> AuditFolder:
    """The folder's audit record, findings and provenance tables, checked."""
    import polars as pl

    audit = folder / AUDIT
    if not audit.is_file():
        raise _bad(
            folder, AUDIT, "not a coaltrace audit output: no audit.json", "不是 coaltrace 审计输出目录：缺少 audit.json"
        )
    try:
        record = json.loads(audit.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as e:
        raise _bad(folder, AUDIT, f"cannot be read: {e}", "无法读取") from None
    if not isinstance(record, dict) or record.get("layout") != LAYOUT:
        raise _bad(
            folder,
            AUDIT,
            f"layout {record.get('layout') if isinstance(record, dict) else None!r}, this coaltrace reads {LAYOUT!r}",
            "格式版本不符",
        )
    try:
        findings = pl.read_parquet(folder / FINDINGS)
    except (OSError, pl.exceptions.PolarsError) as e:
        raise _bad(folder, FINDINGS, f"cannot be read: {str(e).splitlines()[0]}", "无法读取") from None
    missing = [n for n in NAMES if n not in findings.columns]
    if missing:
        raise _bad(folder, FINDINGS, f"columns missing: {', '.join(missing)}", f"缺少列：{'、'.join(missing)}")
    result = AuditResult.from_summary(record["summary"])
    frames = {}
    for name in PROVENANCE_TABLES:
        path = folder / PROVENANCE / f"{name}.parquet"
        if not path.is_file():
            raise _bad(folder, f"{PROVENANCE}/{name}.parquet", "missing", "缺失")
        frames[name] = stored_frame(name, pl.read_parquet(path), result.period)
    return AuditFolder(folder, record, result, findings.select(NAMES), frames)


def load_findings(store: Store, given: AuditFolder | Path, config: AuditConfig | None = None) -> Imported:
    """Bring the audit output GIVEN (a folder, or one already read) into STORE; all or nothing."""
    import polars as pl

    from coaltrace.provenance.current import build_record
    from coaltrace.provenance.storage import create_tables, write_period
    from coaltrace.rules.load import load_rules

    config = config or AuditConfig()
    audit = given if isinstance(given, AuditFolder) else read_folder(given)
    folder, record, result, findings, frames = (
        audit.folder,
        audit.record,
        audit.result,
        audit.findings,
        audit.provenance,
    )
    period = Period.parse(result.period)
    ruleset = load_rules(None)
    known = {r.id for r in ruleset}
    checks = {r.rule_id: tuple(ruleset.get(r.rule_id).checks.check) if r.rule_id in known else () for r in result.rules}
    values = record.get("config", {}).get("params", {})
    provenance_config = ProvenanceConfig.model_validate(record.get("provenance_config") or {})

    ensure_tables(store)
    create_tables(store)
    with store.transaction() as engine:
        empty = not engine.scalar("SELECT count(*) FROM facilities")
        if empty:
            for name in REGISTER_TABLES:
                path = folder / REGISTERS / f"{name}.parquet"
                if path.is_file():
                    rows = pl.read_parquet(path).with_columns(pl.lit(f"spark:{result.run_id}").alias("_load_id"))
                    engine.append(name, rows.to_arrow())
            mark_data_changed(engine, f"spark:{result.run_id}")
        # The build is the Spark audit's, recorded as current for the data this store now holds.
        provenance_run = build_record(store, period, provenance_config, f"spark:{record.get('input')}", 0.0)
        write_period(engine, result.period, {**frames, "provenance_runs": provenance_run})
        record_run(
            store,
            result,
            findings,
            values=values,
            config=config.model_copy(update={"source": record.get("config", {}).get("source")}),
            checks=checks,
        )
    return Imported(result.run_id, result.period, findings.height, empty, result)
