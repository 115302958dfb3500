"""Audit periods: a month (`2021-12`), a year (`2021`) or a range of months (`2021-10..2021-12`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from coaltrace.errors import UsageError

_MONTH = re.compile(r"^(\d{4})-?(\d{1,2})$")
_YEAR = re.compile(r"^(\d{4})$")

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


def _month_start(text: str) -> date:
    m = _MONTH.match(text.strip())
    if not m or not 1 <= int(m.group(2)) <= 12:
        raise UsageError(
            f"not a month: {text!r}",
            zh=f"不是月份：{text!r}",
            hint="Write a month as YYYY-MM, e.g. 2021-12.",
            hint_zh="月份请写成 YYYY-MM，如 2021-12。",
        )
    return date(_year(text, int(m.group(1))), int(m.group(2)), 1)


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
        text = text.strip()
        if ".." in text:
            a, b = text.split("..", 1)
            start, last = _month_start(a), _month_start(b)
            if last < start:
                raise UsageError(f"period {text!r} ends before it starts", zh=f"期间 {text!r} 的结束早于开始")
            # One month written as a range is that month: one label, so the same findings and ids.
            label = f"{start:%Y-%m}" if start == last else f"{start:%Y-%m}..{last:%Y-%m}"
            return cls(start, _next_month(last), label)
        if _YEAR.match(text):
            y = _year(text, int(text))
            return cls(date(y, 1, 1), date(y + 1, 1, 1), text)
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
