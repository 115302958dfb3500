"""Read one input file into a frame of strings, as the office wrote it: the entry, and what every format shares.

`open_file` picks the reader from the file's name: CSV (`csv_files`), Excel and
OpenDocument workbooks (`workbooks`), Parquet (`parquet_files`).

Before any byte is read, a path must be a regular file (a FIFO would wait
forever, `/dev/zero` never ends) no larger than `max_file_bytes()`; a gzipped
CSV may not unpack to more. A NUL byte or character anywhere refuses the file
with its line: text never holds one, so it means a damaged file, a binary one
or a wrong encoding, and no guess about it would be safe.

Reading takes two steps, because the header is not always the first row (a
title, a blank row, then the header): `open_file` decodes the file and offers
its first rows (`Opened.candidates`); `Opened.read(i)` reads it with candidate
`i` as the header. Every data column comes back as `pl.String`, but for the
numbers and instants of a Parquet file (`parquet_files.parquet_typed`), kept as typed, plus
`_line`: where the record is in the file as a person finds it there (each
format's module says how it counts).
"""

from __future__ import annotations

import hashlib
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

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


def too_large(size: int, where: Location, unpacked: bool = False) -> InputFileError:
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
        raise too_large(info.st_size, where)
    return info.st_size


@dataclass
class RawFile:
    path: Path
    sha256: str
    # Data columns `_c0`, `_c1`, ... (in file order), plus `_line`: pl.String, but for a Parquet
    # column of numbers or instants, kept typed (`parquet_files.parquet_typed`; `text_form` there gives its text).
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


def nul_refused(where: Location, line: int) -> InputFileError:
    return InputFileError(
        "the file holds a NUL byte: it is damaged, binary, or in an encoding coaltrace did not recognise",
        zh="文件中含有 NUL 字节：文件已损坏、是二进制文件，或编码无法识别",
        location=Location(file=where.file, sheet=where.sheet, line=line, column=where.column),
        hint="Open it in the program that made it and save it again as CSV (UTF-8) or Excel, "
        "or name its encoding with --encoding.",
        hint_zh="请用生成它的软件打开并重新另存为 CSV（UTF-8）或 Excel，或用 --encoding 指定编码。",
    )


def positional(frame: pl.DataFrame) -> pl.DataFrame:
    # Header cells may repeat or be empty; data columns are named by position and
    # RawFile.headers keeps the cells as written.
    return frame.rename({c: f"_c{i}" for i, c in enumerate(frame.columns)})


def drop_blank_rows(frame: pl.DataFrame) -> pl.DataFrame:
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


def is_blank(cells: list[str]) -> bool:
    return not any(c.strip() for c in cells)


def short_error(e: Exception) -> str:
    """A library's error without the context lines it appends."""
    return str(e).strip().split("\n", 1)[0]


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
    # The format modules import this one for what they share: they are imported here, not at the top, so no cycle.
    from coaltrace.ingest.csv_files import open_csv
    from coaltrace.ingest.parquet_files import open_parquet
    from coaltrace.ingest.workbooks import open_excel

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
