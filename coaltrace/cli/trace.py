"""`coaltrace trace`, `balance` and `yard`: where a facility's coal came from, and who ships
more than they had."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from coaltrace.cli.app import app
from coaltrace.cli.common import DbOption, JsonOption, handle_errors, out, print_json, printable, state, styled
from coaltrace.errors import UsageError
from coaltrace.i18n import say

if TYPE_CHECKING:
    from coaltrace.store import Store

LABELS = {
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
    "grouped": ("（其他来源合计）", "(other origins, grouped)"),
    "balance_title": ("{period} 物料平衡", "Mass balance, {period}"),
    "yard_title": (
        "{facility} {period}：合法来源占比 {share}，本单位无来源 {unsourced} 吨",
        "{facility} {period}: licensed share {share}, unsourced here {unsourced} t",
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
    "both": ("--upstream 与 --downstream 只能选一个", "choose one of --upstream and --downstream"),
    "policy": ("--policy 只能是 proportional、taint 或 both", "--policy must be proportional, taint or both"),
    "prop_t": ("按比例(吨)", "proportional (t)"),
    "prop_share": ("按比例占比", "proportional share"),
    "taint_t": ("污染原则(吨)", "taint (t)"),
    "taint_share": ("污染原则占比", "taint share"),
}
CLASS_LABELS = {
    "licensed": ("合法产量", "licensed production"),
    "over_capacity": ("超能力生产", "over capacity"),
    "unlicensed": ("无证/失效生产", "unlicensed production"),
    "unsourced": ("无来源", "unsourced"),
    "opening_stock": ("期初库存", "opening stock"),
}

PeriodOption = Annotated[
    str | None, typer.Option("--period", "-p", help="Month YYYY-MM (default: the latest month with sales).")
]


def _open_for(db: Path | None, period: str | None) -> Store:
    """Read-only when the period's provenance is current (a read-only file, or beside an analyst's
    read-only connection, will do); for writing only when it must be built first."""
    from coaltrace.errors import CannotWriteError
    from coaltrace.provenance.current import is_current
    from coaltrace.provenance.report import resolve_period
    from coaltrace.store import Store

    reader = Store(db, read_only=True)
    try:
        p = resolve_period(reader, period)
        if is_current(reader, p):
            return reader
    except BaseException:
        reader.close()
        raise
    reader.close()
    try:
        return Store(db, must_exist=True)
    except CannotWriteError as e:
        raise CannotWriteError(
            f"{e.message}; the provenance of {p.label} is not built yet, and building it writes to the database",
            zh=f"{e.zh}；{p.label} 的来源追溯尚未计算，计算结果需要写入数据库",
            hint=f"Run `coaltrace audit --period {p.label}` where the database may be written, then read it anywhere.",
            hint_zh=f"请在可写入数据库的地方先运行 `coaltrace audit --period {p.label}`，之后即可在任何地方只读查看。",
        ) from None


def _t(key: str, **kw: Any) -> str:
    return say(LABELS, key, state.lang, **kw)


def _num(v: Any) -> str:
    return "" if v is None else f"{v:,.1f}"


def _pct(v: Any) -> str:
    return "—" if v is None else f"{v:.1%}"


def _origin_cells(row: dict[str, Any]) -> list[str]:
    return [
        say(CLASS_LABELS, row["origin_class"], state.lang),
        row["origin_id"] or _t("grouped"),
        _num(row["tonnes"]),
        _pct(row["share"]),
    ]


@app.command()
@handle_errors
def balance(
    period: PeriodOption = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only facilities of this kind (mine, yard, washery, trader, ...).")
    ] = None,
    json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The mass balance of every facility in a period. 各单位物料平衡。"""
    from coaltrace.provenance.report import balance_rows

    with _open_for(db, period) as store:
        p, rows = balance_rows(store, period, kind)
    if json:
        print_json(rows)
        return
    table = Table(title=_t("balance_title", period=p.label))
    for key in ("facility", "kind", "opening", "inflow", "usable", "production", "outflow", "unsourced", "licence"):
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
            r["licence_state"] or "",
        )
    out.print(table)


@app.command()
@handle_errors
def yard(
    facility: Annotated[str, typer.Argument(help="facility_id (单位编码) of the yard, washery or any facility.")],
    period: PeriodOption = None,
    json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """The inspector's page of one facility: suppliers, licensed share, origins, open findings. 现场检查页。"""
    from coaltrace.inspect import yard_page

    with _open_for(db, period) as store:
        page = yard_page(store, facility, period)
    if json:
        print_json(page)
        return
    heading = _t(
        "yard_title",
        facility="",
        period=page["period"],
        share=_pct(page["licensed_share"]),
        unsourced=_num(page["unsourced_t"]),
    ).strip()
    out.print(
        Text.assemble(
            styled(f"{facility} {page.get('name') or ''}", "bold"),
            printable(f" ({page.get('kind') or ''}) — {heading}"),
        )
    )
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
        findings.add_row(
            f["finding_id"],
            f["severity"],
            f"{f['rule_id']}: {f['title_zh' if state.lang == 'zh' else 'title_en']}",
            f"{f['entity_kind']} {f['entity_id']}",
            _num(f["tonnes_at_risk"]),
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
    json: JsonOption = False,
    db: DbOption = None,
) -> None:
    """Trace a facility's coal to its origins (or its destinations), with shares and heaviest paths. 追溯来源。"""
    from coaltrace.provenance.report import trace_report

    if upstream and downstream:
        raise UsageError(_t("both"))
    if policy not in ("proportional", "taint", "both"):
        raise UsageError(_t("policy"))
    direction = "downstream" if downstream else "upstream"
    with _open_for(db, period) as store:
        result = trace_report(store, facility, period, direction, depth, policy)  # type: ignore[arg-type]
    if json:
        print_json(result)
        return
    if direction == "upstream" and policy == "both":
        table = Table(title=_t("trace_up", facility=facility, period=result["period"], policy="proportional | taint"))
        for key in ("class", "origin", "prop_t", "prop_share", "taint_t", "taint_share"):
            table.add_column(_t(key), justify="left" if key in ("class", "origin") else "right")
        for r in result["origins"]:
            table.add_row(
                say(CLASS_LABELS, r["origin_class"], state.lang),
                r["origin_id"] or _t("grouped"),
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
            table.add_row(r["buyer_id"], _num(r["tonnes"]))
    out.print(table)
    paths = Table(title=_t("paths_title"))
    paths.add_column(_t("path"))
    paths.add_column(_t("tonnes"))
    for p in result["paths"]:
        paths.add_row(" → ".join(p["path"]), _num(p["tonnes"]))
    out.print(paths)
