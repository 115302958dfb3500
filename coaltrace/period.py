"""Audit periods: a month (`2021-12`), a year (`2021`) or a range of months (`2021-10..2021-12`).

A person types a period the way the records write months, and the loader reads
those: `2021-12`, `2021/12`, `2021.12`, `2021年12月`, `202112`, full-width digits
too; a year as `2021` or `2021年`; a range with `..`, `~`, `～`, `至` or `到`
between two months, the second of which may leave out its year
(`2021年10月至12月`). Every spelling gets the same canonical label (`2021-12`,
`2021`, `2021-10..2021-12`), so the same findings and ids.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from coaltrace.errors import UsageError

_MONTH = re.compile(r"^(\d{4})\s*(?:[-/.年]\s*(\d{1,2})\s*月?|(\d{2}))$")
_YEAR = re.compile(r"^(\d{4})\s*年?$")
_MONTH_ONLY = re.compile(r"^(\d{1,2})\s*月?$")
_RANGE = re.compile(r"\.\.|~|至|到")

# Records older than this are not coaltrace's business; later than next year is a typing mistake.
FIRST_YEAR = 1990


def _year(text: str, y: int) -> int:
    last = date.today().year + 1
    if not FIRST_YEAR <= y <= last:
        raise UsageError(
            f"period {text!r}: the year must be between {FIRST_YEAR} and {last}",
            zh=f"期间 {text!r}：年份须在 {FIRST_YEAR} 至 {last} 之间",
            hint="Write a month as YYYY-MM, e.g. 2021-12, a year as YYYY, or a range as 2021-10..2021-12.",
            hint_zh="月份请写成 YYYY-MM（如 2021-12），年份写成 YYYY，区间写成 2021-10..2021-12。",
        )
    return y


def _month_start(text: str, year: int | None = None) -> date:
    """The first day of the month TEXT names; YEAR is taken when TEXT names only a month (`12月`)."""
    m = _MONTH.match(text.strip())
    alone = _MONTH_ONLY.match(text.strip()) if year is not None else None
    number = int(m.group(2) or m.group(3)) if m else int(alone.group(1)) if alone else 0
    if not 1 <= number <= 12:
        raise UsageError(
            f"not a month: {text!r}",
            zh=f"不是月份：{text!r}",
            hint="Write a month as YYYY-MM, e.g. 2021-12 (also 2021/12, 2021年12月, 202112).",
            hint_zh="月份请写成 YYYY-MM，如 2021-12（也可写 2021/12、2021年12月、202112）。",
        )
    return date(_year(text, int(m.group(1))) if m else year or 0, number, 1)


def _next_month(d: date) -> date:
    return date(d.year + d.month // 12, d.month % 12 + 1, 1)


@dataclass(frozen=True, order=True)
class Period:
    """Half-open [start, end): `start` is the first day, `end` the first day after."""

    start: date
    end: date
    label: str

    @classmethod
    def parse(cls, text: str) -> Period:
        text = unicodedata.normalize("NFKC", text).strip()
        parts = _RANGE.split(text)
        if len(parts) == 2:
            a, b = parts
            start = _month_start(a)
            last = _month_start(b, year=start.year)
            if last < start:
                raise UsageError(f"period {text!r} ends before it starts", zh=f"期间 {text!r} 的结束早于开始")
            # One month written as a range is that month: one label, so the same findings and ids.
            label = f"{start:%Y-%m}" if start == last else f"{start:%Y-%m}..{last:%Y-%m}"
            return cls(start, _next_month(last), label)
        year = _YEAR.match(text)
        if year:
            y = _year(text, int(year.group(1)))
            return cls(date(y, 1, 1), date(y + 1, 1, 1), str(y))
        start = _month_start(text)
        return cls(start, _next_month(start), f"{start:%Y-%m}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    @property
    def months(self) -> list[str]:
        out, d = [], self.start
        while d < self.end:
            out.append(f"{d:%Y-%m}")
            d = _next_month(d)
        return out

    def __str__(self) -> str:
        return self.label
