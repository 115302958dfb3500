"""`coaltrace trace`, `balance` and `yard`: where a facility's coal came from, and who ships
more than they had."""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

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
    out,
    print_json,
    printable,
    state,
    styled,
)
from coaltrace.cli.output import FormatOption, OutOption, emit, resolve_format
from coaltrace.errors import UsageError
from coaltrace.i18n import Text as Words
from coaltrace.i18n import catalogue, say
from coaltrace.labels import label

if TYPE_CHECKING:
    from coaltrace.config import ProvenanceConfig
    from coaltrace.period import Period
    from coaltrace.store import Store

LABELS = catalogue(
    {
        "facility": ("单位", "facility"),
        "kind": ("类型", "kind"),
        "inflow": ("购入(吨)", "inflow (t)"),
        "usable": ("折算购入(吨)", "usable inflow (t)"),
        "opening": ("期初库存(吨)", "opening stock (t)"),
        "production": ("产量(吨)", "production (t)"),
        "outflow": ("销出(吨)", "outflow (t)"),
        "unsourced": ("无来源(吨)", "unsourced (t)"),
        "licence": ("采矿许可状态", "licence state"),
        "class": ("来源类别", "origin class"),
        "origin": ("来源单位", "origin facility"),
        "tonnes": ("吨", "tonnes"),
        "share": ("占比", "share"),
        "path": ("路径", "path"),
        "buyer": ("去向单位", "destination"),
        "grouped": ("（其余 {n} 个来源，各占比不足 0.01%）", "({n} other origins, each under 0.01%)"),
        "data_gap": ("数据缺口(吨)", "data gap (t)"),
        "period_latest_audit": (
            "未指定 --period：使用最近一次审计的期间 {period}",
            "no --period given: using {period}, the period audited last",
        ),
        "period_latest_sales": (
            "未指定 --period，且尚未审计：使用有销售记录的最近月份 {period}",
            "no --period given and no audit yet: using {period}, the latest month with sales",
        ),
        "status_line": (
            "状态：{status}（自 {since}）；县区：{county}",
            "status: {status} (since {since}); county: {county}",
        ),
        "licence_line": (
            "许可证 {id}（{type} {mineral}）：{start} 至 {end}，期末有效：{valid}",
            "licence {id} ({type} {mineral}): {start} to {end}, valid at the period's end: {valid}",
        ),
        "kept_build": (
            "{period} 的来源追溯由上次审计按 {made} 计算，本命令的配置与之不同：仍按审计的结果显示，"
            "与其问题一致；如需按新配置计算，请重新运行 coaltrace audit --config。",
            "the provenance of {period} was built by the last audit with {made}; this command's config differs: "
            "shown as the audit built it, which its findings rest on. To use the new config, run "
            "`coaltrace audit --config ...` again.",
        ),
        "defaults": ("默认设置", "the default settings"),
        "no_licence": ("许可证：无", "licences: none"),
        "none_rows": ("（无）", "(none)"),
        "yes": ("是", "yes"),
        "no": ("否", "no"),
        "inflow_unrecorded": (
            "数据缺口：数据中几乎没有此类单位的进煤记录，{t} 吨缺口未作判断。",
            "data gap: the data records almost no inflow to this kind of facility; {t} t of shortfall is not judged.",
        ),
        "role_carried": ("（携带）", "(carried)"),
        "role_records": ("（记录）", "(on records)"),
        "balance_title": ("{period} 物料平衡", "Mass balance, {period}"),
        "yard_title": (
            "{facility} {period}：合法来源占比 {share}，在本单位进入链条的涉险煤 {unsourced} 吨",
            "{facility} {period}: licensed share {share}, coal at risk entering the chain here {unsourced} t",
        ),
        "trace_up": (
            "{facility} {period} 的煤炭来源（{policy}）",
            "Where the coal of {facility} came from, {period} ({policy})",
        ),
        "trace_down": ("{facility} {period} 的煤炭去向", "Where the coal of {facility} went, {period}"),
        "paths_title": ("最重的路径", "Heaviest paths"),
        "suppliers_title": ("供货单位", "Suppliers"),
        "origins_title": ("煤炭来源（按比例追溯）", "Origins of its coal (proportional)"),
        "findings_title": ("未结问题（{n} 条）", "Open findings ({n})"),
        "supplier": ("供货单位", "supplier"),
        "trips": ("车次", "trips"),
        "found_as": ("“{text}”即 {id}", "{text!r} is {id}"),
        "address_line": ("地址：{where}", "address: {where}"),
        "contact_line": ("法定代表人：{rep}；联系电话：{phone}", "legal representative: {rep}; phone: {phone}"),
        "share_line": (
            "合法来源占比 {share}；在本单位进入链条的涉险煤 {here} 吨",
            "licensed share {share}; coal at risk entering the chain here {here} t",
        ),
        "stock_title": ("库存核对", "Stock check"),
        "stock_line": (
            "期初库存 {opening} + 购入 {inflow} × 折算 {factor} + 产量 {production} − 销出 {outflow} "
            "= 计算期末库存 {closing} 吨",
            "opening {opening} + inflow {inflow} × yield {factor} + production {production} − outflow {outflow} "
            "= computed closing stock {closing} t",
        ),
        "stock_counted": ("期末盘点记录：{t} 吨", "stock count on record at the period's end: {t} t"),
        "stock_blank": (
            "现场盘点：____________ 吨    差额：____________ 吨",
            "counted on site: ____________ t    difference: ____________ t",
        ),
        "buyers_title": ("去向单位", "Buyers"),
        "rest_title": (
            "其余来源（合法来源占 {share}，其余从何处进入链条）",
            "Where the rest entered the chain (licensed: {share})",
        ),
        "round_trips_title": (
            "循环倒卖（煤在几家单位间转圈买卖）",
            "Round trips (coal sold round a ring of facilities)",
        ),
        "round_trip_line": ("{ring} → {first}：每圈至少 {t} 吨", "{ring} → {first}: at least {t} t round"),
        "counterparty": ("对方 {id}", "other party {id}"),
        "finding_line": (
            "对象：{entity}；涉及：{tonnes}；规则：{rule}；编号：{id}",
            "about: {entity}; tonnes: {tonnes}; rule: {rule}; id: {id}",
        ),
        "evidence_more": (
            "……另有 {n} 条记录（coaltrace findings --format json 可查全部）",
            "... and {n} more records (coaltrace findings --format json has them all)",
        ),
        "false_positive": ("可能误报：{text}", "possible false positive: {text}"),
        "checklist_title": ("现场检查（八查）", "On-site checklist (the eight checks)"),
        "check_findings": ("（相关问题：{ids}）", "(findings: {ids})"),
        "sign_title": ("签字", "Signatures"),
        "supplier_share": ("其合法来源占比", "its licensed share"),
        "finding": ("问题编号", "finding"),
        "severity": ("级别", "severity"),
        "rule": ("规则", "rule"),
        "entity": ("对象", "entity"),
        "breach": (
            "库存先出后进：{at} 起为负，最低 {min:.1f} 吨",
            "shipped before received: negative from {at}, lowest {min:.1f} t",
        ),
        "both": ("--upstream 与 --downstream 只能选一个", "choose one of --upstream and --downstream"),
        "policy": ("--policy 只能是 proportional、taint 或 both", "--policy must be proportional, taint or both"),
        "prop_t": ("按比例(吨)", "proportional (t)"),
        "prop_share": ("按比例占比", "proportional share"),
        "taint_t": ("污染原则(吨)", "taint (t)"),
        "taint_share": ("污染原则占比", "taint share"),
    }
)

