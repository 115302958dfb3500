"""Typed values from the strings a file gave us, and the cells that would not read.

Everything here works on whole columns with Polars: the loader feeds millions
of rows through it, so there is no Python code per row. Cells that do
not read are reported as problems (the loader quarantines their rows); cells
that read but look wrong (a bad USCC check character, a plate that is not a
plate, negative tonnes) are kept and judged later by the rule views, which use
`uscc_valid_sql` and `plate_valid_sql`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from datetime import date, datetime

import polars as pl

from coaltrace.contract import Column, Kind, Table
from coaltrace.contract.tables import OPEN_END, OPEN_END_WORDS
from coaltrace.contract.text import _SPACES, TRADITIONAL, fold
from coaltrace.contract.values import synonyms
from coaltrace.ingest.parquet_files import text_form
from coaltrace.ingest.reasons import QUARANTINE_REASONS

# Every quarantine reason, defined once with its labels in `reasons`.
REASONS = tuple(QUARANTINE_REASONS)

PROBLEM_SCHEMA: dict[str, pl.DataType] = {
    "_line": pl.Int64(),
    "column": pl.String(),
    "raw_value": pl.String(),
    "reason": pl.String(),
}

_DTYPES: dict[Kind, pl.DataType] = {
    Kind.text: pl.String(),
    Kind.code: pl.String(),
    Kind.date: pl.Date(),
    Kind.timestamp: pl.Datetime("us"),
    Kind.month: pl.String(),
    Kind.tonnes: pl.Float64(),
    Kind.tonnes_per_year: pl.Float64(),
    Kind.kwh: pl.Float64(),
    Kind.number: pl.Float64(),
    Kind.enum: pl.String(),
    Kind.plate: pl.String(),
    Kind.uscc: pl.String(),
}

# Folded unit -> factor to the canonical unit. The empty unit is a bare number.
_TONNES = {
    "": 1.0,
    "t": 1.0,
    "吨": 1.0,
    "公吨": 1.0,
    "kg": 1e-3,
    "千克": 1e-3,
    "公斤": 1e-3,
    "万吨": 1e4,
    "万t": 1e4,
}
_PER_YEAR = {f"{u}{per}": f for u, f in _TONNES.items() if u for per in ("/年", "/a")}
_UNITS: dict[Kind, dict[str, float]] = {
    Kind.tonnes: _TONNES,
    Kind.tonnes_per_year: {**_TONNES, **_PER_YEAR, "mt/a": 1e6, "百万吨/年": 1e6},
    Kind.kwh: {
        "": 1.0,
        "kwh": 1.0,
        "千瓦时": 1.0,
        "度": 1.0,
        "万kwh": 1e4,
        "万千瓦时": 1e4,
        "万度": 1e4,
        "mwh": 1e3,
    },
    # Degrees, speeds and metres are already in the contract's unit; the unit
    # a cell names is only checked, never converted.
    Kind.number: dict.fromkeys(("", "°", "度", "km/h", "kmh", "公里/小时", "千米/小时", "m", "米", "wgs84"), 1.0),
}

# After NFKC: a number (with an optional exponent) and whatever follows it.
_NUMBER = r"^(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?)\s*(?P<unit>.*)$"

# A calendar date, then the rest of the cell. The rest may not start with a
# digit, so `202112011` is not a date followed by a time `1`.
_DATE = (
    r"^(?:(?P<y1>[0-9]{4})\s*[-/.年]\s*(?P<m1>[0-9]{1,2})\s*[-/.月]\s*(?P<d1>[0-9]{1,2})\s*日?"
    r"|(?P<y2>[0-9]{4})(?P<m2>[0-9]{2})(?P<d2>[0-9]{2}))"
    r"(?P<rest>[^0-9].*)?$"
)
# A time of day after the date, with an optional offset from UTC (`Z`, `+09:00`,
# `+0800`, `-05`): a time with an offset is converted to China time (UTC+8),
# which is what we store; one without is China time already.
_TIME_OF_DAY = (
    r"^(?P<hour>[0-9]{1,2})\s*[:时点]\s*(?P<minute>[0-9]{1,2})"
    r"(?:\s*[:分]\s*(?P<second>[0-9]{1,2}(?:\.[0-9]+)?))?\s*[分秒]?\s*"
)
_TIME = _TIME_OF_DAY + "$"
_ZONED_TIME = _TIME_OF_DAY + r"(?:(?P<utc>[zZ])|(?P<sign>[+-])(?P<tzh>[0-9]{2})(?::?(?P<tzm>[0-9]{2}))?)?$"
# Only a column with one of these after its dates pays for reading offsets.
_OFFSET_CHARS = r"[zZ+\-]"
_CHINA_UTC_OFFSET_MINUTES = 8 * 60
# A number with thousands separators where they belong, and then no more digits:
# `1,234.5`, `12,345,678 吨`; not `1,2,3`, `12,34` or the decimal comma of `1.234,5`.
_GROUPED = r"^[+\-\x{2212}]?[0-9]{1,3}(?:,[0-9]{3})+(?:\.[0-9]*)?(?:[eE][+-]?[0-9]+)?[^0-9,.]*$"
_MONTH = (
    r"^(?:(?P<y1>[0-9]{4})\s*[-/.年]\s*(?P<m1>[0-9]{1,2})\s*月?"
    r"|(?P<y2>[0-9]{4})(?P<m2>[0-9]{2}))$"
)
# Excel serial day numbers, exactly five digits: 1927-05-18 to 2173-10-13.
# That keeps a bare year (2021), a YYYYMM month and a YYYYMMDD date from
# being read as a day in 1905 or far in the future.
_SERIAL = r"^([1-9][0-9]{4}(?:\.[0-9]+)?)$"
# Shapes Polars parses natively, far faster than the general regex path.
# Each is tried on what the previous ones left, the one that reads most of a
# sample first; the regex path takes the rest.
_FAST_FORMATS = (
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S",
    "%Y/%m/%d %H:%M",
    "%Y-%m-%d %H:%M",
    "%Y/%m/%d",
    "%Y-%m-%dT%H:%M:%S",
)
_EXCEL_EPOCH_TO_UNIX_DAYS = 25569  # 1899-12-30 .. 1970-01-01
_US_PER_DAY = 86_400_000_000
_SNIFF_ROWS = 1000

_PLATE_NOISE = r"[\s·•・.\-]"


# A character outside those NFKC never changes (ASCII, the common CJK
# ideographs, the middle dot of plates). Only cells with one pay for NFKC.
_NEEDS_NFKC = r"[^\x00-\x7F\x{4E00}-\x{9FFF}\x{B7}]"


def polars_dtype(kind: Kind) -> pl.DataType:
    """The Polars type a column of KIND is stored as."""
    return _DTYPES[kind]


def known_unit(kind: Kind, unit: str | None) -> bool:
    """Whether a header unit (the text in brackets) is one we can read for KIND.

    Text in brackets after a column that has no unit (a date, a name) is a
    remark, not a unit, so it is always accepted and ignored.
    """
    if unit is None or kind not in _UNITS:
        return True
    return fold(unit) in _UNITS[kind]


def normalise(
    raw: pl.DataFrame, table: Table, units: Mapping[str, str | None], today: date | None = None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Typed values and the problems found.

    raw: columns named by contract column names (a subset of table.names;
    columns the file lacked are absent) plus '_line'. A column is String,
    or typed as a Parquet file keeps it (`parquet_files.parquet_typed`: integers,
    Float64, datetimes without a zone on China's clock, dates); a typed
    column reads as its text (`parquet_files.text_form`) would, and is shown as
    that text in a problem's raw_value.
    units: for each present column, the folded unit its header carried, or None.
    today: the day dates are judged from (`Column.date_range`); default today.
    Raises ValueError for a header unit that `known_unit` rejects.

    Returns (typed, problems). typed has one row per input row, in input order,
    with every column of the table in contract order, cast to its kind's type,
    plus '_line'. problems has one row per bad cell (_line, column, raw_value,
    reason), in row order then contract column order.
    """
    for name, unit in units.items():
        if name in table.names and not known_unit(table.column(name).kind, unit):
            raise ValueError(f"column {name}: unknown unit {unit!r}")

    line = raw["_line"].cast(pl.Int64)
    day = today or date.today()
    # Columns are independent and Polars releases the GIL, so they read in parallel.
    with ThreadPoolExecutor() as pool:
        done = list(pool.map(lambda c: _column(c, raw, line, units.get(c.name), day), table.columns))
    typed = pl.DataFrame([value for value, _ in done] + [line])
    found = pl.concat([bad.with_columns(_order=pl.lit(order, pl.UInt32)) for order, (_, bad) in enumerate(done)]).sort(
        "_row", "_order"
    )
    return typed, found.select(list(PROBLEM_SCHEMA)).cast(PROBLEM_SCHEMA)  # type: ignore[arg-type]


