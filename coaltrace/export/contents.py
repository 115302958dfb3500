"""What the analysts' exports hold: facilities, flows, findings and round trips of one period.

Everything is read from the stored provenance (balances, flows, origin shares,
the origins of the coal on each flow) and the audit's findings, so an export
says what the audit found and nothing else. Rows are facilities and aggregated
flows (one per seller and buyer), never trips.

Filters (`ExportFilter`) keep:
- `county`: facilities of the county; flows with either end in it; findings in it;
- `rule`, `min_severity`: facilities with a finding of that rule (at or above that
  severity); flows that carry such a finding, or that leave a facility with one
  (the coal came out of a place the rule found);
- `min_share`: facilities and flows where at least that share of the coal is at
  risk (unlicensed, over capacity or unsourced, proportional policy).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from coaltrace.labels import label
from coaltrace.numbers import tidy
from coaltrace.period import Period
from coaltrace.rules.findings import SEVERITY_RANK_SQL, FindingFilter, query_findings
from coaltrace.severity import Severity
from coaltrace.store import Store

if TYPE_CHECKING:
    import polars as pl

# Origin classes, in the order a table shows them; `at risk` is the first three.
CLASSES = ("licensed", "over_capacity", "unlicensed", "unsourced", "data_gap", "opening_stock")
AT_RISK = ("over_capacity", "unlicensed", "unsourced")
# Register columns a user needs on a map or a page; older databases may lack the last three.
REGISTER = ("name", "kind", "uscc", "county", "status", "status_since", "lat", "lon", "address", "legal_rep", "phone")
PATH_DEPTH = 4


@dataclass(frozen=True)
class ExportFilter:
    rule: str | None = None
    min_severity: Severity | None = None
    county: str | None = None
    min_share: float | None = None

    @property
    def by_findings(self) -> bool:
        return self.rule is not None or self.min_severity is not None

    @property
    def any(self) -> bool:
        return self.by_findings or self.county is not None or self.min_share is not None


def register_columns(store: Store) -> list[str]:
    """The REGISTER columns this database's facilities table has (a database made before a column was added lacks it)."""
    have = {
        r[0]
        for r in store.engine.rows("SELECT column_name FROM information_schema.columns WHERE table_name = 'facilities'")
    }
    return [c for c in REGISTER if c in have]


def _has_findings(store: Store) -> bool:
    return bool(store.engine.rows("SELECT 1 FROM duckdb_tables() WHERE table_name = 'findings' AND NOT temporary"))


def _register_sql(store: Store) -> str:
    have = set(register_columns(store))
    cols = ", ".join(f"any_value({c}) AS {c}" if c in have else f"NULL AS {c}" for c in REGISTER)
    return f"SELECT facility_id, {cols} FROM facilities GROUP BY facility_id"


def _shares_sql(table: str, keys: str) -> str:
    sums = ", ".join(f"COALESCE(sum(share) FILTER (WHERE origin_class = '{c}'), 0) AS {c}_share" for c in CLASSES)
    return f"SELECT {keys}, {sums} FROM {table} WHERE period = $period AND policy = 'proportional' GROUP BY ALL"


def facility_frame(store: Store, period: Period, lang: str) -> pl.DataFrame:
    """Every facility of the period's balance, with its register entry, balance, origin shares and findings."""
    import polars as pl

    findings = (
        f"""SELECT facility_id, count(*) AS findings, max({SEVERITY_RANK_SQL}) AS worst_rank,
                   list(DISTINCT rule_id ORDER BY rule_id) AS rules
            FROM findings WHERE period = $period AND facility_id IS NOT NULL GROUP BY 1"""
        if _has_findings(store)
        else "SELECT NULL::VARCHAR AS facility_id, 0 AS findings, 0 AS worst_rank, []::VARCHAR[] AS rules WHERE FALSE"
    )
    at_risk = (
        """SELECT facility_id, sum(tonnes) AS tonnes_at_risk FROM (
               SELECT facility_id, origin_class, max(tonnes) AS tonnes FROM (
                   SELECT rule_id, facility_id, origin_class, sum(tonnes_at_risk) AS tonnes FROM findings
                   WHERE period = $period AND tonnes_role = 'origin' AND facility_id IS NOT NULL
                     AND tonnes_at_risk > 0 GROUP BY ALL) GROUP BY ALL) GROUP BY 1"""
        if _has_findings(store)
        else "SELECT NULL::VARCHAR AS facility_id, 0.0 AS tonnes_at_risk WHERE FALSE"
    )
    shares = ", ".join(f"COALESCE(s.{c}_share, 0) AS {c}_share" for c in CLASSES)
    frame = store.engine.frame(
        f"""WITH reg AS ({_register_sql(store)}),
                 s AS ({_shares_sql("origin_shares", "facility_id")}),
                 f AS ({findings}),
                 r AS ({at_risk})
            SELECT b.facility_id, COALESCE(reg.name, b.name) AS name, COALESCE(reg.kind, b.kind) AS kind,
                   COALESCE(reg.county, b.county) AS county, reg.status, reg.status_since, reg.uscc,
                   reg.address, reg.legal_rep, reg.phone, reg.lat, reg.lon, b.registered,
                   b.licence_state, b.opening_stock_t, b.inflow_t, b.usable_inflow_t, b.production_t,
                   b.outflow_t,
                   b.opening_stock_t + b.usable_inflow_t + b.production_t - b.outflow_t AS closing_stock_computed_t,
                   b.closing_stock_t AS closing_stock_counted_t, b.unsourced_t, b.data_gap_t, {shares},
                   {" + ".join(f"COALESCE(s.{c}_share, 0)" for c in AT_RISK)} AS at_risk_share,
                   COALESCE(r.tonnes_at_risk, 0) AS tonnes_at_risk,
                   COALESCE(f.findings, 0) AS findings, COALESCE(f.worst_rank, 0) AS worst_rank,
                   COALESCE(f.rules, []::VARCHAR[]) AS rules
            FROM balances b
            LEFT JOIN reg USING (facility_id) LEFT JOIN s USING (facility_id)
            LEFT JOIN f USING (facility_id) LEFT JOIN r USING (facility_id)
            WHERE b.period = $period
            ORDER BY b.facility_id""",
        {"period": period.label},
    )
    return frame.with_columns(
        pl.col("kind").replace_strict(_labels("facility_kind", lang), default=pl.col("kind")).alias("kind_label"),
        pl.col("status")
        .replace_strict(_labels("facility_status", lang), default=pl.col("status"))
        .alias("status_label"),
        pl.col("licence_state")
        .replace_strict(_labels("licence_state", lang), default=pl.col("licence_state"))
        .alias("licence_state_label"),
        _worst_severity(),
    ).drop("worst_rank")


