"""Property tests: whatever way a value is written, it reads back as the same value."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, datetime, timedelta

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from coaltrace.contract import TABLES
from coaltrace.contract.codes import plate_valid_sql, uscc_check_char, uscc_valid_sql
from coaltrace.contract.values import FacilityStatus, synonyms
from coaltrace.ingest.normalise import normalise
from tests.conftest import examples

# Reading takes a few milliseconds, but on a busy laptop sometimes hundreds;
# a deadline would only make these tests flaky.
no_deadline = settings(deadline=None)

USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
_FULL_WIDTH = str.maketrans({chr(c): chr(c + 0xFEE0) for c in range(0x21, 0x7F)})


def full_width(text: str) -> str:
    return text.translate(_FULL_WIDTH)


def read(table_name: str, column: str, cells: list[str], unit: str | None = None) -> pl.Series:
    """Normalise CELLS as COLUMN and insist that none of them was a problem."""
    raw = pl.DataFrame({column: pl.Series(cells, dtype=pl.String), "_line": range(2, len(cells) + 2)})
    typed, problems = normalise(raw, TABLES[table_name], {column: unit})
    assert problems.filter(pl.col("column") == column).is_empty(), problems
    return typed[column]


# --- dates ----------------------------------------------------------------------

EXCEL_EPOCH = datetime(1899, 12, 30)


def _excel(t: datetime) -> str:
    return repr((t - EXCEL_EPOCH) / timedelta(days=1))


# Each writer gives the cell text and the timestamp it must read as.
DATE_WRITERS: list[Callable[[datetime], tuple[str, datetime]]] = [
    lambda t: (t.strftime("%Y-%m-%d %H:%M:%S"), t),
    lambda t: (t.strftime("%Y-%m-%dT%H:%M:%S"), t),
    lambda t: (t.strftime("%Y/%m/%d %H:%M:%S"), t),
    lambda t: (f"{t.year}/{t.month}/{t.day} {t.hour}:{t.minute:02d}", t.replace(second=0)),
    lambda t: (t.strftime("%Y-%m-%d %H:%M"), t.replace(second=0)),
    lambda t: (t.strftime("%Y.%m.%d %H:%M:%S"), t),
    lambda t: (f"{t.year}年{t.month}月{t.day}日 {t:%H:%M:%S}", t),
    lambda t: (f"{t.year}年{t.month}月{t.day}日", t.replace(hour=0, minute=0, second=0)),
    lambda t: (t.strftime("%Y%m%d %H:%M:%S"), t),
    lambda t: (t.strftime("%Y%m%d"), t.replace(hour=0, minute=0, second=0)),
    lambda t: (t.strftime("%Y-%m-%d"), t.replace(hour=0, minute=0, second=0)),
    lambda t: (full_width(t.strftime("%Y-%m-%d %H:%M:%S")), t),
    lambda t: (_excel(t), t),
    lambda t: (str((t - EXCEL_EPOCH).days), t.replace(hour=0, minute=0, second=0)),
]

# What the contract allows: 1990 to the end of next year (`Column.date_range`).
LATEST = datetime(date.today().year + 1, 12, 31, 23, 59, 59)
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=LATEST).map(lambda t: t.replace(microsecond=0))
written_moments = st.tuples(moments, st.sampled_from(DATE_WRITERS)).map(lambda p: p[1](p[0]))


@no_deadline
@given(st.lists(written_moments, min_size=1, max_size=40))
def test_any_timestamp_in_any_format_round_trips(cells: list[tuple[str, datetime]]) -> None:
    values = read("transports", "departed_at", [text for text, _ in cells])
    assert values.to_list() == [expected for _, expected in cells]


@no_deadline
@given(st.lists(written_moments, min_size=1, max_size=40))
def test_any_date_in_any_format_round_trips(cells: list[tuple[str, datetime]]) -> None:
    values = read("licences", "valid_from", [text for text, _ in cells])
    assert values.to_list() == [expected.date() for _, expected in cells]


@no_deadline
@given(
    st.dates(min_value=date(1990, 1, 1), max_value=LATEST.date()),
    st.sampled_from(DATE_WRITERS),
)
def test_any_month_written_as_a_date_reads_as_its_month(
    day: date, writer: Callable[[datetime], tuple[str, datetime]]
) -> None:
    text, _ = writer(datetime(day.year, day.month, day.day, 13, 45))
    assert read("power", "month", [text]).to_list() == [f"{day.year:04d}-{day.month:02d}"]


# --- quantities -------------------------------------------------------------------


def with_separators(number: str) -> str:
    """'-1234567.5' -> '-1,234,567.5'; exponent forms stay as they are."""
    if "e" in number:
        return number
    sign = "-" if number.startswith("-") else ""
    whole, _, frac = number.lstrip("-").partition(".")
    return sign + f"{int(whole):,}" + ("." + frac if frac else "")


# Each writer gives the cell text for a quantity of tonnes and the header unit it assumes.
TONNE_WRITERS: list[Callable[[float], str]] = [
    repr,
    lambda x: with_separators(repr(x)),
    lambda x: full_width(with_separators(repr(x))),
    lambda x: repr(x) + "t",
    lambda x: repr(x) + " T",
    lambda x: with_separators(repr(x)) + "吨",
    lambda x: repr(x / 1e4) + "万吨",
    lambda x: full_width(repr(x / 1e4)) + "万吨",
    lambda x: repr(x * 1e3) + "kg",
    lambda x: with_separators(repr(x * 1e3)) + " 千克",
]

# One record holds at most a million tonnes (`NUMBER_RANGES`).
tonnes = st.floats(min_value=1e-3, max_value=1e6) | st.floats(min_value=-1e6, max_value=-1e-3)


@no_deadline
@given(st.lists(st.tuples(tonnes, st.sampled_from(TONNE_WRITERS)), min_size=1, max_size=40))
def test_any_tonnes_in_any_spelling_round_trips(
    cells: list[tuple[float, Callable[[float], str]]],
) -> None:
    values = read("transports", "tonnes_loaded", [write(x) for x, write in cells]).to_list()
    for (x, _), got in zip(cells, values, strict=True):
        assert abs(got - x) <= 1e-9 * abs(x)


@no_deadline
@given(
    st.lists(tonnes, min_size=1, max_size=40),
    st.sampled_from([("万吨", 1e4), ("kg", 1e-3), ("千克", 1e-3), ("吨", 1.0), ("t", 1.0), (None, 1.0)]),
    st.sampled_from([repr, lambda v: with_separators(repr(v)), lambda v: full_width(repr(v))]),
)
def test_tonnes_in_a_header_unit_round_trip(
    xs: list[float], unit: tuple[str | None, float], write: Callable[[float], str]
) -> None:
    name, factor = unit
    values = read("transports", "tonnes_loaded", [write(x / factor) for x in xs], name).to_list()
    for x, got in zip(xs, values, strict=True):
        assert abs(got - x) <= 1e-9 * abs(x)


@no_deadline
@given(st.floats(min_value=1e-3, max_value=2e4), st.sampled_from(["万吨/年", "万t/a", "万吨"]))
def test_capacity_in_ten_thousand_tonnes_a_year_round_trips(x: float, unit: str) -> None:
    cell_unit = read("licences", "capacity_tpa", [repr(x) + unit]).item()
    header_unit = read("licences", "capacity_tpa", [repr(x)], unit).item()
    assert abs(cell_unit - x * 1e4) <= 1e-9 * x * 1e4
    assert abs(header_unit - x * 1e4) <= 1e-9 * x * 1e4


@pytest.fixture(scope="module")
def duck() -> Iterator[duckdb.DuckDBPyConnection]:
    con = duckdb.connect()
    yield con
    con.close()


# --- plates -------------------------------------------------------------------------

plates = st.builds(
    lambda province, letter, tail: province + letter + tail,
    st.sampled_from(PROVINCES),
    st.sampled_from("ABCDEFGHJKLMNPQRSTUVWXYZ"),
    st.text("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789", min_size=5, max_size=6),
)


def _plate_written(plate: str, separator: str, lower: bool, wide: bool, pad: str) -> str:
    text = plate[:2] + separator + plate[2:]
    if lower:
        text = text.lower()
    if wide:
        text = full_width(text)
    return pad + text + pad


@no_deadline
@given(
    st.lists(
        st.tuples(
            plates,
            st.sampled_from(["", "·", "•", " ", "-", ".", " · "]),
            st.booleans(),
            st.booleans(),
            st.sampled_from(["", " ", "\u3000"]),
        ),
        min_size=1,
        max_size=40,
    )
)
def test_any_plate_however_written_normalises_to_the_plate(
    cells: list[tuple[str, str, bool, bool, str]],
) -> None:
    values = read("transports", "plate", [_plate_written(*cell) for cell in cells])
    assert values.to_list() == [plate for plate, *_ in cells]


@settings(max_examples=examples(50), deadline=None)
@given(st.lists(plates, min_size=1, max_size=20))
def test_every_generated_plate_is_valid_in_sql(duck: duckdb.DuckDBPyConnection, generated: list[str]) -> None:
    duck.register("t", pl.DataFrame({"plate": generated}))
    assert [r[0] for r in duck.execute(f"SELECT {plate_valid_sql('plate')} FROM t").fetchall()] == [True] * len(
        generated
    )


# --- USCC ----------------------------------------------------------------------------

first17s = st.text(USCC_ALPHABET, min_size=17, max_size=17)


def _uscc_valid(con: duckdb.DuckDBPyConnection, codes: list[str]) -> list[bool]:
    con.register("t", pl.DataFrame({"code": codes, "i": range(len(codes))}))
    return [r[0] for r in con.execute(f"SELECT {uscc_valid_sql('code')} FROM t ORDER BY i").fetchall()]


@settings(max_examples=examples(50), deadline=None)
@given(st.lists(st.tuples(first17s, st.sampled_from(USCC_ALPHABET)), min_size=1, max_size=30))
def test_codes_made_with_the_check_char_are_valid_and_any_other_is_not(
    duck: duckdb.DuckDBPyConnection, pairs: list[tuple[str, str]]
) -> None:
    good = [first17 + uscc_check_char(first17) for first17, _ in pairs]
    changed = [first17 + other for first17, other in pairs if other != uscc_check_char(first17)]
    assert _uscc_valid(duck, good) == [True] * len(good)
    assert _uscc_valid(duck, changed) == [False] * len(changed)


@settings(max_examples=examples(50), deadline=None)
@given(st.lists(st.text(USCC_ALPHABET, min_size=18, max_size=18), min_size=1, max_size=30))
def test_sql_and_python_agree_on_any_code(duck: duckdb.DuckDBPyConnection, codes: list[str]) -> None:
    assert _uscc_valid(duck, codes) == [uscc_check_char(c[:17]) == c[17] for c in codes]


# --- enums ---------------------------------------------------------------------------

status_words = st.sampled_from(sorted(synonyms(FacilityStatus).items()))


@no_deadline
@given(
    st.lists(
        st.tuples(status_words, st.integers(0, 3), st.booleans(), st.booleans()),
        min_size=1,
        max_size=30,
    )
)
def test_any_enum_word_however_spaced_or_cased_maps_to_its_code(
    cells: list[tuple[tuple[str, str], int, bool, bool]],
) -> None:
    def write(word: str, spaces: int, upper: bool, wide: bool) -> str:
        text = " " * spaces + " ".join(word) + " " * spaces
        text = text.upper() if upper else text
        return full_width(text) if wide else text

    values = read(
        "facilities",
        "status",
        [write(word, spaces, upper, wide) for (word, _), spaces, upper, wide in cells],
    )
    assert values.to_list() == [code for (_, code), *_ in cells]