def _column(
    column: Column, raw: pl.DataFrame, line: pl.Series, unit: str | None, today: date
) -> tuple[pl.Series, pl.DataFrame]:
    """One column's typed values, and its bad cells (_row, _line, column, raw_value, reason)."""
    if column.name in raw.columns:
        given = raw[column.name]
        read = _read_typed(column, given, unit)
        if read is None:
            given = text_form(given)
            read = _read(column, given, unit)
        value, reason = _within(column, *read, today)
    else:
        given = pl.repeat(None, raw.height, dtype=pl.String, eager=True)
        value = pl.repeat(None, raw.height, dtype=polars_dtype(column.kind), eager=True)
        reason = _no_reasons(raw.height)
    cells = pl.DataFrame({"value": value, "reason": reason, "_line": line})
    if column.required:
        missing = pl.col("value").is_null() & pl.col("reason").is_null()
        cells = cells.with_columns(reason=pl.when(missing).then(pl.lit("missing_value")).otherwise("reason"))
    bad = cells.with_row_index("_row").filter(pl.col("reason").is_not_null())
    # Only the bad cells of a typed column are written out as text.
    shown = text_form(given.gather(bad["_row"])).alias("raw_value")
    bad = bad.with_columns(shown).select("_row", "_line", pl.lit(column.name).alias("column"), "raw_value", "reason")
    return cells["value"].alias(column.name), bad


