"""Coverage before judgement: what the period's data holds, measured before any rule runs.

A rule that judges data that is not there finds problems that are not there: a
data set without the flows into preparation plants makes every plant "ship coal
it never received"; a month with no sales makes every stock count a shortfall.
So the audit first measures, per period:

- how many rows each contract table holds in the period (registers: at all),
  and whether the columns a rule needs hold anything (`requires: [table.column]`);
- whether the period has any record at all (without one, nothing is judged),
  and any shipment (sale or trip): without one, there is no mass balance or
  provenance, and the rules that read them do not run;
- for a period of several months, the months without any shipment (the
  balance then covers the others: `coaltrace.graph.staging.Window`);
- for each kind of facility, whether its inflows are recorded at all, and per
  county whether its purchases are (both decided by the provenance build,
  `coaltrace.provenance.balance.inflow_recorded`); whether any coal mining
  licence is loaded; which shut facilities have no date in the register;
- per county: facilities that receive coal but book no intake, trips with no
  GPS point.

Each cause becomes one `DataGap`: what is missing, which rules it stops (a rule
is listed under the first gap that stops it), which facilities, counties and
tonnes it leaves unjudged, in zh and en. A gap that stops a rule makes its
status `no_data`; a county gap keeps the rule from judging that county only.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from typing import Any

from coaltrace.contract import TABLES
from coaltrace.contract.tables import COAL_MINING_LICENCE
from coaltrace.engine import Workspace
from coaltrace.i18n import Text, catalogue
from coaltrace.period import Period
from coaltrace.rules.model import Rule
from coaltrace.rules.sql import parse_select, render, tables_read
from coaltrace.rules.views import NEEDS_PROVENANCE, tables_behind

# Views a rule reads to judge a facility's balance, and the origin classes of a mine's own production
# (rules about those read the balance for tonnes, not to judge a non-mine).
_BALANCE_VIEWS = frozenset(
    {"period_balances", "period_running_breaches", "period_origin_shares", "period_flow_origins"}
)
_MINE_CLASSES = frozenset({"unlicensed", "over_capacity"})
REGISTERS = ("facilities", "licences", "zones")
SHIPMENTS = ("sales", "transports")

# code -> (zh, en); placeholders come from the gap's fields.
MESSAGES: dict[str, Text] = catalogue(
    {
        "no_records": (
            "{period} 没有任何记录（销售、运输、入库、用电、定位均无）：本期不作任何判断，所有规则均未运行。",
            "{period} has no records at all (no sale, trip, intake, power reading or GPS point): nothing was "
            "judged, no rule ran.",
        ),
        "no_shipments": (
            "{period} 没有任何销售或运输记录：物料平衡与来源追溯无从计算，{rules} 未运行。",
            "{period} has no sale and no trip: there is no mass balance or provenance to judge, so {rules} did not run.",
        ),
        "no_rows": (
            "{subject_zh}表在 {period} 没有数据：{rules} 未运行。",
            "no {subject} rows for {period}: {rules} did not run.",
        ),
        "no_values": (
            "{subject} 列在 {period} 没有任何取值：{rules} 未运行。",
            "the column {subject} holds no value for {period}: {rules} did not run.",
        ),
        "months_without_shipments": (
            "{period} 中有 {facilities} 个月没有任何销售或运输记录（{subject}）：物料平衡只覆盖有记录的月份，"
            "期初、期末库存取其首尾，核定产能按其天数折算。",
            "{facilities} month(s) of {period} have no sale or trip ({subject}): the mass balance covers the "
            "months with records only, with the stock counts at their start and end and capacity prorated "
            "over their days.",
        ),
        "no_mining_licences": (
            "未载入任何煤炭采矿许可证：{facilities} 个煤矿发出的 {tonnes} 吨煤无法判断是否有证（关停期间的除外），"
            "{rules} 未运行。",
            "no coal mining licence is loaded: whether the {tonnes} t shipped by {facilities} mines were "
            "licensed cannot be judged (except on days they were shut); {rules} did not run.",
        ),
        "inflows_unrecorded": (
            "数据中没有任何{subject_zh}的进煤记录：{facilities} 个{subject_zh}发出 {shipped} 吨，"
            "其中 {tonnes} 吨无法用进煤解释，但这是数据缺口，不作为无来源煤判断（{rules}）。",
            "the data records no inflow to any {subject}: the {facilities} that shipped coal sent {shipped} t, "
            "{tonnes} t of it beyond what they had; that is a gap in the data, not judged as coal with no "
            "source ({rules}).",
        ),
        "inflows_maybe_unrecorded": (
            "本期 {facilities} 个发煤的{subject_zh}均没有进煤记录（共发出 {shipped} 吨）：数量少于"
            "[provenance] min_unrecorded_facilities，因此仍逐一判断。若数据本身不含{subject_zh}的进煤，"
            "请把该参数调到 {facilities} 或以下后重新稽核。",
            "none of the {facilities} facilities of kind {subject} that shipped coal ({shipped} t) is recorded "
            "receiving any: "
            "fewer than [provenance] min_unrecorded_facilities, so each is judged on its own. If the data does "
            "not hold inflows to this kind, set that parameter to {facilities} or less and audit again.",
        ),
        "shut_without_date": (
            "{facilities} 个单位在登记中为关闭、停产或吊销，但没有状态日期：视为整个期间均已关停，"
            "其本期发出 {shipped} 吨。请核实状态日期。",
            "{facilities} facilities are closed, suspended or revoked in the register with no date: taken as "
            "shut for the whole period; they shipped {shipped} t in it. Check their status dates.",
        ),
        "county_no_intakes": (
            "{subject}：有煤运入该县区的单位，但没有任何入库记录：{rules} 未对该县区作出判断。",
            "{subject}: coal was shipped to its facilities but none booked an intake: {rules} judged nothing there.",
        ),
        "county_no_shipments": (
            "{subject}：有入库记录，但没有任何运入该县区的销售或运输记录：该县区 {facilities} 个单位的 {tonnes} 吨"
            "缺口属数据缺口，{rules} 未对该县区作出判断。",
            "{subject}: intakes were booked but no sale or trip into the county is recorded: the {tonnes} t "
            "shortfall of {facilities} of its facilities is a gap in the data, and {rules} did not judge the county.",
        ),
        "county_no_gps": (
            "{subject}：{facilities} 个单位发出的车次在本期没有任何定位点：{rules} 未对这些车次作出判断。",
            "{subject}: the trips leaving {facilities} of its facilities have no GPS point in the period: "
            "{rules} did not judge them.",
        ),
    }
)

_TABLE_ZH = {name: t.zh for name, t in TABLES.items()}
_KIND_ZH = {
    "washery": "洗煤厂",
    "coking_plant": "焦化厂",
    "yard": "煤场",
    "trader": "贸易商",
    "rail_station": "集运站",
    "power_plant": "电厂",
    "other": "其他单位",
}


@dataclass(frozen=True)
class DataGap:
    """One cause of something the audit could not judge."""

    code: str
    subject: str | None = None  # the table, column, facility kind, county or months
    rules: tuple[str, ...] = ()  # rules it stopped (or stopped in `counties`)
    facilities: int = 0
    tonnes: float = 0.0  # tonnes left unjudged
    shipped: float = 0.0
    counties: tuple[str, ...] = ()  # where a county gap keeps `rules` from judging
    stops: bool = False  # True: the rules did not run at all

    def message(self, lang: str, period: str) -> str:
        zh, en = MESSAGES[self.code]
        subject = self.subject or ""
        return (zh if lang == "zh" else en).format(
            period=period,
            subject=subject,
            subject_zh=_TABLE_ZH.get(subject, _KIND_ZH.get(subject, subject)),
            rules=", ".join(self.rules) or "-",
            facilities=f"{self.facilities:,}",
            tonnes=f"{self.tonnes:,.3f}",
            shipped=f"{self.shipped:,.3f}",
        )

    def as_record(self, period: str) -> dict[str, Any]:
        record = asdict(self)
        record["message"] = {"zh": self.message("zh", period), "en": self.message("en", period)}
        return record


@dataclass
class Coverage:
    period: str
    rows: dict[str, int]
    gaps: list[DataGap] = field(default_factory=list)

    def stopped_by(self, rule_id: str) -> DataGap | None:
        """The gap that keeps this rule from running at all, if any."""
        return next((g for g in self.gaps if g.stops and rule_id in g.rules), None)

    def counties_unjudged(self, rule_id: str) -> list[str]:
        return sorted({c for g in self.gaps if not g.stops and rule_id in g.rules for c in g.counties})

    def stop(self, gap: DataGap) -> None:
        """Add a gap that stops rules, listing only the rules no earlier gap stopped."""
        rules = tuple(r for r in gap.rules if self.stopped_by(r) is None)
        if rules:
            self.gaps.append(DataGap(**{**asdict(gap), "rules": rules, "stops": True}))


def _rows(store: Workspace, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
    return store.engine.rows(sql, params or [])


def _count(store: Workspace, sql: str, params: list[Any] | None = None) -> int:
    rows = _rows(store, sql, params)
    return int(rows[0][0]) if rows and rows[0][0] is not None else 0


def _in_period(table: str, period: Period) -> tuple[str, list[Any]]:
    """A WHERE clause keeping TABLE's rows of the period (registers: all of them)."""
    t = TABLES[table]
    if table in REGISTERS or t.time_column is None:
        return "TRUE", []
    if table == "power":
        return "list_contains(?, month)", [period.months]
    return f'"{t.time_column}" >= ? AND "{t.time_column}" < ?', [period.start, period.end]


