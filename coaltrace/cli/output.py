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

from coaltrace.cli.common import err, out, state
from coaltrace.errors import UsageError
from coaltrace.i18n import Text, catalogue, say

if TYPE_CHECKING:
    from rich.console import RenderableType

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
            out.print(table())
        return
    if out_path is None:
        write_text(rows, fmt, sys.stdout, columns)
        return
    size = write_file(rows, fmt, out_path, columns, sheet=sheet)
    err.print(say(MESSAGES, "written", state.lang, path=out_path, rows=len(rows), size=human_size(size)))
