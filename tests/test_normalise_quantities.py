"""Value normalisation of quantities: tonnes, capacities, kWh and numbers, with units in the header or the cell."""

from __future__ import annotations

import pytest

from coaltrace.contract import TABLES, Kind
from coaltrace.ingest.normalise import known_unit, normalise
from tests.normalise_helpers import (
    GPS,
    LICENCES,
    POWER,
    TRANSPORTS,
    one_column,
    raw_frame,
)

# --- quantities ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("cell", "expected"),
    [
        ("30", 30.0),
        ("30.5", 30.5),
        ("1,234.5", 1234.5),
        ("123,456.5", 123456.5),
        ("１２３．５", 123.5),
        ("１，２３４", 1234.0),
        ("12.5吨", 12.5),
        ("1.2万吨", 12000.0),
        ("500kg", 0.5),
        ("500千克", 0.5),
        ("500 公斤", 0.5),
        ("35t", 35.0),
        ("35 T", 35.0),
        ("-3", -3.0),
        ("−3.5", -3.5),
        (" 30 ", 30.0),
        ("1e3", 1000.0),
    ],
)
def test_tonnes_in_every_accepted_spelling(cell: str, expected: float) -> None:
    values, problems = one_column(TRANSPORTS, "tonnes_loaded", [cell])
    assert values.to_list() == [pytest.approx(expected, rel=1e-12)]
    assert problems.height == 0


@pytest.mark.parametrize(
    ("unit", "cells", "expected"),
    [
        ("万吨", ["1.5", "100"], [15000.0, 1_000_000.0]),
        ("吨", ["1.5", "2"], [1.5, 2.0]),
        ("t", ["1.5", "2"], [1.5, 2.0]),
        ("kg", ["1500", "2"], [1.5, 0.002]),
        ("千克", ["1500", "2"], [1.5, 0.002]),
        (None, ["1.5", "2"], [1.5, 2.0]),
    ],
)
def test_tonnes_take_the_header_unit(unit: str | None, cells: list[str], expected: list[float]) -> None:
    values, _ = one_column(TRANSPORTS, "tonnes_loaded", cells, unit)
    assert values.to_list() == pytest.approx(expected, rel=1e-12)


def test_a_cell_unit_wins_over_the_header_unit() -> None:
    values, _ = one_column(TRANSPORTS, "tonnes_loaded", ["35吨", "500kg", "2"], "万吨")
    assert values.to_list() == pytest.approx([35.0, 0.5, 20000.0], rel=1e-12)


@pytest.mark.parametrize(
    ("cell", "reason"),
    [
        ("abc", "not_a_number"),
        ("inf", "not_a_number"),
        ("nan", "not_a_number"),
        ("1.2.3", "unknown_unit"),
        ("30 furlongs", "unknown_unit"),
        ("30万千瓦时", "unknown_unit"),
    ],
)
def test_bad_quantities_are_problems(cell: str, reason: str) -> None:
    values, problems = one_column(TRANSPORTS, "tonnes_loaded", [cell])
    assert values.to_list() == [None]
    assert problems["reason"].to_list() == [reason]


@pytest.mark.parametrize(
    ("cell", "unit", "expected"),
    [
        ("90", "万吨/年", 900_000.0),
        ("90", "万t/a", 900_000.0),
        ("90", "万吨", 900_000.0),
        ("90万吨/年", None, 900_000.0),
        ("90万t/a", None, 900_000.0),
        ("90万吨", None, 900_000.0),
        ("1.2Mt/a", None, 1_200_000.0),
        ("1.2", "Mt/a", 1_200_000.0),
        ("300000", "吨/年", 300_000.0),
        ("300,000t/a", None, 300_000.0),
    ],
)
def test_capacity_in_tonnes_a_year(cell: str, unit: str | None, expected: float) -> None:
    values, problems = one_column(LICENCES, "capacity_tpa", [cell], unit)
    assert values.to_list() == [pytest.approx(expected, rel=1e-12)]
    assert problems.height == 0


@pytest.mark.parametrize(
    ("cell", "unit", "expected"),
    [
        ("1,234", None, 1234.0),
        ("1234千瓦时", None, 1234.0),
        ("1234度", None, 1234.0),
        ("1234kWh", None, 1234.0),
        ("1234 kW·h", None, 1234.0),
        ("1.5万千瓦时", None, 15000.0),
        ("1.5万度", None, 15000.0),
        ("1.5MWh", None, 1500.0),
        ("1.5", "万千瓦时", 15000.0),
        ("1.5", "mwh", 1500.0),
        ("１２３", "度", 123.0),
    ],
)
def test_kwh(cell: str, unit: str | None, expected: float) -> None:
    values, problems = one_column(POWER, "kwh", [cell], unit)
    assert values.to_list() == [pytest.approx(expected, rel=1e-12)]
    assert problems.height == 0


@pytest.mark.parametrize(
    ("column", "cell", "expected"),
    [
        ("lat", "35.5", 35.5),
        ("lat", "35.5°", 35.5),
        ("lat", "３５．５", 35.5),
        ("speed_kmh", "60km/h", 60.0),
        ("speed_kmh", "60 km/h", 60.0),
        ("speed_kmh", "１２０ km/h", 120.0),
    ],
)
def test_plain_numbers_ignore_their_units(column: str, cell: str, expected: float) -> None:
    values, problems = one_column(GPS, column, [cell])
    assert values.to_list() == [expected]
    assert problems.height == 0


def test_a_number_in_kilogrammes_is_an_unknown_unit_for_a_speed() -> None:
    _, problems = one_column(GPS, "speed_kmh", ["60kg"])
    assert problems["reason"].to_list() == ["unknown_unit"]


def test_radius_in_metres() -> None:
    values, _ = one_column(TABLES["zones"], "radius_m", ["500米", "500m", "500"])
    assert values.to_list() == [500.0] * 3


# --- header units ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "unit", "known"),
    [
        (Kind.tonnes, "万吨", True),
        (Kind.tonnes, "kg", True),
        (Kind.tonnes, None, True),
        (Kind.tonnes, "furlong", False),
        (Kind.tonnes, "万吨/年", False),
        (Kind.tonnes_per_year, "万吨/年", True),
        (Kind.tonnes_per_year, "Mt/a", True),
        (Kind.kwh, "万千瓦时", True),
        (Kind.kwh, "吨", False),
        (Kind.number, "km/h", True),
        (Kind.number, "kg", False),
        (Kind.date, "yyyymmdd", True),
        (Kind.text, "全称", True),
    ],
)
def test_known_unit(kind: Kind, unit: str | None, known: bool) -> None:
    assert known_unit(kind, unit) is known


def test_an_unknown_header_unit_is_refused() -> None:
    with pytest.raises(ValueError, match="furlong"):
        normalise(raw_frame(tonnes_loaded=["1"]), TRANSPORTS, {"tonnes_loaded": "furlong"})
