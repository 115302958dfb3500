"""Typed Parquet columns (numbers, datetimes, dates) read as their text would, without writing it out.

The loader keeps a Parquet file's numbers and instants typed and the normalisers read them directly.
Every test here holds that reading to the text path's: the same values, problems, reasons and
raw values as the same cells written as text (`parquet_files.text_form`, what the loader wrote before).
"""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import duckdb
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from polars.testing import assert_frame_equal
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.contract import TABLES
from coaltrace.ingest.normalise import normalise
from coaltrace.ingest.parquet_files import open_parquet, text_form
from coaltrace.ingest.readers import RawFile
from coaltrace.ingest.units import extra_cells
from tests.conftest import examples

TODAY = date(2022, 1, 15)
NUMBER_TYPES = [pl.Float64, pl.Int64, pl.Int32, pl.Int8, pl.UInt64, pl.UInt16]
TIME_UNITS = ["ms", "us", "ns"]


def as_text(frame: pl.DataFrame) -> pl.DataFrame:
    """FRAME with every column but `_line` as the text the loader once wrote for it."""
    return frame.with_columns(text_form(frame[c]) for c in frame.columns if c != "_line")


def same_reading(table: str, columns: dict[str, pl.Series], units: dict[str, str | None]) -> pl.DataFrame:
    """Normalise COLUMNS typed and as text; insist on the same values and problems; the problems."""
    n = len(next(iter(columns.values())))
    typed = pl.DataFrame({**columns, "_line": pl.Series(range(1, n + 1), dtype=pl.Int64)})
    values, problems = normalise(typed, TABLES[table], units, today=TODAY)
    text_values, text_problems = normalise(as_text(typed), TABLES[table], units, today=TODAY)
    assert_frame_equal(values, text_values)
    assert_frame_equal(problems, text_problems)
    return problems


# Micros since 1970 from before year 0 to after year 9999: years of other than four digits included.
micros = st.integers(min_value=-70_000_000_000_000_000, max_value=260_000_000_000_000_000)
near_now = st.integers(min_value=600_000_000_000_000, max_value=1_700_000_000_000_000)
floats = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.floats(min_value=-1e6, max_value=1e7),
    st.sampled_from([0.0, -0.0, 5e-324, 1e300, 0.1, 2.5, 12345.678]),
)


@settings(deadline=None, max_examples=examples(150))
@given(
    st.lists(st.one_of(st.none(), floats), min_size=1, max_size=30),
    st.sampled_from([None, "万吨", "kg", "t"]),
)
def test_floats_in_any_header_unit_read_as_their_text(cells: list[float | None], unit: str | None) -> None:
    problems = same_reading("sales", {"tonnes": pl.Series(cells, dtype=pl.Float64)}, {"tonnes": unit})
    # NaN and infinities are never kept as quantities.
    odd = sum(1 for c in cells if c is not None and c in (float("inf"), float("-inf")) or c != c)
    assert problems.filter(pl.col("column") == "tonnes").height >= odd


@settings(deadline=None, max_examples=examples(100))
@given(st.data(), st.sampled_from(NUMBER_TYPES))
def test_integers_and_floats_of_any_width_read_as_their_text(data: st.DataObject, dtype: pl.DataType) -> None:
    if dtype == pl.Float64:
        strategy: st.SearchStrategy[object] = floats
    else:
        bits = {pl.Int64: 63, pl.Int32: 31, pl.Int8: 7, pl.UInt64: 64, pl.UInt16: 16}[dtype]  # type: ignore[index]
        low = 0 if dtype.is_unsigned_integer() else -(1 << bits)
        strategy = st.integers(min_value=low, max_value=(1 << bits) - 1)
    cells = data.draw(st.lists(st.one_of(st.none(), strategy), min_size=1, max_size=20))
    column = pl.Series(cells, dtype=dtype)
    same_reading("gps", {"lat": column, "lon": column, "speed_kmh": column}, {"speed_kmh": "km/h"})
    same_reading("power", {"kwh": column}, {"kwh": "万千瓦时"})
    same_reading("licences", {"capacity_tpa": column}, {"capacity_tpa": "万吨/年"})


@settings(deadline=None, max_examples=examples(150))
@given(st.lists(st.one_of(st.none(), micros, near_now), min_size=1, max_size=30), st.sampled_from(TIME_UNITS))
def test_datetimes_and_dates_read_as_their_text(cells: list[int | None], unit: str) -> None:
    # Nanoseconds reach only 1677-2262; the text path reads these as well.
    scale = {"ms": 1 / 1000, "us": 1, "ns": 1000}[unit]
    limit = 9_000_000_000_000_000_000
    ints = [None if c is None or abs(c * scale) > limit else int(c * scale) for c in cells]
    stamps = pl.Series(ints, dtype=pl.Int64).cast(pl.Datetime(unit))  # type: ignore[arg-type]
    days = stamps.dt.date()
    same_reading("transports", {"departed_at": stamps, "arrived_at": days}, {})
    same_reading("licences", {"valid_from": stamps, "valid_to": days}, {})
    same_reading("licences", {"valid_from": days, "valid_to": stamps}, {})


