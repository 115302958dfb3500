"""Read one input file into a frame of strings, as the office wrote it.

CSV (UTF-8, UTF-8 with BOM, UTF-16 with BOM, GB18030/GBK, told apart without
being told), Excel `.xlsx` (first sheet or a named one) and Parquet. Every data
column comes back as `pl.String` with its original header, plus `_line`: the
row as a person counts it in the file (CSV and Excel: the header is line 1, so
the first record is line 2; Parquet has no header line, its first record is 1).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from coaltrace.errors import InputFileError, Location

CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SUFFIXES = CSV_SUFFIXES | EXCEL_SUFFIXES | PARQUET_SUFFIXES

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


@dataclass
class RawFile:
    path: Path
    sha256: str
    frame: pl.DataFrame  # original headers, all pl.String, plus `_line`
    headers: list[str]
    encoding: str | None = None  # CSV only
    sheet: str | None = None  # Excel only


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
            return data.decode(encoding).encode("utf-8"), encoding
        except (LookupError, UnicodeDecodeError) as e:
            raise InputFileError(f"cannot read the file as {encoding}: {e}", zh=f"无法按 {encoding} 编码读取：{e}", location=where) from None
    for bom, enc in _BOMS:
        if data.startswith(bom):
            text = data.decode(enc)
            return text.encode("utf-8"), enc
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


def _with_line(frame: pl.DataFrame, first_line: int) -> pl.DataFrame:
    return frame.with_row_index("_line", offset=first_line).with_columns(pl.col("_line").cast(pl.Int64))


def _drop_blank_rows(frame: pl.DataFrame) -> pl.DataFrame:
    data = [c for c in frame.columns if c != "_line"]
    if not data:
        return frame
    blank = pl.all_horizontal(pl.col(c).is_null() | (pl.col(c).str.strip_chars() == "") for c in data)
    return frame.filter(~blank)


def read_csv(path: Path, encoding: str | None = None) -> RawFile:
    where = Location(file=str(path))
    data = path.read_bytes()
    if not data.strip():
        raise InputFileError("the file is empty", zh="文件是空的", location=where)
    utf8, enc = decode_csv_bytes(data, encoding, where)
    first = utf8.split(b"\n", 1)[0]
    sep = "\t" if path.suffix.lower() == ".tsv" or (b"\t" in first and b"," not in first) else ","
    try:
        frame = pl.read_csv(utf8, infer_schema=False, separator=sep, truncate_ragged_lines=True, raise_if_empty=False)
    except pl.exceptions.PolarsError as e:
        raise InputFileError(f"not a readable CSV file: {e}", zh=f"不是可读的 CSV 文件：{e}", location=where) from None
    frame = _drop_blank_rows(_with_line(frame, 2))
    return RawFile(path, sha256_of(path), frame, [c for c in frame.columns if c != "_line"], encoding=enc)


def read_excel(path: Path, sheet: str | None = None) -> RawFile:
    where = Location(file=str(path), sheet=sheet)
    try:
        import fastexcel

        book = fastexcel.read_excel(str(path))
        names = book.sheet_names
    except Exception as e:  # fastexcel raises its own error types for broken workbooks
        raise InputFileError(f"not a readable Excel workbook: {e}", zh=f"不是可读的 Excel 工作簿：{e}", location=where) from None
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
    frame = book.load_sheet(name, dtypes="string").to_polars()
    frame = _drop_blank_rows(_with_line(frame, 2))
    return RawFile(path, sha256_of(path), frame, [c for c in frame.columns if c != "_line"], sheet=name)


def read_parquet(path: Path) -> RawFile:
    where = Location(file=str(path))
    try:
        frame = pl.read_parquet(path)
    except Exception as e:  # polars raises ComputeError or OSError depending on the damage
        raise InputFileError(f"not a readable Parquet file: {e}", zh=f"不是可读的 Parquet 文件：{e}", location=where) from None
    # Typed columns are written back as text the normalisers read, so every format takes one path.
    frame = frame.with_columns(
        [pl.col(c).dt.strftime("%Y-%m-%d %H:%M:%S") for c, t in frame.schema.items() if t == pl.Datetime]
        + [pl.col(c).dt.strftime("%Y-%m-%d") for c, t in frame.schema.items() if t == pl.Date]
    ).with_columns(pl.all().cast(pl.String))
    frame = _drop_blank_rows(_with_line(frame, 1))
    return RawFile(path, sha256_of(path), frame, [c for c in frame.columns if c != "_line"])


def read_file(path: Path, *, sheet: str | None = None, encoding: str | None = None) -> RawFile:
    where = Location(file=str(path))
    if not path.exists():
        raise InputFileError("no such file or folder", zh="文件或文件夹不存在", location=where)
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        raw = read_csv(path, encoding)
    elif suffix in EXCEL_SUFFIXES:
        raw = read_excel(path, sheet)
    elif suffix in PARQUET_SUFFIXES:
        raw = read_parquet(path)
    else:
        raise InputFileError(
            f"unknown file type {suffix or '(none)'}",
            zh=f"不支持的文件类型 {suffix or '（无扩展名）'}",
            location=where,
            hint="coaltrace reads .csv, .xlsx and .parquet files.",
            hint_zh="coaltrace 可读取 .csv、.xlsx 和 .parquet 文件。",
        )
    if not raw.headers:
        raise InputFileError("the file is empty", zh="文件是空的", location=where)
    return raw
