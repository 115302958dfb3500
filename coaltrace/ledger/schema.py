"""The ledger's tables in the store, and the database's own id.

- `ledger_history`: every change, appended and never updated or deleted, each
  entry hashed with the one before it (`coaltrace.ledger.chain`);
- `ledger_items`: each item as its history leaves it, kept for reading (the
  history is the record; `ledger verify` checks the two agree);
- `ledger_findings`: the findings filed on each item, with their evidence as it
  was when filed (an audit run later replaces its findings; the ledger keeps
  what was signed for).

None of them is an audit view, so rule SQL cannot read them: the sandbox only
lets a rule name the views in `coaltrace.rules.views.READABLE`.

The database id (`meta.database_id`) is made once, the first time the ledger
is written; it starts the hash chain and is written into every exported sheet,
so a sheet from another database is known for what it is.
"""

from __future__ import annotations

import uuid

from coaltrace.engine import Engine

HISTORY = "ledger_history"
ITEMS = "ledger_items"
FINDINGS = "ledger_findings"
TABLES = (HISTORY, ITEMS, FINDINGS)

HISTORY_COLUMNS: tuple[tuple[str, str], ...] = (
    ("seq", "BIGINT"),
    ("item_id", "VARCHAR"),
    ("changed_at", "TIMESTAMP"),
    ("on_date", "DATE"),
    ("actor", "VARCHAR"),
    ("action", "VARCHAR"),
    ("from_status", "VARCHAR"),
    ("to_status", "VARCHAR"),
    ("signer", "VARCHAR"),
    ("note", "VARCHAR"),
    ("fields", "VARCHAR"),  # canonical JSON, as hashed
    ("evidence", "VARCHAR"),  # canonical JSON: finding id -> sha256 of its evidence
    ("prev_hash", "VARCHAR"),
    ("hash", "VARCHAR"),
)

ITEM_COLUMNS: tuple[tuple[str, str], ...] = (
    ("item_id", "VARCHAR"),
    ("status", "VARCHAR"),
    ("problem_type", "VARCHAR"),
    ("severity", "VARCHAR"),
    ("source", "VARCHAR"),
    ("subject_kind", "VARCHAR"),
    ("subject_id", "VARCHAR"),
    ("found_by", "VARCHAR"),
    ("found_on", "DATE"),
    ("deadline", "DATE"),
    ("county", "VARCHAR"),
    ("facility_id", "VARCHAR"),
    ("facility_name", "VARCHAR"),
    ("facility_kind", "VARCHAR"),
    ("lat", "DOUBLE"),
    ("lon", "DOUBLE"),
    ("description", "VARCHAR"),
    ("unit", "VARCHAR"),
    ("owner", "VARCHAR"),
    ("requirement", "VARCHAR"),
    ("signer", "VARCHAR"),
    ("closed_on", "DATE"),
    ("note", "VARCHAR"),
    ("recurrences", "INTEGER"),
    ("periods", "VARCHAR[]"),
    ("rule_ids", "VARCHAR[]"),
    ("checks_applicable", "INTEGER[]"),
    ("field_checks", "VARCHAR"),  # JSON list of {check, result, note}
    ("samples", "VARCHAR[]"),
    ("lookbacks", "VARCHAR[]"),
    ("version", "INTEGER"),
    ("created_at", "TIMESTAMP"),
    ("updated_at", "TIMESTAMP"),
)

FINDING_COLUMNS: tuple[tuple[str, str], ...] = (
    ("item_id", "VARCHAR"),
    ("finding_id", "VARCHAR"),
    ("period", "VARCHAR"),
    ("rule_id", "VARCHAR"),
    ("rule_version", "INTEGER"),
    ("severity", "VARCHAR"),
    ("entity_kind", "VARCHAR"),
    ("entity_id", "VARCHAR"),
    ("facility_id", "VARCHAR"),
    ("county", "VARCHAR"),
    ("tonnes_at_risk", "DOUBLE"),
    ("tonnes_role", "VARCHAR"),
    ("origin_class", "VARCHAR"),
    ("title_zh", "VARCHAR"),
    ("title_en", "VARCHAR"),
    ("evidence", "VARCHAR"),
    ("evidence_sha256", "VARCHAR"),
    ("run_id", "VARCHAR"),
    ("filed_at", "TIMESTAMP"),
)

ITEM_NAMES = tuple(name for name, _ in ITEM_COLUMNS)
FINDING_NAMES = tuple(name for name, _ in FINDING_COLUMNS)
HISTORY_NAMES = tuple(name for name, _ in HISTORY_COLUMNS)


def _ddl(name: str, columns: tuple[tuple[str, str], ...]) -> str:
    return f"CREATE TABLE IF NOT EXISTS {name} ({', '.join(f'{c} {t}' for c, t in columns)})"


def ensure_tables(engine: Engine) -> str:
    """Create the ledger's tables and the database id if they are missing; return the id. Call in a transaction."""
    for name, columns in ((HISTORY, HISTORY_COLUMNS), (ITEMS, ITEM_COLUMNS), (FINDINGS, FINDING_COLUMNS)):
        engine.execute(_ddl(name, columns))
    found = database_id(engine)
    if found is None:
        found = uuid.uuid4().hex
        engine.execute("INSERT INTO meta VALUES ('database_id', ?)", [found])
    return found


def exists(engine: Engine) -> bool:
    """Whether this database has a ledger (a read-only store may have none yet)."""
    return bool(
        engine.rows(
            "SELECT 1 FROM duckdb_tables() WHERE table_name = ? AND NOT temporary AND database_name = current_database()",
            [HISTORY],
        )
    )


def database_id(engine: Engine) -> str | None:
    value = engine.scalar("SELECT value FROM meta WHERE key = 'database_id'")
    return str(value) if value is not None else None