def period_rows(store: Workspace, period: Period) -> dict[str, int]:
    """Rows per contract table in the period; registers count all their rows."""
    rows: dict[str, int] = {}
    for name in TABLES:
        where, params = _in_period(name, period)
        rows[name] = _count(store, f"SELECT count(*) FROM {name} WHERE {where}", params)
    return rows


def _reads(rule: Rule) -> set[str]:
    return tables_read(parse_select(render(rule.query, rule.param_values())))


def measure(store: Workspace, period: Period, rules: Iterable[Rule]) -> Coverage:
    """The period's coverage and its gaps, for these rules. Needs the period's provenance built."""
    rules = list(rules)
    rows = period_rows(store, period)
    cov = Coverage(period=period.label, rows=rows)
    if not any(rows[name] for name, t in TABLES.items() if name not in REGISTERS and t.time_column):
        cov.stop(DataGap("no_records", rules=tuple(r.id for r in rules)))
        return cov
    reads = {r.id: _reads(r) for r in rules}
    if not any(rows[t] for t in SHIPMENTS):
        cov.stop(
            DataGap(
                "no_shipments",
                rules=tuple(
                    r.id for r in rules if reads[r.id] & NEEDS_PROVENANCE or set(SHIPMENTS) & r.required_tables()
                ),
            )
        )
    for name in TABLES:
        # An empty licence register is the mining-licence gap below, with the mines it leaves unjudged.
        if rows[name] == 0 and name != "licences":
            cov.stop(DataGap("no_rows", subject=name, rules=tuple(r.id for r in rules if name in r.required_tables())))
    for needed in sorted({n for r in rules for n in r.requires if "." in n}):
        table, column = needed.split(".", 1)
        where, params = _in_period(table, period)
        if rows[table] and not _count(store, f'SELECT count("{column}") FROM {table} WHERE {where}', params):
            cov.stop(DataGap("no_values", subject=needed, rules=tuple(r.id for r in rules if needed in r.requires)))
    cov.gaps += _month_gaps(store, period)
    for gap in _mining_licence_gap(store, period, rules):
        cov.stop(gap)
    cov.gaps += _kind_gaps(store, period, [r.id for r in rules if _judges_non_mine_balance(r, reads[r.id])])
    cov.gaps += _shut_without_date(store, period)
    cov.gaps += _county_gaps(store, period, rules, rows, reads)
    return cov


