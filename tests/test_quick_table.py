"""The list commands' tables are drawn in one pass when they can be, and then look exactly as rich draws them."""

from __future__ import annotations

import io

from hypothesis import given, settings
from hypothesis import strategies as st
from rich import box
from rich.table import Table

from coaltrace.cli.common import TextConsole
from coaltrace.cli.output import QuickTable, _laid_out
from tests.conftest import examples

# Ids, Chinese names, tonnes, empty cells, and the control characters a hostile file may carry.
CELL = st.lists(st.sampled_from([*"AZaz09_.-,> 煤场晋E山阴县—…", "\x1b", "\x07", "[/b]"]), max_size=10).map("".join)


def _table(header: list[str], rows: list[list[str]], right: set[int]) -> Table:
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for i, h in enumerate(header):
        table.add_column(h, overflow="fold", no_wrap=i == 0, justify="right" if i in right else "left")
    for r in rows:
        table.add_row(*r)
    return table


def _drawn(renderable: object, width: int) -> str:
    buf = io.StringIO()
    TextConsole(width=width, file=buf).print(renderable)
    return buf.getvalue()


@settings(max_examples=examples(500))
@given(
    st.integers(1, 6).flatmap(
        lambda n: st.tuples(
            st.lists(CELL, min_size=n, max_size=n),
            st.lists(st.lists(CELL, min_size=n, max_size=n), max_size=12),
            st.sets(st.integers(0, n - 1)),
        )
    ),
    st.integers(20, 200),
)
def test_a_quick_table_is_drawn_as_rich_draws_it(
    table: tuple[list[str], list[list[str]], set[int]], width: int
) -> None:
    header, rows, right = table
    assert _drawn(QuickTable(_table(header, rows, right)), width) == _drawn(_table(header, rows, right), width)


def test_a_table_that_does_not_fit_or_is_not_plain_is_left_to_rich() -> None:
    rows = [["finding-0001", "mine_over_capacity", "12,345.600"]] * 3
    plain = _table(["id", "rule", "tonnes"], rows, {2})
    console = TextConsole(width=200, file=io.StringIO())
    assert _laid_out(plain, console, 200) is not None
    assert _laid_out(plain, console, 30) is None  # too wide: rich folds the cells
    titled = _table(["id", "rule", "tonnes"], rows, {2})
    titled.title = "db"
    assert _laid_out(titled, console, 200) is None
    assert _drawn(QuickTable(plain), 30) == _drawn(_table(["id", "rule", "tonnes"], rows, {2}), 30)


def test_on_a_terminal_the_header_keeps_its_style() -> None:
    buf = io.StringIO()
    TextConsole(width=80, file=buf, force_terminal=True, color_system="standard").print(
        QuickTable(_table(["编号", "吨数"], [["A1", "1.000"]], {1}))
    )
    assert "\x1b[1m编号" in buf.getvalue() and "A1" in buf.getvalue()


def test_the_findings_of_a_province_month_are_drawn_at_once() -> None:
    # 5,000 findings: rich alone takes seconds; the quick path a few tens of milliseconds.
    import time

    rows = [
        [f"{i:016x}", "intake_without_trip_or_sale", "高", "入库", f"RK{i:012d}", "", "山阴县", "2021-12", f"{i:,.3f}"]
        for i in range(5000)
    ]
    table = _table(["问题编号", "规则", "级别", "对象", "对象编号", "单位", "县区", "期间", "涉及吨数"], rows, {8})
    started = time.perf_counter()
    text = _drawn(QuickTable(table), 200)
    assert time.perf_counter() - started < 1.0
    assert text.count("\n") == 5000 + 4 and "intake_without_trip_or_sale" in text
