"""`coaltrace yard`: the inspector's page of one facility, on the terminal (at most 100 columns,
piped too), as JSON, or as an A4 sheet to print and sign (`coaltrace.yard.sheet`)."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from coaltrace.cli.app import app
from coaltrace.cli.common import (
    DbOption,
    JsonOption,
    TextConsole,
    err,
    handle_errors,
    print_json,
    printable,
    state,
    styled,
)
from coaltrace.cli.output import QuickTable
from coaltrace.cli.reading import (
    WORDS,
    ConfigOption,
    PeriodOption,
    lookup_facility,
    num,
    open_for_period,
    origin_cells,
    pct,
)
from coaltrace.i18n import catalogue, say
from coaltrace.labels import label

LABELS = catalogue(
    {
        "address_line": ("地址：{where}", "address: {where}"),
        "breach": (
            "库存先出后进：{at} 起为负，最低 {min:.1f} 吨",
            "shipped before received: negative from {at}, lowest {min:.1f} t",
        ),
        "buyers_title": ("去向单位", "Buyers"),
        "check_findings": ("（相关问题：{ids}）", "(findings: {ids})"),
        "checklist_title": ("现场检查（八查）", "On-site checklist (the eight checks)"),
        "contact_line": ("法定代表人：{rep}；联系电话：{phone}", "legal representative: {rep}; phone: {phone}"),
        "counterparty": ("对方 {id}", "other party {id}"),
        "evidence_more": (
            "……另有 {n} 条记录（coaltrace findings --format json 可查全部）",
            "... and {n} more records (coaltrace findings --format json has them all)",
        ),
        "false_positive": ("可能误报：{text}", "possible false positive: {text}"),
        "finding_line": (
            "对象：{entity}；涉及：{tonnes}；规则：{rule}；编号：{id}",
            "about: {entity}; tonnes: {tonnes}; rule: {rule}; id: {id}",
        ),
        "findings_title": ("未结问题（{n} 条）", "Open findings ({n})"),
        "html_written": ("已写出检查单：{path}", "inspection sheet written: {path}"),
        "inflow_unrecorded": (
            "数据缺口：数据中几乎没有此类单位的进煤记录，{t} 吨缺口未作判断。",
            "data gap: the data records almost no inflow to this kind of facility; {t} t of shortfall is not judged.",
        ),
        "licence_line": (
            "许可证 {id}（{type} {mineral}）：{start} 至 {end}，期末有效：{valid}",
            "licence {id} ({type} {mineral}): {start} to {end}, valid at the period's end: {valid}",
        ),
        "no_licence": ("许可证：无", "licences: none"),
        "rest_title": (
            "其余来源（合法来源占 {share}，其余从何处进入链条）",
            "Where the rest entered the chain (licensed: {share})",
        ),
        "round_trip_line": ("{ring} → {first}：每圈至少 {t} 吨", "{ring} → {first}: at least {t} t round"),
        "round_trips_title": (
            "循环倒卖（煤在几家单位间转圈买卖）",
            "Round trips (coal sold round a ring of facilities)",
        ),
        "share_line": (
            "合法来源占比 {share}；在本单位进入链条的涉险煤 {here} 吨",
            "licensed share {share}; coal at risk entering the chain here {here} t",
        ),
        "sign_title": ("签字", "Signatures"),
        "status_line": (
            "状态：{status}（自 {since}）；县区：{county}",
            "status: {status} (since {since}); county: {county}",
        ),
        "stock_blank": (
            "现场盘点：____________ 吨    差额：____________ 吨",
            "counted on site: ____________ t    difference: ____________ t",
        ),
        "stock_counted": ("期末盘点记录：{t} 吨", "stock count on record at the period's end: {t} t"),
        "stock_line": (
            "期初库存 {opening} + 购入 {inflow} × 折算 {factor} + 产量 {production} − 销出 {outflow} "
            "= 计算期末库存 {closing} 吨",
            "opening {opening} + inflow {inflow} × yield {factor} + production {production} − outflow {outflow} "
            "= computed closing stock {closing} t",
        ),
        "stock_title": ("库存核对", "Stock check"),
        "suppliers_title": ("供货单位", "Suppliers"),
        "yes": ("是", "yes"),
        "no": ("否", "no"),
    }
)


def _t(key: str, **kw: Any) -> str:
    return say(LABELS if key in LABELS else WORDS, key, state.lang, **kw)


# The inspector's page prints at most this wide, on a terminal and piped alike: A4 portrait holds about 90.
PAGE_WIDTH = 100


def _page_console() -> TextConsole:
    import shutil

    width = shutil.get_terminal_size((PAGE_WIDTH, 24)).columns if sys.stdout.isatty() else PAGE_WIDTH
    return TextConsole(width=min(width, PAGE_WIDTH))


@app.command()
@handle_errors
def yard(
    facility: Annotated[
        str,
        typer.Argument(help="facility_id (单位编码, any case) or part of the name (昌顺) of the yard or any facility."),
    ],
    period: PeriodOption = None,
    config: ConfigOption = None,
    json: JsonOption = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the page as HTML to print and sign (A4) at this path.")
    ] = None,
    db: DbOption = None,
) -> None:
    """The inspector's page of one facility: who it is, suppliers, buyers, stock, findings, checklist. 现场检查页。"""
    from coaltrace.config import load_config
    from coaltrace.yard.page import yard_page

    settings = load_config(config)
    setting, source = settings.provenance_setting(), settings.source
    store, p = open_for_period(db, period, setting)
    with store:
        facility_id = lookup_facility(store, facility)
        page = yard_page(store, facility_id, p, setting, source=source)
    if html is not None:
        from coaltrace.yard.sheet import write_yard_html

        write_yard_html([page], html, state.lang, settings.report_settings())
        err.print(_t("html_written", path=str(html)))
        return
    if json:
        print_json(page)
        return
    render_page(page, _page_console())


