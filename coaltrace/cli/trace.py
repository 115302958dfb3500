"""`coaltrace trace` and `balance`: where a facility's coal came from (or went), and who ships
more than they had."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from coaltrace.cli.app import app
from coaltrace.cli.common import (
    DbOption,
    JsonOption,
    handle_errors,
    out,
    print_json,
    state,
)
from coaltrace.cli.output import FormatOption, OutOption, emit, resolve_format
from coaltrace.cli.reading import (
    WORDS,
    ConfigOption,
    PeriodOption,
    lookup_facility,
    num,
    open_for_period,
    origin_cells,
    origin_name,
    pct,
)
from coaltrace.errors import UsageError
from coaltrace.i18n import Text as Words
from coaltrace.i18n import catalogue, say
from coaltrace.labels import label

if TYPE_CHECKING:
    pass

LABELS = catalogue(
    {
        "balance_title": ("{period} 物料平衡", "Mass balance, {period}"),
        "both": ("--upstream 与 --downstream 只能选一个", "choose one of --upstream and --downstream"),
        "path": ("路径", "path"),
        "paths_title": ("最重的路径", "Heaviest paths"),
        "policy": ("--policy 只能是 proportional、taint 或 both", "--policy must be proportional, taint or both"),
        "trace_down": ("{facility} {period} 的煤炭去向", "Where the coal of {facility} went, {period}"),
        "trace_up": (
            "{facility} {period} 的煤炭来源（{policy}）",
            "Where the coal of {facility} came from, {period} ({policy})",
        ),
        "inflow": ("购入(吨)", "inflow (t)"),
        "usable": ("折算购入(吨)", "usable inflow (t)"),
        "opening": ("期初库存(吨)", "opening stock (t)"),
        "production": ("产量(吨)", "production (t)"),
        "outflow": ("销出(吨)", "outflow (t)"),
        "unsourced": ("无来源(吨)", "unsourced (t)"),
        "data_gap": ("数据缺口(吨)", "data gap (t)"),
        "prop_t": ("按比例(吨)", "proportional (t)"),
        "prop_share": ("按比例占比", "proportional share"),
        "taint_t": ("污染原则(吨)", "taint (t)"),
        "taint_share": ("污染原则占比", "taint share"),
    }
)


def _t(key: str, **kw: Any) -> str:
    return say(LABELS if key in LABELS else WORDS, key, state.lang, **kw)


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
                num(r["opening_stock_t"]),
                num(r["inflow_t"]),
                num(r["usable_inflow_t"]),
                num(r["production_t"]),
                num(r["outflow_t"]),
                num(r["unsourced_t"]),
                num(r["data_gap_t"]),
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
        facility = lookup_facility(store, facility)
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
                origin_name(r),
                num(r["proportional_t"]),
                pct(r["proportional_share"]),
                num(r["taint_t"]),
                pct(r["taint_share"]),
            )
    elif direction == "upstream":
        table = Table(
            title=_t("trace_up", facility=facility, period=result["period"], policy=label("policy", policy, state.lang))
        )
        for key in ("class", "origin", "tonnes", "share"):
            table.add_column(_t(key))
        for r in result["origins"]:
            table.add_row(*origin_cells(r))
    else:
        table = Table(title=_t("trace_down", facility=facility, period=result["period"]))
        table.add_column(_t("buyer"))
        table.add_column(_t("tonnes"))
        for r in result["destinations"]:
            table.add_row(f"{r['buyer_id']} {r.get('buyer_name') or ''}".strip(), num(r["tonnes"]))
    out.print(table)
    paths = Table(title=_t("paths_title"))
    paths.add_column(_t("path"))
    paths.add_column(_t("tonnes"))
    for p_ in result["paths"]:
        paths.add_row(" → ".join(p_["path"]), num(p_["tonnes"]))
    out.print(paths)
