"""Read one input file into a frame of strings, as the office wrote it.

CSV (UTF-8, UTF-8 with BOM, UTF-16 with or without BOM, GB18030/GBK, told apart
without being told; any line ending; also gzipped as `.csv.gz`), Excel and
OpenDocument workbooks (`.xlsx`, `.xlsm`, `.xls`, `.xlsb`, `.ods`: every sheet,
one at a time) and Parquet.

Before any byte is read, a path must be a regular file (a FIFO would wait
forever, `/dev/zero` never ends) no larger than `max_file_bytes()`; a gzipped
CSV may not unpack to more. A NUL byte or character anywhere refuses the file
with its line: text never holds one, so it means a damaged file, a binary one
or a wrong encoding, and no guess about it would be safe.

Reading takes two steps, because the header is not always the first row (a
title, a blank row, then the header): `open_file` decodes the file and offers
its first rows (`Opened.candidates`); `Opened.read(i)` reads it with candidate
`i` as the header. Every data column comes back as `pl.String`, but for the
numbers and instants of a Parquet file (`PARQUET_TYPED`), kept as typed, plus
`_line`: where the record is in the file as a person finds it there. CSV: the text line
the record starts on (a quoted cell may span lines); Excel: the sheet's row
number; both count the first line of the file as 1, whatever precedes the
header. Parquet has no header line: its first record is 1.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import stat
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from coaltrace.errors import InputFileError, Location

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
# fastexcel (calamine) reads all of these through one interface.
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SUFFIXES = CSV_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES
# Archives are not opened: what is inside, and how much of it, is for the user to see first.
ARCHIVE_SUFFIXES = {".zip", ".rar", ".7z", ".tar", ".tgz", ".gz", ".bz2", ".xz"}

Format = Literal["csv", "excel", "parquet"]

# The loader holds a file's bytes, its decoded text and its typed columns at once,
# a few times the file's size: one file may be at most this share of the machine's memory.
MEMORY_SHARE = 8
_FALLBACK_LIMIT = 1 << 30  # when the machine will not say how much memory it has

# How far down a file its header may sit (a title, a date line, a blank row, ...).
HEADER_SEARCH_ROWS = 10

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def file_format(path: Path) -> Format | None:
    """How a file is read, from its name (`.csv.gz` is a CSV); None for any other file."""
    suffix = path.suffix.lower()
    if suffix == ".gz":
        suffix = Path(path.stem).suffix.lower()
        return "csv" if suffix in CSV_SUFFIXES else None
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in EXCEL_SUFFIXES:
        return "excel"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    return None


def shown(path: Path | str) -> str:
    """A path as text that can be stored and printed: bytes that are not UTF-8 become U+FFFD."""
    return str(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def max_file_bytes() -> int:
    """The largest file (or unpacked .csv.gz) the loader takes: a MEMORY_SHARE of the memory this
    process may use (the machine's, or its cgroup's limit when lower)."""
    from coaltrace.config import machine_memory

    memory = machine_memory()
    if memory is None:
        return _FALLBACK_LIMIT
    return max(memory // MEMORY_SHARE, 1 << 20)


def _megabytes(n: int) -> str:
    return f"{n / (1 << 20):,.0f} MB"


def _too_large(size: int, where: Location, unpacked: bool = False) -> InputFileError:
    limit = max_file_bytes()
    what, what_zh = (
        ("unpacks to more than", "解压后超过")
        if unpacked
        else (f"is {_megabytes(size)}, more than", f"大小为 {_megabytes(size)}，超过")
    )
    return InputFileError(
        f"the file {what} the {_megabytes(limit)} one file may be on this machine (1/{MEMORY_SHARE} of its memory)",
        zh=f"文件{what_zh}本机单个文件的上限 {_megabytes(limit)}（内存的 1/{MEMORY_SHARE}）",
        location=where,
        hint="Split it (by county or by week) and load the parts in one call.",
        hint_zh="请把它拆分（按县区或按周）后在同一次调用中一起载入。",
    )


def check_regular_file(path: Path) -> int:
    """The size of PATH; refuse it, before reading a byte, unless it is a regular file of a size we can hold."""
    where = Location(file=str(path))
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputFileError("no such file or folder", zh="文件或文件夹不存在", location=where) from None
    except OSError as e:
        raise InputFileError(
            f"cannot read the file: {e.strerror}", zh=f"无法读取文件：{e.strerror}", location=where
        ) from None
    if not stat.S_ISREG(info.st_mode):
        kind, kind_zh = (
            ("a FIFO (named pipe)", "命名管道（FIFO）")
            if stat.S_ISFIFO(info.st_mode)
            else ("a socket", "套接字")
            if stat.S_ISSOCK(info.st_mode)
            else ("a device", "设备文件")
            if stat.S_ISCHR(info.st_mode) or stat.S_ISBLK(info.st_mode)
            else ("not a regular file", "非普通文件")
        )
        raise InputFileError(
            f"not a file coaltrace can load: it is {kind}",
            zh=f"无法载入：它是{kind_zh}，不是普通文件",
            location=where,
            hint="Save the data to a file first, then load that file.",
            hint_zh="请先把数据保存为文件，再载入该文件。",
        )
    if info.st_size > max_file_bytes():
        raise _too_large(info.st_size, where)
    return info.st_size


@dataclass
class RawFile:
    path: Path
    sha256: str
    # Data columns `_c0`, `_c1`, ... (in file order), plus `_line`: pl.String, but for a Parquet
    # column of numbers or instants, kept typed (`PARQUET_TYPED`; `text_form` gives its text).
    frame: pl.DataFrame
    headers: list[str]  # the header cell of each data column, as written ("" for an empty cell)
    header_line: int | None = None  # None for Parquet, which has no header line
    encoding: str | None = None  # CSV only
    sheet: str | None = None  # Excel only
    # Columns that could not be read as one value per row (Parquet lists, structs, binary), header -> why.
    unreadable: dict[str, str] = field(default_factory=dict)


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
    # The data frame (as `RawFile.frame`) and the header cells, with the candidate as the header.
    reader: Callable[[Candidate], tuple[pl.DataFrame, list[str]]] = field(repr=False)
    encoding: str | None = None
    sheet: str | None = None
    has_header_line: bool = True
    # CSV: True when the encoding was a guess among legacy code pages (GB18030, UTF-16
    # without BOM); then a header that fits no table may fit in another encoding.
    encoding_guessed: bool = False
    # CSV read as a guessed GB18030 whose Chinese text does not look like GB18030 (Big5?).
    encoding_doubt: bool = False
    unreadable: dict[str, str] = field(default_factory=dict)

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
            unreadable=self.unreadable,
        )


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def decode_csv_bytes(data: bytes, encoding: str | None, where: Location) -> tuple[bytes, str]:
    """UTF-8 bytes for Polars, and the encoding the file was in (see `guessed_encoding`)."""
    if encoding:
        try:
            # A UTF-8 BOM is a mark, not text, even when the user names another encoding.
            return data.removeprefix(_BOMS[0][0]).decode(encoding).encode("utf-8"), encoding
        except (LookupError, UnicodeDecodeError) as e:
            raise InputFileError(
                f"cannot read the file as {encoding}: {_first_line(e)}",
                zh=f"无法按 {encoding} 编码读取：{_first_line(e)}",
                location=where,
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
        wide = _utf16_without_bom(data[:4096])
        if wide is None:
            raise _nul_refused(where, _line_of(data, data.find(b"\x00")))
        try:
            return data.decode(wide).encode("utf-8"), wide
        except UnicodeDecodeError:
            raise _undetectable(where) from None
    try:
        data.decode("utf-8")
        return data, "utf-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030").encode("utf-8"), "gb18030"
    except UnicodeDecodeError:
        raise _undetectable(where) from None


# Encodings `decode_csv_bytes` picks without proof: the header, or the text, must confirm them.
GUESSED_ENCODINGS = {"gb18030", "utf-16-le", "utf-16-be"}
# Tried, after the detector's own guesses, when a guessed encoding gives a header that fits no table.
FALLBACK_ENCODINGS = ("gb18030", "big5", "utf-16-le", "utf-16-be")


def _utf16_without_bom(head: bytes) -> str | None:
    """utf-16-le or -be when the NUL bytes sit where UTF-16 puts them (ASCII text: every other byte)."""
    even, odd = head[0::2].count(0), head[1::2].count(0)
    if odd > len(head) // 8 and even * 8 < odd:
        return "utf-16-le"
    if even > len(head) // 8 and odd * 8 < even:
        return "utf-16-be"
    return None


def _line_of(text: bytes, at: int) -> int:
    return text.count(b"\n", 0, at) + 1


def _nul_refused(where: Location, line: int) -> InputFileError:
    return InputFileError(
        "the file holds a NUL byte: it is damaged, binary, or in an encoding coaltrace did not recognise",
        zh="文件中含有 NUL 字节：文件已损坏、是二进制文件，或编码无法识别",
        location=Location(file=where.file, sheet=where.sheet, line=line, column=where.column),
        hint="Open it in the program that made it and save it again as CSV (UTF-8) or Excel, "
        "or name its encoding with --encoding.",
        hint_zh="请用生成它的软件打开并重新另存为 CSV（UTF-8）或 Excel，或用 --encoding 指定编码。",
    )


# Characters Big5 text turns into when read as GBK: kana, Greek, Cyrillic and box drawing
# (GBK rows A4-A9 sit where Big5 keeps its commonest characters).
_NOT_CHINESE = re.compile(r"[\u0370-\u04ff\u2500-\u257f\u3040-\u30ff]")
_ASCII_RUNS = re.compile(r"[\x00-\x7f]+")


def looks_like_gb_text(text: str) -> bool:
    """Whether TEXT, decoded as GB18030, reads as Chinese rather than as another code page misread.

    Real GB18030 text is almost all GB2312 characters; Big5 read as GBK is a
    third or more kana, Greek, box drawing or characters outside GB2312.
    """
    wide = _ASCII_RUNS.sub("", text)
    if len(wide) < 20:
        return True  # too little text to judge
    odd = wide.encode("gb2312", errors="replace").count(b"?") + len(_NOT_CHINESE.findall(wide))
    return odd < 0.2 * len(wide)


def detected_encodings(path: Path) -> list[str]:
    """What a charset detector makes of the top of the CSV at PATH, likeliest first (Python codec names)."""
    from charset_normalizer import from_bytes

    head = 1 << 18
    try:
        with gzip.open(path, "rb") if path.suffix.lower() == ".gz" else path.open("rb") as f:
            data = f.read(head)
    except (OSError, EOFError, zlib.error):
        return []
    return list(dict.fromkeys(m.encoding.replace("_", "-") for m in from_bytes(data)))


def header_rows(path: Path, encoding: str) -> list[list[str]] | None:
    """The top rows of the CSV at PATH read in ENCODING, to see whether a header fits before decoding it all.

    None when the top does not decode in ENCODING.
    """
    sample = 1 << 16
    try:
        with gzip.open(path, "rb") if path.suffix.lower() == ".gz" else path.open("rb") as f:
            head = f.read(sample)
        text = head.decode(encoding)
    except UnicodeDecodeError as e:
        # The cut at the end of the sample may fall inside a character; anything earlier is a real failure.
        if len(head) < sample or e.start < len(head) - 4:
            return None
        text = head[: e.start].decode(encoding)
    except (OSError, EOFError, zlib.error, LookupError):
        return None
    utf8 = _unix_line_ends(text.removeprefix("\ufeff").encode("utf-8"))
    return [c.cells for c in _csv_candidates(utf8, _sniff_separator(path, utf8))]


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
    # A typed cell's text is never blank: only a null one is.
    blank = pl.all_horizontal(
        pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") if t == pl.String else pl.col(c).is_null()
        for c, t in frame.schema.items()
        if c != "_line"
    )
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


# Extra columns to read beyond the header when a row is wider than it, tried in turn.
_EXTRA_WIDTHS = (8, 64, 1024)


def _read_csv_cells(utf8: bytes, sep: str, width: int, skip: int, where: Location) -> pl.DataFrame:
    """The records after SKIP lines as columns `_c0`...; more than WIDTH when a row is wider.

    A row wider than the header is kept whole (the loader quarantines it); the
    parser is asked for the header's width first, which fits nearly every file.
    """
    for extra in (0, *_EXTRA_WIDTHS):
        try:
            return pl.read_csv(
                utf8,
                has_header=False,
                schema={f"_c{i}": pl.String for i in range(width + extra)},
                separator=sep,
                truncate_ragged_lines=False,
                missing_columns="insert",
                raise_if_empty=False,
                skip_lines=skip,
            )
        except pl.exceptions.PolarsError as e:
            # Polars words a row wider than the schema in one of two ways, depending on where it is.
            unclosed = re.search(r"Field `(.{0,40})", str(e), re.S) if "not properly escaped" in str(e) else None
            if unclosed:
                cell = unclosed.group(1).split("\n", 1)[0]
                raise InputFileError(
                    f"a quote opens a cell that is never closed: {cell}…",
                    zh=f"有一个引号开始的单元格没有结束：{cell}…",
                    location=where,
                    hint='Every " that starts a cell needs its closing ". Fix the quotes and load again.',
                    hint_zh="以引号开始的单元格必须有对应的结束引号，请修正后重新载入。",
                ) from None
            if "more fields" not in str(e) and "not specified in schema" not in str(e):
                raise InputFileError(
                    f"not a readable CSV file: {_first_line(e)}",
                    zh=f"不是可读的 CSV 文件：{_first_line(e)}",
                    location=where,
                ) from None
    raise InputFileError(
        f"a row has more than {_EXTRA_WIDTHS[-1]} cells beyond the header",
        zh=f"有一行比表头多出 {_EXTRA_WIDTHS[-1]} 个以上的单元格",
        location=where,
        hint="Check the separator and the quotes of the file.",
        hint_zh="请检查文件的分隔符和引号。",
    )


def _first_line(e: Exception) -> str:
    """A library's error without the context lines it appends."""
    return str(e).strip().split("\n", 1)[0]


