"""`coaltrace load`: files and folders in, one all-or-nothing transaction out.

Each file, and each sheet of a workbook, is read (`readers`), its header found
and matched to a table (`headers`), normalised (`normalise`), and its rows
staged as Arrow; inside the call's transaction, rows that cannot be read go to
`quarantine` with their file, sheet, line, column, raw value and reason. When
every file has been read, the stages are merged (`merge`) and the call commits.
If any file is refused, the call rolls back and the error lists every refused
file, so the auditor fixes them all at once.

Nothing given is passed over without a word: a file of a folder that is not
read (another type, an archive, a lock file) and a sheet that is not read (empty,
a sheet of notes, not the one named with --sheet) are listed in the report's
`skipped`, each with its reason.
"""

from __future__ import annotations

import os
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from pydantic import BaseModel

from coaltrace.contract import TABLES, Table, table_named
from coaltrace.errors import CoaltraceError, InputFileError, LoadRefusedError, Location, UsageError
from coaltrace.ingest import merge
from coaltrace.ingest.csv_files import FALLBACK_ENCODINGS, detected_encodings, header_rows, open_csv
from coaltrace.ingest.headers import HeaderMatch, locate_header, looks_like_data
from coaltrace.ingest.normalise import PROBLEM_SCHEMA, known_unit, normalise
from coaltrace.ingest.parquet_files import parquet_parts, text_form
from coaltrace.ingest.readers import ARCHIVE_SUFFIXES, READABLE, Opened, RawFile, file_format, open_file, shown
from coaltrace.ingest.reasons import SKIP_REASONS
from coaltrace.ingest.workbooks import check_sheet_name, open_workbook
from coaltrace.store import Store
from coaltrace.store.schema import mark_data_changed

if TYPE_CHECKING:
    from coaltrace.engine import Engine


@dataclass(frozen=True)
class LoadProgress:
    """Where a load is. A file is read by Polars (or fastexcel) in one call, so progress within a file is
    by stage, each with its row count: `reading` (rows None), `read` (rows read), `normalised` (rows typed,
    `quarantined` of them unreadable), `staged` (rows kept for the merge); then `merged` per table (rows
    merged) and `done`. `files_done` counts files finished before this one."""

    stage: str
    file: str
    files_done: int
    files_total: int
    rows: int | None = None
    quarantined: int | None = None
    table: str | None = None


Progress = Callable[[LoadProgress], None]
# Where a file is once a stage is over, as a fraction of the file's work (for a progress bar by stage).
STAGE_DONE = {"reading": 0.0, "read": 0.4, "normalised": 0.8, "staged": 1.0}

_FILE_SEQ = 1 << 32  # `_seq` stride per file: more than any file's last line
_NEW_FILES = 1 << 20  # `_seq` files of this call come after: more than the files and sheets of any call


class ReasonCount(BaseModel):
    column: str
    reason: str
    rows: int


class FileReport(BaseModel):
    file: str
    path: str
    sheet: str | None
    header_line: int | None  # where the header was found (None for Parquet)
    table: str
    encoding: str | None
    sha256: str
    rows_read: int
    rows_loaded: int  # new records, and newer versions of stored ones
    rows_revised: int  # of rows_loaded, those that replaced an older version
    rows_present: int  # already stored (same file again, overlapping exports)
    rows_superseded: int  # replaced by a newer version later in the same call
    rows_quarantined: int
    top_reasons: list[ReasonCount]
    ignored_columns: list[str]
    # The header did not fit in the encoding guessed first; this one is where it did.
    encoding_detected: bool = False


class SkippedInput(BaseModel):
    """A file of a folder, or a sheet of a workbook, that was not read, and why."""

    file: str
    path: str
    sheet: str | None = None
    reason: str  # a code of coaltrace.ingest.reasons.SKIP_REASONS
    detail: str | None = None  # the file type, or the sheet's first row


class LoadReport(BaseModel):
    load_id: str
    db: str
    files: list[FileReport]
    skipped: list[SkippedInput] = []

    @property
    def quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