def _read_typed(column: Column, given: pl.Series, header_unit: str | None) -> tuple[pl.Series, pl.Series] | None:
    """(typed value, reason or null) of a typed column of numbers for a quantity, or of instants or dates for a
    date or timestamp; None for any other (text, or a type the kind reads from its text: an id of integers).

    Each value is what its text (`text_form`) reads as: a number times the header unit's factor; an instant to
    the second, a date at midnight. The few cells whose text reads otherwise (NaN and infinities, years of
    other than four digits) are read from their text.
    """
    kind = column.kind
    dtype = given.dtype
    if kind in _UNITS and (dtype.is_integer() or dtype == pl.Float64):
        factors = _UNITS[kind]
        number = given.cast(pl.Float64)
        value = number * (factors[fold(header_unit)] if header_unit else 1.0)
        odd = (~number.is_finite()).fill_null(False)
    elif kind in (Kind.date, Kind.timestamp) and (
        dtype == pl.Date or (isinstance(dtype, pl.Datetime) and dtype.time_zone is None)
    ):
        # The text shows whole seconds: a fraction is cut, towards the past, as the text cuts it.
        stamps = given.cast(pl.Datetime("us")) if dtype == pl.Date else given.dt.truncate("1s").cast(pl.Datetime("us"))
        value = stamps.dt.date() if kind is Kind.date else stamps
        odd = ~stamps.dt.year().is_between(1000, 9999).fill_null(True)
    else:
        return None
    reason = _no_reasons(len(given))
    rows = odd.arg_true()
    if not rows.is_empty():
        value, reason = value.clone(), reason.clone()
        odd_value, odd_reason = _read(column, text_form(given.gather(rows)), header_unit)
        value.scatter(rows, odd_value)
        reason.scatter(rows, odd_reason)
    return value, reason