def _read_csv_from(utf8: bytes, sep: str, header: Candidate, where: Location) -> tuple[pl.DataFrame, list[str]]:
    # Each record starts on the line after the previous one ends: after the header
    # (which may itself span lines) and after every line break in earlier cells.
    first = header.line + 1 + sum(c.count("\n") for c in header.cells)
    frame = _read_csv_cells(utf8, sep, len(header.cells), first - 1, where)
    headers = header.cells + [""] * (frame.width - len(header.cells))
    line = pl.int_range(pl.len(), dtype=pl.Int64) + first
    # Only a quoted cell can hold a line break; most exports quote nothing, and one
    # scan of the bytes is far cheaper than searching every cell.
    spans = _newlines_in(frame) if b'"' in utf8 else None
    if spans is not None:
        line = line + spans.cum_sum().shift(1, fill_value=0).cast(pl.Int64)
    frame = frame.with_columns(line.alias("_line"))
    return _drop_blank_rows(frame), headers


def _csv_bytes(path: Path, where: Location) -> bytes:
    """The file's bytes; a .gz unpacked, refused once it unpacks to more than `max_file_bytes()`."""
    check_regular_file(path)
    if path.suffix.lower() != ".gz":
        try:
            return path.read_bytes()
        except OSError as e:
            raise InputFileError(
                f"cannot read the file: {e.strerror}", zh=f"无法读取文件：{e.strerror}", location=where
            ) from None
    limit = max_file_bytes()
    try:
        with gzip.open(path, "rb") as f:
            data = f.read(limit + 1)
    except (OSError, EOFError, zlib.error) as e:
        raise InputFileError(
            f"not a readable gzip file: {_first_line(e)}", zh=f"不是可读的 gzip 文件：{_first_line(e)}", location=where
        ) from None
    if len(data) > limit:
        raise _too_large(len(data), where, unpacked=True)
    return data