def test_typed_columns_for_a_kind_read_from_text_take_the_text_path() -> None:
    # An integer id, an integer plate, a datetime for a month, a number of days for a date.
    same_reading("sales", {"sale_id": pl.Series([1, None, 30], dtype=pl.Int64)}, {})
    same_reading("gps", {"plate": pl.Series([12345, 7, None])}, {})
    month = pl.Series([datetime(2021, 12, 1, 8), None, datetime(1980, 1, 1)])
    same_reading("power", {"month": month, "kwh": pl.Series([1, 2, 3])}, {})
    same_reading("licences", {"valid_from": pl.Series([44531, 20211201, None])}, {})


# --- whole files ----------------------------------------------------------------------


def load(runner: CliRunner, db: Path, folder: Path) -> None:
    res = runner.invoke(app, ["--lang", "en", "load", "--db", str(db), "--json", str(folder)])
    assert res.exit_code == 0, res.output


def stored(db: Path) -> dict[str, list[tuple[object, ...]]]:
    with duckdb.connect(str(db), read_only=True) as con:
        out = {
            t: con.execute(f"SELECT * EXCLUDE (_load_id) FROM {t} ORDER BY _file, _line").fetchall()
            for t in ("sales", "licences", "gps")
        }
        out["quarantine"] = con.execute(
            "SELECT table_name, file, line, column_name, raw_value, reason FROM quarantine "
            "ORDER BY file, line, column_name"
        ).fetchall()
    return out


def typed_files() -> dict[str, pl.DataFrame]:
    nan, inf = float("nan"), float("inf")
    sold = [
        datetime(2021, 12, 5, 0, 30),
        datetime(2021, 12, 31, 20, 0, 0, 750_000),
        None,
        datetime(1980, 1, 1),
        datetime(2021, 12, 10),
        datetime(2021, 12, 11),
        datetime(2021, 12, 12),
        datetime(2021, 12, 13),
        None,
    ]
    sales = pl.DataFrame(
        {
            "销售单号": pl.Series([1, 2, 3, 4, 5, 6, 7, 8, None], dtype=pl.Int64),
            "销售日期": pl.Series(sold, dtype=pl.Datetime("us", "UTC")),
            "销售单位编码": ["M1"] * 8 + [None],
            "购买单位编码": ["Y1"] * 8 + [None],
            "数量（万吨）": [0.003, 0.0031, 1.0, nan, inf, -inf, -0.5, None, None],
        }
    )
    licences = pl.DataFrame(
        {
            "licence_id": ["L1", "L2", "L3", "L4"],
            "facility_id": ["F1", "F2", "F3", "F4"],
            "licence_type": ["采矿许可证"] * 4,
            "valid_from": [date(2020, 1, 1), date(1900, 1, 1), None, date(2021, 6, 30)],
            "valid_to": pl.Series(
                [datetime(2030, 1, 1, 12), datetime(2024, 5, 1), datetime(2025, 1, 1), datetime(999, 1, 1)],
                dtype=pl.Datetime("ms"),
            ),
            "capacity_tpa（万吨/年）": pl.Series([30, -1, None, 10**12], dtype=pl.Int64),
        }
    )
    gps = pl.DataFrame(
        {
            "plate": ["晋A12345", "晋A12345", "晋B00001", "晋B00001"],
            "ts": pl.Series(
                [datetime(2021, 12, 1, 8), datetime(2021, 12, 1, 8, 0, 30, 123), datetime(1985, 1, 1), None],
                dtype=pl.Datetime("ns"),
            ),
            "lat": [37.8, 95.0, 37.9, 38.0],
            "lon": pl.Series([112, 112, -200, 113], dtype=pl.Int16),
            "speed_kmh": [40.5, nan, None, 1e9],
        }
    )
    return {"sales.parquet": sales, "licences.parquet": licences, "gps.parquet": gps}