PeriodOption = Annotated[
    str | None,
    typer.Option(
        "--period",
        "-p",
        help="Month (2021-12), year (2021) or range (2021-10..2021-12); default: the period audited last.",
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Config file whose [provenance] section builds the provenance, as `audit` reads it "
        "(default: ./coaltrace.toml if present, else whatever made the stored provenance).",
    ),
]


def _t(key: str, **kw: Any) -> str:
    return say(LABELS, key, state.lang, **kw)


def _num(v: Any) -> str:
    return "" if v is None else f"{v:,.3f}"


def _pct(v: Any) -> str:
    return "—" if v is None else f"{v:.1%}"


def _origin_name(row: dict[str, Any]) -> str:
    if row["origin_id"] is None:
        return _t("grouped", n=row.get("grouped") or 0)
    return f"{row['origin_id']} {row.get('origin_name') or ''}".strip()


def _origin_cells(row: dict[str, Any]) -> list[str]:
    return [
        label("origin_class", row["origin_class"], state.lang),
        _origin_name(row),
        _num(row["tonnes"]),
        _pct(row["share"]),
    ]


def open_for_period(db: Path | None, period: str | None, setting: ProvenanceConfig | None) -> tuple[Store, Period]:
    """The store, read-only when the period's provenance is current (a read-only file, or beside
    an analyst's read-only connection, will do), for writing only when it must be built first;
    and the period, saying on stderr which one was taken when --period was left out."""
    from coaltrace.errors import CannotWriteError
    from coaltrace.provenance.current import is_current, stored_build
    from coaltrace.provenance.queries import choose_period
    from coaltrace.store import Store

    reader = Store(db, read_only=True)
    try:
        choice = choose_period(reader, period)
        if choice.how != "given":
            err.print(_t(f"period_{choice.how}", period=choice.period.label))
        p = choice.period
        if is_current(reader, p, setting, keep_build=True):
            build = stored_build(reader, p)
            if build is not None and setting is not None and setting != build.config:
                err.print(_t("kept_build", period=p.label, made=build.config_source or _t("defaults")))
            return reader, p
    except BaseException:
        reader.close()
        raise
    reader.close()
    try:
        return Store(db, must_exist=True), p
    except CannotWriteError as e:
        raise CannotWriteError(
            f"{e.message}; the provenance of {p.label} is not built yet, and building it writes to the database",
            zh=f"{e.zh}；{p.label} 的来源追溯尚未计算，计算结果需要写入数据库",
            hint=f"Run `coaltrace audit --period {p.label}` where the database may be written, then read it anywhere.",
            hint_zh=f"请在可写入数据库的地方先运行 `coaltrace audit --period {p.label}`，之后即可在任何地方只读查看。",
        ) from None


