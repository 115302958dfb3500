"""Periods as people type them: the spellings the loader reads for months, one canonical label."""

from __future__ import annotations

from datetime import date

import pytest

from coaltrace.errors import UsageError
from coaltrace.period import Period


@pytest.mark.parametrize(
    "text",
    ["2021-12", "2021/12", "2021.12", "2021年12月", "2021年12", "202112", "２０２１年１２月", " 2021-12 "],
)
def test_a_month_in_every_spelling_is_one_period(text: str) -> None:
    p = Period.parse(text)
    assert (p.label, p.start, p.end) == ("2021-12", date(2021, 12, 1), date(2022, 1, 1))


@pytest.mark.parametrize("text", ["2021", "2021年", "２０２１年"])
def test_a_year(text: str) -> None:
    p = Period.parse(text)
    assert (p.label, p.start, p.end, len(p.months)) == ("2021", date(2021, 1, 1), date(2022, 1, 1), 12)


@pytest.mark.parametrize(
    "text",
    [
        "2021-10..2021-12",
        "2021年10月至2021年12月",
        "2021年10月至12月",
        "2021/10~2021/12",
        "202110到202112",
        "2021-10～12",
    ],
)
def test_a_range_of_months(text: str) -> None:
    p = Period.parse(text)
    assert (p.label, p.start, p.end) == ("2021-10..2021-12", date(2021, 10, 1), date(2022, 1, 1))


@pytest.mark.parametrize("text", ["2021-13", "20211", "12月", "2021-12..2021-10", "1989-01", "十二月", ""])
def test_what_is_not_a_period_is_a_usage_error_in_both_languages(text: str) -> None:
    with pytest.raises(UsageError) as e:
        Period.parse(text)
    assert e.value.zh and e.value.message
