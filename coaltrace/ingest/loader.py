"""`coaltrace load`: files and folders in, one all-or-nothing transaction out.

Each file is read (`readers`), its header found and matched to a table
(`headers`), normalised (`normalise`), and its rows staged as Arrow; inside the
call's transaction, rows that cannot be read go to `quarantine` with their
file, sheet, line, column, raw value and reason. When every file has been read, the stages are merged (`merge`) and the
call commits. If any file is refused, the call rolls back and the error lists
every refused file, so the auditor fixes them all at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from pydantic import BaseModel

from coaltrace.contract import TABLES, Table, table_named
from coaltrace.errors import CoaltraceError, InputFileError, LoadRefusedError, Location, UsageError
from coaltrace.ingest import merge
from coaltrace.ingest.headers import HeaderMatch, locate_header
from coaltrace.ingest.normalise import known_unit, normalise
from coaltrace.ingest.readers import SUFFIXES, Opened, RawFile, open_file
from coaltrace.store import Store

if TYPE_CHECKING:
    import duckdb
    import pyarrow as pa

Progress = Callable[[str, int, int], None]  # (file name, files done, files in all)

_FILE_SEQ = 1 << 32  # `_seq` stride per file: more than any file's last line


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


class LoadReport(BaseModel):
    load_id: str
    db: str
    files: list[FileReport]

    @property
    def quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


def expand_paths(paths: Iterable[Path]) -> list[Path]:
    """Files as given, folders as the readable files inside them (recursively, sorted)."""
    out: list[Path] = []
    missing: list[str] = []
    for p in paths:
        if p.is_dir():
            out.extend(
                sorted(
                    f
                    for f in p.rglob("*")
                    if f.is_file() and f.suffix.lower() in SUFFIXES and not f.name.startswith((".", "~$"))
                )
            )
        elif p.exists():
            out.append(p)
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
            "no .csv, .xlsx or .parquet file to load in " + ", ".join(map(str, paths)),
            zh="没有可载入的 .csv、.xlsx 或 .parquet 文件：" + "、".join(map(str, paths)),
        )
    return out


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


def _prepare(opened: Opened, table: Table | None) -> tuple[RawFile, HeaderMatch, pl.DataFrame, pl.DataFrame]:
    where = Location(file=opened.path.name, sheet=opened.sheet)
    index, match = locate_header(
        [(c.line if opened.has_header_line else None, c.cells) for c in opened.candidates], where, table
    )
    _check_units(match, where)
    raw = opened.read(index)
    # The decoded file text lives in the opened file; let it go before normalising doubles the memory.
    del opened
    renamed = raw.frame.select(pl.col("_line"), *(pl.col(f"_c{i}").alias(col) for col, i in match.positions.items()))
    typed, problems = normalise(renamed, match.table, match.units)
    # The file's text columns are not needed past here; holding them while staging costs a copy of the file.
    return replace(raw, frame=raw.frame.clear()), match, typed, problems


def _top_reasons(problems: pl.DataFrame, n: int = 3) -> list[ReasonCount]:
    if problems.is_empty():
        return []
    top = (
        problems.group_by("column", "reason")
        .agg(pl.col("_line").n_unique().alias("rows"))
        .sort(["rows", "column", "reason"], descending=[True, False, False])
        .head(n)
    )
    return [ReasonCount(**r) for r in top.to_dicts()]


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
    files = expand_paths(paths)
    load_id = f"{datetime.now():%Y%m%dT%H%M%S}-{uuid.uuid4().hex[:8]}"
    refused: list[CoaltraceError] = []
    reports: list[FileReport] = []
    staged: dict[str, list[pa.Table]] = {}  # per table, the call's typed rows, file by file
    fids: dict[int, FileReport] = {}
    stale: set[int] = set()
    absent: dict[int, set[str]] = {}
    con = store.con
    with store.transaction():
        for fid, path in enumerate(files):
            if progress:
                progress(path.name, fid, len(files))
            try:
                raw, match, typed, problems = _prepare(open_file(path, sheet=sheet, encoding=encoding), forced)
            except CoaltraceError as e:
                refused.append(e)
                continue
            if refused:
                continue  # nothing will be kept; still read the rest to report every refusal
            t = match.table
            bad_lines = problems.select("_line").unique()
            # Most files have no bad row: then the anti-join would only copy every column.
            good = typed.join(bad_lines, on="_line", how="anti") if bad_lines.height else typed
            if _loaded_before(con, raw, t):
                stale.add(fid)
            absent[fid] = set(t.names) - set(match.positions)
            stage = good.select(
                *t.names,
                pl.lit(load_id).alias("_load_id"),
                pl.lit(path.name).alias("_file"),
                pl.lit(raw.sheet, dtype=pl.String).alias("_sheet"),
                pl.col("_line"),
                pl.lit(fid, dtype=pl.Int32).alias("_fid"),
                # Files loaded before go first, so the call's new files are the newer versions.
                (pl.col("_line") + (fid + (0 if fid in stale else len(files))) * _FILE_SEQ)
                .cast(pl.Int64)
                .alias("_seq"),
            )
            staged.setdefault(t.name, []).append(stage.to_arrow())
            _quarantine(con, problems, raw, t, load_id)
            report = FileReport(
                file=path.name,
                path=str(path),
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
                top_reasons=_top_reasons(problems),
                ignored_columns=[c for c in match.ignored if c.strip()],
            )
            reports.append(report)
            fids[fid] = report
        if refused:
            raise LoadRefusedError(
                f"{len(refused)} of {len(files)} file(s) refused; nothing was loaded",
                zh=f"{len(files)} 个文件中有 {len(refused)} 个被拒收；本次未载入任何数据",
                causes=refused,
            )
        for name in sorted(staged):
            merge.register_stage(con, TABLES[name], staged.pop(name))
            for fid, c in merge.merge_stage(con, TABLES[name], load_id, stale, absent).items():
                r = fids[fid]
                r.rows_loaded = c.get("new", 0) + c.get("revised", 0)
                r.rows_revised = c.get("revised", 0)
                r.rows_present = c.get("present", 0)
                r.rows_superseded = c.get("superseded", 0)
        _record_files(con, reports, load_id)
    if progress:
        progress("", len(files), len(files))
    return LoadReport(load_id=load_id, db=str(store.path), files=reports)


def _loaded_before(con: duckdb.DuckDBPyConnection, raw: RawFile, table: Table) -> bool:
    return bool(
        con.execute(
            "SELECT count(*) FROM loaded_files WHERE sha256 = ? AND table_name = ? AND sheet IS NOT DISTINCT FROM ?",
            [raw.sha256, table.name, raw.sheet],
        ).fetchall()[0][0]
    )


def _quarantine(
    con: duckdb.DuckDBPyConnection, problems: pl.DataFrame, raw: RawFile, table: Table, load_id: str
) -> None:
    if problems.is_empty():
        return
    rows = problems.select(
        pl.lit(load_id).alias("load_id"),
        pl.lit(table.name).alias("table_name"),
        pl.lit(raw.path.name).alias("file"),
        pl.lit(raw.sheet, dtype=pl.String).alias("sheet"),
        pl.lit(raw.sha256).alias("sha256"),
        pl.col("_line").alias("line"),
        pl.col("column").alias("column_name"),
        pl.col("raw_value"),
        pl.col("reason"),
    )
    con.register("_problems", rows.to_arrow())
    con.execute("""
        INSERT INTO quarantine SELECT p.* FROM _problems p
        WHERE NOT EXISTS (
            SELECT 1 FROM quarantine q
            WHERE q.sha256 = p.sha256 AND q.sheet IS NOT DISTINCT FROM p.sheet
              AND q.line = p.line AND q.column_name = p.column_name)
    """)
    con.unregister("_problems")


def _record_files(con: duckdb.DuckDBPyConnection, reports: list[FileReport], load_id: str) -> None:
    for r in reports:
        seen = con.execute(
            "SELECT 1 FROM loaded_files WHERE sha256 = ? AND table_name = ? AND sheet IS NOT DISTINCT FROM ?",
            [r.sha256, r.table, r.sheet],
        ).fetchone()
        if seen:
            continue
        con.execute(
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
