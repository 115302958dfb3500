"""The inspector's page of one facility: what to know before the visit, what to check there, and
what to sign.

It composes the provenance page (`coaltrace.provenance.queries.yard_report`) with
the register, the facility's suppliers and buyers, the audit's findings about it
and the records behind them, the rule pack's false-positive notes, the round
trips it is part of, and the checklist of the eight checks (`coaltrace.yard.checklist`).
The terminal view (`coaltrace yard`) and the HTML page both render the dict
`yard_page` returns; fields are added, never renamed.

The dict (figures rounded as measured; `Text` values as `{"zh": ..., "en": ...}`):

- `facility_id`, `period`, `name`, `kind`, `county`, `registered`, `status`,
  `status_since`, `lat`, `lon`: the register (kind and status are codes: label them);
- `address`, `legal_rep`, `phone`: the register's contact columns, None when not given;
- `licences`: [{`licence_id`, `licence_type`, `mineral`, `valid_from`, `valid_to`,
  `capacity_tpa`, `valid_at_end`}]; `licence_state`: the state at the period's end;
- `licensed_share`: of all the coal that went through it (opening stock and data
  gaps left out), the share that traces to a licensed mine; `licensed_share_received`:
  the same of what it received;
- `origins`: [{`origin_class`, `origin_id`, `origin_name`, `tonnes`, `share`,
  `grouped`}] every origin of its coal (proportional); `rest`: the same, but only
  the classes that are not licensed production: where the rest entered the chain;
- `at_risk_here` {class: t}, `tonnes_at_risk`: coal at risk that entered the chain
  here, as the audit counted it; `balance_at_risk` {unlicensed, over_capacity, unsourced};
- `stock`: {`opening_t`, `inflow_t`, `yield_factor`, `usable_inflow_t`,
  `production_t`, `outflow_t`, `closing_computed_t` (opening + usable inflow +
  production - outflow: what should be on the ground), `closing_counted_t` (a stock
  count at the period's end, if one was loaded)}; also the older flat fields
  `opening_stock_t`, `inflow_t`, `outflow_t`, `closing_stock_t`, `unsourced_t`,
  `data_gap_t`, `inflow_recorded`;
- `suppliers`: [{`seller_id`, `name`, `kind`, `licence_state`, `tonnes`,
  `declared_t`, `physical_t`, `trips`, `supplier_licensed_share`}];
- `buyers`: [{`buyer_id`, `name`, `kind`, `licence_state`, `tonnes`, `trips`}];
- `running_breach`: {`first_negative_at`, `min_balance_t`, `shortfall_t`} or None;
- `findings`: [{`finding_id`, `rule_id`, `rule_version`, `severity`, `title_zh`,
  `title_en`, `entity_kind`, `entity_id`, `tonnes_at_risk`, `tonnes_role`,
  `checks` (the eight checks its rule serves), `evidence` (up to `EVIDENCE_ROWS`
  records behind it, each {`table`, `record_id`, `at`, `plate`, `tonnes`,
  `counterparty`, `waybill_no`, `file`, `sheet`, `line`}), `evidence_total`,
  `evidence_more` (how many more the audit holds), `false_positives` [Text]}];
- `round_trips`: [{`cycle_id`, `facilities`, `names`, `length`, `tonnes_round`}]
  cycles of trade it is part of;
- `checklist`: [{`check`, `title`, `what_to_do`, `findings`}] the eight checks that
  apply to its kind, with the ids of the findings that bear on each;
- `sign`: [Text] the lines to sign on site.
"""

from __future__ import annotations

import json
from itertools import combinations
from typing import Any

from coaltrace.export.contents import register_columns
from coaltrace.graph.network import MAX_CYCLE_LENGTH, MAX_CYCLES
from coaltrace.i18n import Text
from coaltrace.labels import label
from coaltrace.numbers import tidy
from coaltrace.period import Period
from coaltrace.provenance.queries import ConfigArg, facility_names, yard_report
from coaltrace.rules.findings import SEVERITY_RANK_SQL
from coaltrace.rules.notes import rule_notes
from coaltrace.store import Store
from coaltrace.yard.checklist import checklist, sign_lines

# Records shown behind each finding: enough to check on site, with the count of the rest.
EVIDENCE_ROWS = 8
_RECORD_ID = ("intake_id", "trip_id", "sale_id", "record_id", "account_id")
_AT = ("received_at", "departed_at", "sold_at", "happened_at", "arrived_at", "ts", "month")
_TONNES = ("tonnes", "tonnes_loaded", "tonnes_unloaded")
_COUNTERPARTY = ("supplier_id", "supplier_name", "seller_id", "buyer_id", "origin_id", "destination_id")


_OTHER_PARTY = Text("对方 {id}", "other party {id}")