def _unix_line_ends(utf8: bytes) -> bytes:
    """Every line ending (CRLF, a lone CR of old Mac exports, LF) as LF, so lines count as a person sees them."""
    if b"\r" not in utf8:
        return utf8
    if utf8.count(b"\r") == utf8.count(b"\r\n"):
        return utf8  # CRLF only: the parser reads it as it is
    return utf8.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


def open_csv(path: Path, encoding: str | None = None) -> Opened:
    where = Location(file=str(path))
    data = _csv_bytes(path, where)
    if not data.strip():
        raise InputFileError("the file is empty", zh="文件是空的", location=where)
    # The bytes are in memory already: hash them rather than read the file again.
    digest = hashlib.sha256(data).hexdigest()
    utf8, enc = decode_csv_bytes(data, encoding, where)
    del data
    utf8 = _unix_line_ends(utf8)
    nul = utf8.find(b"\x00")
    if nul >= 0:
        raise _nul_refused(where, _line_of(utf8, nul))
    guessed = encoding is None and enc in GUESSED_ENCODINGS
    doubt = guessed and enc == "gb18030" and not looks_like_gb_text(utf8[: 1 << 18].decode("utf-8", errors="ignore"))
    sep = _sniff_separator(path, utf8[: 1 << 16])
    candidates = _csv_candidates(utf8, sep)
    if not candidates:
        raise InputFileError("the file is empty", zh="文件是空的", location=where)
    return Opened(
        path,
        digest,
        candidates,
        reader=lambda header: _read_csv_from(utf8, sep, header, where),
        encoding=enc,
        encoding_guessed=guessed,
        encoding_doubt=doubt,
    )


