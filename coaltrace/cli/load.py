"""`coaltrace load`, `status` and `quarantine`: getting a month of records in, and seeing what came."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from coaltrace.cli.app import app
from coaltrace.cli.common import DbOption, JsonOption, QuietOption, err, handle_errors, out, print_json, state, styled
from coaltrace.cli.output import FormatOption, OutOption, emit, resolve_format
from coaltrace.i18n import Text, catalogue, say
from coaltrace.ingest.reasons import QUARANTINE_REASONS, SKIP_REASONS
from coaltrace.labels import label

if TYPE_CHECKING:
    from coaltrace.ingest.loader import LoadReport

MESSAGES = catalogue(
    {
        "loading": ("正在读取", "reading"),
        "files_done": ("第 {done}/{total} 个文件", "file {done}/{total}"),
        "stage_reading": ("读取中…", "reading…"),
        "stage_read": ("已读 {rows:,} 行，规整中…", "read {rows:,} rows, normalising…"),
        "stage_normalised": (
            "已规整 {rows:,} 行（{bad:,} 行隔离），暂存中…",
            "normalised {rows:,} rows ({bad:,} quarantined), staging…",
        ),
        "stage_staged": ("已暂存 {rows:,} 行", "staged {rows:,} rows"),
        "stage_merging": ("合并 {table}：{rows:,} 行…", "merging {table}: {rows:,} rows…"),
        "stage_merged": ("已合并 {table}：{rows:,} 行", "merged {table}: {rows:,} rows"),
        "stage_done": ("完成", "done"),
        "summary": ("已载入 {db}（批次 {load_id}）", "loaded into {db} (load {load_id})"),
        "file": ("文件", "file"),
        "table": ("表", "table"),
        "read": ("读取", "read"),
        "loaded": ("载入", "loaded"),
        "present": ("已存在", "present"),
        "revised": ("修订", "revised"),
        "quarantined": ("隔离", "quarantined"),
        "reasons": ("主要原因", "top reasons"),
        "ignored": ("{file}：忽略未定义的列 {cols}", "{file}: ignored columns the contract does not name: {cols}"),
        "header_found": (
            "{file}：表头在第 {line} 行，其上各行未载入",
            "{file}: header found on line {line}; the lines above it were not loaded",
        ),
        "encoding_detected": (
            "{file}：按 {encoding} 编码读取（按最初猜测的编码，表头不符）",
            "{file}: read as {encoding} (its header fitted no table in the encoding guessed first)",
        ),
        "not_read": ("未读取：", "not read:"),
        "quarantine_hint": (
            "{n} 行无法读取，已隔离；用 `coaltrace quarantine` 查看。",
            "{n} row(s) could not be read and were quarantined; see `coaltrace quarantine`.",
        ),
        "rows": ("行数", "rows"),
        "range": ("时间范围", "date range"),
        "files": ("文件数", "files"),
        "revisions": ("历史版本", "revisions"),
        "no_quarantine": ("隔离区为空。", "The quarantine is empty."),
        "sheet": ("工作表", "sheet"),
        "line": ("行", "line"),
        "column": ("列", "column"),
        "value": ("原值", "raw value"),
        "reason": ("原因", "reason"),
    }
)

# More rows than any quarantine holds; a larger number is a typing mistake, not a wish.
MAX_ROWS = 1_000_000_000


def reason_label(code: str) -> str:
    return say(QUARANTINE_REASONS, code, state.lang) if code in QUARANTINE_REASONS else code


def skip_label(code: str) -> str:
    return say(SKIP_REASONS, code, state.lang) if code in SKIP_REASONS else code


def _t(key: str, **kw: object) -> str:
    return say(MESSAGES, key, state.lang, **kw)


@app.command()
@handle_errors
def load(
    paths: Annotated[
        list[Path],
        typer.Argument(
            help="Files or folders (.csv, .tsv, .csv.gz, .xlsx, .xls, .xlsb, .ods, .parquet).", show_default=False
        ),
    ],
    table: Annotated[
        str | None,
        typer.Option("--table", "-t", help="The table these files hold (default: guessed from each header)."),
    ] = None,
    sheet: Annotated[
        str | None, typer.Option("--sheet", help="Read only this sheet of each workbook (default: every sheet).")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="CSV encoding, when it is neither UTF-8 nor GB18030.")
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Load a month of records into the database, all or nothing. 载入数据（全部成功或全部不载入）。"""
    from coaltrace.ingest.loader import STAGE_DONE, LoadProgress, load_paths
    from coaltrace.store import Store

    with (
        Store(db) as store,
        Progress(
            # The description names the user's file: text, not markup.
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            TextColumn("{task.fields[files]}", markup=False),
            TimeElapsedColumn(),
            console=err,
            transient=True,
            # Quiet when asked, when the summary is JSON, and when stderr is not a terminal (a log file
            # would fill with redrawn bars).
            disable=as_json or quiet or not err.is_terminal,
        ) as bar,
    ):
        task = bar.add_task(_t("loading"), total=None, files="")

        def progress(p: LoadProgress) -> None:
            files = _t("files_done", done=min(p.files_done + 1, p.files_total), total=p.files_total)
            if p.stage in STAGE_DONE:
                done = p.files_done + STAGE_DONE[p.stage]
                what = _t(f"stage_{p.stage}", rows=p.rows or 0, bad=p.quarantined or 0)
                bar.update(task, description=f"{p.file}  {what}", completed=done, total=p.files_total, files=files)
            else:
                what = _t(f"stage_{p.stage}", rows=p.rows or 0, table=label("table", p.table, state.lang))
                bar.update(task, description=what, completed=p.files_total, total=p.files_total, files="")

        report = load_paths(store, paths, table=table, sheet=sheet, encoding=encoding, progress=progress)
    if as_json:
        print_json(report.model_dump(mode="json"))
        return
    if quiet:
        _warnings(report)
        return
    grid = Table(title=_t("summary", db=report.db, load_id=report.load_id), title_justify="left")
    for key in ("file", "sheet", "table", "read", "loaded", "present", "revised", "quarantined", "reasons"):
        # A file name cut to "sales…" is no use to someone looking for the file: fold it instead.
        grid.add_column(
            _t(key),
            justify="right" if key in ("read", "loaded", "present", "revised", "quarantined") else "left",
            overflow="fold" if key in ("file", "sheet") else "ellipsis",
        )
    for f in report.files:
        reasons = "; ".join(f"{r.column}: {reason_label(r.reason)} ×{r.rows}" for r in f.top_reasons)
        grid.add_row(
            f.file,
            f.sheet or "",
            f.table,
            str(f.rows_read),
            str(f.rows_loaded),
            str(f.rows_present),
            str(f.rows_revised + f.rows_superseded),
            str(f.rows_quarantined),
            reasons,
        )
    err.print(grid)
    for f in report.files:
        if f.header_line is not None and f.header_line > 1:
            err.print(_t("header_found", file=f.file, line=f.header_line))
        if f.ignored_columns:
            err.print(_t("ignored", file=f.file, cols=", ".join(f.ignored_columns)))
        if f.encoding_detected:
            err.print(_t("encoding_detected", file=f.file, encoding=f.encoding))
    _warnings(report)


