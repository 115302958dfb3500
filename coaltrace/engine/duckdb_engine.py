"""The DuckDB engine: one machine, one file, the connection the store opened.

Rule queries run in the DuckDB sandbox (`coaltrace.rules.sandbox`): checked by
DuckDB's own parser and binder, on a connection locked away from files,
databases and settings, in a transaction always rolled back, under a time limit.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar

from coaltrace.engine.base import Engine, Params

if TYPE_CHECKING:
    import duckdb
    import polars as pl
    import pyarrow as pa


class DuckDBEngine(Engine):
    dialect: ClassVar[str] = "duckdb"
    supports_transactions: ClassVar[bool] = True
    supports_temp_views: ClassVar[bool] = True

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self._con = con

    def execute(self, sql: str, params: Params = None) -> None:
        # Fetched to the end: DuckDB refuses other work on a connection with an unfinished result.
        self._con.execute(sql, params if params is not None else []).fetchall()

    def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._con.executemany(sql, rows)

    def rows(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        return self._con.execute(sql, params if params is not None else []).fetchall()

    def query(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        cur = self._con.execute(sql, params if params is not None else [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def arrow(self, sql: str, params: Params = None) -> pa.Table:
        rel = self._con.sql(sql, params=params)
        assert rel is not None, "arrow() runs queries that return rows"
        return rel.to_arrow_table()

    def frame(self, sql: str, params: Params = None) -> pl.DataFrame:
        rel = self._con.sql(sql, params=params)
        assert rel is not None, "frame() runs queries that return rows"
        frame: pl.DataFrame = rel.pl()
        return frame

    def numpy(self, sql: str, params: Params = None) -> dict[str, Any]:
        return dict(self._con.execute(sql, params if params is not None else []).fetchnumpy())

    def create_view(self, name: str, sql: str, *, temporary: bool = True) -> None:
        temp = "TEMP " if temporary else ""
        self._con.execute(f"CREATE OR REPLACE {temp}VIEW {name} AS {self.render(sql)}")

    def register(self, name: str, data: pa.Table | pl.DataFrame) -> None:
        self._con.register(name, data)

    def unregister(self, name: str) -> None:
        self._con.unregister(name)

    def append(self, table: str, data: pa.Table) -> None:
        # A registered object stays alive until the transaction ends (DuckDB 2.0), so a load of many
        # files in one transaction would hold every file's rows in memory at once. A stream capsule
        # is read once and released as it is read.
        self._con.register("_append_rows", data.__arrow_c_stream__())
        try:
            self._con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _append_rows")
        finally:
            self._con.unregister("_append_rows")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self._con.execute("BEGIN TRANSACTION")
        try:
            yield
        except BaseException:
            self._con.execute("ROLLBACK")
            raise
        self._con.execute("COMMIT")

    def tables(self) -> set[str]:
        return {name for (name,) in self._con.execute("SELECT table_name FROM information_schema.tables").fetchall()}

    def run_rule(self, sql: str, views_read: Collection[str], timeout_s: float) -> pa.Table:
        from coaltrace.rules.sandbox import run_sandboxed

        return run_sandboxed(self._con, sql, views_read, timeout_s)