@dataclass
class Workbook:
    """An Excel or OpenDocument workbook, opened once; its sheets are read one at a time."""

    path: Path
    sha256: str
    sheet_names: list[str]
    book: Any = field(repr=False)

    def sheet(self, name: str) -> Opened:
        """The sheet NAME; an empty sheet has no candidates."""
        where = Location(file=str(self.path), sheet=name)
        try:
            # Read every cell as text: the normalisers, not Excel's guess, decide what a cell means.
            # No header row and no skipped rows, so grid row i is the sheet's row i + 1
            # even when the sheet starts with empty rows.
            sheet = self.book.load_sheet(name, header_row=None, skip_rows=0, dtypes="string")
            grid = _positional(sheet.to_polars())
        except Exception as e:  # fastexcel raises its own error types for a broken sheet
            raise InputFileError(
                f"cannot read the sheet: {_first_line(e)}", zh=f"无法读取该工作表：{_first_line(e)}", location=where
            ) from None
        _refuse_nul_cells(grid, where, first_line=1)
        top = [Candidate(i + 1, [_cell(v) for v in row]) for i, row in enumerate(grid.head(HEADER_SEARCH_ROWS).rows())]

        def read(header: Candidate) -> tuple[pl.DataFrame, list[str]]:
            frame = grid.with_row_index("_line", offset=1).with_columns(pl.col("_line").cast(pl.Int64))
            frame = frame.slice(header.line).select(pl.exclude("_line"), "_line")
            return _drop_blank_rows(frame), header.cells

        return Opened(self.path, self.sha256, [c for c in top if not _is_blank(c.cells)], reader=read, sheet=name)