def _labels(family: str, lang: str) -> dict[str, str]:
    from coaltrace.labels import LABELS

    return {code: text.say(lang) for code, text in LABELS[family].items()}


def _worst_severity() -> pl.Expr:
    import polars as pl

    ranks = {s.rank: s.value for s in Severity}
    return pl.col("worst_rank").replace_strict(ranks, default=None, return_dtype=pl.String).alias("worst_severity")


def flow_frame(store: Store, period: Period) -> pl.DataFrame:
    """Every flow of the period (seller to buyer, products summed), with the origins of its coal,
    the findings on it and the heaviest path its coal came along."""
    import polars as pl

    findings = (
        f"""SELECT entity_id AS flow_id, count(*) AS findings, max({SEVERITY_RANK_SQL}) AS worst_rank,
                   list(finding_id ORDER BY finding_id) AS finding_ids,
                   list(DISTINCT rule_id ORDER BY rule_id) AS rules
            FROM findings WHERE period = $period AND contains(entity_id, '>') GROUP BY 1"""
        if _has_findings(store)
        else "SELECT NULL::VARCHAR AS flow_id, 0 AS findings, 0 AS worst_rank, []::VARCHAR[] AS finding_ids, "
        "[]::VARCHAR[] AS rules WHERE FALSE"
    )
    shares = ", ".join(f"COALESCE(o.{c}_share, 0) AS {c}_share" for c in CLASSES)
    frame = store.engine.frame(
        f"""WITH reg AS ({_register_sql(store)}),
                 e AS (SELECT seller_id, buyer_id, arg_max(product, tonnes) AS product, sum(tonnes) AS tonnes,
                              sum(declared_t) AS declared_t, sum(physical_t) AS physical_t, sum(trips)::BIGINT AS trips,
                              sum(sales)::BIGINT AS sales, any_value(measure) AS measure
                       FROM flows WHERE period = $period AND seller_id <> buyer_id
                       GROUP BY ALL HAVING sum(tonnes) > 0),
                 o AS ({_shares_sql("flow_origins", "seller_id, buyer_id")}),
                 f AS ({findings})
            SELECT e.seller_id || '>' || e.buyer_id AS flow_id, e.seller_id, s.name AS seller_name,
                   s.kind AS seller_kind, s.county AS seller_county, s.lat AS seller_lat, s.lon AS seller_lon,
                   e.buyer_id, b.name AS buyer_name, b.kind AS buyer_kind, b.county AS buyer_county,
                   b.lat AS buyer_lat, b.lon AS buyer_lon,
                   e.product, e.tonnes, e.declared_t, e.physical_t, e.trips, e.sales, e.measure, {shares},
                   {" + ".join(f"COALESCE(o.{c}_share, 0)" for c in AT_RISK)} AS at_risk_share,
                   COALESCE(f.findings, 0) AS findings, COALESCE(f.worst_rank, 0) AS worst_rank,
                   COALESCE(f.finding_ids, []::VARCHAR[]) AS finding_ids, COALESCE(f.rules, []::VARCHAR[]) AS rules
            FROM e LEFT JOIN reg s ON s.facility_id = e.seller_id LEFT JOIN reg b ON b.facility_id = e.buyer_id
            LEFT JOIN o ON o.seller_id = e.seller_id AND o.buyer_id = e.buyer_id
            LEFT JOIN f ON f.flow_id = e.seller_id || '>' || e.buyer_id
            ORDER BY e.tonnes DESC, e.seller_id, e.buyer_id""",
        {"period": period.label},
    )
    frame = frame.with_columns((pl.col("tonnes") * pl.col("at_risk_share")).alias("at_risk_t"), _worst_severity()).drop(
        "worst_rank"
    )
    paths = _upstream_paths(store, period, frame)
    return frame.join(paths, on=["seller_id", "buyer_id"], how="left")


