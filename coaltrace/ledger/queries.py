"""Reading the ledger: items by county, status, source and period; one item with its evidence and history;
the ledger's state for the report.

The city's ledger is the counties' ledgers together: every query reads all
counties unless told one. Tonnes at risk are counted once, as the audit counts
them (`coaltrace.rules.summary`): origin tonnes per facility, origin class and
period, the largest any rule found, given to one item of that facility (the
item holding them, the first problem type on a tie), so items' tonnes add up
to distinct coal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from coaltrace.engine import Engine
from coaltrace.errors import UsageError
from coaltrace.i18n import Text, catalogue
from coaltrace.labels import label
from coaltrace.ledger.chain import head, history_rows, load_items
from coaltrace.ledger.model import PROBLEM_ORDER, Item, Status, checks_text
from coaltrace.ledger.schema import FINDINGS, ITEMS, exists
from coaltrace.numbers import tidy
from coaltrace.period import Period

# The standard rectification requirement (整改要求) of each problem type, until someone writes another.
REQUIREMENTS = catalogue(
    {
        "unlicensed_mining": (
            "立即停止生产销售，查封非法采矿点，查明煤炭来源和去向，依法立案查处；涉嫌犯罪的移交公安机关。",
            "Stop production and sales at once, seal the site, trace where the coal came from and went, open a case; "
            "hand suspected crimes to the police.",
        ),
        "closed_mine_mining": (
            "立即停止生产运输，按关闭矿井“六条标准”填实封闭井口、拆除供电设施，明确监管责任人，依法查处。",
            "Stop production and transport at once; seal the shafts and remove the power supply to the six closure "
            "standards; name who watches the site; open a case.",
        ),
        "over_capacity": (
            "责令按核定生产能力组织生产，核查超产煤炭的来源和去向，依法处罚。",
            "Order production within the approved capacity; trace the excess coal; penalise as the law provides.",
        ),
        "covert_mining": (
            "现场核查场地内有无盗采设施，查明无来源煤炭的来源，停止违规销售，依法查处。",
            "Inspect the site for illegal workings; find where the unsourced coal came from; stop the sales; open a case.",
        ),
        "irregular_intake": (
            "核查供货来源，停止从无证或不明来源收购煤炭，完善入库台账（运单、供货单位）。",
            "Check the suppliers; stop buying from unlicensed or unknown sources; complete the intake records "
            "(waybills, suppliers).",
        ),
        "abnormal_power": (
            "现场核查用电用途；为非法采矿供电的，责令供电企业停止供电并拆除供电设施。",
            "Check on site what the power is used for; if it feeds illegal mining, have the supplier cut and remove "
            "the connection.",
        ),
        "transport_anomaly": (
            "核查车辆和运输记录，查明所运煤炭的来源，对违规运输依法查处。",
            "Check the vehicles and trips; find where the coal came from; penalise illegal transport.",
        ),
        "outcrop_mining": (
            "现场核查露头煤区域，发现开采迹象的立即制止、回填封闭，依法查处。",
            "Inspect the outcrop; stop and backfill any digging; open a case.",
        ),
        "closed_facility_operating": (
            "责令停止经营，核查煤炭来源和去向，依法查处。",
            "Order trading to stop; trace the coal; penalise as the law provides.",
        ),
        "data_quality": ("核对并更正登记信息或原始记录。", "Check and correct the register or the records."),
        "illegal_mining": (
            "立即制止，查封非法采矿点，回填封闭坑口井口，依法查处；涉嫌犯罪的移交公安机关。",
            "Stop it at once, seal the site, backfill the pits and shafts, open a case; hand suspected crimes to "
            "the police.",
        ),
        "unsealed_shaft": (
            "按关闭矿井“六条标准”填实封闭井口，明确监管责任人。",
            "Fill and seal the shaft to the six closure standards; name who watches the site.",
        ),
        "other": ("核查问题并整改到位。", "Check the problem and put it right."),
    }
)


def requirement(item: Item, lang: str) -> str:
    if item.requirement:
        return item.requirement
    text = REQUIREMENTS.get(item.problem_type) or REQUIREMENTS["other"]
    return text.say(lang)


def _tonnes_sql() -> str:
    order = " ".join(f"WHEN '{code}' THEN {rank}" for code, rank in PROBLEM_ORDER.items())
    return f"""
