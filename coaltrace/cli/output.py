"""The `--format` and `--out` of every list command, and the one place their rows are written.

A list command (findings, status, quarantine, balance, rules list, query, ledger
list) takes `--format table|json|jsonl|csv|xlsx|parquet` and `--out PATH`:
`resolve_format` checks the choice before any work is done, and `emit` prints
the table, writes text formats to stdout (or to --out), and files to --out,
saying on stderr what it wrote. The writers are `coaltrace.export.formats`.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from coaltrace.cli.common import TextConsole, err, out, printable, state
from coaltrace.errors import UsageError
from coaltrace.i18n import Text, catalogue, say

if TYPE_CHECKING:
    from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
    from rich.table import Table

LIST_FORMATS = ("table", "json", "jsonl", "csv", "xlsx", "parquet")

FormatOption = Annotated[
    str,
    typer.Option(
        "--format",
        "-f",
        help="table, json, jsonl, csv (UTF-8 with BOM), xlsx or parquet (xlsx and parquet need --out).",
    ),
]
OutOption = Annotated[
    Path | None,
    typer.Option("--out", "-o", help="Write the rows to this file instead of stdout.", show_default=False),
]

MESSAGES = catalogue(
    {
        "written": ("已写出 {path}：{rows:,} 行，{size}", "wrote {path}: {rows:,} rows, {size}"),
        "table_out": (
            "--format table 只在终端显示；写文件请用 csv、xlsx、json、jsonl 或 parquet",
            "--format table only prints to the terminal; to write a file use csv, xlsx, json, jsonl or parquet",
        ),
    }
)


def human_size(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1024
    return f"{n} B"


def resolve_format(
    fmt: str, out_path: Path | None, *, what: Text, allowed: Sequence[str] = LIST_FORMATS, json_flag: bool = False
) -> str:
    """The format asked for (`--json` is `--format json`), checked before any work is done; WHAT names the
    list in both languages (`Text("问题", "findings")`)."""
    from coaltrace.export.formats import check_format

    choice = check_format("json" if json_flag else fmt, allowed, what=what, out=out_path)
    if choice == "table" and out_path is not None:
        raise UsageError(say(MESSAGES, "table_out", "en"), zh=say(MESSAGES, "table_out", "zh"))
    return choice


def emit(
    rows: Sequence[Mapping[str, Any]] | Any,
    fmt: str,
    out_path: Path | None,
    *,
    table: Callable[[], RenderableType] | None = None,
    columns: Sequence[str] | None = None,
    sheet: str = "data",
    empty: str | None = None,
) -> None:
    """ROWS in FMT: the rich TABLE on stdout, text formats on stdout or OUT_PATH, files at OUT_PATH."""
    from coaltrace.export.formats import write_file, write_text

    if fmt == "table":
        if not len(rows) and empty is not None:
            err.print(empty)
        elif table is not None:
            out.print(QuickTable.of(table()))
        return
    if out_path is None:
        write_text(rows, fmt, sys.stdout, columns)
        return
    size = write_file(rows, fmt, out_path, columns, sheet=sheet)
    err.print(say(MESSAGES, "written", state.lang, path=out_path, rows=len(rows), size=human_size(size)))


class QuickTable:
    """A rich table of one-line text cells drawn in one pass, exactly as rich draws it.

    Rich measures, wraps and pads every cell on its own: 0.2 s for the 250 findings of a
    province month, more than the rest of the command. A table in the lists' style (simple
    head, no outer padding, no title) whose cells are all one-line strings and that fits the
    width has its lines written here; any other table, or one too wide, is drawn by rich.
    """

    def __init__(self, table: Table) -> None:
        self.table = table

    @classmethod
    def of(cls, renderable: RenderableType) -> RenderableType:
        from rich.table import Table

        return cls(renderable) if isinstance(renderable, Table) else renderable

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        from rich.segment import Segment

        laid = _laid_out(self.table, console, options.max_width)
        if laid is None:
            yield self.table
            return
        header, rows, widths = laid
        head_style = console.get_style(self.table.header_style or "", default="none")
        total = sum(widths) + len(widths) - 1
        yield from (Segment(" " * (total + 2)), Segment.line())
        yield Segment(" ")
        for cell in header:  # each followed by the column rule, the last by the edge: both blank
            yield from (Segment(cell, head_style), Segment(" "))
        yield from (Segment.line(), Segment(" " + "─" * total + " "), Segment.line())
        for row in rows:
            yield from (Segment(" " + " ".join(row) + " "), Segment.line())
        yield from (Segment(" " * (total + 2)), Segment.line())


def _laid_out(table: Table, console: Console, width: int) -> tuple[list[str], list[list[str]], list[int]] | None:
    """The header and rows of TABLE padded as rich pads them, and the column widths; None when rich must draw it."""
    from rich import box
    from rich.cells import cell_len

    plain = (
        isinstance(console, TextConsole)
        and table.box is box.SIMPLE_HEAD
        and not table.pad_edge
        and table.padding == (0, 1, 0, 1)
        and table.show_header
        and table.show_edge
        and not (table.show_lines or table.show_footer or table.collapse_padding or table.expand or table.leading)
        and table.title is None
        and table.caption is None
        and table.width is None
        and table.min_width is None
        and not table.row_styles
        and table.style == "none"
        and table.border_style is None
    )
    columns = table.columns
    if not plain or not columns:
        return None
    cells: list[list[str]] = []
    for c in columns:
        if not (isinstance(c.header, str) and c.justify in ("left", "right") and not (c.style or c.header_style)):
            return None
        if c.width is not None or c.min_width is not None or c.max_width is not None or c.ratio is not None:
            return None
        column = [v for v in (c.header, *c._cells) if isinstance(v, str)]
        # Rich trims the spaces around a cell and breaks it at newlines: such cells are left to it.
        if len(column) != len(c._cells) + 1 or not all(v == v.strip() and not {"\n", "\t"} & set(v) for v in column):
            return None
        cells.append([printable(v) for v in column])
    lengths = [[cell_len(v) for v in column] for column in cells]
    inner = [max(column) for column in lengths]
    if min(inner) == 0:
        return None  # rich gives an empty column a width of its own
    last = len(columns) - 1
    # The first column has no left padding, the last no right padding (pad_edge off).
    widths = [w + (0 if i == 0 else 1) + (0 if i == last else 1) for i, w in enumerate(inner)]
    if sum(widths) + len(widths) + 1 > width:
        return None

    def pad(i: int, row: int) -> str:
        text, room = cells[i][row], inner[i] - lengths[i][row]
        text = text + " " * room if columns[i].justify == "left" else " " * room + text
        return (" " if i else "") + text + (" " if i < last else "")

    table_rows = [[pad(i, r) for i in range(len(columns))] for r in range(1, len(cells[0]))]
    return [pad(i, 0) for i in range(len(columns))], table_rows, widths
