"""Value normalisation: every accepted spelling, every reason a cell is refused."""

from __future__ import annotations

from datetime import date, datetime

import duckdb
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from coaltrace.contract import TABLES, Kind
from coaltrace.contract.codes import uscc_check_char
from coaltrace.contract.values import synonyms
from coaltrace.ingest.normalise import REASONS, normalise, polars_dtype
from tests.normalise_helpers import (
    FACILITIES,
    GPS,
    LICENCES,
    POWER,
    TRANSPORTS,
    one_column,
    raw_frame,
    reasons_by_line,
)

# --- the frame as a whole ----------------------------------------------------


def test_typed_has_every_contract_column_in_order_with_its_type() -> None:
    typed, _ = normalise(raw_frame(trip_id=["T1", "T2"], tonnes_loaded=["30", "31"]), TRANSPORTS, {})
    assert typed.columns == [*TRANSPORTS.names, "_line"]
    assert typed.schema == pl.Schema(
        {**{c.name: polars_dtype(c.kind) for c in TRANSPORTS.columns}, "_line": pl.Int64()}
    )
    assert typed["trip_id"].to_list() == ["T1", "T2"]
    assert typed["arrived_at"].to_list() == [None, None]  # absent: typed nulls
    assert typed["_line"].to_list() == [2, 3]


def test_polars_dtype_matches_the_store_schema() -> None:
    # What normalise produces must land in the DuckDB column type the store created.
    con = duckdb.connect()
    for kind in Kind:
        frame = pl.DataFrame({"v": pl.Series([None], dtype=polars_dtype(kind))})
        con.register("frame", frame)
        ((duck_type,),) = con.execute("SELECT typeof(v) FROM frame").fetchall()
        assert duck_type == kind.sql_type, kind


def test_rows_keep_input_order_and_line_numbers() -> None:
    raw = raw_frame(trip_id=[f"T{i}" for i in range(50)]).with_columns(pl.col("_line") * 10)
    typed, _ = normalise(raw, TRANSPORTS, {})
    assert typed["trip_id"].to_list() == [f"T{i}" for i in range(50)]
    assert typed["_line"].to_list() == [i * 10 for i in range(2, 52)]


def test_empty_input_gives_empty_frames_with_the_schemas() -> None:
    typed, problems = normalise(raw_frame(trip_id=[]), TRANSPORTS, {})
    assert typed.height == 0 and typed.columns == [*TRANSPORTS.names, "_line"]
    assert problems.height == 0
    assert problems.schema == pl.Schema(
        {
            "_line": pl.Int64(),
            "column": pl.String(),
            "raw_value": pl.String(),
            "reason": pl.String(),
        }
    )


def test_problems_are_in_row_order_then_contract_column_order() -> None:
    raw = raw_frame(
        tonnes_loaded=["abc", "30", "x"],
        trip_id=["T1", None, "T3"],
        plate=["晋E12345", "晋E12345", "晋E12345"],
        origin_id=["A", "A", "A"],
        destination_id=["B", "B", "B"],
        departed_at=["2021-02-30", "2021-12-01", "2021-12-01"],
    )
    _, problems = normalise(raw, TRANSPORTS, {})
    expected = pl.DataFrame(
        {
            "_line": [2, 2, 3, 4],
            "column": ["departed_at", "tonnes_loaded", "trip_id", "tonnes_loaded"],
            "raw_value": ["2021-02-30", "abc", None, "x"],
            "reason": ["not_a_date", "not_a_number", "missing_value", "not_a_number"],
        },
        schema_overrides={"_line": pl.Int64},
    )
    assert_frame_equal(problems, expected)


def test_every_reason_is_produced() -> None:
    raw = raw_frame(
        account_id=["A1", "A2", "A3", "A4", "", "A6", "A7"],
        account_type=["居民", "居民", "居民", "蒸汽", "工业", "工业", "工业"],
        month=["2021-12", "2021-12", "2021-13", "2021-12", "2021-12", "2021-12", "1921-12"],
        kwh=["100", "abc", "1", "5 furlongs", "1", "1,00", "1"],
    )
    _, found = normalise(raw, POWER, {})
    _, dated = normalise(raw_frame(ts=["2021-12-01 25:00", "abc"]), GPS, {})
    reasons = set(found["reason"]) | set(dated["reason"])
    # A row wider than its header is the reader's finding, not a cell's (tests/test_load_hostile.py).
    assert reasons == set(REASONS) - {"extra_cells"}