def record_words(record: dict[str, Any] | Any, lang: str) -> list[str]:
    """One record behind a finding (an item of a finding's `evidence`) as the inspector reads it, in
    words: table, id, time, plate, tonnes, the other party, and where it is filed (file[sheet]:line)."""
    sheet = f"[{record['sheet']}]" if record.get("sheet") else ""
    words = [
        label("table", record.get("table"), lang),
        str(record.get("record_id") or ""),
        str(record.get("at") or "")[:16],
        str(record.get("plate") or ""),
        f"{record['tonnes']:,.2f} t" if isinstance(record.get("tonnes"), int | float) else "",
        _OTHER_PARTY.say(lang, id=record["counterparty"]) if record.get("counterparty") else "",
        f"{record.get('file') or ''}{sheet}:{record.get('line') or ''}" if record.get("file") else "",
    ]
    return [w for w in words if w]


def _has_findings(store: Store) -> bool:
    return bool(store.query("SELECT 1 FROM information_schema.tables WHERE table_name = 'findings'"))


def _first(row: dict[str, Any], keys: tuple[str, ...]) -> Any:
    return next((row[k] for k in keys if row.get(k) is not None), None)


def _records(evidence: Any, facility_id: str) -> tuple[list[dict[str, Any]], int]:
    """The records behind a finding, in time order, and how many the audit holds in all."""
    if not isinstance(evidence, dict):
        return [], 0
    rows = [r for r in evidence.get("rows", []) if _first(r, _RECORD_ID) is not None]
    out = [
        {
            "table": r.get("_table"),
            "record_id": _first(r, _RECORD_ID),
            "at": _first(r, _AT),
            "plate": r.get("plate"),
            "tonnes": _first(r, _TONNES),
            # The other party: the supplier of an intake, the buyer of what this facility sold.
            "counterparty": next((r[k] for k in _COUNTERPARTY if r.get(k) is not None and r[k] != facility_id), None),
            "waybill_no": r.get("waybill_no"),
            "file": r.get("_file"),
            "sheet": r.get("_sheet"),
            "line": r.get("_line"),
        }
        for r in rows
    ]
    out.sort(key=lambda r: (str(r["at"] or ""), str(r["record_id"])))
    total = int(evidence.get("total_rows") or len(rows))
    return out[:EVIDENCE_ROWS], total


def yard_page(
    store: Store, facility_id: str, period: Period, config: ConfigArg = None, *, source: str | None = None
) -> dict[str, Any]:
    page = yard_report(store, facility_id, period, config, source=source)
    p = page["period"]
    have = set(register_columns(store))
    contact = store.query(
        "SELECT "
        + ", ".join(
            f"any_value({c}) AS {c}" if c in have else f"NULL AS {c}" for c in ("address", "legal_rep", "phone")
        )
        + " FROM facilities WHERE facility_id = ?",
        [facility_id],
    )
    page.update(contact[0] if contact else {"address": None, "legal_rep": None, "phone": None})
    page["suppliers"] = store.query(
        """SELECT s.seller_id, b.name, b.kind, b.licence_state, s.tonnes, s.declared_t, s.physical_t, s.trips,
                  os.licensed_share AS supplier_licensed_share
           FROM (SELECT seller_id, sum(tonnes) AS tonnes, sum(declared_t) AS declared_t,
                        sum(physical_t) AS physical_t, sum(trips) AS trips
                 FROM flows WHERE period = ? AND buyer_id = ? AND seller_id <> buyer_id GROUP BY seller_id) s
           LEFT JOIN balances b ON b.period = ? AND b.facility_id = s.seller_id
           LEFT JOIN (SELECT facility_id, any_value(licensed_share) AS licensed_share FROM balances
                      WHERE period = ? GROUP BY facility_id) os ON os.facility_id = s.seller_id
           ORDER BY s.tonnes DESC, s.seller_id""",
        [p, facility_id, p, p],
    )
    page["buyers"] = store.query(
        """SELECT s.buyer_id, b.name, b.kind, b.licence_state, s.tonnes, s.trips
           FROM (SELECT buyer_id, sum(tonnes) AS tonnes, sum(trips) AS trips
                 FROM flows WHERE period = ? AND seller_id = ? AND seller_id <> buyer_id GROUP BY buyer_id) s
           LEFT JOIN balances b ON b.period = ? AND b.facility_id = s.buyer_id
           ORDER BY s.tonnes DESC, s.buyer_id""",
        [p, facility_id, p],
    )
    page["rest"] = [o for o in page["origins"] if o["origin_class"] != "licensed"]
    b = store.query("SELECT * FROM balances WHERE period = ? AND facility_id = ?", [p, facility_id])
    row = b[0] if b else {}
    opening, usable = row.get("opening_stock_t", 0.0), row.get("usable_inflow_t", 0.0)
    production, outflow = row.get("production_t", 0.0), row.get("outflow_t", 0.0)
    page["stock"] = {
        "opening_t": opening,
        "inflow_t": row.get("inflow_t", 0.0),
        "yield_factor": row.get("yield_factor", 1.0),
        "usable_inflow_t": usable,
        "production_t": production,
        "outflow_t": outflow,
        "closing_computed_t": opening + usable + production - outflow,
        "closing_counted_t": row.get("closing_stock_t"),
    }
    page["findings"] = []
    if _has_findings(store):
        # About the facility itself, or a flow into or out of it (ids 'seller>buyer').
        found = store.query(
            f"""SELECT finding_id, rule_id, rule_version, severity, title_zh, title_en, entity_kind, entity_id,
                      tonnes_at_risk, tonnes_role, evidence
               FROM findings
               WHERE period = ? AND (facility_id = ? OR entity_id = ?
                                     OR ends_with(entity_id, ?) OR starts_with(entity_id, ?))
               ORDER BY {SEVERITY_RANK_SQL} DESC,
                        tonnes_at_risk DESC NULLS LAST, finding_id""",
            # Not LIKE: an id's own `_` or `%` would match other facilities' flows.
            [p, facility_id, facility_id, f">{facility_id}", f"{facility_id}>"],
        )
        notes = rule_notes(only={f["rule_id"] for f in found})
        for f in found:
            evidence = f.pop("evidence")
            records, total = _records(json.loads(evidence) if isinstance(evidence, str) else evidence, facility_id)
            checks, false_positives = notes.get(f["rule_id"], ([], []))
            f |= {
                "checks": checks,
                "evidence": records,
                "evidence_total": total,
                "evidence_more": max(total - len(records), 0),
                "false_positives": false_positives,
            }
        page["findings"] = found
    page["round_trips"] = _round_trips(store, p, facility_id)
    by_check: dict[int, list[str]] = {}
    for f in page["findings"]:
        for c in f["checks"]:
            by_check.setdefault(c, []).append(f["finding_id"])
    page["checklist"] = checklist(page.get("kind"), by_check)
    page["sign"] = sign_lines()
    return tidy(page)