def _warnings(report: LoadReport) -> None:
    """What was not read and what was quarantined: said even with --quiet."""
    if report.skipped:
        err.print(styled(_t("not_read"), "yellow"))
    for s in report.skipped:
        where = s.path + (f"[{s.sheet}]" if s.sheet is not None else "")
        detail = f" ({s.detail})" if s.detail else ""
        err.print(f"  {where}: {skip_label(s.reason)}{detail}")
    if report.quarantined:
        err.print(styled(_t("quarantine_hint", n=report.quarantined), "yellow"))


@app.command()
@handle_errors
def status(
    db: DbOption = None, as_json: JsonOption = False, fmt: FormatOption = "table", out_path: OutOption = None
) -> None:
    """What the database holds: rows, dates and files per table, quarantine. 数据库现状。

    `--json` prints the whole status as one object; `--format` gives the table of tables."""
    from coaltrace.store import Store
    from coaltrace.store.status import store_status

    fmt = "json_object" if as_json else resolve_format(fmt, out_path, what=Text("数据库现状", "status"))
    with Store(db, read_only=True) as store:
        s = store_status(store)
    if fmt == "json_object":
        data: dict[str, object] = {name: t.model_dump(mode="json") for name, t in s.tables.items()}
        data["quarantine"] = s.quarantine
        data["db"] = s.db
        print_json(data)
        return
    rows = [
        {
            "table": name,
            "table_name": label("table", name, state.lang),
            "rows": t.rows,
            "revisions": t.revisions,
            "first": t.first,
            "last": t.last,
            "files": len(t.files),
            "quarantined": sum(s.quarantine.get(f.file, 0) for f in t.files),
        }
        for name, t in s.tables.items()
    ]

    def table() -> Table:
        grid = Table(title=s.db, title_justify="left")
        for key in ("table", "rows", "revisions", "range", "files"):
            grid.add_column(_t(key), justify="right" if key in ("rows", "revisions", "files") else "left")
        for r in rows:
            rng = f"{r['first']} … {r['last']}" if r["first"] else ""
            name = r["table"] if state.lang == "en" else f"{r['table_name']} {r['table']}"
            grid.add_row(str(name), f"{r['rows']:,}", f"{r['revisions']:,}", rng, str(r["files"]))
        return grid

    emit(rows, fmt, out_path, table=table, sheet="status")
    if fmt == "table" and s.quarantine:
        out.print(_t("quarantine_hint", n=sum(s.quarantine.values())))


@app.command()
@handle_errors
def quarantine(
    file: Annotated[str | None, typer.Option("--file", help="Only rows from this source file name.")] = None,
    limit: Annotated[
        int, typer.Option("--limit", min=0, max=MAX_ROWS, help="Show at most this many rows (0: all).")
    ] = 200,
    db: DbOption = None,
    as_json: JsonOption = False,
    fmt: FormatOption = "table",
    out_path: OutOption = None,
) -> None:
    """Rows that could not be read: file, sheet, line, column, raw value, reason. 隔离区（无法读取的行）。"""
    from coaltrace.store import Store
    from coaltrace.store.status import quarantined_rows

    fmt = resolve_format(fmt, out_path, what=Text("隔离区", "quarantine"), json_flag=as_json)
    with Store(db, read_only=True) as store:
        rows = quarantined_rows(store, file=file, limit=limit or None)
    for r in rows:
        r["reason_text"] = reason_label(str(r["reason"]))

    def table() -> Table:
        grid = Table()
        for key in ("file", "sheet", "line", "column", "value", "reason"):
            grid.add_column(_t(key))
        for r in rows:
            grid.add_row(
                str(r["file"]),
                str(r["sheet"] or ""),
                str(r["line"]),
                str(r["column_name"]),
                str(r["raw_value"] or ""),
                str(r["reason_text"]),
            )
        return grid

    emit(rows, fmt, out_path, table=table, sheet="quarantine", empty=_t("no_quarantine"))
