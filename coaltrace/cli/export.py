"""`coaltrace export flows|findings|facilities|graph`: a period's data in the format an analyst opens."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coaltrace.cli.app import app
from coaltrace.cli.common import DbOption, err, handle_errors, state
from coaltrace.cli.output import OutOption, human_size
from coaltrace.cli.reading import ConfigOption, PeriodOption
from coaltrace.errors import UsageError
from coaltrace.i18n import catalogue, say

MESSAGES = catalogue(
    {
        "written": (
            "已导出 {what}（{period}，{fmt}）到 {path}：{rows}，{size}，用时 {seconds:.1f} 秒",
            "exported {what} ({period}, {fmt}) to {path}: {rows}, {size}, {seconds:.1f} s",
        ),
        "rows": ("{part} {n:,} 行", "{part} {n:,} rows"),
        "sep": ("、", ", "),
        "facilities": ("单位", "facilities"),
        "flows": ("流向", "flows"),
        "findings": ("问题", "findings"),
        "evidence": ("证据", "evidence"),
        "round_trips": ("循环倒卖", "round trips"),
        "graph": ("运输网络", "graph"),
        "tables_written": (
            "已导出数据表到 {path}（Parquet，按表和月份分目录）：{rows}，用时 {seconds:.1f} 秒",
            "exported the tables to {path} (Parquet, by table and month): {rows}, {seconds:.1f} s",
        ),
        "tables_format": (
            "export tables 只写 Parquet（--format parquet）",
            "export tables writes Parquet only (--format parquet)",
        ),
        "tables_out": ("export tables 需要 --out 目录", "export tables needs --out DIR"),
        "bad_share": (
            "--min-share {value!r}：请写 0 到 1 之间的小数或百分比，如 0.2 或 20%",
            "--min-share {value!r}: give a fraction from 0 to 1 or a percentage, e.g. 0.2 or 20%",
        ),
    }
)

export_app = typer.Typer(
    help="Export a period's flows, findings, facilities or whole graph for Excel, QGIS, Gephi, DuckDB; "
    "or the contract's tables as Parquet for Spark. 导出流向、问题、单位、运输网络或数据表。",
    no_args_is_help=True,
)
app.add_typer(export_app, name="export")

RuleOption = Annotated[str | None, typer.Option("--rule", help="Only what a finding of this rule is about.")]
SeverityOption = Annotated[
    str | None, typer.Option("--severity", help="Only what has a finding at or above this severity (high, 高, ...).")
]
CountyOption = Annotated[str | None, typer.Option("--county", help="Only this county (either end of a flow).")]
MinShareOption = Annotated[
    str | None,
    typer.Option(
        "--min-share",
        help="Only flows and facilities with at least this share of coal at risk (unlicensed, over capacity, "
        "unsourced): 0.2 or 20%.",
    ),
]


def _t(key: str, **kw: object) -> str:
    return say(MESSAGES, key, state.lang, **kw)


def _share(text: str | None) -> float | None:
    if text is None:
        return None
    word = text.strip().replace("％", "%")
    try:
        value = float(word[:-1]) / 100 if word.endswith("%") else float(word)
    except ValueError:
        value = -1.0
    if not 0 <= value <= 1:
        raise UsageError(say(MESSAGES, "bad_share", "en", value=text), zh=say(MESSAGES, "bad_share", "zh", value=text))
    return value


def _export(
    what: str,
    period: str | None,
    fmt: str,
    out_path: Path | None,
    rule: str | None,
    severity: str | None,
    county: str | None,
    min_share: str | None,
    config: Path | None,
    db: Path | None,
) -> None:
    from coaltrace.cli.reading import open_for_period
    from coaltrace.config import load_config
    from coaltrace.export.contents import ExportFilter
    from coaltrace.export.run import check_export, export
    from coaltrace.severity import parse_option

    f = ExportFilter(
        rule=rule,
        min_severity=parse_option(severity) if severity is not None else None,
        county=county,
        min_share=_share(min_share),
    )
    check_export(what, fmt, f, out_path)
    settings = load_config(config)
    setting, source = settings.provenance_setting(), settings.source
    store, p = open_for_period(db, period, setting)
    with store:
        result = export(store, what, p, fmt, out_path, f, lang=state.lang, config=setting, source=source)
    if result.path is not None:
        rows = _t("sep").join(_t("rows", part=_t(part), n=n) for part, n in result.rows.items())
        err.print(
            _t(
                "written",
                what=_t(what),
                period=result.period,
                fmt=result.format,
                path=result.path,
                rows=rows,
                size=human_size(result.bytes or 0),
                seconds=result.seconds,
            )
        )


@export_app.command("flows")
@handle_errors
def export_flows(
    period: PeriodOption = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="csv, xlsx, parquet, json, jsonl, geojson or graphml.")
    ] = "csv",
    out_path: OutOption = None,
    rule: RuleOption = None,
    severity: SeverityOption = None,
    county: CountyOption = None,
    min_share: MinShareOption = None,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Flows seller to buyer: tonnes, origin shares by class, findings, heaviest upstream path. 导出流向。"""
    _export("flows", period, fmt, out_path, rule, severity, county, min_share, config, db)