def expand_paths(paths: Iterable[Path]) -> tuple[list[Path], list[SkippedInput]]:
    """Files as given, folders as the readable files inside them (recursively, sorted), and what was passed over."""
    out: list[Path] = []
    skipped: list[SkippedInput] = []
    missing: list[str] = []
    for p in paths:
        if p.is_dir():
            found: list[Path] = []
            _walk(p, found, skipped)
            out.extend(sorted(found))
        elif p.exists() or p.is_symlink():
            out.append(p)  # given by name: read or refused, never passed over
        else:
            missing.append(str(p))
    if missing:
        raise InputFileError(
            f"no such file or folder: {', '.join(missing)}",
            zh=f"文件或文件夹不存在：{'、'.join(missing)}",
            location=Location(file=missing[0]),
        )
    if not out:
        raise UsageError(
            f"no file to load in {', '.join(map(str, paths))}",
            zh="没有可载入的文件：" + "、".join(map(str, paths)),
            details=[_describe_skip(s.path, s) for s in skipped],
            hint=f"coaltrace reads {READABLE} files.",
            hint_zh=f"coaltrace 可读取 {READABLE} 文件。",
        )
    return out, skipped


def _describe_skip(where: str, skipped: SkippedInput) -> str:
    # Both languages at once, as in every detail line of a refusal.
    zh, en = SKIP_REASONS[skipped.reason]
    return f"{where}: {en} / {zh}" + (f" ({skipped.detail})" if skipped.detail else "")


def _walk(root: Path, found: list[Path], skipped: list[SkippedInput]) -> None:
    """The files under ROOT that coaltrace reads; the others, and links that loop, into SKIPPED."""
    seen: set[tuple[int, int]] = set()
    # Links to folders are followed (a month folder may link each county's exports),
    # each folder once: a link back up the tree is listed, not walked forever.

    def unreadable(e: OSError) -> None:
        where = Path(e.filename) if e.filename else root
        skipped.append(
            SkippedInput(file=shown(where.name), path=shown(where), reason="unreadable_folder", detail=e.strerror)
        )

    for folder, subfolders, names in os.walk(root, followlinks=True, onerror=unreadable):
        here = Path(folder)
        info = here.stat()
        if (info.st_dev, info.st_ino) in seen:
            skipped.append(SkippedInput(file=shown(here.name), path=shown(here), reason="link_loop"))
            subfolders.clear()
            continue
        seen.add((info.st_dev, info.st_ino))
        for name in [d for d in subfolders if d.startswith(".")]:
            skipped.append(SkippedInput(file=shown(name), path=shown(here / name), reason="hidden"))
        subfolders[:] = sorted(d for d in subfolders if not d.startswith("."))
        for name in sorted(names):
            path = here / name
            reason = _passed_over(path)
            if reason is None:
                found.append(path)
            else:
                detail = path.suffix.lower() or None if reason in ("unsupported_type", "archive") else None
                skipped.append(SkippedInput(file=shown(name), path=shown(path), reason=reason, detail=detail))


def _passed_over(path: Path) -> str | None:
    """Why a file in a folder is not read (a code of SKIP_REASONS); None to read it."""
    if path.name.startswith("~$"):
        return "lock_file"
    if path.name.startswith("."):
        return "hidden"
    if path.is_symlink() and not path.exists():
        return "broken_link"
    if file_format(path) is not None:
        return None
    return "archive" if path.suffix.lower() in ARCHIVE_SUFFIXES else "unsupported_type"


def _check_units(match: HeaderMatch, where: Location) -> None:
    bad = [
        f"{match.sources[c]} (unit {u!r})"
        for c, u in match.units.items()
        if u is not None and not known_unit(match.table.column(c).kind, u)
    ]
    if bad:
        raise InputFileError(
            "unknown unit in the header: " + ", ".join(bad),
            zh="表头中的单位无法识别：" + "、".join(bad),
            location=where,
            hint="Use tonnes (吨, t), 万吨, kg (千克), 万吨/年, kWh (千瓦时, 度) or write the number without a unit.",
            hint_zh="请使用 吨 (t)、万吨、千克 (kg)、万吨/年、千瓦时 (度)，或不写单位。",
        )


Prepared = tuple[RawFile, HeaderMatch, pl.DataFrame, pl.DataFrame]  # file, match, typed rows, problems


def _where(opened: Opened) -> Location:
    return Location(file=shown(opened.path.name), sheet=opened.sheet)


def _locate(opened: Opened, table: Table | None) -> tuple[int, HeaderMatch]:
    return locate_header(
        [(c.line if opened.has_header_line else None, c.cells) for c in opened.candidates], _where(opened), table
    )


