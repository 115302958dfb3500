"""Small frames for the normalisation tests."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from coaltrace.contract import TABLES, Table
from coaltrace.ingest.normalise import normalise

TRANSPORTS = TABLES["transports"]
FACILITIES = TABLES["facilities"]
LICENCES = TABLES["licences"]
POWER = TABLES["power"]
GPS = TABLES["gps"]


def raw_frame(**columns: Sequence[str | None]) -> pl.DataFrame:
    n = len(next(iter(columns.values())))
    return pl.DataFrame(
        {
            **{k: pl.Series(list(v), dtype=pl.String) for k, v in columns.items()},
            "_line": range(2, n + 2),
        },
        schema_overrides={"_line": pl.Int64},
    )


def one_column(
    table: Table, column: str, cells: Sequence[str | None], unit: str | None = None
) -> tuple[pl.Series, pl.DataFrame]:
    """The typed column, and the problems found in that column only."""
    typed, problems = normalise(raw_frame(**{column: cells}), table, {column: unit})
    return typed[column], problems.filter(pl.col("column") == column)


def reasons_by_line(problems: pl.DataFrame) -> dict[int, str]:
    return dict(zip(problems["_line"].to_list(), problems["reason"].to_list(), strict=True))