@app.command()
@handle_errors
def balance(
    period: PeriodOption = None,
    kind: Annotated[
        str | None,
        typer.Option(
            "--kind", help="Only facilities of this kind (mine, yard, washery, trader, ... or 煤场, 洗煤厂 ...)."
        ),
    ] = None,
    config: ConfigOption = None,
    json: JsonOption = False,
    fmt: FormatOption = "table",
    out_path: OutOption = None,
    db: DbOption = None,
) -> None:
    """The mass balance of every facility in a period. 各单位物料平衡。"""
    from coaltrace.config import load_config
    from coaltrace.provenance.queries import balance_rows

    fmt = resolve_format(fmt, out_path, what=Words("物料平衡", "balance"), json_flag=json)
    kind_code = _kind(kind)
    settings = load_config(config)
    setting, source = settings.provenance_setting(), settings.source
    store, p = open_for_period(db, period, setting)
    with store:
        rows = balance_rows(store, p, kind_code, setting, source=source)

    def table() -> Table:
        grid = Table(title=_t("balance_title", period=p.label))
        for key in (
            "facility",
            "kind",
            "opening",
            "inflow",
            "usable",
            "production",
            "outflow",
            "unsourced",
            "data_gap",
            "licence",
        ):
            grid.add_column(_t(key), justify="left" if key in ("facility", "kind", "licence") else "right")
        for r in rows:
            grid.add_row(
                f"{r['facility_id']} {r.get('name') or ''}".strip(),
                label("facility_kind", r["kind"], state.lang),
                _num(r["opening_stock_t"]),
                _num(r["inflow_t"]),
                _num(r["usable_inflow_t"]),
                _num(r["production_t"]),
                _num(r["outflow_t"]),
                _num(r["unsourced_t"]),
                _num(r["data_gap_t"]),
                label("licence_state", r["licence_state"], state.lang),
            )
        return grid

    emit(rows, fmt, out_path, table=table, sheet="balance")


def _kind(text: str | None) -> str | None:
    """--kind as its code: the code, or its label in either language (煤场, yard)."""
    from coaltrace.labels import LABELS, parse

    if text is None:
        return None
    try:
        return parse("facility_kind", text)
    except ValueError:
        kinds = LABELS["facility_kind"]
        raise UsageError(
            f"--kind {text!r}: use one of {', '.join(kinds)}",
            zh=f"--kind {text!r}：只能是 {'、'.join(f'{k}（{t.zh}）' for k, t in kinds.items())} 之一",
        ) from None


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
    db: DbOption = None,
) -> None:
    """The inspector's page of one facility: who it is, suppliers, buyers, stock, findings, checklist. 现场检查页。"""
    from coaltrace.config import load_config
    from coaltrace.yard.page import yard_page

    settings = load_config(config)
    setting, source = settings.provenance_setting(), settings.source
    store, p = open_for_period(db, period, setting)
    with store:
        facility_id = _lookup(store, facility)
        page = yard_page(store, facility_id, p, setting, source=source)
    if json:
        print_json(page)
        return
    render_page(page, _page_console())