Stage = Callable[[str, int, int | None, str | None], None]  # (stage, rows, quarantined, table)


def _prepare(
    opened: Opened,
    table: Table | None,
    located: tuple[int, HeaderMatch] | None = None,
    stage: Stage | None = None,
) -> Prepared:
    where = _where(opened)
    index, match = located or _locate(opened, table)
    _check_units(match, where)
    _check_readable(opened, match, where)
    raw = opened.read(index)
    if stage:
        stage("read", raw.frame.height, None, match.table.name)
    # The decoded file text lives in the opened file; let it go before normalising doubles the memory.
    del opened
    renamed = raw.frame.select(pl.col("_line"), *(pl.col(f"_c{i}").alias(col) for col, i in match.positions.items()))
    typed, problems = normalise(renamed, match.table, match.units)
    extra = _extra_cells(raw)
    if extra.height:
        problems = pl.concat([problems, extra]).sort("_line", maintain_order=True)
    if stage:
        stage("normalised", typed.height, problems.select("_line").n_unique(), match.table.name)
    # The file's text columns are not needed past here; holding them while staging costs a copy of the file.
    return replace(raw, frame=raw.frame.clear()), match, typed, problems


def _check_readable(opened: Opened, match: HeaderMatch, where: Location) -> None:
    """Refuse a file whose contract column holds no text (a Parquet list or struct)."""
    bad = [(c, h, opened.unreadable[h]) for c, h in match.sources.items() if h in opened.unreadable]
    if bad:
        raise InputFileError(
            "column(s) that cannot be read as one value per row: " + ", ".join(f"{h} ({c}): {t}" for c, h, t in bad),
            zh="以下列无法按每行一个值读取：" + "、".join(f"{h}（{c}）：{t}" for c, h, t in bad),
            location=replace(where, column=bad[0][1]),
            hint="Write those columns as plain text, numbers or dates, one value per row.",
            hint_zh="请把这些列写成每行一个值的文本、数字或日期。",
        )


def _extra_cells(raw: RawFile) -> pl.DataFrame:
    """One problem per row that has cells beyond its header's last named column (a row shifted by a stray comma)."""
    named = [i for i, h in enumerate(raw.headers) if str(h).strip()]
    beyond = range((named[-1] + 1) if named else 0, len(raw.headers))
    if not beyond:
        return pl.DataFrame(schema=PROBLEM_SCHEMA)
    # A typed cell (a Parquet number or instant) is shown as its text, and filled unless null.
    cells = raw.frame.with_columns(text_form(raw.frame[f"_c{i}"]) for i in beyond)
    filled = {i: pl.col(f"_c{i}").str.strip_chars().str.len_bytes() > 0 for i in beyond}
    return (
        cells.lazy()
        .select(
            "_line",
            # Columns are counted from 1, as a spreadsheet user counts them.
            column=pl.min_horizontal(pl.when(f).then(pl.lit(i + 1)) for i, f in filled.items()),
            raw_value=pl.concat_str(
                [pl.when(f).then(pl.col(f"_c{i}")) for i, f in filled.items()], separator=" | ", ignore_nulls=True
            ),
        )
        .filter(pl.col("column").is_not_null())
        .select("_line", pl.format("#{}", "column").alias("column"), "raw_value", pl.lit("extra_cells").alias("reason"))
        .collect()
        .cast(PROBLEM_SCHEMA)  # type: ignore[arg-type]
    )


def _read_units(
    path: Path,
    sheet: str | None,
    encoding: str | None,
    table: Table | None,
    skipped: list[SkippedInput],
    stage: Stage | None = None,
) -> Iterator[tuple[Prepared, bool, bool]]:
    """Each table of PATH, prepared (a workbook may hold several; a long Parquet file comes in parts),
    whether its encoding was found by retrying, and whether it goes on the unit before (a later part)."""
    kind = file_format(path)
    if kind == "excel":
        for prepared in _workbook_units(path, sheet, table, skipped, stage):
            yield prepared, False, False
    elif kind == "csv":
        yield (*_csv_unit(path, encoding, table, stage), False)
    elif kind == "parquet":
        for part, opened in enumerate(parquet_parts(path)):
            if not opened.candidates:
                raise InputFileError("the file is empty", zh="文件是空的", location=Location(file=str(path)))
            yield _prepare(opened, table, stage=stage), False, part > 0
    else:
        yield _prepare(open_file(path), table, stage=stage), False, False


