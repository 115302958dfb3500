"""Identifier checks: the USCC check character (GB 32100-2015) and plates, in Python and in the SQL the rule views use."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import polars as pl
import pytest
import sqlglot

from coaltrace.contract.codes import plate_valid_sql, uscc_check_char, uscc_valid_sql


def _duck(expr: str, values: Sequence[str | None]) -> list[bool | None]:
    con = duckdb.connect()
    con.register("t", pl.DataFrame({"v": pl.Series(list(values), dtype=pl.String), "i": range(len(values))}))
    return [row[0] for row in con.execute(f"SELECT {expr} FROM t ORDER BY i").fetchall()]


def test_uscc_valid_sql() -> None:
    first17 = "91140500MA0K12345"
    good = first17 + uscc_check_char(first17)
    others = [first17 + c for c in "0123456789ABCDEFGHJKLMNPQRTUWXY" if first17 + c != good]
    assert _duck(uscc_valid_sql("v"), [good, None, good[:17], good + "0", good.lower(), "I" + good[1:]]) == [
        True,
        None,
        False,
        False,
        False,
        False,
    ]
    assert _duck(uscc_valid_sql("v"), others) == [False] * 30


def test_uscc_check_char_of_published_codes() -> None:
    # Codes printed on public business licences.
    for code in (
        "91350100M000100Y43",
        "91330100716105852F",
        "9144030071526726XG",
        "914403001922038216",
    ):
        assert uscc_check_char(code[:17]) == code[17]


def test_uscc_check_char_refuses_other_input() -> None:
    with pytest.raises(ValueError):
        uscc_check_char("91350100M000100I4")
    with pytest.raises(ValueError):
        uscc_check_char("9135")


def test_uscc_valid_sql_transpiles_to_spark() -> None:
    (spark,) = sqlglot.transpile(uscc_valid_sql("x"), read="duckdb", write="spark")
    assert "x" in spark


@pytest.mark.parametrize(
    ("plate", "valid"),
    [
        ("晋E12345", True),
        ("晋EA1234", True),
        ("晋ED12345", True),  # new-energy: six after the letter
        ("京AF12345", True),
        ("晋E1234挂", True),
        ("晋E123", False),
        ("晋E1234567", False),
        ("E12345", False),
        ("晋112345", False),
        ("X晋E12345", False),
        ("晋E·12345", False),  # not normalised
        (None, None),
    ],
)
def test_plate_valid_sql(plate: str | None, valid: bool | None) -> None:
    assert _duck(plate_valid_sql("v"), [plate]) == [valid]
