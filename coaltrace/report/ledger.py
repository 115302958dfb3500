"""The problem ledger's part of the report: the period's items by county and status, then the
items overdue or recurring, from `coaltrace.ledger.queries.ledger_state`.

Each part is a `Section` (heading, column labels, rows, note), which the HTML page, the Markdown
file and the workbook lay out alike; a database with no ledger gets one section that says so.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from coaltrace.i18n import catalogue
from coaltrace.labels import label

# Items listed as overdue or recurring; the counts above them cover every item.
TOP_LEDGER = 50

T = catalogue(
    {
        "ledger": ("问题台账", "Problem ledger"),
        "no_ledger": ("尚无问题台账（coaltrace audit 建账后在此列出）。", "No ledger yet (coaltrace audit files one)."),
        "ledger_note": (
            "本期 {n} 项；销号率 {rate}（已销号 / 未排除的事项）；逾期 {overdue} 项；复发 {recurred} 项。"
            "截至 {as_of}；历史链末端 {head}。",
            "{n} items this period; closure rate {rate} (closed / items not dismissed); {overdue} overdue; "
            "{recurred} recurred. As of {as_of}; history chain head {head}.",
        ),
        "county": ("县区", "county"),
        "items": ("事项", "items"),
        "overdue": ("逾期", "overdue"),
        "closure_rate": ("销号率", "closure rate"),
        "ledger_attention": ("逾期和复发的事项", "Overdue and recurring items"),
        "id": ("编号", "id"),
        "facility": ("单位", "facility"),
        "problem": ("问题类型", "problem"),
        "status": ("状态", "status"),
        "deadline": ("整改时限", "deadline"),
        "owner": ("责任人", "owner"),
        "recurrences": ("复发次数", "recurrences"),
        "none": ("无", "none"),
    }
)


class Section(NamedTuple):
    heading: str
    columns: list[str]
    rows: list[list[str | int]]  # counts stay numbers, for the workbook
    note: str | None


def _rate(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def ledger_sections(ledger: dict[str, Any] | None, lang: str) -> list[Section]:
    """The ledger's state for the period (`ledger_state`'s dict, None without a ledger) as sections."""

    def t(key: str, **values: object) -> str:
        return T[key].say(lang, **values)

    if not ledger:
        return [Section(t("ledger"), [], [], t("no_ledger"))]
    statuses = list(ledger["by_status"])
    note = t(
        "ledger_note",
        n=ledger["items"],
        rate=_rate(ledger["closure_rate"]),
        overdue=len(ledger["overdue"]),
        recurred=len(ledger["recurrences"]),
        as_of=ledger["as_of"],
        head=(ledger["chain_head"] or "-")[:16],
    )
    by_county = Section(
        t("ledger"),
        [
            t("county"),
            t("items"),
            *(label("ledger_status", s, lang) for s in statuses),
            t("overdue"),
            t("closure_rate"),
        ],
        [
            [
                c["county"] or t("none"),
                c["items"],
                *(c["by_status"][s] for s in statuses),
                c["overdue"],
                _rate(c["closure_rate"]),
            ]
            for c in ledger["counties"]
        ],
        note,
    )
    attention = {i["item_id"]: i for i in [*ledger["overdue"], *ledger["recurrences"]]}
    if not attention:
        return [by_county]
    rows = [
        [
            i["item_id"],
            i["county"] or "",
            " ".join(x for x in (i["facility_id"], i["facility_name"]) if x),
            label("ledger_problem", i["problem_type"], lang),
            label("ledger_status", i["status"], lang),
            i["deadline"],
            i["owner"] or "",
            i["recurrences"],
        ]
        for i in list(attention.values())[:TOP_LEDGER]
    ]
    cols = ["id", "county", "facility", "problem", "status", "deadline", "owner", "recurrences"]
    return [by_county, Section(t("ledger_attention"), [t(c) for c in cols], rows, None)]