def _workbook_units(
    path: Path, sheet: str | None, table: Table | None, skipped: list[SkippedInput], stage: Stage | None = None
) -> Iterator[Prepared]:
    """Every sheet of the workbook whose header fits a table (or only SHEET); the others into SKIPPED."""
    book = open_workbook(path)
    where = Location(file=shown(path.name))
    names = [check_sheet_name(book, sheet)] if sheet is not None else book.sheet_names
    passed: list[SkippedInput] = [
        SkippedInput(file=shown(path.name), path=shown(path), sheet=n, reason="other_sheet")
        for n in book.sheet_names
        if n not in names
    ]
    read = 0
    for name in names:
        opened = book.sheet(name)
        if not opened.candidates:
            if sheet is not None:
                raise InputFileError("the sheet is empty", zh="工作表是空的", location=_where(opened))
            passed.append(SkippedInput(file=shown(path.name), path=shown(path), sheet=name, reason="empty_sheet"))
            continue
        try:
            located = _locate(opened, table)
        except InputFileError:
            # A sheet of notes beside the data is no error (the data contract says so);
            # a sheet that names most of a table's columns is data, and refused when it does not fit.
            if sheet is not None or looks_like_data([c.cells for c in opened.candidates], table):
                raise
            first = opened.candidates[0].cells
            detail = ", ".join(c for c in first if c.strip())[:200]
            passed.append(
                SkippedInput(file=shown(path.name), path=shown(path), sheet=name, reason="fits_no_table", detail=detail)
            )
            continue
        read += 1
        yield _prepare(opened, table, located, stage)
    if not read:
        raise InputFileError(
            "no sheet of the workbook holds a table of the data contract",
            zh="工作簿中没有任何工作表符合数据规范中的表",
            location=where,
            details=[_describe_skip(s.sheet or "", s) for s in passed],
            hint="Check the header row of the data sheet, or name the sheet with --sheet and the table with --table.",
            hint_zh="请检查数据工作表的表头，或用 --sheet 指定工作表、用 --table 指定表名。",
        )
    skipped.extend(passed)


def _csv_unit(
    path: Path, encoding: str | None, table: Table | None, stage: Stage | None = None
) -> tuple[Prepared, bool]:
    """The CSV prepared; a header that fits no table in a guessed encoding is tried in the others."""
    opened = open_csv(path, encoding)
    try:
        located = _locate(opened, table)
    except InputFileError as refused:
        if not opened.encoding_guessed:
            raise
        found = _in_another_encoding(path, opened, table)
        if found is None:
            refused.details.append(
                f"read as {opened.encoding}; it fits no table in any other likely encoding either / "
                f"按 {opened.encoding} 读取；按其他可能的编码读取也不符"
            )
            refused.hint = (refused.hint or "") + " If the file is in another encoding, name it with --encoding."
            refused.hint_zh = (refused.hint_zh or "") + "如果文件是其他编码，请用 --encoding 指定。"
            raise
        return _prepare(*found, stage), True
    index, _ = located
    if opened.encoding_doubt and all(c.isascii() for c in opened.candidates[index].cells):
        # The header is plain ASCII and fits in every encoding: only the text can tell, and it does not read as Chinese.
        guesses = [e for e in detected_encodings(path) if not e.startswith("gb")] or ["big5"]
        raise InputFileError(
            f"the file's Chinese text does not read as GB18030; it may be {guesses[0]}",
            zh=f"文件中的中文按 GB18030 读出来是乱码，可能是 {guesses[0]} 编码",
            location=_where(opened),
            hint=f"Name its encoding: --encoding {guesses[0]} (or --encoding gb18030 if the text is right).",
            hint_zh=f"请指定编码：--encoding {guesses[0]}（如果文字无误，可用 --encoding gb18030）。",
        )
    return _prepare(opened, table, located, stage), False


def _in_another_encoding(
    path: Path, first: Opened, table: Table | None
) -> tuple[Opened, Table | None, tuple[int, HeaderMatch]] | None:
    """The file opened in the first encoding (the detector's guesses, then the usual ones) whose header fits."""
    for enc in dict.fromkeys([*detected_encodings(path), *FALLBACK_ENCODINGS]):
        rows = header_rows(path, enc) if enc != first.encoding else None
        # Decode the whole file only in an encoding whose top rows hold a header that fits.
        if rows is None or not any(looks_like_data([r], table) for r in rows):
            continue
        try:
            opened = open_csv(path, enc)
            return opened, table, _locate(opened, table)
        except InputFileError:
            continue
    return None