def _judges_non_mine_balance(rule: Rule, reads: set[str]) -> bool:
    """Does the rule judge what a non-mine had and shipped (so a kind without recorded inflows blinds it)?"""
    mine_origin = rule.tonnes.origin_class is not None and rule.tonnes.origin_class.value in _MINE_CLASSES
    return bool(reads & _BALANCE_VIEWS) and not mine_origin


def _exists(store: Workspace, table: str) -> bool:
    return store.engine.has_table(table)


def _month_gaps(store: Workspace, period: Period) -> list[DataGap]:
    if len(period.months) < 2:
        return []
    covered = {
        m
        for (m,) in _rows(
            store,
            "SELECT DISTINCT strftime(sold_at, '%Y-%m') FROM sales WHERE sold_at >= ? AND sold_at < ? "
            "UNION SELECT DISTINCT strftime(departed_at, '%Y-%m') FROM transports "
            "WHERE departed_at >= ? AND departed_at < ?",
            [period.start, period.end, period.start, period.end],
        )
    }
    empty = [m for m in period.months if m not in covered]
    if not empty or not covered:
        return []
    return [DataGap("months_without_shipments", subject=", ".join(empty), facilities=len(empty))]


def _mining_licence_gap(store: Workspace, period: Period, rules: list[Rule]) -> list[DataGap]:
    if _count(store, f"SELECT count(*) FROM licences WHERE {COAL_MINING_LICENCE}"):
        return []
    # What the mines shipped: as the balance counted it when provenance was built, else as declared.
    rows = _rows(
        store,
        "SELECT count(*) FILTER (WHERE outflow_t > 0), COALESCE(sum(outflow_t), 0) FROM balances "
        "WHERE period = ? AND kind = 'mine'"
        if _exists(store, "balances")
        else "SELECT count(DISTINCT s.seller_id), COALESCE(sum(s.tonnes), 0) FROM period_sales s "
        "JOIN facilities f ON f.facility_id = s.seller_id WHERE f.kind = 'mine' AND s.tonnes > 0 AND ? IS NOT NULL",
        [period.label],
    )
    mines, shipped = (int(rows[0][0]), float(rows[0][1])) if rows else (0, 0.0)
    stopped = tuple(r.id for r in rules if "licences" in r.required_tables())
    if not mines and not stopped:
        return []
    return [DataGap("no_mining_licences", rules=stopped, facilities=mines, tonnes=shipped)]