def test_a_required_empty_cell_is_missing_value_and_keeps_its_raw_text() -> None:
    values, problems = one_column(TRANSPORTS, "trip_id", ["T1", "", "   ", None])
    assert values.to_list() == ["T1", None, None, None]
    assert_frame_equal(
        problems,
        pl.DataFrame(
            {
                "_line": [3, 4, 5],
                "column": ["trip_id"] * 3,
                "raw_value": ["", "   ", None],
                "reason": ["missing_value"] * 3,
            },
            schema_overrides={"_line": pl.Int64},
        ),
    )


def test_an_optional_empty_cell_is_null_and_no_problem() -> None:
    values, problems = one_column(TRANSPORTS, "tonnes_unloaded", ["", None, " "])
    assert values.to_list() == [None, None, None]
    assert problems.height == 0


def test_an_absent_required_column_is_missing_on_every_row() -> None:
    _, problems = normalise(raw_frame(trip_id=["T1", "T2"]), TRANSPORTS, {})
    missing = problems.filter(pl.col("column") == "plate")
    assert missing["_line"].to_list() == [2, 3]
    assert set(missing["reason"]) == {"missing_value"}


def test_a_cell_that_fails_is_reported_once_not_also_as_missing() -> None:
    _, problems = one_column(TRANSPORTS, "tonnes_loaded", ["abc"])
    assert problems["reason"].to_list() == ["not_a_number"]


# --- text, codes, plates, USCC ------------------------------------------------


def test_text_is_stripped_and_empty_is_null() -> None:
    values, _ = one_column(FACILITIES, "name", ["  晋城 煤业 ", "", "x"])
    assert values.to_list() == ["晋城 煤业", None, "x"]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("F001", "F001"),
        (" F 001 ", "F001"),
        ("Ｆ００１", "F001"),
        ("F\u3000001", "F001"),
        ("晋城-01", "晋城-01"),
        ("", None),
    ],
)
def test_codes_are_nfkc_without_spaces(cell: str, expected: str | None) -> None:
    values, _ = one_column(TRANSPORTS, "origin_id", [cell])
    assert values.to_list() == [expected]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("晋E12345", "晋E12345"),
        ("晋E·12345", "晋E12345"),
        ("晋e 12345", "晋E12345"),
        ("晋E•12345", "晋E12345"),
        ("晋E.12345", "晋E12345"),
        ("晋E-12345", "晋E12345"),
        ("晋Ｅ１２３４５", "晋E12345"),
        ("晋ed12345", "晋ED12345"),
        ("", None),
    ],
)
def test_plates_are_normalised(cell: str, expected: str | None) -> None:
    values, problems = one_column(TRANSPORTS, "plate", [cell])
    assert values.to_list() == [expected]
    assert problems["reason"].to_list() == ([] if expected else ["missing_value"])


def test_an_invalid_plate_is_kept_and_is_not_a_problem() -> None:
    values, problems = one_column(TRANSPORTS, "plate", ["not a plate"])
    assert values.to_list() == ["NOTAPLATE"]
    assert problems.height == 0


def test_uscc_is_upper_case_without_spaces_and_a_bad_check_char_is_kept() -> None:
    good = "91140500" + "MA0KXXXX" + "0"
    good = good[:17] + uscc_check_char(good[:17])
    wrong = good[:17] + ("0" if good[17] != "0" else "1")
    values, problems = one_column(FACILITIES, "uscc", [good.lower(), " ".join(good), "９" + good[1:], wrong])
    assert values.to_list() == [good, good, good, wrong]
    assert problems.height == 0


# --- enums --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("yard", "yard"),
        ("煤场", "yard"),
        ("储煤场", "yard"),
        (" 储 煤 场 ", "yard"),
        ("Coal Yard", "yard"),
        ("coking_plant", "coking_plant"),
        ("ＣＯＫＩＮＧ", "coking_plant"),
        ("焦化厂", "coking_plant"),
    ],
)
def test_enum_accepts_codes_and_synonyms(cell: str, expected: str) -> None:
    values, problems = one_column(FACILITIES, "kind", [cell])
    assert values.to_list() == [expected]
    assert problems.height == 0


def test_every_synonym_of_every_enum_column_maps_to_its_code() -> None:
    for table in TABLES.values():
        for column in table.columns:
            if column.enum is None:
                continue
            words = synonyms(column.enum)
            values, problems = one_column(table, column.name, list(words))
            assert values.to_list() == list(words.values()), (table.name, column.name)
            assert problems.height == 0


def test_an_unknown_enum_word_is_unknown_value() -> None:
    values, problems = one_column(FACILITIES, "kind", ["煤场", "蒸汽机", "煤场"])
    assert values.to_list() == ["yard", None, "yard"]
    assert reasons_by_line(problems) == {3: "unknown_value"}


def test_an_empty_optional_enum_is_null_and_no_problem() -> None:
    values, problems = one_column(FACILITIES, "status", ["", None, "关闭"])
    assert values.to_list() == [None, None, "closed"]
    assert problems.height == 0


