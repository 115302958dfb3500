"""`coaltrace trace`, `balance` and `yard`: where a facility's coal came from, and who ships
more than they had."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from coaltrace.cli.app import app
from coaltrace.cli.common import DbOption, JsonOption, err, handle_errors, out, print_json, printable, state, styled
from coaltrace.errors import UsageError
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
        "supplier_share": ("其合法来源占比", "its licensed share"),
        "finding": ("问题编号", "finding"),
        "severity": ("级别", "severity"),
        "rule": ("规则", "rule"),
        "entity": ("对象", "entity"),
        "breach": (
            "库存先出后进：{at} 起为负，最低 {min:.1f} 吨",
            "shipped before received: negative from {at}, lowest {min:.1f} t",
        ),
        "html_written": ("已写出检查单：{path}", "inspection sheet written: {path}"),
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


def _open_for(db: Path | None, period: str | None, setting: ProvenanceConfig | None) -> tuple[Store, Period]:
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
        str | None, typer.Option("--kind", help="Only facilities of this kind (mine, yard, washery, trader, ...).")
    ] = None,
    config: ConfigOption = None,
    json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The mass balance of every facility in a period. 各单位物料平衡。"""
    from coaltrace.config import load_config
    from coaltrace.provenance.queries import balance_rows

    settings = load_config(config)
    setting, source = settings.provenance_setting(), settings.source
    store, p = _open_for(db, period, setting)
    with store:
        rows = balance_rows(store, p, kind, setting, source=source)
    if json:
        print_json(rows)
        return
    table = Table(title=_t("balance_title", period=p.label))
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
        table.add_column(_t(key))
    for r in rows:
        table.add_row(
            r["facility_id"],
            r["kind"] or "",
            _num(r["opening_stock_t"]),
            _num(r["inflow_t"]),
            _num(r["usable_inflow_t"]),
            _num(r["production_t"]),
            _num(r["outflow_t"]),
            _num(r["unsourced_t"]),
            _num(r["data_gap_t"]),
            r["licence_state"] or "",
        )
    out.print(table)


@app.command()
@handle_errors
def yard(
    facility: Annotated[str, typer.Argument(help="facility_id (单位编码) of the yard, washery or any facility.")],
    period: PeriodOption = None,
    config: ConfigOption = None,
    json: JsonOption = False,
    html: Annotated[
        Path | None, typer.Option("--html", help="Write the page as HTML to print and sign (A4) at this path.")
    ] = None,
    db: DbOption = None,
) -> None:
    """The inspector's page of one facility: status, licences, suppliers, origins, open findings. 现场检查页。"""
    from coaltrace.config import load_config
    from coaltrace.yard.page import yard_page

    settings = load_config(config)
    setting, source = settings.provenance_setting(), settings.source
    store, p = _open_for(db, period, setting)
    with store:
        page = yard_page(store, facility, p, setting, source=source)
    if html is not None:
        from coaltrace.yard.render import write_yard_html

        write_yard_html([page], html, state.lang, settings.report_settings())
        err.print(_t("html_written", path=str(html)))
        return
    if json:
        print_json(page)
        return
    heading = _t(
        "yard_title",
        facility="",
        period=page["period"],
        share=_pct(page["licensed_share"]),
        unsourced=_num(page["tonnes_at_risk"]),
    ).strip()
    out.print(
        Text.assemble(
            styled(f"{facility} {page.get('name') or ''}", "bold"),
            printable(f" ({page.get('kind') or ''}) — {heading}"),
        )
    )
    out.print(
        _t(
            "status_line",
            status=page.get("status") or "-",
            since=page.get("status_since") or "-",
            county=page.get("county") or "-",
        )
    )
    if not page["licences"]:
        out.print(_t("no_licence"))
    for lic in page["licences"]:
        out.print(
            _t(
                "licence_line",
                id=lic["licence_id"],
                type=lic["licence_type"],
                mineral=lic.get("mineral") or "",
                start=lic["valid_from"],
                end=lic["valid_to"],
                valid=_t("yes" if lic["valid_at_end"] else "no"),
            )
        )
    if not page["inflow_recorded"]:
        out.print(_t("inflow_unrecorded", t=_num(page["data_gap_t"])))
    suppliers = Table(title=_t("suppliers_title"), title_justify="left")
    for key in ("supplier", "kind", "licence", "tonnes", "trips", "supplier_share"):
        suppliers.add_column(_t(key), justify="right" if key in ("tonnes", "trips", "supplier_share") else "left")
    for r in page["suppliers"]:
        suppliers.add_row(
            f"{r['seller_id']} {r.get('name') or ''}",
            r.get("kind") or "",
            r.get("licence_state") or "",
            _num(r["tonnes"]),
            str(r["trips"] or 0),
            _pct(r.get("supplier_licensed_share")),
        )
    out.print(suppliers)
    table = Table(title=_t("origins_title"), title_justify="left")
    for key in ("class", "origin", "tonnes", "share"):
        table.add_column(_t(key))
    for r in page["origins"]:
        table.add_row(*_origin_cells(r))
    out.print(table)
    if page["running_breach"]:
        b = page["running_breach"]
        out.print(_t("breach", at=b["first_negative_at"], min=b["min_balance_t"]))
    findings = Table(title=_t("findings_title", n=len(page["findings"])), title_justify="left")
    for key in ("finding", "severity", "rule", "entity", "tonnes"):
        findings.add_column(_t(key), justify="right" if key == "tonnes" else "left")
    for f in page["findings"]:
        tonnes = _num(f["tonnes_at_risk"])
        if tonnes and f.get("tonnes_role") in ("carried", "records"):
            tonnes += " " + _t(f"role_{f['tonnes_role']}")
        findings.add_row(
            f["finding_id"],
            f["severity"],
            f"{f['rule_id']}: {f['title_zh' if state.lang == 'zh' else 'title_en']}",
            f"{f['entity_kind']} {f['entity_id']}",
            tonnes,
        )
    out.print(findings)


@app.command()
@handle_errors
def trace(
    facility: Annotated[str, typer.Argument(help="facility_id (单位编码) to trace.")],
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
    store, p = _open_for(db, period, setting)
    with store:
        result = trace_report(store, facility, p, direction, depth, policy, setting, source=source)  # type: ignore[arg-type]
    if json:
        print_json(result)
        return
    if direction == "upstream" and policy == "both":
        table = Table(title=_t("trace_up", facility=facility, period=result["period"], policy="proportional | taint"))
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
        table = Table(title=_t("trace_up", facility=facility, period=result["period"], policy=policy))
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
