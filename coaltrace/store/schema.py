"""The DuckDB schema, derived from the contract (no second list of columns here).

Every contract table `t` becomes:
- `t`: its columns, plus lineage: `_load_id`, `_file`, `_sheet`, `_line` (the
  spreadsheet row the record came from, header = line 1);
- `t_revisions`: the same columns and lineage, plus `_revised_at` and
  `_revised_by` (the load that replaced the row): older versions of a record
  that came again under the same key with other values.

No PRIMARY KEY constraints: DuckDB checks them eagerly inside a transaction, and
the loader keeps keys unique itself (see `coaltrace.ingest.merge`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coaltrace.contract import TABLES, Table

if TYPE_CHECKING:
    from coaltrace.engine import Engine

LINEAGE = (
    ("_load_id", "VARCHAR"),
    ("_file", "VARCHAR"),
    ("_sheet", "VARCHAR"),
    ("_line", "BIGINT"),
)

META_DDL = """
CREATE TABLE IF NOT EXISTS loaded_files (
    load_id VARCHAR, loaded_at TIMESTAMP, table_name VARCHAR, file VARCHAR,
    path VARCHAR, sheet VARCHAR, sha256 VARCHAR, encoding VARCHAR,
    rows_read BIGINT, rows_loaded BIGINT, rows_present BIGINT,
    rows_revised BIGINT, rows_quarantined BIGINT
);
CREATE TABLE IF NOT EXISTS quarantine (
    load_id VARCHAR, table_name VARCHAR, file VARCHAR, sheet VARCHAR,
    sha256 VARCHAR, line BIGINT, column_name VARCHAR, raw_value VARCHAR,
    reason VARCHAR
);
CREATE TABLE IF NOT EXISTS meta (key VARCHAR, value VARCHAR);
"""


def mark_data_changed(engine: Engine, stamp: str) -> None:
    """Record that the contract tables changed (a load that kept rows): what the provenance's
    fingerprint reads instead of hashing every row on every read."""
    engine.execute("DELETE FROM meta WHERE key = 'data_version'")
    engine.execute("INSERT INTO meta VALUES ('data_version', ?)", [stamp])


def data_version(engine: Engine) -> str | None:
    row = engine.first("SELECT value FROM meta WHERE key = 'data_version'")
    return None if row is None else str(row[0])


def column_defs(table: Table) -> list[tuple[str, str]]:
    return [(c.name, c.sql_type) for c in table.columns]


def table_ddl(table: Table) -> str:
    cols = [*column_defs(table), *LINEAGE]
    body = ",\n    ".join(f'"{n}" {t}' for n, t in cols)
    rev = ",\n    ".join(f'"{n}" {t}' for n, t in [*cols, ("_revised_at", "TIMESTAMP"), ("_revised_by", "VARCHAR")])
    return (
        f"CREATE TABLE IF NOT EXISTS {table.name} (\n    {body}\n);\n"
        f"CREATE TABLE IF NOT EXISTS {table.name}_revisions (\n    {rev}\n);\n"
    )


def full_ddl() -> str:
    return META_DDL + "".join(table_ddl(t) for t in TABLES.values())


def _expected(table: Table) -> dict[str, list[tuple[str, str]]]:
    cols = [*column_defs(table), *LINEAGE]
    return {
        table.name: cols,
        f"{table.name}_revisions": [*cols, ("_revised_at", "TIMESTAMP"), ("_revised_by", "VARCHAR")],
    }


def upgrade_sql(existing: dict[str, list[str]]) -> list[str]:
    """Statements that give a table made by an older coaltrace the contract's newer columns (as NULL).

    The loader inserts by position, so a new column cannot simply be added at the end: the table
    is rebuilt in the contract's order. EXISTING: table name -> its columns, in order."""
    out: list[str] = []
    for table in TABLES.values():
        for name, cols in _expected(table).items():
            have = existing.get(name)
            if have is None or have == [c for c, _ in cols]:
                continue
            select = ", ".join(f'"{c}"' if c in have else f'CAST(NULL AS {t}) AS "{c}"' for c, t in cols)
            out += [
                f"CREATE TABLE _upgrade_{name} AS SELECT {select} FROM {name}",
                f"DROP TABLE {name}",
                f"ALTER TABLE _upgrade_{name} RENAME TO {name}",
            ]
    return out
