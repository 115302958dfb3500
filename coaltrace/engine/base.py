"""The engine seam: one interface for the place where rows are worked on.

In the manner of sqlmesh's engine adapters: everything above this layer
(provenance, coverage, rules, findings, reports) speaks to an `Engine`, never
to a driver. An engine knows its SQL dialect and what it can do; rule and view
SQL is written once, in coaltrace's dialect (DuckDB's, kept to constructs
sqlglot carries to Spark), and `render` turns it into the engine's own.

The methods are the handful the rest of coaltrace needs: run a statement, read
a small result as rows or dicts, read a large one as Arrow or Polars, define a
view, hand the engine Arrow data under a name for the length of a block, and
group statements in a transaction where the engine has them.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

if TYPE_CHECKING:
    import numpy as np
    import polars as pl
    import pyarrow as pa

Params = Sequence[Any] | Mapping[str, Any] | None

# The dialect rule and view SQL is written in.
SOURCE_DIALECT = "duckdb"


def render_sql(sql: str, dialect: str) -> str:
    """SQL written in coaltrace's dialect, in DIALECT; raises where a construct has no form there."""
    if dialect == SOURCE_DIALECT:
        return sql
    import sqlglot
    from sqlglot.errors import ErrorLevel

    return ";\n".join(sqlglot.transpile(sql, read=SOURCE_DIALECT, write=dialect, unsupported_level=ErrorLevel.RAISE))


class Engine(ABC):
    """Where coaltrace's SQL runs. Subclasses: `coaltrace.engine.duckdb_engine.DuckDBEngine`."""

    dialect: ClassVar[str]
    supports_transactions: ClassVar[bool]
    supports_temp_views: ClassVar[bool]

    def render(self, sql: str) -> str:
        """SQL written in coaltrace's dialect, as this engine must be given it."""
        return render_sql(sql, self.dialect)

    @abstractmethod
    def execute(self, sql: str, params: Params = None) -> None:
        """Run a statement for its effect."""

    @abstractmethod
    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        """Run a statement once per row of values: for a handful of rows (a rule's test case), never data."""

    @abstractmethod
    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        """A small result as tuples (counts, a few facts): never for data."""

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """A small result as dicts: summaries, reports, a page."""
        frame = self.frame(sql, params)
        return frame.to_dicts()

    def first(self, sql: str, params: Params = None) -> tuple[Any, ...] | None:
        """The first row, or None."""
        rows = self.rows(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Params = None) -> Any:
        """The first column of the first row, or None."""
        rows = self.rows(sql, params)
        return rows[0][0] if rows else None

    @abstractmethod
    def arrow(self, sql: str, params: Params = None) -> pa.Table:
        """A result of any size, as Arrow: no Python object per row."""

    def frame(self, sql: str, params: Params = None) -> pl.DataFrame:
        import polars as pl

        frame = pl.from_arrow(self.arrow(sql, params))
        assert isinstance(frame, pl.DataFrame)
        return frame

    def numpy(self, sql: str, params: Params = None) -> dict[str, np.ndarray]:
        table = self.arrow(sql, params)
        return {name: table.column(name).to_numpy() for name in table.column_names}

    @abstractmethod
    def create_view(self, name: str, sql: str, *, temporary: bool = True) -> None:
        """Define NAME as SQL (in coaltrace's dialect), replacing any view of that name."""

    @abstractmethod
    def register(self, name: str, data: pa.Table | pl.DataFrame) -> None:
        """DATA readable by SQL as NAME until `unregister`: the engine reads it where it is, no copy."""

    @abstractmethod
    def unregister(self, name: str) -> None: ...

    @abstractmethod
    def append(self, table: str, data: pa.Table) -> None:
        """Add DATA's rows to TABLE, columns matched by name and cast to TABLE's types, in one pass.

        For rows that go in once (a file being loaded): unlike `register`, nothing of DATA is
        held once it is in, even inside a long transaction.
        """

    @contextmanager
    def registered(self, name: str, data: pa.Table | pl.DataFrame) -> Iterator[None]:
        """DATA readable by SQL as NAME for the length of the block."""
        self.register(name, data)
        try:
            yield
        finally:
            self.unregister(name)

    @abstractmethod
    @contextmanager
    def transaction(self) -> Iterator[None]:
        """All or nothing where the engine has transactions; a plain block where it has not."""

    @abstractmethod
    def tables(self) -> set[str]:
        """The tables and views SQL can name."""

    def has_table(self, name: str) -> bool:
        return name in self.tables()

    @abstractmethod
    def run_rule(self, sql: str, views_read: Collection[str], timeout_s: float) -> pa.Table:
        """A rule query's rows, in the engine's sandbox: it can read the views it names and nothing else."""


class Workspace(Protocol):
    """What an audit's steps work in: the store on one machine, a Spark session beyond it.

    Provenance, coverage, the rules and the figures need nothing but an engine to run SQL on.
    """

    @property
    def engine(self) -> Engine: ...
