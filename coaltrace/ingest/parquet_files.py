"""The Parquet reader: a Parquet file, read whole or in parts of `PARQUET_BATCH_ROWS` rows.

Numbers and instants stay typed (`parquet_typed`; `text_form` gives their
text), an instant with a zone on China's clock; other columns become text, and
one that holds no value per row (a list, a struct, bytes) is set aside as
unreadable. Parquet has no header line: a record's `_line` counts its first
record as 1.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import polars as pl

from coaltrace.errors import InputFileError, Location

# The size limit is read through its module, so that a limit set there (as tests do) holds here too.
from coaltrace.ingest import readers
from coaltrace.ingest.readers import (
    Candidate,
    Opened,
    check_regular_file,
    drop_blank_rows,
    positional,
    sha256_of,
    short_error,
    too_large,
)

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
    return next(parquet_parts(path, whole=True))


def parquet_parts(path: Path, *, whole: bool = False) -> Iterator[Opened]:
    """The Parquet file in parts of at most PARQUET_BATCH_ROWS rows (WHOLE: one part), each with its
    own lines numbered from the file's first row, so a part's problems name the file's row."""
    batch_rows = None if whole else PARQUET_BATCH_ROWS
    where = Location(file=str(path))
    check_regular_file(path)
    try:
        import pyarrow.parquet as pq

        meta = pq.read_metadata(path)
        unpacked = sum(meta.row_group(i).total_byte_size for i in range(meta.num_row_groups))
        if unpacked > readers.max_file_bytes():
            raise too_large(unpacked, where, unpacked=True)
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
            f"not a readable Parquet file: {short_error(e)}",
            zh=f"不是可读的 Parquet 文件：{short_error(e)}",
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
                f"not a readable Parquet file: {short_error(e)}",
                zh=f"不是可读的 Parquet 文件：{short_error(e)}",
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
    frame = positional(frame).with_row_index("_line", offset=offset + 1).with_columns(pl.col("_line").cast(pl.Int64))
    frame = drop_blank_rows(frame.select(pl.exclude("_line"), "_line"))
    return Opened(
        path,
        sha,
        [Candidate(0, headers)] if headers else [],
        reader=lambda _: (frame, headers),
        has_header_line=False,
        unreadable=unreadable,
    )