# --- dates and times ----------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2021-12-01", datetime(2021, 12, 1)),
        ("2021/12/1", datetime(2021, 12, 1)),
        ("2021年12月1日", datetime(2021, 12, 1)),
        ("20211201", datetime(2021, 12, 1)),
        ("2021.12.01", datetime(2021, 12, 1)),
        ("２０２１－１２－０１", datetime(2021, 12, 1)),
        ("2021-12-01 08:30", datetime(2021, 12, 1, 8, 30)),
        ("2021-12-01 08:30:15", datetime(2021, 12, 1, 8, 30, 15)),
        ("2021-12-01T08:30:00", datetime(2021, 12, 1, 8, 30)),
        ("2021/12/1 8:30", datetime(2021, 12, 1, 8, 30)),
        ("2021/12/01 08:30:00", datetime(2021, 12, 1, 8, 30)),
        ("2021年12月1日 08:30", datetime(2021, 12, 1, 8, 30)),
        ("2021年12月1日8时30分", datetime(2021, 12, 1, 8, 30)),
        ("20211201 08:30:00", datetime(2021, 12, 1, 8, 30)),
        ("2021.12.01 08:30", datetime(2021, 12, 1, 8, 30)),
        ("2021-12-01 08:30:00.250", datetime(2021, 12, 1, 8, 30, 0, 250000)),
        ("2021-12-01T08:30:00+08:00", datetime(2021, 12, 1, 8, 30)),
        ("44531", datetime(2021, 12, 1)),
        ("44531.354166", datetime(2021, 12, 1, 8, 30)),
        ("44531.5", datetime(2021, 12, 1, 12, 0)),
        (" 2021-12-01 ", datetime(2021, 12, 1)),
    ],
)
def test_timestamps_in_every_accepted_format(cell: str, expected: datetime) -> None:
    values, problems = one_column(TRANSPORTS, "departed_at", [cell])
    assert values.to_list() == [expected]
    assert problems.height == 0


def test_a_date_column_keeps_the_date_of_a_value_with_a_time() -> None:
    values, problems = one_column(LICENCES, "valid_from", ["2021-12-01 23:59:59", "44531.99", "2021/12/1"])
    assert values.dtype == pl.Date
    assert values.to_list() == [date(2021, 12, 1)] * 3
    assert problems.height == 0


def test_mixed_formats_in_one_column_all_read() -> None:
    cells = ["2021-12-01 08:30:00", "2021/12/1 8:30", "44531.354166", "2021年12月1日 8:30"] * 300
    values, problems = one_column(TRANSPORTS, "departed_at", cells)
    assert set(values.to_list()) == {datetime(2021, 12, 1, 8, 30)}
    assert problems.height == 0


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("2021", "not_a_date"),
        ("9999", "not_a_date"),
        ("2021-02-30", "not_a_date"),
        ("2021-13-01", "not_a_date"),
        ("abc", "not_a_date"),
        ("21-12-01", "not_a_date"),
        ("202112011", "not_a_date"),
        ("2021-12", "not_a_date"),
        ("2021-12-01 25:00", "not_a_time"),
        ("2021-12-01 08:61", "not_a_time"),
        ("2021-12-01 noon", "not_a_time"),
        ("2021-12-01 08:30+15:00", "not_a_time"),  # no place is 15 hours ahead of UTC
    ],
)
def test_bad_dates_and_times_are_problems(cell: str, reason: str) -> None:
    values, problems = one_column(TRANSPORTS, "departed_at", ["2021-12-01 08:00:00", cell])
    assert values.to_list() == [datetime(2021, 12, 1, 8), None]
    assert reasons_by_line(problems) == {3: reason}


@pytest.mark.parametrize(
    "cell",
    [
        "2021-12",
        "2021/12",
        "2021年12月",
        "202112",
        "2021-12-01",
        "2021/12/1 08:00",
        "44531",
        "2021-12-15 00:00:00",
    ],
)
def test_months_in_every_accepted_format(cell: str) -> None:
    values, problems = one_column(POWER, "month", [cell])
    assert values.to_list() == ["2021-12"]
    assert problems.height == 0


def test_single_digit_month_is_padded() -> None:
    values, _ = one_column(POWER, "month", ["2021/1", "2021年3月"])
    assert values.to_list() == ["2021-01", "2021-03"]


@pytest.mark.parametrize("cell", ["2021-13", "2021-00", "abc", "2021-02-30", "2021"])
def test_bad_months_are_not_a_month(cell: str) -> None:
    values, problems = one_column(POWER, "month", [cell])
    assert values.to_list() == [None]
    assert problems["reason"].to_list() == ["not_a_month"]