def _reason_counts(problems: pl.DataFrame) -> Counter[tuple[str, str]]:
    """Rows per (column, reason) among PROBLEMS."""
    if problems.is_empty():
        return Counter()
    counts = problems.group_by("column", "reason").agg(pl.col("_line").n_unique().alias("rows"))
    return Counter({(c, r): n for c, r, n in counts.iter_rows()})


def _top_reasons(counts: Counter[tuple[str, str]], n: int = 3) -> list[ReasonCount]:
    top = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:n]
    return [ReasonCount(column=c, reason=r, rows=rows) for (c, r), rows in top]


def load_paths(
    store: Store,
    paths: Iterable[Path],
    *,
    table: str | None = None,
    sheet: str | None = None,
    encoding: str | None = None,
    progress: Progress | None = None,
) -> LoadReport:
    """Load files or folders into STORE in one transaction; refuse all if any file is refused."""
    forced = None
    if table is not None:
        forced = table_named(table)
        if forced is None:
            raise UsageError(
                f"unknown table {table!r}",
                zh=f"未知的表名 {table!r}",
                hint=f"Tables are: {', '.join(TABLES)}.",
                hint_zh=f"表名有：{', '.join(TABLES)}。",
            )
    files, skipped = expand_paths(paths)
    load_id = f"{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    refused: list[CoaltraceError] = []
    reports: list[FileReport] = []
    staged: dict[str, int] = {}  # per table, how many of the call's rows are staged (in DuckDB, file by file)
    fids: dict[int, FileReport] = {}
    stale: set[int] = set()
    absent: dict[int, set[str]] = {}
    reasons: dict[int, Counter[tuple[str, str]]] = {}  # per file id, rows quarantined per (column, reason)
    engine = store.engine
    with store.transaction():
        merge.begin_stage(engine)

        def stage(path: Path, prepared: Prepared, detected: bool, more: bool) -> None:
            """Stage one unit's rows; MORE: a later part of the unit staged last (one file, one report)."""
            raw, match, typed, problems = prepared
            fid = len(reports) - 1 if more else len(reports)
            t = match.table
            bad_lines = problems.select("_line").unique()
            # Most files have no bad row: then the anti-join would only copy every column.
            good = typed.join(bad_lines, on="_line", how="anti") if bad_lines.height else typed
            if not more and _loaded_before(engine, raw, t):
                stale.add(fid)
            absent[fid] = set(t.names) - set(match.positions)
            if not more:
                merge.stage_file(engine, fid, load_id, shown(path.name), raw.sheet)
            rows = good.select(
                *t.names,
                pl.col("_line"),
                pl.lit(fid, dtype=pl.Int32).alias("_fid"),
                # Files loaded before go first, so the call's new files are the newer versions.
                (pl.col("_line") + (fid + (0 if fid in stale else _NEW_FILES)) * _FILE_SEQ)
                .cast(pl.Int64)
                .alias("_seq"),
            )
            merge.stage_rows(engine, t, rows.to_arrow())
            staged[t.name] = staged.get(t.name, 0) + rows.height
            _quarantine(engine, problems, raw, t, load_id)
            reasons[fid] = reasons.get(fid, Counter()) + _reason_counts(problems)
            if more:
                report = reports[-1]
                report.rows_read += typed.height
                report.rows_quarantined += bad_lines.height
                report.top_reasons = _top_reasons(reasons[fid])
                return
            report = FileReport(
                file=shown(path.name),
                path=shown(path),
                sheet=raw.sheet,
                header_line=raw.header_line,
                table=t.name,
                encoding=raw.encoding,
                sha256=raw.sha256,
                rows_read=typed.height,
                rows_loaded=0,
                rows_revised=0,
                rows_present=0,
                rows_superseded=0,
                rows_quarantined=bad_lines.height,
                top_reasons=_top_reasons(reasons[fid]),
                ignored_columns=[c for c in match.ignored if c.strip()],
                encoding_detected=detected,
            )
            reports.append(report)
            fids[fid] = report

        def tell(
            stage: str, name: str, done: int, rows: int | None = None, bad: int | None = None, t: str | None = None
        ) -> None:
            if progress:
                progress(LoadProgress(stage, name, done, len(files), rows, bad, t))

        for done, path in enumerate(files):
            name = shown(path.name)
            tell("reading", name, done)

            def on_stage(
                what: str, rows: int, bad: int | None, t: str | None, name: str = name, done: int = done
            ) -> None:
                tell(what, name, done, rows, bad, t)

            try:
                for prepared, detected, more in _read_units(path, sheet, encoding, forced, skipped, on_stage):
                    if not refused:  # nothing will be kept; still read the rest to report every refusal
                        stage(path, prepared, detected, more)
                        tell(
                            "staged",
                            name,
                            done,
                            reports[-1].rows_read - reports[-1].rows_quarantined,
                            None,
                            reports[-1].table,
                        )
            except CoaltraceError as e:
                refused.append(e)
        if refused:
            raise LoadRefusedError(
                f"{len(refused)} of {len(files)} file(s) refused; nothing was loaded",
                zh=f"{len(files)} 个文件中有 {len(refused)} 个被拒收；本次未载入任何数据",
                causes=refused,
            )
        for name, rows_staged in sorted(staged.items()):
            tell("merging", "", len(files), rows_staged, None, name)
            for fid, c in merge.merge_stage(engine, TABLES[name], load_id, stale, absent).items():
                r = fids[fid]
                r.rows_loaded = c.get("new", 0) + c.get("revised", 0)
                r.rows_revised = c.get("revised", 0)
                r.rows_present = c.get("present", 0)
                r.rows_superseded = c.get("superseded", 0)
            tell("merged", "", len(files), rows_staged, None, name)
        merge.end_stage(engine)
        _record_files(engine, reports, load_id)
        if any(r.rows_loaded or r.rows_superseded for r in reports):
            mark_data_changed(engine, load_id)
    tell("done", "", len(files))
    return LoadReport(load_id=load_id, db=str(store.path), files=reports, skipped=skipped)


