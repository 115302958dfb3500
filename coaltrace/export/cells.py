"""The rule for a spreadsheet cell, and the CSV writer that applies it to every cell."""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, TextIO

from coaltrace.numbers import decimals_for, round_to

if TYPE_CHECKING:
    import polars as pl

# What a spreadsheet reads as the start of a formula (OWASP CSV injection), with the
# full-width forms a Chinese input method types and WPS also accepts.
_FORMULA_START = frozenset("=+-@\t\r＝＋－＠")
_PLAIN_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def spreadsheet_cell(value: Any) -> Any:
    """VALUE as a cell no spreadsheet runs: text that starts like a formula gets a leading `'`.

    Numbers (and text that is just a number, such as `-2.5`) are left alone: a
    spreadsheet reads them as numbers, which is what they are.
    """
    if value is None or isinstance(value, bool | int | float):
        return value
    text = _text(value)
    if text[:1] in _FORMULA_START and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value)


def write_csv(rows: Iterable[Mapping[str, Any]], columns: Sequence[str], out: TextIO, *, bom: bool = False) -> None:
    """ROWS as CSV on OUT: with BOM, a byte-order mark first (for a file: Excel then reads it as
    UTF-8, not as the system's code page, and Chinese stays Chinese; a pipe feeds a program and gets
    none), a header of COLUMNS, then every cell through
    `spreadsheet_cell`, numbers rounded as measured for their column (`coaltrace.numbers`)."""
    if bom:
        out.write("\ufeff")
    # CRLF as RFC 4180 and Excel expect; it also makes the writer quote a cell holding a lone CR.
    w = csv.writer(out, lineterminator="\r\n")
    w.writerow([spreadsheet_cell(c) for c in columns])
    places = [decimals_for(c) for c in columns]
    for row in rows:
        w.writerow(
            [
                spreadsheet_cell(round_to(v, d) if isinstance(v, float) and math.isfinite(v) else v)
                for v, d in ((row.get(c), d) for c, d in zip(columns, places, strict=True))
            ]
        )


def spreadsheet_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """FRAME with `spreadsheet_cell` applied to every text column, on whole columns at once."""
    import polars as pl

    formula = "^[" + re.escape("".join(sorted(_FORMULA_START))) + "]"
    number = f"^(?:{_PLAIN_NUMBER.pattern})$"
    return frame.with_columns(
        pl.when(pl.col(name).str.contains(formula) & ~pl.col(name).str.contains(number))
        .then(pl.lit("'") + pl.col(name))
        .otherwise(pl.col(name))
        .alias(name)
        for name, dtype in frame.schema.items()
        if dtype == pl.String
    )