def _kind_gaps(store: Workspace, period: Period, balance_rules: list[str]) -> list[DataGap]:
    """Kinds whose inflows the data does not record (a gap that keeps their shortfalls unjudged), and kinds
    where no shipper received anything but too few shipped to call it a gap (judged one by one, and said so)."""
    if not balance_rules or not _exists(store, "balances"):
        return []
    rows = _rows(
        store,
        """SELECT kind, count(*) FILTER (WHERE outflow_t > 0), COALESCE(sum(outflow_t), 0), sum(data_gap_t),
                  bool_and(NOT inflow_recorded) FILTER (WHERE outflow_t > 0)
           FROM balances WHERE period = ? AND kind IS NOT NULL AND kind <> 'mine'
           GROUP BY kind HAVING sum(inflow_t) = 0 AND count(*) FILTER (WHERE outflow_t > 0) >= 2 ORDER BY kind""",
        [period.label],
    )
    return [
        DataGap(
            "inflows_unrecorded" if unrecorded else "inflows_maybe_unrecorded",
            subject=kind,
            rules=tuple(balance_rules) if unrecorded else (),
            facilities=int(n),
            shipped=float(shipped),
            tonnes=float(gap) if unrecorded else 0.0,
        )
        for kind, n, shipped, gap, unrecorded in rows
    ]