def _round_trips(store: Store, period: str, facility_id: str) -> list[dict[str, Any]]:
    """The cycles of trade (2 to MAX_CYCLE_LENGTH facilities) on the period's aggregated flows that
    pass through the facility, as `coaltrace.graph.network.round_trips` finds them on the whole graph.

    Found in SQL as the chains of flows that leave the facility and come back to it: a page reads
    the relations around one facility, never the whole graph."""
    found = store.engine.rows(
        f"WITH e AS MATERIALIZED ({_RELATIONS}) "
        + " UNION ALL ".join(_cycles_through_sql(n) for n in range(2, MAX_CYCLE_LENGTH + 1)),
        {"p": period, "f": facility_id},
    )
    cycles = []
    for ring, each in found:
        start = ring.index(min(ring))
        ring, each = ring[start:] + ring[:start], each[start:] + each[:start]
        cycles.append(
            {
                "cycle_id": ">".join(ring),
                "facilities": ring,
                "length": len(ring),
                "tonnes_round": min(float(t or 0.0) for t in each),
            }
        )
    cycles.sort(key=lambda c: (-c["tonnes_round"], c["cycle_id"]))
    cycles = cycles[:MAX_CYCLES]
    names = facility_names(store, [f for c in cycles for f in c["facilities"]])
    return [
        {
            "cycle_id": c["cycle_id"],
            "facilities": c["facilities"],
            "names": [names.get(x) for x in c["facilities"]],
            "length": c["length"],
            "tonnes_round": c["tonnes_round"],
        }
        for c in cycles
    ]


# The period's trading relations, one per seller and buyer, as the round trips of an export count them.
_RELATIONS = (
    "SELECT seller_id AS s, buyer_id AS b, sum(tonnes) AS t FROM flows "
    "WHERE period = $p AND seller_id <> buyer_id GROUP BY ALL HAVING sum(tonnes) > 0"
)


def _cycles_through_sql(length: int) -> str:
    """The cycles of LENGTH facilities through $f: the facility, then LENGTH - 1 others, all
    different, each selling to the next and the last back to $f. Each cycle once, from $f."""
    hops = range(length)
    others = [f"h{i}.b" for i in range(length - 1)]
    where = [
        "h0.s = $f",
        f"h{length - 1}.b = $f",
        *(f"h{i}.s = h{i - 1}.b" for i in range(1, length)),
        *(f"{a} <> {b}" for a, b in combinations(["$f", *others], 2)),
    ]
    return (
        f"SELECT [$f, {', '.join(others)}] AS ring, [{', '.join(f'h{i}.t' for i in hops)}] AS each "
        f"FROM {', '.join(f'e h{i}' for i in hops)} WHERE {' AND '.join(where)}"
    )