def open_workbook(path: Path) -> Workbook:
    where = Location(file=str(path))
    check_regular_file(path)
    try:
        import fastexcel

        book = fastexcel.read_excel(str(path))
        names = list(book.sheet_names)
    except Exception as e:  # fastexcel raises its own error types for broken workbooks
        raise InputFileError(
            f"not a readable Excel workbook: {_first_line(e)}",
            zh=f"不是可读的 Excel 工作簿：{_first_line(e)}",
            location=where,
        ) from None
    return Workbook(path, sha256_of(path), names, book)


def open_excel(path: Path, sheet: str | None = None) -> Opened:
    """Sheet SHEET of the workbook, or its first sheet that is not empty."""
    book = open_workbook(path)
    if sheet is not None:
        return book.sheet(check_sheet_name(book, sheet))
    opened = None
    for name in book.sheet_names:
        opened = book.sheet(name)
        if opened.candidates:
            break
    if opened is None:
        raise InputFileError("the workbook has no sheet", zh="工作簿中没有工作表", location=Location(file=str(path)))
    return opened


def check_sheet_name(book: Workbook, sheet: str) -> str:
    if sheet not in book.sheet_names:
        raise InputFileError(
            f"the workbook has no sheet named {sheet!r}",
            zh=f"工作簿中没有名为 {sheet!r} 的工作表",
            location=Location(file=str(book.path), sheet=sheet),
            hint=f"Its sheets are: {', '.join(book.sheet_names)}.",
            hint_zh=f"工作表有：{'、'.join(book.sheet_names)}。",
        )
    return sheet


