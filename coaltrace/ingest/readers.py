"""Read one input file into a frame of strings, as the office wrote it.

CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GB18030/GBK, told apart without
being told), Excel `.xlsx` (first sheet or a named one) and Parquet.

Reading takes two steps, because the header is not always the first row (a
title, a blank row, then the header): `open_file` decodes the file and offers
its first rows (`Opened.candidates`); `Opened.read(i)` reads it with candidate
`i` as the header. Every data column comes back as `pl.String`, plus `_line`:
where the record is in the file as a person finds it there. CSV: the text line
the record starts on (a quoted cell may span lines); Excel: the sheet's row
number; both count the first line of the file as 1, whatever precedes the
header. Parquet has no header line: its first record is 1.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from coaltrace.errors import InputFileError, Location

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SUFFIXES = CSV_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES

# How far down a file its header may sit (a title, a date line, a blank row, ...).
HEADER_SEARCH_ROWS = 10

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


@dataclass
class RawFile:
    path: Path
    sha256: str
    frame: pl.DataFrame  # data columns `_c0`, `_c1`, ... (all pl.String, in file order), plus `_line`
    headers: list[str]  # the header cell of each data column, as written ("" for an empty cell)
    header_line: int | None = None  # None for Parquet, which has no header line
    encoding: str | None = None  # CSV only
    sheet: str | None = None  # Excel only


@dataclass
class Candidate:
    """A non-blank row near the top of a file that may be its header."""

    line: int
    cells: list[str]


@dataclass
class Opened:
    path: Path
    sha256: str
    candidates: list[Candidate]
    reader: Callable[[Candidate], tuple[pl.DataFrame, list[str]]] = field(repr=False)
    encoding: str | None = None
    sheet: str | None = None
    has_header_line: bool = True

    def read(self, index: int = 0) -> RawFile:
        """The file with candidate INDEX as its header row."""
        chosen = self.candidates[index]
        frame, headers = self.reader(chosen)
        return RawFile(
            self.path,
            self.sha256,
            frame,
            headers,
            header_line=chosen.line if self.has_header_line else None,
            encoding=self.encoding,
            sheet=self.sheet,
        )


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def decode_csv_bytes(data: bytes, encoding: str | None, where: Location) -> tuple[bytes, str]:
    """UTF-8 bytes for Polars, and the encoding the file was in."""
    if encoding:
        try:
            # A UTF-8 BOM is a mark, not text, even when the user names another encoding.
            return data.removeprefix(_BOMS[0][0]).decode(encoding).encode("utf-8"), encoding
        except (LookupError, UnicodeDecodeError) as e:
            raise InputFileError(
                f"cannot read the file as {encoding}: {e}", zh=f"无法按 {encoding} 编码读取：{e}", location=where
            ) from None
    for bom, enc in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(enc).encode("utf-8"), enc
            except UnicodeDecodeError:
                # Some tools put a UTF-8 BOM before GB18030 text; the bytes decide.
                data = data[len(bom) :]
                break
    if b"\x00" in data[:4096]:
        raise _undetectable(where)
    try:
        data.decode("utf-8")
        return data, "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030").encode("utf-8"), "gb18030"
    except UnicodeDecodeError:
        raise _undetectable(where) from None


def _undetectable(where: Location) -> InputFileError:
    return InputFileError(
        "cannot tell the file's encoding: it is neither UTF-8 nor GB18030/GBK",
        zh="无法识别文件编码：既不是 UTF-8，也不是 GB18030/GBK",
        location=where,
        hint="Save it as UTF-8 or GB18030 CSV, or tell coaltrace with --encoding (e.g. --encoding big5).",
        hint_zh="请另存为 UTF-8 或 GB18030 编码的 CSV，或用 --encoding 指定编码（如 --encoding big5）。",
    )


def _positional(frame: pl.DataFrame) -> pl.DataFrame:
    # Header cells may repeat or be empty; data columns are named by position and
    # RawFile.headers keeps the cells as written.
    return frame.rename({c: f"_c{i}" for i, c in enumerate(frame.columns)})


def _drop_blank_rows(frame: pl.DataFrame) -> pl.DataFrame:
    data = [c for c in frame.columns if c != "_line"]
    if not data:
        return frame
    blank = pl.all_horizontal(pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in data)
    return frame.filter(~blank)


def _is_blank(cells: list[str]) -> bool:
    return not any(c.strip() for c in cells)


def _cell(value: object) -> str:
    return "" if value is None else str(value)


def _sniff_separator(path: Path, head: bytes) -> str:
    if path.suffix.lower() == ".tsv":
        return "\t"
    # The title rows above a header rarely hold a separator; count over the top of the file.
    top = b"\n".join(head.split(b"\n", HEADER_SEARCH_ROWS)[:HEADER_SEARCH_ROWS])
    return "\t" if top.count(b"\t") > top.count(b",") else ","


def _csv_candidates(utf8: bytes, sep: str) -> list[Candidate]:
    # Only the top of the file, through Python's csv module: a handful of rows, not the data.
    text = utf8[: 1 << 16].decode("utf-8", errors="ignore")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=sep)
    out: list[Candidate] = []
    line = 1
    try:
        for cells in reader:
            if line > HEADER_SEARCH_ROWS:
                break
            if not _is_blank(cells):
                out.append(Candidate(line, cells))
            line = reader.line_num + 1
    except csv.Error:
        pass  # a cut-off quoted cell at the end of the sample; the rows before it are enough
    return out


def _newlines_in(frame: pl.DataFrame) -> pl.Expr | None:
    """Per row, the line breaks inside its quoted cells; None when no cell has one."""
    spanning = [c for c in frame.columns if frame[c].str.contains("\n", literal=True).any()]
    if not spanning:
        return None
    return pl.sum_horizontal(pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in spanning)


def _read_csv_from(utf8: bytes, sep: str, header: Candidate, where: Location) -> tuple[pl.DataFrame, list[str]]:
    try:
        frame = pl.read_csv(
            utf8,
            infer_schema=False,
            separator=sep,
            truncate_ragged_lines=True,
            raise_if_empty=False,
            skip_lines=header.line - 1,
        )
    except pl.exceptions.PolarsError as e:
        raise InputFileError(f"not a readable CSV file: {e}", zh=f"不是可读的 CSV 文件：{e}", location=where) from None
    headers = header.cells[: frame.width]
    headers += [""] * (frame.width - len(headers))
    frame = _positional(frame)
    # Each record starts on the line after the previous one ends: after the header
    # (which may itself span lines) and after every line break in earlier cells.
    first = header.line + 1 + sum(c.count("\n") for c in header.cells)
    line = pl.int_range(pl.len(), dtype=pl.Int64) + first
    # Only a quoted cell can hold a line break; most exports quote nothing, and one
    # scan of the bytes is far cheaper than searching every cell.
    spans = _newlines_in(frame) if b'"' in utf8 else None
    if spans is not None:
        line = line + spans.cum_sum().shift(1, fill_value=0).cast(pl.Int64)
    frame = frame.with_columns(line.alias("_line"))
    return _drop_blank_rows(frame), headers


def open_csv(path: Path, encoding: str | None = None) -> Opened:
    where = Location(file=str(path))
    data = path.read_bytes()
    if not data.strip():
        raise InputFileError("the file is empty", zh="文件是空的", location=where)
    # The bytes are in memory already: hash them rather than read the file again.
    digest = hashlib.sha256(data).hexdigest()
    utf8, enc = decode_csv_bytes(data, encoding, where)
    del data
    sep = _sniff_separator(path, utf8[: 1 << 16])
    return Opened(
        path,
        digest,
        _csv_candidates(utf8, sep),
        reader=lambda header: _read_csv_from(utf8, sep, header, where),
        encoding=enc,
    )


def open_excel(path: Path, sheet: str | None = None) -> Opened:
    where = Location(file=str(path), sheet=sheet)
    try:
        import fastexcel

        book = fastexcel.read_excel(str(path))
        names = book.sheet_names
    except Exception as e:  # fastexcel raises its own error types for broken workbooks
        raise InputFileError(
            f"not a readable Excel workbook: {e}", zh=f"不是可读的 Excel 工作簿：{e}", location=where
        ) from None
    if sheet is not None and sheet not in names:
        raise InputFileError(
            f"the workbook has no sheet named {sheet!r}",
            zh=f"工作簿中没有名为 {sheet!r} 的工作表",
            location=where,
            hint=f"Its sheets are: {', '.join(names)}.",
            hint_zh=f"工作表有：{'、'.join(names)}。",
        )
    name = sheet if sheet is not None else names[0]
    # Read every cell as text: the normalisers, not Excel's guess, decide what a cell means.
    # No header row and no skipped rows, so grid row i is the sheet's row i + 1
    # even when the sheet starts with empty rows.
    grid = _positional(book.load_sheet(name, header_row=None, skip_rows=0, dtypes="string").to_polars())
    top = [Candidate(i + 1, [_cell(v) for v in row]) for i, row in enumerate(grid.head(HEADER_SEARCH_ROWS).rows())]

    def read(header: Candidate) -> tuple[pl.DataFrame, list[str]]:
        frame = grid.with_row_index("_line", offset=1).with_columns(pl.col("_line").cast(pl.Int64))
        frame = frame.slice(header.line).select(pl.exclude("_line"), "_line")
        return _drop_blank_rows(frame), header.cells

    return Opened(path, sha256_of(path), [c for c in top if not _is_blank(c.cells)], reader=read, sheet=name)


def open_parquet(path: Path) -> Opened:
    where = Location(file=str(path))
    try:
        frame = pl.read_parquet(path)
    except Exception as e:  # polars raises ComputeError or OSError depending on the damage
        raise InputFileError(
            f"not a readable Parquet file: {e}", zh=f"不是可读的 Parquet 文件：{e}", location=where
        ) from None
    # Typed columns are written back as text the normalisers read, so every format takes one path.
    frame = frame.with_columns(
        [pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S") for c, t in frame.schema.items() if t == pl.Datetime]
        + [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date]
    ).with_columns(pl.all().cast(pl.String))
    headers = list(frame.columns)
    frame = _positional(frame).with_row_index("_line", offset=1).with_columns(pl.col("_line").cast(pl.Int64))
    frame = _drop_blank_rows(frame.select(pl.exclude("_line"), "_line"))
    return Opened(
        path,
        sha256_of(path),
        [Candidate(0, headers)] if headers else [],
        reader=lambda _: (frame, headers),
        has_header_line=False,
    )


def open_file(path: Path, *, sheet: str | None = None, encoding: str | None = None) -> Opened:
    where = Location(file=str(path))
    if not path.exists():
        raise InputFileError("no such file or folder", zh="文件或文件夹不存在", location=where)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        opened = open_csv(path, encoding)
    elif suffix in EXCEL_SUFFIXES:
        opened = open_excel(path, sheet)
    elif suffix in PARQUET_SUFFIXES:
        opened = open_parquet(path)
    else:
        raise InputFileError(
            f"unknown file type {suffix or '(none)'}",
            zh=f"不支持的文件类型 {suffix or '（无扩展名）'}",
            location=where,
            hint="coaltrace reads .csv, .xlsx and .parquet files.",
            hint_zh="coaltrace 可读取 .csv、.xlsx 和 .parquet 文件。",
        )
    if not opened.candidates:
        raise InputFileError("the file is empty", zh="文件是空的", location=where)
    return opened


def read_file(path: Path, *, sheet: str | None = None, encoding: str | None = None) -> RawFile:
    """The file with its first non-blank row as the header."""
    return open_file(path, sheet=sheet, encoding=encoding).read(0)
