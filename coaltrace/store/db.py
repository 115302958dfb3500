"""The one place that opens DuckDB: path resolution, schema, locking, transactions.

Rules, reports and the loader ask a `Store` for its connection; none of them
open their own.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coaltrace.errors import CoaltraceError, StoreBusyError, UsageError
from coaltrace.paths import DEFAULT_DB
from coaltrace.store.schema import full_ddl

if TYPE_CHECKING:
    import duckdb

SCHEMA_VERSION = "1"


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--db, else $COALTRACE_DB, else ./coaltrace.duckdb."""
    return Path(explicit or os.environ.get("COALTRACE_DB") or DEFAULT_DB)


class Store:
    """An open coaltrace database. Use as a context manager, or call close()."""

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, read_only: bool = False, must_exist: bool = False
    ) -> None:
        import duckdb

        self.path = resolve_db_path(path)
        if (read_only or must_exist) and str(self.path) != ":memory:" and not self.path.exists():
            raise UsageError(
                f"no coaltrace database at {self.path}",
                zh=f"{self.path} 处没有 coaltrace 数据库",
                hint="Load data first (`coaltrace load FILES`), or point --db / COALTRACE_DB at the database.",
                hint_zh="请先载入数据（coaltrace load 文件），或用 --db / COALTRACE_DB 指定数据库。",
            )
        if self.path.is_dir():
            raise UsageError(
                f"{self.path} is a folder, not a database file",
                zh=f"{self.path} 是文件夹，不是数据库文件",
                hint=f"Name a file, e.g. --db {self.path / 'coaltrace.duckdb'}.",
                hint_zh=f"请指定一个文件，如 --db {self.path / 'coaltrace.duckdb'}。",
            )
        try:
            self.con: duckdb.DuckDBPyConnection = duckdb.connect(
                str(self.path),
                read_only=read_only,
                config={"autoload_known_extensions": False, "autoinstall_known_extensions": False},
            )
        except duckdb.IOException as e:
            if "lock" in str(e).lower():
                raise StoreBusyError(
                    f"the database {self.path} is in use by another coaltrace process",
                    zh=f"数据库 {self.path} 正被另一个 coaltrace 进程使用",
                    hint="Wait for the other load or audit to finish, then run this again.",
                    hint_zh="请等另一个载入或审计结束后再运行。",
                ) from None
            raise CoaltraceError(
                f"cannot open the database {self.path}: {e}", zh=f"无法打开数据库 {self.path}：{e}"
            ) from None
        if not read_only:
            self.con.execute(full_ddl())
            self._stamp_version()

    def _stamp_version(self) -> None:
        row = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        if row is None:
            self.con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])

    @contextmanager
    def transaction(self) -> Iterator[duckdb.DuckDBPyConnection]:
        """All or nothing: commit when the block ends, roll back if it raises."""
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.con
        except BaseException:
            self.con.execute("ROLLBACK")
            raise
        self.con.execute("COMMIT")

    def query(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Rows as dicts: for small results (summaries, reports), never for data."""
        cur = self.con.execute(sql, params or [])
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