def _loaded_before(engine: Engine, raw: RawFile, table: Table) -> bool:
    return bool(
        engine.rows(
            "SELECT count(*) FROM loaded_files WHERE sha256 = ? AND table_name = ? AND sheet IS NOT DISTINCT FROM ?",
            [raw.sha256, table.name, raw.sheet],
        )[0][0]
    )


def _quarantine(engine: Engine, problems: pl.DataFrame, raw: RawFile, table: Table, load_id: str) -> None:
    if problems.is_empty():
        return
    rows = problems.select(
        pl.lit(load_id).alias("load_id"),
        pl.lit(table.name).alias("table_name"),
        pl.lit(shown(raw.path.name)).alias("file"),
        pl.lit(raw.sheet, dtype=pl.String).alias("sheet"),
        pl.lit(raw.sha256).alias("sha256"),
        pl.col("_line").alias("line"),
        pl.col("column").alias("column_name"),
        pl.col("raw_value"),
        pl.col("reason"),
    )
    engine.execute("CREATE OR REPLACE TEMP TABLE _problems AS SELECT * FROM quarantine LIMIT 0")
    engine.append("_problems", rows.to_arrow())
    engine.execute("""
        INSERT INTO quarantine SELECT p.* FROM _problems p
        WHERE NOT EXISTS (
            SELECT 1 FROM quarantine q
            WHERE q.sha256 = p.sha256 AND q.sheet IS NOT DISTINCT FROM p.sheet
              AND q.line = p.line AND q.column_name = p.column_name)
    """)
    engine.execute("DROP TABLE _problems")


def _record_files(engine: Engine, reports: list[FileReport], load_id: str) -> None:
    for r in reports:
        seen = engine.rows(
            "SELECT 1 FROM loaded_files WHERE sha256 = ? AND table_name = ? AND sheet IS NOT DISTINCT FROM ?",
            [r.sha256, r.table, r.sheet],
        )
        if seen:
            continue
        engine.execute(
            "INSERT INTO loaded_files VALUES (?, current_localtimestamp(), ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                load_id,
                r.table,
                r.file,
                r.path,
                r.sheet,
                r.sha256,
                r.encoding,
                r.rows_read,
                r.rows_loaded,
                r.rows_present,
                r.rows_revised,
                r.rows_quarantined,
            ],
        )
