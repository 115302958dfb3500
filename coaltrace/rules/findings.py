"""The findings table: what the audit found, with evidence, kept per period.

A finding's id depends only on the rule, the entity and the period, so the
same problem keeps its id from run to run and a ledger can follow it. A rule's
rows become findings here (`group_rows`): one per entity, with its tonnes at
risk, what those tonnes are (`tonnes_role`, see `coaltrace.rules.model.TonnesRole`)
and up to `EVIDENCE_ROWS` of the rows behind it, each with its file and line.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from coaltrace.numbers import decimals_for
from coaltrace.period import Period
from coaltrace.severity import Severity, rank_sql
from coaltrace.store import Store

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

    from coaltrace.rules.model import Rule

# Enough rows for an inspector to see the pattern and check it by hand; the rest are counted.
EVIDENCE_ROWS = 50
LINEAGE = ("_table", "_file", "_sheet", "_line")
# An optional column a rule returns to order its evidence rows (not itself shown).
ORDER = "_order"

COLUMNS: tuple[tuple[str, str], ...] = (
    ("finding_id", "VARCHAR"),
    ("rule_id", "VARCHAR"),
    ("rule_version", "INTEGER"),
    ("severity", "VARCHAR"),
    ("entity_kind", "VARCHAR"),
    ("entity_id", "VARCHAR"),
    ("facility_id", "VARCHAR"),
    ("county", "VARCHAR"),
    ("period", "VARCHAR"),
    ("tonnes_at_risk", "DOUBLE"),
    ("tonnes_role", "VARCHAR"),
    ("origin_class", "VARCHAR"),
    ("evidence", "JSON"),
    ("params", "JSON"),
    ("config", "JSON"),
    ("title_zh", "VARCHAR"),
    ("title_en", "VARCHAR"),
    ("created_at", "TIMESTAMP"),
    ("run_id", "VARCHAR"),
)
NAMES = tuple(name for name, _ in COLUMNS)

AUDIT_RUNS: tuple[tuple[str, str], ...] = (
    ("run_id", "VARCHAR"),
    ("period", "VARCHAR"),
    ("started_at", "TIMESTAMP"),
    ("seconds", "DOUBLE"),
    ("rules", "JSON"),
    ("config", "JSON"),
    ("findings", "BIGINT"),
    ("summary", "JSON"),  # the audit's summary as `coaltrace audit --json` prints it
)

SEVERITY_RANK_SQL = rank_sql("severity")


def ensure_tables(store: Store) -> None:
    """Create the findings and audit_runs tables, and add columns a database from an older version lacks.

    Writes nothing when all is there, so a read-only store passes.
    """
    have = {
        (t, c)
        for t, c in store.engine.rows(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_name IN ('findings', 'audit_runs')"
        )
    }
    for table, columns in (("findings", COLUMNS), ("audit_runs", AUDIT_RUNS)):
        missing = [(name, kind) for name, kind in columns if (table, name) not in have]
        if not missing:
            continue
        body = ", ".join(f"{name} {kind}" for name, kind in columns)
        store.engine.execute(f"CREATE TABLE IF NOT EXISTS {table} ({body})")
        for name, kind in missing:
            store.engine.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name} {kind}")


def finding_id(rule_id: str, entity_kind: str, entity_id: str, period: str) -> str:
    """sha1(rule_id|entity_kind|entity_id|period), first 16 hex digits."""
    return hashlib.sha1(f"{rule_id}|{entity_kind}|{entity_id}|{period}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Staging:
    """What every finding of one rule in one audit shares."""

    period: Period
    values: dict[str, Any]
    config: dict[str, Any]
    counties_off: list[str]
    run_id: str
    created_at: datetime


def group_rows(rule: Rule, rows: pa.Table, counties: pl.DataFrame, s: Staging) -> pl.DataFrame:
    """The rule's rows as findings, one per entity, in the findings table's columns.

    COUNTIES maps facility_id to county, for rows that do not say theirs.
    """
    import polars as pl

    from coaltrace.errors import RuleError

    frame = pl.from_arrow(rows)
    assert isinstance(frame, pl.DataFrame)
    # An exact decimal (Spark divides into one where DuckDB gives a double) is a number like any other.
    frame = frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64))
    names = set(frame.columns)
    if "entity_id" not in names:
        raise RuleError(f"rule {rule.id}: the query returned no entity_id column")
    shown = [c for c in LINEAGE if c in names] + [c for c in rule.evidence if c not in LINEAGE]
    numeric = {c for c in shown if frame.schema[c].is_float()}
    evidence = pl.struct([pl.col(c).round(decimals_for(c)) if c in numeric else pl.col(c) for c in shown])
    # Which rows a capped finding keeps: the rule's `_order` (a running stock in time), else the
    # heaviest records first (rows without tonnes, such as the register line, ahead), else file order.
    lineage = [c for c in ("_file", "_line") if c in names]
    if ORDER in names:
        keys, descending = [ORDER, *lineage], [False] * (1 + len(lineage))
    elif "tonnes" in shown:
        keys, descending = ["tonnes", *lineage], [True] + [False] * len(lineage)
    else:
        keys, descending = [], []
    kept = (evidence.sort_by(keys, descending=descending, nulls_last=False) if keys else evidence.sort()).head(
        EVIDENCE_ROWS
    )
    severity = (
        pl.col("severity").replace_strict({s.value: s.rank for s in Severity}, default=None, return_dtype=pl.Int8).max()
        if "severity" in names
        else pl.lit(None, dtype=pl.Int8)
    )

    def first(col: str, dtype: Any) -> pl.Expr:
        return pl.col(col).min() if col in names else pl.lit(None, dtype=dtype)

    grouped = (
        frame.filter(pl.col("entity_id").is_not_null())
        .with_columns(pl.col("entity_id").cast(pl.String))
        .group_by("entity_id")
        .agg(
            first("facility_id", pl.String).cast(pl.String).alias("facility_id"),
            first("county", pl.String).cast(pl.String).alias("row_county"),
            (pl.col("tonnes_at_risk").max() if "tonnes_at_risk" in names else pl.lit(None, dtype=pl.Float64))
            .cast(pl.Float64)
            .alias("tonnes_at_risk"),
            severity.alias("sev_rank"),
            kept.alias("rows"),
            pl.len().alias("total_rows"),
        )
        .join(counties, on="facility_id", how="left")
        .with_columns(pl.coalesce("row_county", "county").alias("county"))
        .filter(~pl.col("county").fill_null("").is_in(s.counties_off))
        .sort("entity_id")
    )
    ranks = {s.rank: s.value for s in Severity}
    ids = [finding_id(rule.id, rule.entity.value, e, s.period.label) for e in grouped["entity_id"]]
    proof = [
        json.dumps({"rows": r, "total_rows": n}, ensure_ascii=False, default=str)
        for r, n in zip(grouped["rows"].to_list(), grouped["total_rows"], strict=True)
    ]
    dumped = {k: json.dumps(v, ensure_ascii=False, default=str) for k, v in (("p", s.values), ("c", s.config))}
    return grouped.select(
        pl.Series("finding_id", ids, dtype=pl.String),
        pl.lit(rule.id).alias("rule_id"),
        pl.lit(rule.version, dtype=pl.Int32).alias("rule_version"),
        pl.col("sev_rank").replace_strict(ranks, default=rule.severity.value, return_dtype=pl.String).alias("severity"),
        pl.lit(rule.entity.value).alias("entity_kind"),
        "entity_id",
        "facility_id",
        "county",
        pl.lit(s.period.label).alias("period"),
        pl.col("tonnes_at_risk").round(decimals_for("tonnes_at_risk")),
        pl.lit(rule.tonnes.role.value).alias("tonnes_role"),
        pl.lit(rule.tonnes.origin_class.value if rule.tonnes.origin_class else None, dtype=pl.String).alias(
            "origin_class"
        ),
        pl.Series("evidence", proof, dtype=pl.String),
        pl.lit(dumped["p"]).alias("params"),
        pl.lit(dumped["c"]).alias("config"),
        pl.lit(rule.title.zh).alias("title_zh"),
        pl.lit(rule.title.en).alias("title_en"),
        pl.lit(s.created_at).alias("created_at"),
        pl.lit(s.run_id).alias("run_id"),
    )


@dataclass(frozen=True)
class FindingFilter:
    period: str | None = None
    rule_id: str | None = None
    min_severity: Severity | None = None
    facility_id: str | None = None
    county: str | None = None


def query_findings(store: Store, f: FindingFilter | None = None) -> list[dict[str, Any]]:
    """Findings, worst first (severity, tonnes at risk), then by id for a stable order.

    Reads only (the store may be read-only): no findings table yet means no findings.
    """
    if not store.engine.rows("SELECT 1 FROM duckdb_tables() WHERE table_name = 'findings' AND NOT temporary"):
        return []
    f = f or FindingFilter()
    conditions: list[tuple[str, object]] = [
        ("period = ?", f.period),
        ("rule_id = ?", f.rule_id),
        (f"{SEVERITY_RANK_SQL} >= ?", f.min_severity.rank if f.min_severity else None),
        ("facility_id = ?", f.facility_id),
        ("county = ?", f.county),
    ]
    where = ["TRUE", *(sql for sql, value in conditions if value)]
    args = [value for _, value in conditions if value]
    rows = store.query(
        f"SELECT {', '.join(NAMES)} FROM findings WHERE {' AND '.join(where)} "
        f"ORDER BY {SEVERITY_RANK_SQL} DESC, tonnes_at_risk DESC NULLS LAST, rule_id, entity_id, finding_id",
        args,
    )
    for r in rows:
        for key in ("evidence", "params", "config"):
            if isinstance(r[key], str):
                r[key] = json.loads(r[key])
    return rows