@export_app.command("findings")
@handle_errors
def export_findings(
    period: PeriodOption = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="csv, xlsx, parquet, json or jsonl.")] = "csv",
    out_path: OutOption = None,
    rule: RuleOption = None,
    severity: SeverityOption = None,
    county: CountyOption = None,
    min_share: MinShareOption = None,
    db: DbOption = None,
) -> None:
    """The period's findings with names and labels; xlsx adds a sheet of their evidence rows. 导出问题。"""
    _export("findings", period, fmt, out_path, rule, severity, county, min_share, None, db)


@export_app.command("facilities")
@handle_errors
def export_facilities(
    period: PeriodOption = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="csv, xlsx, parquet, json, jsonl or geojson (points).")
    ] = "csv",
    out_path: OutOption = None,
    rule: RuleOption = None,
    severity: SeverityOption = None,
    county: CountyOption = None,
    min_share: MinShareOption = None,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """Facilities: register, mass balance, origin shares, findings, component, round trips. 导出单位。"""
    _export("facilities", period, fmt, out_path, rule, severity, county, min_share, config, db)


@export_app.command("graph")
@handle_errors
def export_graph(
    period: PeriodOption = None,
    fmt: Annotated[
        str, typer.Option("--format", "-f", help="graphml (Gephi), geojson (QGIS), xlsx or json.")
    ] = "graphml",
    out_path: OutOption = None,
    rule: RuleOption = None,
    severity: SeverityOption = None,
    county: CountyOption = None,
    min_share: MinShareOption = None,
    config: ConfigOption = None,
    db: DbOption = None,
) -> None:
    """The shipment graph: facilities, flows and round-tripping cycles together. 导出运输网络。"""
    _export("graph", period, fmt, out_path, rule, severity, county, min_share, config, db)


@export_app.command("tables")
@handle_errors
def export_tables_command(
    out_path: Annotated[
        Path | None, typer.Option("--out", "-o", help="The folder to write (a new or empty one, or a previous export).")
    ] = None,
    fmt: Annotated[str, typer.Option("--format", "-f", help="parquet (the only one).")] = "parquet",
    period: Annotated[
        str | None,
        typer.Option("--period", "-p", help="Only this period's months (registers whole); default: every month."),
    ] = None,
    db: DbOption = None,
) -> None:
    """The contract's tables as Parquet, one folder per table and month: what `audit --engine spark` reads.
    导出全部数据表（Parquet，按表和月份分目录），供 Spark 审计读取。"""
    import time

    from coaltrace.export.tables import export_tables
    from coaltrace.period import Period
    from coaltrace.store import Store

    if fmt.strip().lower() != "parquet":
        raise UsageError(say(MESSAGES, "tables_format", "en"), zh=say(MESSAGES, "tables_format", "zh"))
    if out_path is None:
        raise UsageError(say(MESSAGES, "tables_out", "en"), zh=say(MESSAGES, "tables_out", "zh"))
    p = Period.parse(period) if period is not None else None
    started = time.perf_counter()
    with Store(db, read_only=True) as store:
        written = export_tables(store, out_path, p)
    rows = _t("sep").join(f"{t.table} {t.rows:,}" for t in written)
    err.print(_t("tables_written", path=out_path, rows=rows, seconds=time.perf_counter() - started))
