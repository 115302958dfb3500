"""One file (or sheet) to typed rows: its header found and matched to a table, its units checked, its
cells normalised, and the rows it cannot read as problems. A CSV whose header fits no table is
tried in the other likely encodings; a workbook gives one unit per sheet that holds data; a long
Parquet file comes in parts."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import polars as pl

from coaltrace.contract import Table
from coaltrace.errors import InputFileError, Location
from coaltrace.ingest.csv_files import FALLBACK_ENCODINGS, detected_encodings, header_rows, open_csv
from coaltrace.ingest.headers import HeaderMatch, locate_header, looks_like_data
from coaltrace.ingest.inputs import SkippedInput, describe_skip
from coaltrace.ingest.normalise import PROBLEM_SCHEMA, known_unit, normalise
from coaltrace.ingest.parquet_files import parquet_parts, text_form
from coaltrace.ingest.readers import Opened, RawFile, file_format, open_file, shown
from coaltrace.ingest.workbooks import check_sheet_name, open_workbook


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
    extra = extra_cells(raw)
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


def extra_cells(raw: RawFile) -> pl.DataFrame:
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


def read_units(
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
            details=[describe_skip(s.sheet or "", s) for s in passed],
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