def render_page(page: dict[str, Any], con: TextConsole) -> None:
    """The yard page as text for the terminal (or a file), at most PAGE_WIDTH columns wide."""
    lang = state.lang
    kind = label("facility_kind", page.get("kind"), lang)
    con.print(
        Text.assemble(
            styled(f"{page['facility_id']} {page.get('name') or ''}", "bold"),
            printable(
                f"  {kind}，{page.get('county') or '-'}，{page['period']}"
                if lang == "zh"
                else f"  {kind}, {page.get('county') or '-'}, {page['period']}"
            ),
        )
    )
    where = page.get("address") or (
        f"{page['lat']:.6f}, {page['lon']:.6f}" if page.get("lat") is not None and page.get("lon") is not None else "-"
    )
    con.print(_t("address_line", where=where))
    con.print(_t("contact_line", rep=page.get("legal_rep") or "-", phone=page.get("phone") or "-"))
    con.print(
        _t(
            "status_line",
            status=label("facility_status", page.get("status"), lang) or "-",
            since=page.get("status_since") or "-",
            county=page.get("county") or "-",
        )
    )
    if not page["licences"]:
        con.print(_t("no_licence"))
    for lic in page["licences"]:
        con.print(
            _t(
                "licence_line",
                id=lic["licence_id"],
                type=label("licence_type", lic["licence_type"], lang),
                mineral=lic.get("mineral") or "",
                start=lic["valid_from"],
                end=lic["valid_to"],
                valid=_t("yes" if lic["valid_at_end"] else "no"),
            )
        )
    con.print(_t("share_line", share=pct(page["licensed_share"]), here=_money(page["tonnes_at_risk"])))
    if not page["inflow_recorded"]:
        con.print(_t("inflow_unrecorded", t=num(page["data_gap_t"])))

    st = page["stock"]
    _rule(con, _t("stock_title"))
    _say(
        con,
        _t(
            "stock_line",
            opening=_money(st["opening_t"]),
            inflow=_money(st["inflow_t"]),
            factor=f"{st['yield_factor']:.2f}",
            production=_money(st["production_t"]),
            outflow=_money(st["outflow_t"]),
            closing=_money(st["closing_computed_t"]),
        ),
        hang=2,
    )
    if st.get("closing_counted_t") is not None:
        con.print(_t("stock_counted", t=_money(st["closing_counted_t"])))
    con.print(_t("stock_blank"))
    if page["running_breach"]:
        b = page["running_breach"]
        con.print(_t("breach", at=b["first_negative_at"], min=b["min_balance_t"]))

    _rule(con, _t("suppliers_title"))
    _parties(con, page["suppliers"], "seller_id", with_share=True)
    _rule(con, _t("buyers_title"))
    _parties(con, page["buyers"], "buyer_id", with_share=False)

    _rule(con, _t("rest_title", share=pct(page["licensed_share"])))
    if not page["rest"]:
        con.print(_t("none_rows"))
    else:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=False)
        for key in ("class", "origin", "tonnes", "share"):
            table.add_column(_t(key), justify="right" if key in ("tonnes", "share") else "left", overflow="fold")
        for r in page["rest"]:
            table.add_row(*origin_cells(r))
        con.print(QuickTable(table))

    if page["round_trips"]:
        _rule(con, _t("round_trips_title"))
        for c in page["round_trips"]:
            ring = " → ".join(f"{i} {n or ''}".strip() for i, n in zip(c["facilities"], c["names"], strict=True))
            con.print(_t("round_trip_line", ring=ring, first=c["facilities"][0], t=_money(c["tonnes_round"])))

    _rule(con, _t("findings_title", n=len(page["findings"])))
    if not page["findings"]:
        con.print(_t("none_rows"))
    for i, f in enumerate(page["findings"], start=1):
        title = f["title_zh"] if lang == "zh" else f["title_en"]
        con.print(styled(f"{i}. [{label('severity', f['severity'], lang)}] {title}", "bold"))
        tonnes = ""
        if f["tonnes_at_risk"] is not None and f.get("tonnes_role") != "none":
            tonnes = f"{_money(f['tonnes_at_risk'])} t"
            if f.get("tonnes_role") in ("carried", "records"):
                tonnes += _t(f"role_{f['tonnes_role']}")
        _say(
            con,
            _t(
                "finding_line",
                entity=f"{label('entity', f['entity_kind'], lang)} {f['entity_id']}",
                tonnes=tonnes or "-",
                rule=f["rule_id"],
                id=f["finding_id"],
            ),
            indent=3,
        )
        for e in f["evidence"]:
            parts = [
                label("table", e.get("table"), lang),
                e.get("record_id") or "",
                str(e.get("at") or "")[:16],
                e.get("plate") or "",
                f"{e['tonnes']:,.2f} t" if e.get("tonnes") is not None else "",
                _t("counterparty", id=e["counterparty"]) if e.get("counterparty") else "",
                _where(e),
            ]
            _say(con, " ".join(x for x in parts if x), indent=5, hang=2)
        if f["evidence_more"]:
            _say(con, _t("evidence_more", n=f["evidence_more"]), indent=5, hang=2)
        for fp in f["false_positives"]:
            _say(con, _t("false_positive", text=fp["zh"] if lang == "zh" else fp["en"]), indent=5, hang=2)

    _rule(con, _t("checklist_title"))
    for c in page["checklist"]:
        words = c["title"]["zh"] if lang == "zh" else c["title"]["en"]
        todo = c["what_to_do"]["zh"] if lang == "zh" else c["what_to_do"]["en"]
        line = f"[ ] {c['check']}. {words}：{todo}" if lang == "zh" else f"[ ] {c['check']}. {words}: {todo}"
        if c["findings"]:
            line += _t("check_findings", ids=", ".join(c["findings"]))
        _say(con, line, hang=4)

    _rule(con, _t("sign_title"))
    for s in page["sign"]:
        con.print(f"{s['zh'] if lang == 'zh' else s['en']}{'：' if lang == 'zh' else ': '}{'_' * 30}")


