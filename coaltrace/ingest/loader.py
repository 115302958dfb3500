"""`coaltrace load`: files and folders in, one all-or-nothing transaction out.

The paths given become files (`inputs`); each file, and each sheet of a workbook,
is read (`readers` and its formats), its header found and matched to a table
(`headers`) and normalised (`normalise`) as units (`units`); its rows are staged
in DuckDB as they are read; inside the call's transaction, rows that cannot be read go to
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

import uuid
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl
from pydantic import BaseModel

from coaltrace.contract import TABLES, Table, table_named
from coaltrace.errors import CoaltraceError, LoadRefusedError, UsageError
from coaltrace.ingest import merge
from coaltrace.ingest.inputs import SkippedInput, expand_paths
from coaltrace.ingest.readers import RawFile, shown
from coaltrace.ingest.units import Prepared, read_units
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


class LoadReport(BaseModel):
    load_id: str
    db: str
    files: list[FileReport]
    skipped: list[SkippedInput] = []

    @property
    def quarantined(self) -> int:
        return sum(f.rows_quarantined for f in self.files)


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
                for prepared, detected, more in read_units(path, sheet, encoding, forced, skipped, on_stage):
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
