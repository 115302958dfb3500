"""Look back (回头看): are the problems closed two months ago still closed?

For a period P, the items closed at least `[ledger] lookback_months` (2) months
before P starts are looked at again: does their place show activity in P after
the day they were closed? Activity is a new finding there, a sale or a trip
out of it, coal booked in at it, or a month's power use above
`lookback_min_kwh`; for an item about a plate, trips of that plate; about a
flow, sales or trips between its two facilities; about a power account, that
account's use. An item known only by its coordinates has no records to look
at: it shows only through findings.

`reopen` puts the items that show activity back into the workflow, recording
what the look-back saw.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from coaltrace.config import LedgerSettings
from coaltrace.engine import Engine
from coaltrace.ledger.chain import commit, load_items
from coaltrace.ledger.model import Entry, Item, Status, diff
from coaltrace.ledger.queries import require_ledger
from coaltrace.ledger.workflow import now, reopened, require_actor
from coaltrace.numbers import tidy
from coaltrace.period import Period


def months_before(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 - months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Activity:
    item: Item
    findings: int
    sales: int
    sales_tonnes: float
    trips: int
    intakes: int
    kwh: float
    min_kwh: float

    @property
    def active(self) -> bool:
        return bool(self.findings or self.sales or self.trips or self.intakes or self.kwh > self.min_kwh)

    def as_record(self) -> dict[str, Any]:
        return tidy(
            {
                "item_id": self.item.item_id,
                "county": self.item.county,
                "facility_id": self.item.facility_id,
                "facility_name": self.item.facility_name,
                "subject_kind": self.item.subject_kind,
                "subject_id": self.item.subject_id,
                "problem_type": self.item.problem_type,
                "closed_on": self.item.closed_on.isoformat() if self.item.closed_on else None,
                "signer": self.item.signer,
                "findings": self.findings,
                "sales": self.sales,
                "sales_tonnes": self.sales_tonnes,
                "trips": self.trips,
                "intakes": self.intakes,
                "kwh": self.kwh,
                "active": self.active,
            }
        )


@dataclass(frozen=True)
class LookBack:
    period: str
    closed_before: date  # items closed on or before this day were looked at
    looked_at: int
    found: list[Activity]  # the items that show activity
    records: dict[str, int]  # the period's records the look-back could see, by table

    def as_record(self) -> dict[str, Any]:
        return {
            "period": self.period,
            "closed_before": self.closed_before.isoformat(),
            "looked_at": self.looked_at,
            "records": self.records,
            "items": [a.as_record() for a in self.found],
        }


def _has(engine: Engine, table: str) -> bool:
    return bool(engine.rows("SELECT 1 FROM duckdb_tables() WHERE table_name = ? AND NOT temporary", [table]))


def look_back(engine: Engine, period: Period, settings: LedgerSettings) -> LookBack:
    """The items closed long enough before PERIOD whose place is active again in it. Reads only."""
    import polars as pl

    require_ledger(engine)
    cutoff = months_before(period.start, settings.lookback_months)
    candidates = [
        i
        for i in load_items(engine).values()
        if i.status is Status.closed and i.closed_on is not None and i.closed_on <= cutoff
    ]
    start = datetime(period.start.year, period.start.month, period.start.day)
    end = datetime(period.end.year, period.end.month, period.end.day)
    records = {
        "sales": int(engine.scalar("SELECT count(*) FROM sales WHERE sold_at >= ? AND sold_at < ?", [start, end])),
        "transports": int(
            engine.scalar("SELECT count(*) FROM transports WHERE departed_at >= ? AND departed_at < ?", [start, end])
        ),
        "intakes": int(
            engine.scalar("SELECT count(*) FROM intakes WHERE received_at >= ? AND received_at < ?", [start, end])
        ),
        "power": int(
            engine.scalar("SELECT count(*) FROM power WHERE month IN (SELECT UNNEST(?::VARCHAR[]))", [period.months])
        ),
    }
    if not candidates:
        return LookBack(period.label, cutoff, 0, [], records)
    labels: list[str] = []
    if _has(engine, "findings"):
        labels = [
            p
            for (p,) in engine.rows("SELECT DISTINCT period FROM findings")
            if Period.parse(p).start < period.end and period.start < Period.parse(p).end
        ]
    frame = pl.DataFrame(
        {
            "item_id": [i.item_id for i in candidates],
            "subject_kind": [i.subject_kind for i in candidates],
            "subject_id": [i.subject_id for i in candidates],
            "facility_id": [i.facility_id for i in candidates],
            # Activity counts from the day after the closing.
            "since": [
                max(start, datetime.combine(i.closed_on + timedelta(days=1), datetime.min.time()))
                for i in candidates
                if i.closed_on
            ],
            "closed_month": [f"{i.closed_on:%Y-%m}" for i in candidates if i.closed_on],
        },
        schema={
            "item_id": pl.String,
            "subject_kind": pl.String,
            "subject_id": pl.String,
            "facility_id": pl.String,
            "since": pl.Datetime("us"),
            "closed_month": pl.String,
        },
    )
    findings_sql = (
        """(SELECT count(*) FROM findings f WHERE f.period IN (SELECT UNNEST($labels::VARCHAR[]))
             AND (f.facility_id = c.facility_id OR (c.facility_id IS NULL AND f.entity_id = c.subject_id)))"""
        if labels
        else "0"
    )
    shipped = """((c.subject_kind = 'facility' AND x.seller_id = c.facility_id)
                  OR (c.subject_kind = 'flow' AND x.seller_id || '>' || x.buyer_id = c.subject_id))"""
    with engine.registered("_ledger_lookback", frame.to_arrow()):
        rows = engine.query(
            f"""SELECT c.item_id,
                   {findings_sql} AS findings,
                   (SELECT count(*) FROM sales x WHERE x.sold_at >= c.since AND x.sold_at < $end AND {shipped}) AS sales,
                   (SELECT COALESCE(sum(x.tonnes), 0) FROM sales x
                     WHERE x.sold_at >= c.since AND x.sold_at < $end AND {shipped}) AS sales_tonnes,
                   (SELECT count(*) FROM transports t WHERE t.departed_at >= c.since AND t.departed_at < $end
                     AND ((c.subject_kind = 'facility' AND t.origin_id = c.facility_id)
                          OR (c.subject_kind = 'plate' AND t.plate = c.subject_id)
                          OR (c.subject_kind = 'flow' AND t.origin_id || '>' || t.destination_id = c.subject_id))) AS trips,
                   (SELECT count(*) FROM intakes i WHERE i.received_at >= c.since AND i.received_at < $end
                     AND c.subject_kind = 'facility' AND i.facility_id = c.facility_id) AS intakes,
                   (SELECT COALESCE(sum(p.kwh), 0) FROM power p
                     WHERE p.month IN (SELECT UNNEST($months::VARCHAR[])) AND p.month > c.closed_month
                       AND ((c.subject_kind = 'facility' AND p.facility_id = c.facility_id)
                            OR (c.subject_kind = 'power_account' AND p.account_id = c.subject_id))) AS kwh
               FROM _ledger_lookback c ORDER BY c.item_id""",
            {"labels": labels, "end": end, "months": period.months}
            if labels
            else {"end": end, "months": period.months},
        )
    by_id = {i.item_id: i for i in candidates}
    seen = [
        Activity(
            by_id[r["item_id"]],
            int(r["findings"]),
            int(r["sales"]),
            float(r["sales_tonnes"]),
            int(r["trips"]),
            int(r["intakes"]),
            float(r["kwh"]),
            settings.lookback_min_kwh,
        )
        for r in rows
    ]
    found = sorted((a for a in seen if a.active), key=lambda a: (a.item.county or "\uffff", a.item.item_id))
    return LookBack(period.label, cutoff, len(candidates), found, records)


def reopen(
    engine: Engine,
    result: LookBack,
    *,
    actor: str,
    settings: LedgerSettings,
    note: Callable[[Activity], str],
    today: date | None = None,
) -> list[Item]:
    """Reopen every item the look-back found active, recording what it saw (NOTE says it in words).
    Call inside a transaction."""
    actor = require_actor(actor)
    today = today or date.today()
    at = now()
    changes = []
    for a in result.found:
        before = a.item
        after = reopened(before, today, settings).changed(lookbacks=(*before.lookbacks, result.period))
        fields = diff(before, after) | {"lookback": a.as_record()}
        changes.append(
            (
                after,
                Entry(before.item_id, "status", actor, at, today, before.status, Status.reopened, fields, note=note(a)),
            )
        )
    return commit(engine, changes)