def _lookup(store: Store, text: str) -> str:
    from coaltrace.yard.lookup import find_facility

    found = find_facility(store, text)
    if found != text:
        err.print(_t("found_as", text=text, id=found))
    return found


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
    con.print(_t("share_line", share=_pct(page["licensed_share"]), here=_money(page["tonnes_at_risk"])))
    if not page["inflow_recorded"]:
        con.print(_t("inflow_unrecorded", t=_num(page["data_gap_t"])))

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

    _rule(con, _t("rest_title", share=_pct(page["licensed_share"])))
    if not page["rest"]:
        con.print(_t("none_rows"))
    else:
        table = Table(box=box.SIMPLE_HEAD, pad_edge=False, expand=False)
        for key in ("class", "origin", "tonnes", "share"):
            table.add_column(_t(key), justify="right" if key in ("tonnes", "share") else "left", overflow="fold")
        for r in page["rest"]:
            table.add_row(*_origin_cells(r))
        con.print(table)

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
            _num(r["tonnes"]),
            str(r.get("trips") or 0),
        ]
        if with_share:
            cells.append(_pct(r.get("supplier_licensed_share")))
        table.add_row(*cells)
    con.print(table)


@app.command()
@handle_errors
def trace(
    facility: Annotated[str, typer.Argument(help="facility_id (单位编码, any case) or part of the name to trace.")],
    period: PeriodOption = None,
    upstream: Annotated[bool, typer.Option("--upstream", help="Where the coal came from (default).")] = False,
    downstream: Annotated[bool, typer.Option("--downstream", help="Where the coal went.")] = False,
    depth: Annotated[int, typer.Option("--depth", min=1, max=20, help="Longest path, in flows.")] = 4,
    policy: Annotated[
        str, typer.Option("--policy", help="proportional, taint, or both side by side.")
    ] = "proportional",
    config: ConfigOption = None,
    json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Trace a facility's coal to its origins (or its destinations), with shares and heaviest paths. 追溯来源。"""
    from coaltrace.config import load_config
    from coaltrace.provenance.queries import trace_report

    if upstream and downstream:
        raise UsageError(_t("both"))
    if policy not in ("proportional", "taint", "both"):
        raise UsageError(_t("policy"))
    direction = "downstream" if downstream else "upstream"
    settings = load_config(config)
    setting, source = settings.provenance_setting(), settings.source
    store, p = open_for_period(db, period, setting)
    with store:
        facility = _lookup(store, facility)
        result = trace_report(store, facility, p, direction, depth, policy, setting, source=source)  # type: ignore[arg-type]
    if json:
        print_json(result)
        return
    if direction == "upstream" and policy == "both":
        table = Table(
            title=_t("trace_up", facility=facility, period=result["period"], policy=label("policy", "both", state.lang))
        )
        for key in ("class", "origin", "prop_t", "prop_share", "taint_t", "taint_share"):
            table.add_column(_t(key), justify="left" if key in ("class", "origin") else "right")
        for r in result["origins"]:
            table.add_row(
                label("origin_class", r["origin_class"], state.lang),
                _origin_name(r),
                _num(r["proportional_t"]),
                _pct(r["proportional_share"]),
                _num(r["taint_t"]),
                _pct(r["taint_share"]),
            )
    elif direction == "upstream":
        table = Table(
            title=_t("trace_up", facility=facility, period=result["period"], policy=label("policy", policy, state.lang))
        )
        for key in ("class", "origin", "tonnes", "share"):
            table.add_column(_t(key))
        for r in result["origins"]:
            table.add_row(*_origin_cells(r))
    else:
        table = Table(title=_t("trace_down", facility=facility, period=result["period"]))
        table.add_column(_t("buyer"))
        table.add_column(_t("tonnes"))
        for r in result["destinations"]:
            table.add_row(f"{r['buyer_id']} {r.get('buyer_name') or ''}".strip(), _num(r["tonnes"]))
    out.print(table)
    paths = Table(title=_t("paths_title"))
    paths.add_column(_t("path"))
    paths.add_column(_t("tonnes"))
    for p_ in result["paths"]:
        paths.add_row(" → ".join(p_["path"]), _num(p_["tonnes"]))
    out.print(paths)