def _read(column: Column, cell: pl.Series, header_unit: str | None) -> tuple[pl.Series, pl.Series]:
    """(typed value, reason or null) for one column's cells."""
    kind = column.kind
    if kind is Kind.text:
        return _empty_to_null(cell.str.strip_chars()), _no_reasons(len(cell))
    if kind is Kind.code:
        return _clean(cell, r"[^\x21-\x7E\x{4E00}-\x{9FFF}]", _code), _no_reasons(len(cell))
    if kind is Kind.uscc:
        return _clean(cell, r"[^0-9A-Z]", lambda s: _code(s).str.to_uppercase()), _no_reasons(len(cell))
    if kind is Kind.plate:
        return _clean(cell, r"[^0-9A-Z\x{4E00}-\x{9FFF}]", _plate), _no_reasons(len(cell))
    if kind is Kind.enum:
        assert column.enum is not None
        return _enum(cell, synonyms(column.enum))
    if kind in _UNITS:
        return _number(cell, _UNITS[kind], header_unit)
    if kind is Kind.month:
        return _month(cell)
    if column.open_end:
        words = cell.str.strip_chars().is_in(list(OPEN_END_WORDS)).fill_null(False)
        cell = cell.zip_with(~words, pl.repeat(f"{OPEN_END:%Y-%m-%d}", len(cell), dtype=pl.String, eager=True))
    micros, reason = _micros(cell)
    stamps = micros.cast(pl.Datetime("us"))
    return (stamps.dt.date() if kind is Kind.date else stamps), reason


def _within(column: Column, value: pl.Series, reason: pl.Series, today: date) -> tuple[pl.Series, pl.Series]:
    """VALUE with what no record can hold (the contract's range, an infinite number) made null, as out_of_range."""
    numbers = column.number_range()
    dates = column.date_range(today)
    if value.dtype == pl.Float64:
        low, high = numbers or (float("-inf"), float("inf"))
        # NaN compares false both ways: only a value inside the range passes.
        impossible = ~(value.is_finite() & value.is_between(low, high))
    elif dates is not None and column.kind is Kind.month:
        impossible = ~value.is_between(f"{dates[0]:%Y-%m}", f"{dates[1]:%Y-%m}")
    elif dates is not None and value.dtype == pl.Date:
        impossible = ~value.is_between(dates[0], dates[1])
        if column.open_end:
            impossible &= value != OPEN_END
    elif dates is not None:
        impossible = ~value.is_between(
            datetime.combine(dates[0], datetime.min.time()), datetime.combine(dates[1], datetime.max.time())
        )
    else:
        return value, reason
    # Nearly every file has no such value: then nothing is copied.
    bad = (impossible & reason.is_null()).fill_null(False).arg_true()
    if bad.is_empty():
        return value, reason
    return value.clone().scatter(bad, None), reason.clone().scatter(bad, "out_of_range")


def _no_reasons(n: int) -> pl.Series:
    return pl.repeat(None, n, dtype=pl.String, eager=True)


def _empty_to_null(s: pl.Series) -> pl.Series:
    return s.to_frame("s").select(pl.when(pl.col("s").str.len_bytes() > 0).then("s")).to_series()