def test_typed_parquet_loads_as_the_same_cells_written_as_text(tmp_path: Path, runner: CliRunner) -> None:
    files = typed_files()
    for kind, shape in (("typed", lambda f: f), ("text", as_text)):
        folder = tmp_path / kind
        folder.mkdir()
        for name, frame in files.items():
            shape(frame).write_parquet(folder / name)
        load(runner, tmp_path / f"{kind}.duckdb", folder)
    # The typed files really were read typed, and the text ones as text.
    assert open_parquet(tmp_path / "typed" / "gps.parquet").read().frame["_c1"].dtype == pl.Datetime("ns")
    assert open_parquet(tmp_path / "text" / "gps.parquet").read().frame["_c1"].dtype == pl.String
    typed, text = stored(tmp_path / "typed.duckdb"), stored(tmp_path / "text.duckdb")
    assert typed == text
    # And they hold what the contract asks: 万吨 converted, a zone on China's clock, bad cells quarantined.
    # A fraction of a second is cut, as the text showed none; negative tonnes are kept for the rules to judge.
    assert [(r[0], r[1], r[5]) for r in typed["sales"]] == [
        ("1", datetime(2021, 12, 5, 8, 30), 30.0),
        ("2", datetime(2022, 1, 1, 4, 0), pytest.approx(31.0)),
        ("7", datetime(2021, 12, 12, 8, 0), -5000.0),
    ]
    reasons = {(r[1], r[2], r[3]): (r[4], r[5]) for r in typed["quarantine"]}
    assert reasons[("sales.parquet", 3, "sold_at")] == (None, "missing_value")
    assert reasons[("sales.parquet", 4, "sold_at")] == ("1980-01-01 08:00:00", "out_of_range")
    assert reasons[("sales.parquet", 4, "tonnes")] == ("NaN", "not_a_number")
    assert reasons[("sales.parquet", 5, "tonnes")] == ("inf", "not_a_number")
    assert reasons[("sales.parquet", 6, "tonnes")] == ("-inf", "not_a_number")
    assert reasons[("sales.parquet", 8, "tonnes")] == (None, "missing_value")
    assert reasons[("licences.parquet", 2, "valid_from")] == ("1900-01-01", "out_of_range")
    assert reasons[("licences.parquet", 4, "valid_to")] == ("0999-01-01 00:00:00", "out_of_range")
    assert reasons[("licences.parquet", 2, "capacity_tpa")] == ("-1", "out_of_range")
    assert reasons[("licences.parquet", 4, "capacity_tpa")] == ("1000000000000", "out_of_range")
    assert reasons[("gps.parquet", 2, "speed_kmh")] == ("NaN", "not_a_number")
    assert reasons[("gps.parquet", 2, "lat")] == ("95.0", "out_of_range")
    assert reasons[("gps.parquet", 3, "lon")] == ("-200", "out_of_range")
    assert reasons[("gps.parquet", 3, "ts")] == ("1985-01-01 00:00:00", "out_of_range")
    assert reasons[("gps.parquet", 4, "speed_kmh")] == ("1000000000.0", "out_of_range")
    assert reasons[("gps.parquet", 4, "ts")] == (None, "missing_value")
    # The row of nothing but nulls is blank, and dropped as a blank line is.
    assert all(line != 9 for _, f, line, *_ in typed["quarantine"] if f == "sales.parquet")
    assert [r[1] for r in typed["gps"]] == [datetime(2021, 12, 1, 8)]


@pytest.mark.parametrize("dtype", [pl.Float64, pl.Int64, pl.Date, pl.Datetime("us")])
def test_typed_parquet_columns_stay_typed_in_the_frame(tmp_path: Path, dtype: pl.DataType) -> None:
    f = tmp_path / "x.parquet"
    pl.DataFrame({"a": pl.Series([1, None], dtype=pl.Int64).cast(dtype), "b": ["x", None]}).write_parquet(f)
    frame = open_parquet(f).read().frame
    assert frame.schema == {"_c0": dtype, "_c1": pl.String, "_line": pl.Int64}
    assert frame["_line"].to_list() == [1]  # the second row is blank: a null and a null


def test_typed_cells_beyond_the_header_are_extra_cells_shown_as_text() -> None:
    typed = pl.DataFrame(
        {
            "_c0": ["S1", "S2", "S3"],
            "_c1": pl.Series([None, 2.5, float("nan")]),
            "_c2": pl.Series([datetime(2021, 12, 1, 8, 0, 0, 500), None, None]),
            "_line": pl.Series([1, 2, 3], dtype=pl.Int64),
        }
    )
    shown = []
    for frame in (typed, as_text(typed)):
        raw = RawFile(Path("sales.parquet"), "0" * 64, frame, ["销售单号", "", ""])
        shown.append(extra_cells(raw))
    assert_frame_equal(shown[0], shown[1])
    assert shown[0].rows() == [
        (1, "#3", "2021-12-01 08:00:00", "extra_cells"),
        (2, "#2", "2.5", "extra_cells"),
        (3, "#2", "NaN", "extra_cells"),
    ]
