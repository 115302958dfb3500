"""Values no record can hold, and times written with an offset from UTC: never read silently wrong."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from coaltrace.contract import TABLES
from coaltrace.contract.tables import EARLIEST_DATE, NUMBER_RANGES, Kind
from coaltrace.ingest.normalise import normalise
from tests.normalise_helpers import GPS, LICENCES, POWER, TRANSPORTS, one_column, raw_frame

SALES = TABLES["sales"]
STOCKS = TABLES["stocks"]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("2021-12-05T00:30:00Z", datetime(2021, 12, 5, 8, 30)),
        ("2021-12-05T00:30Z", datetime(2021, 12, 5, 8, 30)),
        ("2021-12-05 00:30:00+00:00", datetime(2021, 12, 5, 8, 30)),
        ("2021-12-05T00:30:00+09:00", datetime(2021, 12, 4, 23, 30)),
        ("2021-12-05 08:30:00+08:00", datetime(2021, 12, 5, 8, 30)),
        ("2021/12/05 08:30:00 +0800", datetime(2021, 12, 5, 8, 30)),
        ("2021-12-04T19:30:00-05:00", datetime(2021, 12, 5, 8, 30)),
        ("2021-12-05T05:00+05:30", datetime(2021, 12, 5, 7, 30)),
        ("2021-12-31T20:00:00Z", datetime(2022, 1, 1, 4, 0)),
    ],
)
def test_a_time_with_an_offset_is_converted_to_china_time(cell: str, expected: datetime) -> None:
    values, problems = one_column(TRANSPORTS, "departed_at", [cell])
    assert values.to_list() == [expected]
    assert problems.height == 0


def test_a_date_column_takes_the_china_date_of_a_utc_time() -> None:
    # 20:00 UTC on the 4th is 04:00 on the 5th in China: the licence starts on the 5th.
    values, problems = one_column(LICENCES, "valid_from", ["2021-12-04T20:00:00Z"])
    assert values.to_list() == [date(2021, 12, 5)]
    assert problems.height == 0


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("1e309", "out_of_range"),  # a float overflow is not a quantity
        ("1,000,001", "out_of_range"),
        ("-2e6", "out_of_range"),
        ("200万吨", "out_of_range"),  # 2,000,000 t in one trip
        ("inf", "not_a_number"),
        ("nan", "not_a_number"),
        ("1,2,3", "bad_separator"),
        ("12,34", "bad_separator"),
        ("1.234,5", "bad_separator"),  # a decimal comma: not guessed
        ("1,2345", "bad_separator"),
        (",123", "bad_separator"),
    ],
)
def test_impossible_tonnes_are_quarantined(cell: str, reason: str) -> None:
    values, problems = one_column(TRANSPORTS, "tonnes_loaded", ["30", cell])
    assert values.to_list() == [30.0, None]
    assert problems["reason"].to_list() == [reason]
    assert problems["raw_value"].to_list() == [cell]


@pytest.mark.parametrize(
    ("cell", "expected"),
    [("1,234.5", 1234.5), ("12,345", 12345.0), ("999,999.9", 999999.9), ("1,000,000", 1e6), ("-1,000", -1000.0)],
)
def test_thousands_separators_where_they_belong_still_read(cell: str, expected: float) -> None:
    values, problems = one_column(TRANSPORTS, "tonnes_loaded", [cell])
    assert values.to_list() == [expected]
    assert problems.height == 0


def test_the_bounds_are_the_contracts() -> None:
    low, high = NUMBER_RANGES[Kind.tonnes]
    values, problems = one_column(SALES, "tonnes", [str(high), str(high * 1.001), str(low), str(low * 1.001)])
    assert values.to_list() == [high, None, low, None]
    assert problems["_line"].to_list() == [3, 5]
    # A column may widen its kind's range: a big yard holds more than one sale.
    stock, problems = one_column(STOCKS, "tonnes", ["5,000,000"])
    assert stock.to_list() == [5e6] and problems.height == 0


@pytest.mark.parametrize(
    ("table", "column", "cell"),
    [
        (LICENCES, "capacity_tpa", "30000万吨/年"),  # 300 Mt a year
        (LICENCES, "capacity_tpa", "-90"),
        (POWER, "kwh", "2e10"),
        (GPS, "lat", "95"),
        (GPS, "lon", "-181"),
        (GPS, "speed_kmh", "900"),
    ],
)
def test_other_impossible_numbers_are_out_of_range(table: object, column: str, cell: str) -> None:
    _, problems = one_column(table, column, [cell])  # type: ignore[arg-type]
    assert problems["reason"].to_list() == ["out_of_range"]


TODAY = date(2021, 12, 15)


@pytest.mark.parametrize(
    "cell",
    [
        "99999",  # an Excel serial: 2173-10-13
        "0001-01-01",
        "9999-12-31",
        "1989-12-31 23:59",
        "2023-01-01",  # after the end of next year
        "32873",  # 1989-12-31 as an Excel serial
    ],
)
def test_impossible_dates_are_out_of_range(cell: str) -> None:
    typed, problems = normalise(raw_frame(departed_at=["2021-12-01", cell]), TRANSPORTS, {}, today=TODAY)
    assert typed["departed_at"].to_list() == [datetime(2021, 12, 1), None]
    found = problems.filter(pl.col("column") == "departed_at")
    assert found["reason"].to_list() == ["out_of_range"] and found["raw_value"].to_list() == [cell]


@pytest.mark.parametrize("cell", ["1990-01-01", "2022-12-31 23:59:59", "32874"])
def test_the_edges_of_the_date_range_read(cell: str) -> None:
    typed, problems = normalise(raw_frame(departed_at=[cell]), TRANSPORTS, {}, today=TODAY)
    assert typed["departed_at"].to_list()[0] is not None
    assert problems.filter(pl.col("column") == "departed_at").height == 0
    assert EARLIEST_DATE == date(1990, 1, 1)


def test_a_licence_may_run_decades_ahead_and_have_started_before_1990() -> None:
    typed, problems = normalise(
        raw_frame(valid_from=["1985-06-01", "0001-01-01"], valid_to=["2051-12-31", "9998-12-31"]),
        LICENCES,
        {},
        today=TODAY,
    )
    assert typed["valid_from"].to_list() == [date(1985, 6, 1), None]
    assert typed["valid_to"].to_list() == [date(2051, 12, 31), None]
    dated = problems.filter(pl.col("column").is_in(["valid_from", "valid_to"]))
    assert dated["reason"].to_list() == ["out_of_range", "out_of_range"]


def test_months_outside_the_range_are_out_of_range() -> None:
    typed, problems = normalise(raw_frame(month=["2021-12", "1989-12", "2023-01", "99999"]), POWER, {}, today=TODAY)
    assert typed["month"].to_list() == ["2021-12", None, None, None]
    assert problems.filter(pl.col("column") == "month")["reason"].to_list() == ["out_of_range"] * 3


def test_a_licence_valid_long_term_has_no_end() -> None:
    # Offices write a licence without an end as 长期 or 9999-12-31: a licence, not a typo.
    from coaltrace.contract import TABLES
    from coaltrace.contract.tables import OPEN_END
    from coaltrace.ingest.normalise import normalise

    licences = TABLES["licences"]
    raw = pl.DataFrame(
        {
            "_line": [2, 3, 4, 5, 6, 7],
            "licence_id": ["C1", "C2", "C3", "C4", "C5", "C6"],
            "facility_id": ["M1"] * 6,
            "licence_type": ["采矿许可证"] * 6,
            "valid_from": ["2019-01-01"] * 6,
            "valid_to": ["9999-12-31", "长期", " 长期有效 ", "9998-12-31", "長期", "無固定期限"],
        }
    )
    typed, problems = normalise(raw, licences, {})
    assert typed["valid_to"].to_list() == [OPEN_END] * 3 + [None] + [OPEN_END] * 2
    assert problems.select("_line", "reason").rows() == [(5, "out_of_range")]