def _patch(base: pl.Series, where: pl.Series, fix: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """BASE with the rows at indices WHERE replaced by FIX of those rows.

    Most cells of a real file are already clean; the slow fixes (NFKC,
    regular expressions) only run on the few that are not.
    """
    if where.is_empty():
        return base
    return base.clone().scatter(where, fix(base.gather(where)))


def _rows_matching(s: pl.Series, pattern: str) -> pl.Series:
    return s.str.contains(pattern).fill_null(False).arg_true()


def _nfkc(s: pl.Series) -> pl.Series:
    return _patch(s, _rows_matching(s, _NEEDS_NFKC), lambda t: t.str.normalize("NFKC"))


def _clean(cell: pl.Series, unclean: str, fix: Callable[[pl.Series], pl.Series]) -> pl.Series:
    """CELL with FIX applied where it holds a character outside the clean set; "" becomes null."""
    return _empty_to_null(_patch(cell, _rows_matching(cell, unclean), fix))


def _code(s: pl.Series) -> pl.Series:
    return _nfkc(s).str.replace_all(r"\s+", "")


def _plate(s: pl.Series) -> pl.Series:
    plate = _nfkc(s).str.replace_all(_PLATE_NOISE, "")
    return _patch(plate, _rows_matching(plate, "[a-z]"), lambda t: t.str.to_uppercase())


def _text(cell: pl.Series) -> pl.Series:
    """NFKC and stripped; "" becomes null."""
    return _empty_to_null(_nfkc(cell).str.strip_chars())


def _fold(s: pl.Series) -> pl.Series:
    """coaltrace.contract.text.fold over a column; "" becomes null."""
    simplified = _nfkc(s).str.replace_many(list(TRADITIONAL), list(TRADITIONAL.values()))
    return _empty_to_null(simplified.str.replace_all(_SPACES.pattern, "").str.to_lowercase())


def _enum(cell: pl.Series, words: dict[str, str]) -> tuple[pl.Series, pl.Series]:
    # An enum column holds a handful of distinct spellings: fold those once
    # and join them back, rather than folding every cell.
    spellings = cell.drop_nulls().unique(maintain_order=True)
    folded = _fold(spellings)
    code = folded.replace_strict(words, default=None, return_dtype=pl.String)
    mapping = pl.DataFrame({"cell": spellings, "value": code}).with_columns(
        reason=pl.when(folded.is_not_null() & code.is_null()).then(pl.lit("unknown_value"))
    )
    joined = cell.to_frame("cell").join(mapping, on="cell", how="left", maintain_order="left")
    return joined["value"], joined["reason"]


def _number(cell: pl.Series, factors: dict[str, float], header_unit: str | None) -> tuple[pl.Series, pl.Series]:
    default = factors[fold(header_unit)] if header_unit else 1.0
    value = _finite(cell.cast(pl.Float64, strict=False)) * default
    reason = _no_reasons(len(cell))
    rest = (value.is_null() & (cell.str.len_bytes() > 0)).arg_true()
    if not rest.is_empty():
        value.scatter(rest, _number_and_unit(cell.gather(rest), factors))
        rest = rest.filter(value.gather(rest).is_null())
    if not rest.is_empty():
        rest_value, rest_reason = _number_any_format(cell.gather(rest), factors, default)
        value.scatter(rest, rest_value)
        reason.scatter(rest, rest_reason)
    return value, reason


def _finite(number: pl.Series) -> pl.Series:
    # A cast to float also reads 'inf' and 'nan', which no office means as a quantity.
    return number.to_frame("n").select(pl.when(pl.col("n").is_finite()).then("n")).to_series()


def _number_and_unit(cell: pl.Series, factors: dict[str, float]) -> pl.Series:
    """The common '12.5吨' shape: a plain number and a unit spelt as we fold it; null for anything else."""
    # A bare number that the cast refused is not this shape; the header unit is for those.
    named = {unit: f for unit, f in factors.items() if unit}
    unit_chars = "".join(sorted({ch for unit in factors for ch in unit} - set("0123456789.+-eE"))) + " "
    return (
        cell.to_frame("cell")
        .select(
            number=pl.col("cell").str.strip_chars_end(unit_chars),
            unit=pl.col("cell").str.strip_chars_start("0123456789.+-eE"),
            length=pl.col("cell").str.len_bytes(),
        )
        .select(
            pl.when(pl.col("number").str.len_bytes() + pl.col("unit").str.len_bytes() == pl.col("length"))
            .then(
                pl.col("number").cast(pl.Float64, strict=False)
                * pl.col("unit").replace_strict(named, default=None, return_dtype=pl.Float64)
            )
            .pipe(lambda v: pl.when(v.is_finite()).then(v))
        )
        .to_series()
    )


def _number_any_format(cell: pl.Series, factors: dict[str, float], default: float) -> tuple[pl.Series, pl.Series]:
    """Numbers with separators, full-width digits or a unit in the cell; a cell unit wins over the header's."""
    text = _text(cell)
    misplaced = text.str.contains(",", literal=True) & ~text.str.contains(_GROUPED)
    # U+2212 is the minus sign some exports write; NFKC keeps it.
    cleaned = text.str.replace_all(",", "", literal=True).str.replace_all("\u2212", "-", literal=True)
    parts = cleaned.str.extract_groups(_NUMBER).struct.unnest()
    out = (
        pl.DataFrame({"text": text, "misplaced": misplaced})
        .with_columns(
            number=pl.when(~pl.col("misplaced").fill_null(False)).then(parts["number"].cast(pl.Float64)),
            unit=parts["unit"]
            .str.replace_many(list(TRADITIONAL), list(TRADITIONAL.values()))
            .str.replace_all(_SPACES.pattern, "")
            .str.to_lowercase(),
        )
        .with_columns(
            factor=pl.when(pl.col("unit") == "")
            .then(pl.lit(default))
            .otherwise(pl.col("unit").replace_strict(factors, default=None, return_dtype=pl.Float64))
        )
        .select(
            value=pl.col("number") * pl.col("factor"),
            reason=pl.when(pl.col("misplaced"))
            .then(pl.lit("bad_separator"))
            .when(pl.col("text").is_not_null() & pl.col("number").is_null())
            .then(pl.lit("not_a_number"))
            .when(pl.col("number").is_not_null() & pl.col("factor").is_null())
            .then(pl.lit("unknown_unit")),
        )
    )
    return out["value"], out["reason"]


def _micros(cell: pl.Series) -> tuple[pl.Series, pl.Series]:
    """Microseconds since 1970-01-01 (China local time) of each date or date-time cell, and why a cell failed."""
    micros = pl.repeat(None, len(cell), dtype=pl.Int64, eager=True)
    reason = _no_reasons(len(cell))
    rest = (cell.str.len_bytes() > 0).fill_null(False).arg_true()
    formats = list(_FAST_FORMATS)
    while formats and not rest.is_empty():
        fmt = _likeliest_format(cell.gather(rest.head(_SNIFF_ROWS)), formats)
        if fmt is None:
            break
        formats.remove(fmt)
        parsed = cell.gather(rest).str.strptime(pl.Datetime("us"), fmt, strict=False)
        # strptime reads a two-digit year as a year of the first century.
        ok = (parsed.dt.year() >= 1000).fill_null(False)
        micros.scatter(rest.filter(ok), parsed.filter(ok).cast(pl.Int64))
        rest = rest.filter(~ok)
    if not rest.is_empty():
        rest_micros, rest_reason = _micros_any_format(cell.gather(rest))
        micros.scatter(rest, rest_micros)
        reason.scatter(rest, rest_reason)
    return micros, reason


def _likeliest_format(sample: pl.Series, formats: list[str]) -> str | None:
    """The format that reads most of SAMPLE (the earliest on a tie), or None if none reads any."""
    hits = [sample.str.strptime(pl.Datetime("us"), fmt, strict=False).is_not_null().sum() for fmt in formats]
    best = max(range(len(formats)), key=lambda i: (hits[i], -i))
    return formats[best] if hits[best] else None


def _micros_any_format(cell: pl.Series) -> tuple[pl.Series, pl.Series]:
    text = _text(cell)
    date = text.str.extract_groups(_DATE).struct.unnest()
    rest = date["rest"].str.strip_chars_start("日T \t").str.strip_chars_end()
    zoned = bool(rest.str.contains(_OFFSET_CHARS).any())
    time = rest.str.extract_groups(_ZONED_TIME if zoned else _TIME).struct.unnest()
    # Minutes east of UTC the cell names; null when it names none (China time).
    offset = (
        pl.when(pl.col("utc").is_not_null())
        .then(pl.lit(0, pl.Int64))
        .when(pl.col("sign").is_not_null())
        .then(
            pl.when(pl.col("sign") == "-").then(-1).otherwise(1)
            * (pl.col("tzh").cast(pl.Int64) * 60 + pl.col("tzm").cast(pl.Int64).fill_null(0))
        )
        if zoned
        else pl.lit(None, pl.Int64)
    )
    out = (
        pl.concat([date.drop("rest"), time], how="horizontal")
        .with_columns(text=text, rest=rest)
        .with_columns(
            serial=pl.col("text").str.extract(_SERIAL, 1).cast(pl.Float64),
            date=pl.concat_str(
                pl.coalesce("y1", "y2"),
                pl.coalesce("m1", "m2").str.zfill(2),
                pl.coalesce("d1", "d2").str.zfill(2),
                separator="-",
            ).str.to_date("%Y-%m-%d", strict=False),
            has_time=(pl.col("rest").str.len_bytes() > 0).fill_null(False),
            hour=pl.col("hour").cast(pl.Int64),
            minute=pl.col("minute").cast(pl.Int64),
            second=pl.col("second").cast(pl.Float64).fill_null(0.0),
            offset=offset,
        )
        .with_columns(
            # A second of 60 (a leap second) rolls over, as Polars' own parser does.
            time_ok=~pl.col("has_time")
            | (
                (pl.col("hour") < 24)
                & (pl.col("minute") < 60)
                & (pl.col("second") <= 60)
                & (pl.col("offset").abs() <= 14 * 60).fill_null(True)
            ).fill_null(False),
            time_us=pl.when(pl.col("has_time"))
            .then(
                (pl.col("hour") * 3600 + pl.col("minute") * 60) * 1_000_000
                + (pl.col("second") * 1e6).round(0).cast(pl.Int64)
                + (_CHINA_UTC_OFFSET_MINUTES - pl.col("offset")).fill_null(0) * 60_000_000
            )
            .otherwise(0),
        )
        .select(
            micros=pl.when(pl.col("serial").is_not_null())
            # Excel stores time as a fraction of a day; rounding to the second
            # undoes the float error (44531.354166 is 08:30:00, not 08:29:59.94).
            .then(((pl.col("serial") - _EXCEL_EPOCH_TO_UNIX_DAYS) * 86_400).round(0).cast(pl.Int64) * 1_000_000)
            .when(pl.col("date").is_not_null() & pl.col("time_ok"))
            .then(pl.col("date").cast(pl.Int64) * _US_PER_DAY + pl.col("time_us")),
            reason=pl.when(pl.col("text").is_null() | pl.col("serial").is_not_null())
            .then(pl.lit(None, pl.String))
            .when(pl.col("date").is_null())
            .then(pl.lit("not_a_date"))
            .when(~pl.col("time_ok"))
            .then(pl.lit("not_a_time")),
        )
    )
    return out["micros"], out["reason"]


def _month(cell: pl.Series) -> tuple[pl.Series, pl.Series]:
    text = _text(cell)
    own = (
        text.str.extract_groups(_MONTH)
        .struct.unnest()
        .select(year=pl.coalesce("y1", "y2"), number=pl.coalesce("m1", "m2").cast(pl.Int64))
        .select(
            pl.when(pl.col("number").is_between(1, 12)).then(
                pl.format("{}-{}", "year", pl.col("number").cast(pl.String).str.zfill(2))
            )
        )
        .to_series()
    )
    # Anything else may be a date (or an Excel serial): its month is meant.
    rest = (own.is_null() & text.is_not_null()).arg_true()
    value = own.clone()
    if not rest.is_empty():
        value.scatter(rest, _micros(text.gather(rest))[0].cast(pl.Datetime("us")).dt.strftime("%Y-%m"))
    reason = pl.DataFrame({"text": text, "value": value}).select(
        pl.when(pl.col("text").is_not_null() & pl.col("value").is_null()).then(pl.lit("not_a_month"))
    )
    return value, reason.to_series()