WITH by_rule AS (
    SELECT lf.item_id, li.problem_type, lf.facility_id, lf.origin_class, lf.period, lf.rule_id,
           sum(lf.tonnes_at_risk) AS tonnes
    FROM {FINDINGS} lf JOIN {ITEMS} li USING (item_id)
    WHERE lf.tonnes_role = 'origin' AND lf.facility_id IS NOT NULL AND lf.tonnes_at_risk > 0
    GROUP BY ALL
), by_item AS (
    SELECT item_id, problem_type, facility_id, origin_class, period, max(tonnes) AS tonnes FROM by_rule GROUP BY ALL
), ranked AS (
    SELECT *, row_number() OVER (
        PARTITION BY facility_id, origin_class, period
        ORDER BY tonnes DESC, CASE problem_type {order} ELSE 999 END, item_id) AS rn
    FROM by_item
)
SELECT item_id, sum(tonnes) AS tonnes FROM ranked WHERE rn = 1 GROUP BY item_id
"""


def tonnes_by_item(engine: Engine) -> dict[str, float]:
    """Each item's tonnes at risk, counted once (see the module's docstring)."""
    return {item_id: float(t) for item_id, t in engine.rows(_tonnes_sql())}


def titles(engine: Engine) -> dict[str, Text]:
    """rule id -> its title, as the findings filed in the ledger carry it (the latest version's)."""
    rows = engine.rows(
        f"SELECT rule_id, arg_max(title_zh, rule_version), arg_max(title_en, rule_version) FROM {FINDINGS} GROUP BY 1"
    )
    return {rule_id: Text(zh, en) for rule_id, zh, en in rows}


def description(item: Item, rule_titles: Mapping[str, Text], lang: str) -> str:
    """A person's words for a lead; for an audit item, the titles of the rules that found it, in LANG."""
    if item.description:
        return item.description
    names = [rule_titles[r].say(lang) if r in rule_titles else r for r in item.rule_ids]
    return ("；" if lang == "zh" else "; ").join(names)


@dataclass(frozen=True)
class ItemFilter:
    county: str | None = None
    statuses: tuple[Status, ...] = ()
    overdue: bool = False
    source: str | None = None
    period: Period | None = None
    as_of: date | None = None


def _overlaps(labels: tuple[str, ...], period: Period) -> bool:
    for text in labels:
        p = Period.parse(text)
        if p.start < period.end and period.start < p.end:
            return True
    return False


def select(items: dict[str, Item], f: ItemFilter) -> list[Item]:
    """ITEMS that pass F, by county, then found date, then id."""
    as_of = f.as_of or date.today()
    kept = [
        i
        for i in items.values()
        if (f.county is None or (i.county or "") == f.county)
        and (not f.statuses or i.status in f.statuses)
        and (not f.overdue or i.overdue(as_of))
        and (f.source is None or i.source.value == f.source)
        and (f.period is None or _overlaps(i.periods, f.period))
    ]
    return sorted(kept, key=lambda i: (i.county or "\uffff", i.found_on, i.item_id))


def require_ledger(engine: Engine) -> None:
    if not exists(engine):
        raise UsageError(
            "this database has no ledger yet",
            zh="该数据库中还没有问题台账",
            hint="Run `coaltrace audit --period P` (it files its findings) or register a lead with `coaltrace ledger add`.",
            hint_zh="请先运行 coaltrace audit --period 期间（审计会自动登记问题），或用 coaltrace ledger add 登记线索。",
        )


def find(engine: Engine, f: ItemFilter) -> list[Item]:
    if not exists(engine):
        return []
    return select(load_items(engine), f)


def get(engine: Engine, item_id: str) -> Item:
    """The item, or a usage error naming the ids that look like it."""
    require_ledger(engine)
    wanted = item_id.strip().upper()
    found = load_items(engine, [wanted])
    if wanted in found:
        return found[wanted]
    near = [
        r[0]
        for r in engine.rows(
            f"SELECT item_id FROM {ITEMS} WHERE item_id LIKE ? ORDER BY 1 LIMIT 5", [f"%{wanted[-6:]}%"]
        )
    ]
    raise UsageError(
        f"no item {item_id!r} in the ledger" + (f"; did you mean {', '.join(near)}?" if near else ""),
        zh=f"台账中没有事项 {item_id!r}" + (f"；是否是 {'、'.join(near)}？" if near else ""),
        hint="`coaltrace ledger list` shows the items and their ids.",
        hint_zh="用 coaltrace ledger list 查看事项及其编号。",
    )


def row(item: Item, lang: str, *, tonnes: float | None, found: Mapping[str, Text], as_of: date) -> dict[str, Any]:
    """An item as plain data for JSON, tables and sheets: codes and, beside them, their labels in LANG."""
    return tidy(
        {
            "item_id": item.item_id,
            "version": item.version,
            "county": item.county,
            "status": item.status.value,
            "status_label": label("ledger_status", item.status.value, lang),
            "source": item.source.value,
            "source_label": label("ledger_source", item.source.value, lang),
            "problem_type": item.problem_type,
            "problem_label": label("ledger_problem", item.problem_type, lang),
            "severity": item.severity,
            "severity_label": label("severity", item.severity, lang),
            "subject_kind": item.subject_kind,
            "subject_id": item.subject_id,
            "facility_id": item.facility_id,
            "facility_name": item.facility_name,
            "facility_kind": item.facility_kind,
            "lat": item.lat,
            "lon": item.lon,
            "description": description(item, found, lang),
            "found_by": item.found_by,
            "found_on": item.found_on.isoformat(),
            "requirement": requirement(item, lang),
            "unit": item.unit,
            "owner": item.owner,
            "deadline": item.deadline.isoformat(),
            "overdue": item.overdue(as_of),
            "signer": item.signer,
            "closed_on": item.closed_on.isoformat() if item.closed_on else None,
            "note": item.note,
            "recurrences": item.recurrences,
            "periods": list(item.periods),
            "rule_ids": list(item.rule_ids),
            "checks_applicable": list(item.checks_applicable),
            "field_checks": [c.as_record() | {"done": c.done, "found": c.found} for c in item.field_checks],
            "field_checks_text": checks_text(item.field_checks, lang),
            "samples": list(item.samples),
            "lookbacks": list(item.lookbacks),
            "tonnes_at_risk": tonnes,
            "created_at": item.created_at.isoformat() if item.created_at else None,
            "updated_at": item.updated_at.isoformat() if item.updated_at else None,
        }
    )


def list_items(engine: Engine, f: ItemFilter, lang: str) -> list[dict[str, Any]]:
    items = find(engine, f)
    if not items:
        return []
    tonnes = tonnes_by_item(engine)
    found = titles(engine)
    as_of = f.as_of or date.today()
    return [row(i, lang, tonnes=tonnes.get(i.item_id, 0.0), found=found, as_of=as_of) for i in items]


def history(engine: Engine, item_id: str, lang: str) -> list[dict[str, Any]]:
    item = get(engine, item_id)
    out = []
    for r in history_rows(engine, item.item_id):
        out.append(
            {
                "seq": r["seq"],
                "at": r["changed_at"].isoformat(),
                "on": r["on_date"].isoformat(),
                "actor": r["actor"],
                "action": r["action"],
                "action_label": label("ledger_action", r["action"], lang),
                "from": r["from_status"],
                "to": r["to_status"],
                "signer": r["signer"],
                "note": r["note"],
                "fields": json.loads(r["fields"]),
                "evidence": sorted(json.loads(r["evidence"])),
                "hash": r["hash"],
                "prev_hash": r["prev_hash"],
            }
        )
    return out


def findings_of(engine: Engine, item_id: str) -> list[dict[str, Any]]:
    rows = engine.query(
        f"""SELECT finding_id, period, rule_id, rule_version, severity, entity_kind, entity_id, facility_id, county,
                   tonnes_at_risk, tonnes_role, origin_class, title_zh, title_en, evidence, run_id, filed_at
            FROM {FINDINGS} WHERE item_id = ? ORDER BY period, rule_id, entity_id""",
        [item_id],
    )
    for r in rows:
        r["evidence"] = json.loads(r["evidence"]) if r["evidence"] else {}
        r["filed_at"] = r["filed_at"].isoformat() if r["filed_at"] else None
    return tidy(rows)


def detail(engine: Engine, item_id: str, lang: str, as_of: date | None = None) -> dict[str, Any]:
    """One item: its fields, the findings filed on it with their evidence, and its history."""
    item = get(engine, item_id)
    tonnes = tonnes_by_item(engine).get(item.item_id, 0.0)
    found = titles(engine)
    return row(item, lang, tonnes=tonnes, found=found, as_of=as_of or date.today()) | {
        "findings": findings_of(engine, item.item_id),
        "history": history(engine, item.item_id, lang),
    }


def ledger_state(engine: Engine, period: Period | None = None, as_of: date | None = None) -> dict[str, Any] | None:
    """The ledger for a period as plain data, for the report: counts by county and status, overdue items,
    the closure rate, recurrences. None when the database has no ledger.

    Items of a period are those with findings in it (a lead: found in it). The closure rate is closed items
    over items that are not dismissed (a false positive is not a problem to close).
    """
    if not exists(engine):
        return None
    as_of = as_of or date.today()
    items = select(load_items(engine), ItemFilter(period=period, as_of=as_of))
    tonnes = tonnes_by_item(engine)
    counties: dict[str, dict[str, Any]] = {}
    for i in items:
        c = counties.setdefault(
            i.county or "", {"county": i.county, "items": 0, "by_status": {s.value: 0 for s in Status}, "overdue": 0}
        )
        c["items"] += 1
        c["by_status"][i.status.value] += 1
        c["overdue"] += int(i.overdue(as_of))
    for c in counties.values():
        c["closure_rate"] = _rate(c["by_status"])
    by_status = {s.value: sum(1 for i in items if i.status is s) for s in Status}
    kept = head(engine)

    def brief(i: Item) -> dict[str, Any]:
        return {
            "item_id": i.item_id,
            "county": i.county,
            "facility_id": i.facility_id,
            "facility_name": i.facility_name,
            "problem_type": i.problem_type,
            "severity": i.severity,
            "status": i.status.value,
            "deadline": i.deadline.isoformat(),
            "owner": i.owner,
            "unit": i.unit,
            "recurrences": i.recurrences,
            "tonnes_at_risk": tonnes.get(i.item_id, 0.0),
        }

    return tidy(
        {
            "period": period.label if period else None,
            "as_of": as_of.isoformat(),
            "items": len(items),
            "by_status": by_status,
            "by_source": {
                s: n for s in sorted({i.source.value for i in items}) if (n := sum(i.source.value == s for i in items))
            },
            "counties": sorted(counties.values(), key=lambda c: (c["county"] is None, c["county"] or "")),
            "closure_rate": _rate(by_status),
            "overdue": [brief(i) for i in items if i.overdue(as_of)],
            "recurrences": [brief(i) for i in items if i.recurrences],
            "tonnes_at_risk": sum(tonnes.get(i.item_id, 0.0) for i in items),
            "chain_head": kept[1] if kept else None,
        }
    )


def _rate(by_status: dict[str, int]) -> float | None:
    counted = sum(n for s, n in by_status.items() if s != Status.dismissed.value)
    return by_status[Status.closed.value] / counted if counted else None