def _refuse_nul_cells(frame: pl.DataFrame, where: Location, first_line: int) -> None:
    """Refuse a frame with a NUL character in any text cell, naming its line and column."""
    text = [c for c, t in frame.schema.items() if t == pl.String]
    if not text:
        return
    hits = frame.select(pl.col(text).str.contains("\x00", literal=True).fill_null(False).arg_max())
    has = frame.select(pl.col(text).str.contains("\x00", literal=True).fill_null(False).any())
    for c in text:
        if has[c].item():
            row = int(hits[c].item())
            index = c.removeprefix("_c")
            # Grid columns are counted from 1, as a spreadsheet user counts them.
            column = f"#{int(index) + 1}" if index.isdigit() else c
            raise _nul_refused(Location(file=where.file, sheet=where.sheet, column=column), first_line + row)


# China time as a fixed offset (POSIX writes UTC+8 as Etc/GMT-8): the contract's time, whatever the date.
CHINA_TIME_ZONE = "Etc/GMT-8"


def parquet_typed(dtype: pl.DataType) -> bool:
    """Whether a Parquet column of DTYPE stays typed in the frame rather than become text: integers,
    Float64, datetimes and dates, which the normalisers read without their text. A Float32 is text:
    its text (the shortest that reads back as that float32) is a different float64 than the number."""
    return dtype.is_integer() or dtype == pl.Float64 or dtype == pl.Date or isinstance(dtype, pl.Datetime)


def text_form(column: pl.Series) -> pl.Series:
    """COLUMN as text, as the loader has always shown a Parquet cell: a number as Polars writes it, an
    instant with a zone on China's clock, to the second; a date as YYYY-MM-DD; text as it is."""
    dtype = column.dtype
    if dtype == pl.String:
        return column
    if isinstance(dtype, pl.Datetime):
        return _china_clock(column).dt.strftime("%Y-%m-%d %H:%M:%S")
    if dtype == pl.Date:
        return column.dt.strftime("%Y-%m-%d")
    return column.cast(pl.String)


def _china_clock(column: pl.Series) -> pl.Series:
    """A datetime column with a zone as the same instants on a China clock, without a zone."""
    dtype = column.dtype
    assert isinstance(dtype, pl.Datetime)
    if dtype.time_zone is None:
        return column
    return column.dt.convert_time_zone(CHINA_TIME_ZONE).dt.replace_time_zone(None)


def _as_read(column: pl.Series, first_line: int = 1) -> pl.Series | str:
    """A Parquet column (its first row the file's FIRST_LINE) as the frame holds it, or why it holds no
    value per row (a list, a struct, bytes): numbers and instants typed (`parquet_typed`), an instant
    with a zone on China's clock; anything else as the text the normalisers read."""
    dtype = column.dtype
    if isinstance(dtype, pl.Datetime):
        return _china_clock(column)
    if parquet_typed(dtype):
        return column
    if dtype.is_nested() or dtype == pl.Object:
        return f"of type {dtype}"
    try:
        text = text_form(column)
    except pl.exceptions.PolarsError:
        return f"of type {dtype}, not text"  # bytes that are not UTF-8, or a type with no text form
    nul = text.str.contains("\x00", literal=True).fill_null(False)
    if nul.any():
        return f"a NUL character on line {int(nul.arg_max() or 0) + first_line}"
    return text


# Rows of a Parquet file read, typed and staged at a time: a file's memory is bounded by this,
# not by its length (a week of a province's GPS is 2.7 million rows).
PARQUET_BATCH_ROWS = 400_000


def open_parquet(path: Path) -> Opened:
    """The whole Parquet file as one part (`parquet_parts` reads a long one in parts)."""
    return next(parquet_parts(path, batch_rows=None))


def parquet_parts(path: Path, batch_rows: int | None = PARQUET_BATCH_ROWS) -> Iterator[Opened]:
    """The Parquet file in parts of at most BATCH_ROWS rows (None: one part), each with its own
    lines numbered from the file's first row, so a part's problems name the file's row."""
    where = Location(file=str(path))
    check_regular_file(path)
    try:
        import pyarrow.parquet as pq

        meta = pq.read_metadata(path)
        unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if unpacked > max_file_bytes():
            raise _too_large(unpacked, where, unpacked=True)
        if batch_rows is None or meta.num_rows <= batch_rows:
            parts: Iterator[pl.DataFrame] = iter([pl.read_parquet(path)])
        else:
            parts = _parquet_batches(pq.ParquetFile(path), batch_rows)
        sha = sha256_of(path)
        offset = 0
        for frame in _readable_parquet(parts, where):
            yield _parquet_part(path, sha, frame, offset)
            offset += frame.height
    except InputFileError:
        raise
    except Exception as e:  # polars and pyarrow raise their own errors depending on the damage
        raise InputFileError(
            f"not a readable Parquet file: {_first_line(e)}",
            zh=f"不是可读的 Parquet 文件：{_first_line(e)}",
            location=where,
        ) from None