def _shut_without_date(store: Workspace, period: Period) -> list[DataGap]:
    rows = _rows(
        store,
        """SELECT count(DISTINCT f.facility_id), COALESCE(sum(e.tonnes), 0)
           FROM facilities f JOIN (
               SELECT seller_id, tonnes FROM period_sales
               UNION ALL SELECT origin_id, tonnes_loaded FROM period_trips WHERE NOT EXISTS (
                   SELECT 1 FROM period_sales s WHERE s.seller_id = period_trips.origin_id)
           ) e ON e.seller_id = f.facility_id
           WHERE f.status IN ('closed', 'suspended', 'revoked') AND f.status_since IS NULL""",
    )
    n, shipped = (int(rows[0][0]), float(rows[0][1])) if rows else (0, 0.0)
    return [DataGap("shut_without_date", facilities=n, shipped=shipped)] if n else []


_COUNTY_GAPS = """
WITH fac AS (SELECT facility_id, any_value(county) AS county FROM facilities GROUP BY 1),
inbound AS (
    SELECT f.county, count(DISTINCT e.buyer_id) AS facilities
    FROM (SELECT buyer_id FROM period_sales UNION ALL SELECT destination_id FROM period_trips) e
    JOIN fac f ON f.facility_id = e.buyer_id WHERE f.county IS NOT NULL GROUP BY 1
), booked AS (
    SELECT f.county, count(*) AS intakes FROM period_intakes i
    JOIN fac f ON f.facility_id = i.facility_id WHERE f.county IS NOT NULL GROUP BY 1
)
SELECT COALESCE(i.county, b.county) AS county, COALESCE(i.facilities, 0), COALESCE(b.intakes, 0)
FROM inbound i FULL JOIN booked b ON b.county = i.county
ORDER BY 1
"""

_GPS_GAPS = """
WITH fac AS (SELECT facility_id, any_value(county) AS county FROM facilities GROUP BY 1),
tracked AS (SELECT DISTINCT plate FROM period_gps)
SELECT f.county, count(DISTINCT t.origin_id) FROM period_trips t
JOIN fac f ON f.facility_id = t.origin_id
WHERE f.county IS NOT NULL
GROUP BY 1 HAVING count(*) FILTER (WHERE t.plate IN (SELECT plate FROM tracked)) = 0
ORDER BY 1
"""


def _county_gaps(
    store: Workspace, period: Period, rules: list[Rule], rows: dict[str, int], reads: dict[str, set[str]]
) -> list[DataGap]:
    """County by county: what was recorded on one side of a check but not on the other."""
    gaps: list[DataGap] = []
    intake_rules = tuple(r.id for r in rules if "intakes" in r.required_tables())
    # Rules that look for the shipment behind an intake, and rules that judge a balance: blind where
    # a county's purchases are not recorded.
    blind = tuple(
        r.id
        for r in rules
        if (r.id in intake_rules and tables_behind(reads[r.id]) & set(SHIPMENTS))
        or _judges_non_mine_balance(r, reads[r.id])
    )
    gps_rules = tuple(r.id for r in rules if "gps" in r.required_tables())
    if rows["intakes"] and intake_rules:
        for county, facilities, intakes in _rows(store, _COUNTY_GAPS):
            if intakes == 0:
                gaps.append(
                    DataGap("county_no_intakes", subject=county, rules=intake_rules, facilities=int(facilities))
                )
            elif facilities == 0 and blind:
                n, gap = _county_data_gap(store, period, county)
                gaps.append(
                    DataGap(
                        "county_no_shipments", subject=county, rules=blind, counties=(county,), facilities=n, tonnes=gap
                    )
                )
    if rows["gps"] and gps_rules:
        for county, facilities in _rows(store, _GPS_GAPS):
            gaps.append(
                DataGap(
                    "county_no_gps", subject=county, rules=gps_rules, facilities=int(facilities), counties=(county,)
                )
            )
    return gaps


def _county_data_gap(store: Workspace, period: Period, county: str) -> tuple[int, float]:
    if not _exists(store, "balances"):
        return 0, 0.0
    rows = _rows(
        store,
        "SELECT count(*) FILTER (WHERE data_gap_t > 0), COALESCE(sum(data_gap_t), 0) FROM balances "
        "WHERE period = ? AND county = ?",
        [period.label, county],
    )
    return (int(rows[0][0]), float(rows[0][1])) if rows else (0, 0.0)