def _money(v: Any) -> str:
    return "—" if v is None else f"{v:,.3f}"


def _rule(con: TextConsole, title: str) -> None:
    con.rule(styled(title, "bold"), align="left", characters="─")


def _say(con: TextConsole, text: str, indent: int = 0, hang: int = 0) -> None:
    """TEXT wrapped to the console's width by display cells: Chinese breaks between any two characters,
    other text at spaces. INDENT starts the first line, INDENT + HANG the others."""
    from rich.cells import cell_len

    width = con.width - indent
    tokens = re.findall(r"[\x00-\u2e7f]+?(?=\s|[^\x00-\u2e7f]|$)\s*|[^\x00-\u2e7f]", text)
    lines: list[str] = []
    line = ""
    for tok in tokens:
        room = width - (hang if lines else 0)
        if line and cell_len(line + tok.rstrip()) > room:
            lines.append(line.rstrip())
            line = tok.lstrip()
        else:
            line += tok
    lines.append(line.rstrip())
    for i, part in enumerate(lines):
        con.print(" " * (indent + (hang if i else 0)) + part, overflow="fold")


def _where(record: dict[str, Any]) -> str:
    sheet = f"[{record['sheet']}]" if record.get("sheet") else ""
    return f"{record.get('file') or ''}{sheet}:{record.get('line') or ''}"


def _parties(con: TextConsole, rows: list[dict[str, Any]], key: str, *, with_share: bool) -> None:
    if not rows:
        con.print(_t("none_rows"))
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    keys = ["supplier" if with_share else "buyer", "kind", "licence", "tonnes", "trips"] + (
        ["supplier_share"] if with_share else []
    )
    for k in keys:
        table.add_column(
            _t(k), justify="right" if k in ("tonnes", "trips", "supplier_share") else "left", overflow="fold"
        )
    for r in rows:
        cells = [
            f"{r[key]} {r.get('name') or ''}".strip(),
            label("facility_kind", r.get("kind"), state.lang),
            label("licence_state", r.get("licence_state"), state.lang),
            num(r["tonnes"]),
            str(r.get("trips") or 0),
        ]
        if with_share:
            cells.append(pct(r.get("supplier_licensed_share")))
        table.add_row(*cells)
    con.print(QuickTable(table))
