"""The one place that opens DuckDB: path resolution, schema, locking, transactions.

Rules, reports and the loader ask a `Store` for its connection; none of them
open their own.

A store opened for writing only ever writes into a coaltrace database: a DuckDB
file with tables but without coaltrace's stamp is refused before anything is
written to it. Commands that only read open the store read-only, so they work
on a read-only file and beside another process's read-only connection.

When the disk fills up, what was being written is given back: a transaction
that fails rolls back and the file is cut back to the size it had when the
transaction began (DuckDB writes large inserts straight into the file, beyond
its end, before they commit). DuckDB folds its log (`.wal`) into the file only
when the store closes, never on its own at shutdown, so a fold that runs out of
space is cut back the same way and the log is kept for the next time.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coaltrace.config import default_db, default_memory_limit, engine_settings
from coaltrace.engine.duckdb_engine import DuckDBEngine
from coaltrace.errors import CannotWriteError, CoaltraceError, StoreBusyError, UsageError, is_no_space, refused_write
from coaltrace.store.schema import full_ddl, upgrade_sql

if TYPE_CHECKING:
    import duckdb

    from coaltrace.config import EngineSettings

SCHEMA_VERSION = "1"

# DuckDB says who holds the lock: `Conflicting lock is held in /usr/bin/python3 (PID 4242) by user ann`.
_HOLDER = re.compile(r"held in (?P<program>.+?) \(PID (?P<pid>\d+)\)(?: by user (?P<user>\S+))?")


def resolve_db_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """--db, else $COALTRACE_DB, else ./coaltrace.duckdb."""
    return default_db(explicit)


def _busy(path: Path, message: str) -> StoreBusyError:
    m = _HOLDER.search(message)
    if m:
        who = f"PID {m['pid']}, {m['program']}" + (f", user {m['user']}" if m["user"] else "")
        return StoreBusyError(
            f"the database {path} is in use by another process ({who})",
            zh=f"数据库 {path} 正被另一个进程使用（{who}）",
            hint="Wait for it to finish (or close it), then run this again. "
            "Reading commands can share the database with other readers, not with a writer.",
            hint_zh="请等该进程结束（或将其关闭）后再运行。只读的命令可以与其他只读连接同时使用数据库，但不能与写入的进程同时使用。",
        )
    return StoreBusyError(
        f"the database {path} is in use by another process",
        zh=f"数据库 {path} 正被另一个进程使用",
        hint="Wait for the other load or audit to finish, then run this again.",
        hint_zh="请等另一个载入或审计结束后再运行。",
    )


class Store:
    """An open coaltrace database. Use as a context manager, or call close()."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        read_only: bool = False,
        must_exist: bool = False,
        settings: EngineSettings | None = None,
    ) -> None:
        """SETTINGS: memory limit, spill folder and threads (default: `coaltrace.config.engine_settings`,
        the config file's [engine], the environment and the command line)."""
        import duckdb

        self.path = resolve_db_path(path)
        self.read_only = read_only
        self.on_disk = str(self.path) != ":memory:"
        if (read_only or must_exist) and self.on_disk and not self.path.exists():
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
        if self.on_disk and not read_only:
            self._check_writable()
        try:
            self.con: duckdb.DuckDBPyConnection = duckdb.connect(
                str(self.path),
                read_only=read_only,
                config={"autoload_known_extensions": False, "autoinstall_known_extensions": False},
            )
        except duckdb.Error as e:
            raise self._cannot_open(e) from None
        # Everything above the store speaks to the engine; only the store and the engine hold the connection.
        self.engine = DuckDBEngine(self.con)
        self._open = True
        try:
            self._apply(settings if settings is not None else engine_settings())
            self._check_ours()
            if not read_only:
                self._no_checkpoint_on_shutdown()
                with self.transaction() as engine:
                    engine.execute(full_ddl())
                    self._upgrade_columns()
                    self._stamp_version()
        except BaseException:
            self.con.close()
            self._open = False
            raise

    def _apply(self, settings: EngineSettings) -> None:
        """DuckDB keeps to the memory limit by spilling to the temp folder (a disk with room, not memory);
        without a limit given, `default_memory_limit` (DuckDB's own would be 80% of the machine)."""
        [(locked,)] = self.con.execute("SELECT current_setting('lock_configuration')").fetchall()
        if locked:  # a rule sandbox of this process holds the database: it runs with the settings it was given
            return
        # DuckDB draws a progress bar on stdout during a long query: stdout is for data (--json, csv).
        self.con.execute("SET enable_progress_bar = false")
        limit = settings.memory_limit or default_memory_limit()
        self.con.execute("SET memory_limit = ?", [limit.replace(" ", "")])
        if settings.temp_dir is not None:
            self.con.execute("SET temp_directory = ?", [str(settings.temp_dir)])
        if settings.threads:
            self.con.execute(f"SET threads = {int(settings.threads)}")

    def _no_checkpoint_on_shutdown(self) -> None:
        """Folding the log into the file happens in close(), where running out of space can be handled."""
        if not self.on_disk:
            return
        [(locked,)] = self.con.execute("SELECT current_setting('lock_configuration')").fetchall()
        # Locked by a rule sandbox on another connection of this process, after its store had done the same.
        if not locked:
            self.con.execute("PRAGMA disable_checkpoint_on_shutdown")

    def _check_writable(self) -> None:
        folder = self.path.parent
        if self.path.exists() and not os.access(self.path, os.W_OK):
            raise CannotWriteError(
                f"the database file {self.path} is read-only",
                zh=f"数据库文件 {self.path} 是只读的",
                hint="This command writes to the database: run it on a copy you may write, or ask for write access.",
                hint_zh="该命令需要写入数据库：请在可写的副本上运行，或申请写入权限。",
            )
        if not os.access(folder, os.W_OK | os.X_OK):
            raise CannotWriteError(
                f"cannot write in the folder {folder}, where the database keeps its log ({self.path.name}.wal)",
                zh=f"无法写入文件夹 {folder}（数据库需要在此写入日志 {self.path.name}.wal）",
                hint="Put the database in a folder you may write (--db), or ask for write access to this one.",
                hint_zh="请把数据库放在可写入的文件夹中（--db），或申请该文件夹的写入权限。",
            )

    def _cannot_open(self, e: Exception) -> CoaltraceError:
        text = str(e)
        if "lock" in text.lower():
            return _busy(self.path, text)
        if "not a valid DuckDB database file" in text:
            return UsageError(
                f"{self.path} is not a DuckDB database",
                zh=f"{self.path} 不是 DuckDB 数据库",
                hint="Point --db / COALTRACE_DB at the database `coaltrace load` wrote.",
                hint_zh="请用 --db / COALTRACE_DB 指向由 coaltrace load 生成的数据库。",
            )
        refused = refused_write(e)
        if refused is not None:
            return refused
        return CoaltraceError(
            f"cannot open the database {self.path}: {text.splitlines()[0]}",
            zh=f"无法打开数据库 {self.path}：{text.splitlines()[0]}",
        )

    def _check_ours(self) -> None:
        """Refuse a DuckDB file another program made, before anything is written to it."""
        names = [
            r[0]
            for r in self.con.execute(
                "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database() AND NOT temporary "
                "UNION ALL SELECT view_name FROM duckdb_views() "
                "WHERE database_name = current_database() AND NOT temporary AND NOT internal"
            ).fetchall()
        ]
        if not names and not self.read_only:
            return
        stamped = False
        if "meta" in names:
            try:
                stamped = bool(
                    self.con.execute("SELECT 1 FROM meta WHERE key = 'schema_version' AND value IS NOT NULL").fetchall()
                )
            except Exception:  # a `meta` of another shape is not ours either
                stamped = False
        if stamped:
            return
        held = ", ".join(sorted(names)[:5]) + (", ..." if len(names) > 5 else "")
        raise UsageError(
            f"{self.path} is a DuckDB database, but not a coaltrace one"
            + (f" (it holds {held}); coaltrace writes nothing into it" if names else ""),
            zh=f"{self.path} 是 DuckDB 数据库，但不是 coaltrace 数据库"
            + (f"（其中有 {held}）；coaltrace 不会向其中写入任何内容" if names else ""),
            hint="Point --db / COALTRACE_DB at the database `coaltrace load` wrote, or at a new file.",
            hint_zh="请用 --db / COALTRACE_DB 指向由 coaltrace load 生成的数据库，或一个新文件。",
        )

    def _upgrade_columns(self) -> None:
        """Give the tables of a database made by an older coaltrace the contract's newer columns."""
        columns: dict[str, list[str]] = {}
        for table, column in self.con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
        ).fetchall():
            columns.setdefault(table, []).append(column)
        for statement in upgrade_sql(columns):
            self.con.execute(statement)

    def _stamp_version(self) -> None:
        row = self.con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
        if not row:
            self.con.execute("INSERT INTO meta VALUES ('schema_version', ?)", [SCHEMA_VERSION])

    def _size(self) -> int | None:
        try:
            return self.path.stat().st_size if self.on_disk and not self.read_only else None
        except OSError:
            return None

    def _give_back(self, size: int | None) -> None:
        """Close, and cut the file back to SIZE: what lies beyond was written by what just failed, and nothing
        refers to it (DuckDB writes a checkpoint's header last, and a transaction's blocks count once it commits).

        Only when this was the database's last connection: with another one open in this process, DuckDB
        still counts those blocks as its own free ones, and gives them back itself at its next checkpoint.
        """
        import duckdb

        try:
            [(connections,)] = self.con.execute("SELECT * FROM duckdb_connection_count()").fetchall()
        except duckdb.Error:
            connections = 1
        self.con.close()
        self._open = False
        now = self._size()
        if connections == 1 and size is not None and now is not None and now > size:
            os.truncate(self.path, size)

    @contextmanager
    def transaction(self) -> Iterator[DuckDBEngine]:
        """All or nothing: commit when the block ends, roll back if it raises.

        Out of disk space, the store is closed and its file cut back to where it was, and
        CannotWriteError says so; the store cannot be used after that.
        """
        size = self._size()
        self.con.execute("BEGIN TRANSACTION")
        try:
            yield self.engine
        except BaseException as e:
            self._rollback()
            if is_no_space(e):
                self._give_back(size)
                raise (refused_write(e) or e) from None
            raise
        try:
            self.con.execute("COMMIT")
        except Exception as e:
            # DuckDB rolls back a commit it could not write.
            if is_no_space(e):
                self._give_back(size)
                raise (refused_write(e) or e) from None
            raise

    def _rollback(self) -> None:
        import duckdb

        try:
            self.con.execute("ROLLBACK")
        except duckdb.Error:
            # After a failed write DuckDB may have rolled back already, or refuse all work until closed.
            pass

    def query(self, sql: str, params: list[Any] | None = None) -> list[dict[str, Any]]:
        """Rows as dicts: for small results (summaries, reports), never for data."""
        return self.engine.query(sql, params)

    def close(self) -> None:
        """Fold the log into the file and close. Out of space, the log is kept and CannotWriteError raised."""
        if not self._open:
            return
        if self.read_only or not self.on_disk:
            self.con.close()
            self._open = False
            return
        size = self._size()
        try:
            self.con.execute("CHECKPOINT")
        except Exception as e:
            refused = refused_write(e)
            if refused is None:
                self.con.close()
                self._open = False
                raise
            if is_no_space(e):
                self._give_back(size)
            else:
                self.con.close()
                self._open = False
            raise CannotWriteError(
                f"{refused.message}; the database {self.path} could not take in its log, which is kept "
                f"({self.path.name}.wal) and read again the next time the database is opened",
                zh=f"{refused.zh}；数据库 {self.path} 无法并入日志，日志（{self.path.name}.wal）已保留，下次打开时会再次读入",
                hint=refused.hint,
                hint_zh=refused.hint_zh,
            ) from None
        self.con.close()
        self._open = False

    def __enter__(self) -> Store:
        return self

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc is None:
            self.close()
            return
        # Already failing: close without letting a second error hide the first.
        try:
            self.close()
        except CoaltraceError:
            pass
