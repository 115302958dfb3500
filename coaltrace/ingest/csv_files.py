"""The CSV reader: a CSV file (any line ending; also gzipped as `.csv.gz`) decoded and offered by its top rows.

Its encoding (UTF-8, UTF-8 with BOM, UTF-16 with or without BOM, GB18030/GBK) is
told apart without being told; a guess the header does not confirm may be
retried in another (`detected_encodings`, `header_rows`, `FALLBACK_ENCODINGS`).
A record's `_line` is the text line it starts on (a quoted cell may span lines),
counting the first line of the file as 1, whatever precedes the header.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import re
import zlib
from pathlib import Path

import polars as pl

from coaltrace.errors import InputFileError, Location

# The size limit is read through its module, so that a limit set there (as tests do) holds here too.
from coaltrace.ingest import readers
from coaltrace.ingest.readers import (
    HEADER_SEARCH_ROWS,
    Candidate,
    Opened,
    check_regular_file,
    drop_blank_rows,
    is_blank,
    nul_refused,
    short_error,
    too_large,
)

_BOMS = (
    (b"\xef\xbb\xbf", "utf-8-sig"),
    (b"\xff\xfe", "utf-16"),
    (b"\xfe\xff", "utf-16"),
)


def decode_csv_bytes(data: bytes, encoding: str | None, where: Location) -> tuple[bytes, str]:
    """UTF-8 bytes for Polars, and the encoding the file was in (see `guessed_encoding`)."""
    if encoding:
        try:
            # A UTF-8 BOM is a mark, not text, even when the user names another encoding.
            return data.removeprefix(_BOMS[0][0]).decode(encoding).encode("utf-8"), encoding
        except (LookupError, UnicodeDecodeError) as e:
            raise InputFileError(
                f"cannot read the file as {encoding}: {short_error(e)}",
                zh=f"无法按 {encoding} 编码读取：{short_error(e)}",
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
            raise nul_refused(where, _line_of(data, data.find(b"\x00")))
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
            if not is_blank(cells):
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
                    f"not a readable CSV file: {short_error(e)}",
                    zh=f"不是可读的 CSV 文件：{short_error(e)}",
                    location=where,
                ) from None
    raise InputFileError(
        f"a row has more than {_EXTRA_WIDTHS[-1]} cells beyond the header",
        zh=f"有一行比表头多出 {_EXTRA_WIDTHS[-1]} 个以上的单元格",
        location=where,
        hint="Check the separator and the quotes of the file.",
        hint_zh="请检查文件的分隔符和引号。",
    )


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
    return drop_blank_rows(frame), headers


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
    limit = readers.max_file_bytes()
    try:
        with gzip.open(path, "rb") as f:
            data = f.read(limit + 1)
    except (OSError, EOFError, zlib.error) as e:
        raise InputFileError(
            f"not a readable gzip file: {short_error(e)}", zh=f"不是可读的 gzip 文件：{short_error(e)}", location=where
        ) from None
    if len(data) > limit:
        raise too_large(len(data), where, unpacked=True)
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
        raise nul_refused(where, _line_of(utf8, nul))
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
