"""`coaltrace query "SELECT ..."`: an ad-hoc read-only question over the documented views."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table

from coaltrace.cli.app import app
from coaltrace.cli.common import DbOption, err, handle_errors, state
from coaltrace.cli.output import FormatOption, OutOption, emit, resolve_format
from coaltrace.i18n import Text, catalogue, say

MESSAGES = catalogue(
    {
        "more": (
            "（终端只显示前 {shown:,} 行，共 {n:,} 行；完整结果请用 --format csv 或 --out）",
            "(the terminal shows the first {shown:,} of {n:,} rows; use --format csv or --out for all)",
        ),
        "none": ("查询没有返回任何行。", "The query returned no rows."),
    }
)
# A terminal table of more rows than this is no use to read; the other formats write every row.
TABLE_ROWS = 1000


@app.command()
@handle_errors
def query(
    sql: Annotated[
        str, typer.Argument(help="One SELECT over the views of docs/rules.md (facilities, period_flows, ...).")
    ],
    period: Annotated[
        str | None,
        typer.Option(
            "--period", "-p", help="Define the period views for this month, year or range (2021-12, 2021年12月)."
        ),
    ] = None,
    fmt: FormatOption = "table",
    out_path: OutOption = None,
    timeout: Annotated[
        float, typer.Option("--timeout", min=0.001, help="Stop the query after this many seconds.")
    ] = 300.0,
    db: DbOption = None,
) -> None:
    """Ask the database a read-only question in SQL, in the rules' sandbox. 只读 SQL 查询。"""
    from coaltrace.period import Period
    from coaltrace.rules.adhoc import query_frame
    from coaltrace.store import Store

    fmt = resolve_format(fmt, out_path, what=Text("查询结果", "query"))
    p = Period.parse(period) if period is not None else None
    with Store(db, read_only=True) as store:
        frame = query_frame(store, sql, p, timeout_s=timeout)
    rows: Any = frame if fmt in ("parquet", "xlsx", "csv", "json", "jsonl") else frame.head(TABLE_ROWS).to_dicts()

    def table() -> Table:
        grid = Table(box=box.SIMPLE_HEAD, pad_edge=False)
        for name in frame.columns:
            grid.add_column(name, overflow="fold")
        for r in rows:
            grid.add_row(*("" if v is None else str(v) for v in r.values()))
        return grid

    emit(rows, fmt, out_path, table=table, sheet="query", empty=say(MESSAGES, "none", state.lang))
    if fmt == "table" and frame.height > TABLE_ROWS:
        err.print(say(MESSAGES, "more", state.lang, shown=TABLE_ROWS, n=frame.height))
