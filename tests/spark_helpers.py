"""The sample month the Spark tests audit: the README's (`coaltrace demo`), and its tables as Parquet."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.export.tables import export_tables
from coaltrace.store import Store

PERIOD = "2021-12"


def demo_and_tables(factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The demo's folder (its database audited on DuckDB) and its tables exported as Parquet."""
    demo = factory.mktemp("spark-demo")
    res = CliRunner().invoke(app, ["demo", str(demo), "--quiet"])
    assert res.exit_code == 0, res.output
    tables = factory.mktemp("spark-tables") / "tables"
    with Store(demo / "coaltrace.duckdb", read_only=True) as store:
        export_tables(store, tables)
    return demo, tables


def duckdb_findings(db: Path) -> list[tuple[str, str, str, float | None]]:
    """(finding id, rule, entity, tonnes) of the period's findings on DuckDB, by id."""
    with Store(db, read_only=True) as store:
        return [
            (r[0], r[1], r[2], r[3])
            for r in store.engine.rows(
                "SELECT finding_id, rule_id, entity_id, tonnes_at_risk FROM findings WHERE period = ? ORDER BY 1",
                [PERIOD],
            )
        ]