def _upstream_paths(store: Store, period: Period, flows: pl.DataFrame) -> pl.DataFrame:
    """Per flow, the heaviest path its coal came along: where it entered the chain, every facility it
    went through, the flow's buyer; and the tonnes of the flow that took that path.

    One best-first search per seller (facilities, not rows): the seller's heaviest upstream path,
    carried onto each of its flows in proportion to the flow's part of what the seller had."""
    import polars as pl

    from coaltrace.provenance.paths import heaviest_paths
    from coaltrace.provenance.queries import flow_graph

    schema: dict[str, pl.DataType | type[pl.DataType]] = {
        "seller_id": pl.String,
        "buyer_id": pl.String,
        "upstream_path": pl.List(pl.String),
        "upstream_path_t": pl.Float64,
    }
    if flows.is_empty():
        return pl.DataFrame(schema=schema)
    g = flow_graph(store, period)
    at = {f: i for i, f in enumerate(g.ids)}
    best: dict[str, tuple[list[str], float, float]] = {}
    for seller in flows["seller_id"].unique().sort().to_list():
        i = at.get(seller)
        if i is None:
            continue
        found = heaviest_paths(g, i, "upstream", PATH_DEPTH, limit=1)
        if found:
            best[seller] = (found[0][0], found[0][1], float(g.total[i]))
    rows = []
    for seller, buyer, tonnes in flows.select("seller_id", "buyer_id", "tonnes").iter_rows():
        if seller in best:
            path, weight, total = best[seller]
            rows.append((seller, buyer, [*path, buyer], weight * tonnes / total if total > 0 else None))
    return pl.DataFrame(rows, schema=schema, orient="row")


def finding_rows(store: Store, period: Period, f: ExportFilter, lang: str) -> list[dict[str, Any]]:
    """The period's findings as the `findings` command lists them, with names and labels beside the codes."""
    rows = query_findings(
        store, FindingFilter(period=period.label, rule_id=f.rule, min_severity=f.min_severity, county=f.county)
    )
    names = dict(store.engine.rows("SELECT facility_id, any_value(name) FROM facilities GROUP BY 1"))
    out = []
    for r in rows:
        r["facility_name"] = names.get(r["facility_id"])
        r["severity_label"] = label("severity", r["severity"], lang)
        r["entity_label"] = label("entity", r["entity_kind"], lang)
        r["title"] = r["title_en"] if lang == "en" else r["title_zh"]
        out.append(r)
    return tidy(out)


def found(store: Store, period: Period, f: ExportFilter) -> tuple[set[str], set[str]]:
    """Facility ids and flow ids (`seller>buyer`) with a finding that passes F's rule and severity."""
    if not _has_findings(store):
        return set(), set()
    rows = store.engine.rows(
        f"""SELECT facility_id, entity_id FROM findings
            WHERE period = $period AND ($rule IS NULL OR rule_id = $rule) AND {SEVERITY_RANK_SQL} >= $rank""",
        {"period": period.label, "rule": f.rule, "rank": f.min_severity.rank if f.min_severity else 0},
    )
    return {r[0] for r in rows if r[0] is not None}, {r[1] for r in rows if ">" in (r[1] or "")}


def keep_facilities(frame: pl.DataFrame, f: ExportFilter, facility_ids: set[str]) -> pl.DataFrame:
    """FRAME's facilities that pass F; FACILITY_IDS: those with a finding that passes it (see `found`)."""
    import polars as pl

    if f.county is not None:
        frame = frame.filter(pl.col("county") == f.county)
    if f.min_share is not None:
        frame = frame.filter(pl.col("at_risk_share") >= f.min_share - 1e-9)
    if f.by_findings:
        frame = frame.filter(pl.col("facility_id").is_in(sorted(facility_ids)))
    return frame


def keep_flows(flows: pl.DataFrame, f: ExportFilter, facility_ids: set[str], flow_ids: set[str]) -> pl.DataFrame:
    """FLOWS that pass F; a flow passes the finding filters when it carries such a finding or leaves a facility with one."""
    import polars as pl

    if f.county is not None:
        flows = flows.filter((pl.col("seller_county") == f.county) | (pl.col("buyer_county") == f.county))
    if f.min_share is not None:
        flows = flows.filter(pl.col("at_risk_share") >= f.min_share - 1e-9)
    if f.by_findings:
        flows = flows.filter(
            pl.col("flow_id").is_in(sorted(flow_ids)) | pl.col("seller_id").is_in(sorted(facility_ids))
        )
    return flows