def _parquet_batches(file: Any, batch_rows: int) -> Iterator[pl.DataFrame]:
    for batch in file.iter_batches(batch_size=batch_rows):
        frame = pl.from_arrow(batch)
        assert isinstance(frame, pl.DataFrame)
        yield frame


def _readable_parquet(parts: Iterator[pl.DataFrame], where: Location) -> Iterator[pl.DataFrame]:
    """PARTS, with a damaged file's error as the file's refusal (raised where the part is read)."""
    while True:
        try:
            frame = next(parts)
        except StopIteration:
            return
        except Exception as e:
            raise InputFileError(
                f"not a readable Parquet file: {_first_line(e)}",
                zh=f"不是可读的 Parquet 文件：{_first_line(e)}",
                location=where,
            ) from None
        yield frame


def _parquet_part(path: Path, sha: str, frame: pl.DataFrame, offset: int) -> Opened:
    # Numbers and instants stay typed: the normalisers read them as they would their text, without
    # writing millions of cells out and parsing them back. Other types become text.
    # A column that holds no value per row stays empty, and refuses the file only if the contract names it.
    texts = {c: _as_read(frame[c], offset + 1) for c in frame.columns}
    unreadable = {c: t for c, t in texts.items() if isinstance(t, str)}
    frame = pl.DataFrame(
        [
            pl.repeat(None, frame.height, dtype=pl.String, eager=True).alias(c) if isinstance(t, str) else t
            for c, t in texts.items()
        ]
    )
    headers = list(frame.columns)
    frame = _positional(frame).with_row_index("_line", offset=offset + 1).with_columns(pl.col("_line").cast(pl.Int64))
    frame = _drop_blank_rows(frame.select(pl.exclude("_line"), "_line"))
    return Opened(
        path,
        sha,
        [Candidate(0, headers)] if headers else [],
        reader=lambda _: (frame, headers),
        has_header_line=False,
        unreadable=unreadable,
    )


READABLE = ".csv, .tsv, .txt, .csv.gz, .xlsx, .xlsm, .xls, .xlsb, .ods, .parquet"


def unsupported(path: Path) -> InputFileError:
    suffix = path.suffix.lower()
    if suffix in ARCHIVE_SUFFIXES:
        return InputFileError(
            f"an archive ({suffix}): coaltrace does not unpack archives",
            zh=f"这是压缩包（{suffix}）：coaltrace 不解压压缩包",
            location=Location(file=str(path)),
            hint="Unpack it first, look at what is inside, then load the folder.",
            hint_zh="请先解压，确认其中的文件后再载入该文件夹。",
        )
    return InputFileError(
        f"unknown file type {suffix or '(none)'}",
        zh=f"不支持的文件类型 {suffix or '（无扩展名）'}",
        location=Location(file=str(path)),
        hint=f"coaltrace reads {READABLE} files.",
        hint_zh=f"coaltrace 可读取 {READABLE} 文件。",
    )


def open_file(path: Path, *, sheet: str | None = None, encoding: str | None = None) -> Opened:
    check_regular_file(path)
    kind = file_format(path)
    if kind == "csv":
        opened = open_csv(path, encoding)
    elif kind == "excel":
        opened = open_excel(path, sheet)
    elif kind == "parquet":
        opened = open_parquet(path)
    else:
        raise unsupported(path)
    if not opened.candidates:
        raise InputFileError("the file is empty", zh="文件是空的", location=Location(file=str(path)))
    return opened


def read_file(path: Path, *, sheet: str | None = None, encoding: str | None = None) -> RawFile:
    """The file with its first non-blank row as the header."""
    return open_file(path, sheet=sheet, encoding=encoding).read(0)
