"""The one root exception, its subclasses, and the exit codes scripts rely on.

The library raises; only the CLI turns an error into a message and an exit code.
Every error that a user can cause says where (file, sheet, row, column, rule
file and line) and, where we know it, how to fix it.
"""

from __future__ import annotations

import errno
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1  # findings at or above --fail-on
    USAGE = 2  # bad option or argument, unknown facility or rule
    BAD_INPUT = 3  # a file or a rule that cannot be used
    STORE_BUSY = 4  # another process holds the database
    CANNOT_WRITE = 5  # the machine refused a write: disk full, no permission, read-only file system
    OUT_OF_MEMORY = 6  # the work needed more memory than it may use (--memory-limit) and could not spill
    INTERNAL = 70  # a bug: please report it with --debug output


@dataclass(frozen=True)
class Location:
    """Where a problem is. Every part is optional; str() prints what is known."""

    file: str | None = None
    sheet: str | None = None
    line: int | None = None
    column: str | None = None

    def render(self, lang: str = "en") -> str:
        zh = lang == "zh"
        parts: list[str] = []
        if self.file:
            where = self.file
            if self.sheet:
                where += f"[{self.sheet}]"
            if self.line is not None:
                where += f":{self.line}"
            parts.append(where)
        elif self.line is not None:
            parts.append(f"第 {self.line} 行" if zh else f"line {self.line}")
        if self.column:
            parts.append(f"列 {self.column!r}" if zh else f"column {self.column!r}")
        return "，".join(parts) if zh else ", ".join(parts)

    def __str__(self) -> str:
        return self.render("en")


class CoaltraceError(Exception):
    """Root of every error coaltrace raises on purpose."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(
        self,
        message: str,
        *,
        zh: str | None = None,
        location: Location | None = None,
        hint: str | None = None,
        hint_zh: str | None = None,
        details: list[str] | None = None,
        details_zh: list[str] | None = None,
        causes: list[CoaltraceError] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.zh = zh
        self.location = location
        self.hint = hint
        self.hint_zh = hint_zh
        self.details = details or []
        self.details_zh = details_zh or []
        self.causes = causes or []

    def render(self, lang: str = "en") -> str:
        """The message in LANG (zh or en), with where, details, causes and how to fix it."""
        zh = lang == "zh"
        where = self.location.render(lang) if self.location else ""
        text = (f"{where}：" if zh else f"{where}: ") if where else ""
        text += self.zh if zh and self.zh else self.message
        for d in self.details_zh if zh and self.details_zh else self.details:
            text += f"\n  - {d}"
        for c in self.causes:
            text += "\n  - " + c.render(lang).replace("\n", "\n    ")
        hint = self.hint_zh if zh and self.hint_zh else self.hint
        if hint:
            text += f"\n{hint}"
        return text

    def __str__(self) -> str:
        return self.render("en")


class UsageError(CoaltraceError):
    exit_code = ExitCode.USAGE


class InputFileError(CoaltraceError):
    """A file that cannot be loaded at all (missing, unreadable, unknown table)."""


class LoadRefusedError(CoaltraceError):
    """One or more files of a load call were refused; nothing of the call was kept."""


class RuleError(CoaltraceError):
    """A rule file that is wrong, or a rule query that fails."""


class StoreBusyError(CoaltraceError):
    exit_code = ExitCode.STORE_BUSY


class CannotWriteError(CoaltraceError):
    """The machine refused to write: no space left, no permission, a read-only file or file system."""

    exit_code = ExitCode.CANNOT_WRITE


class OutOfMemoryError(CoaltraceError):
    """The work needed more memory than the limit allows, and spilling to disk could not make up for it."""

    exit_code = ExitCode.OUT_OF_MEMORY


def out_of_memory(e: BaseException) -> OutOfMemoryError | None:
    """DuckDB's (or Python's) running out of memory as a message, or None. Whatever was being written
    was in a transaction and is rolled back: the store is as it was."""
    import duckdb

    if not isinstance(e, duckdb.OutOfMemoryException | MemoryError):
        return None
    text = (str(e).splitlines() or [type(e).__name__])[0]
    return OutOfMemoryError(
        f"out of memory: {text}",
        zh=f"内存不足：{text}",
        hint="Nothing was kept of the unfinished work. Allow more memory (--memory-limit 4GB, or "
        "$COALTRACE_MEMORY_LIMIT, or [engine] memory_limit), or point --temp-dir at a disk with room to spill.",
        hint_zh="未完成的部分没有保存。请调高内存上限（--memory-limit 4GB、环境变量 COALTRACE_MEMORY_LIMIT 或 "
        "[engine] memory_limit），或用 --temp-dir 指定一个空间充足的磁盘目录用于溢写。",
    )


_NO_SPACE = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)
_NO_PERMISSION = (errno.EACCES, errno.EPERM, errno.EROFS)
# How the C library says the same, in the text of DuckDB's errors (which carry no errno).
_NO_SPACE_TEXT = ("No space left on device", "Disk quota exceeded", "File too large")
_NO_PERMISSION_TEXT = ("Permission denied", "Read-only file system", "Operation not permitted")


def is_no_space(e: BaseException) -> bool:
    if isinstance(e, OSError) and e.errno is not None:
        return e.errno in _NO_SPACE
    return any(t in str(e) for t in _NO_SPACE_TEXT)


def refused_write(e: BaseException) -> CannotWriteError | None:
    """A write the machine refused (an OSError, or DuckDB's report of one) as a message, or None."""
    if isinstance(e, OSError):
        text = f"{e.filename}: {e.strerror}" if e.filename and e.strerror else str(e)
        permission = e.errno in _NO_PERMISSION
    else:
        text = str(e).splitlines()[0] if str(e) else type(e).__name__
        permission = any(t in text for t in _NO_PERMISSION_TEXT)
    if is_no_space(e):
        return CannotWriteError(
            f"no space left to write: {text}",
            zh=f"磁盘空间不足，无法写入：{text}",
            hint="Free some space on that disk, then run the command again; what it had not finished was not kept.",
            hint_zh="请在该磁盘上腾出空间后重新运行；未完成的部分没有保存。",
        )
    if permission:
        return CannotWriteError(
            f"not allowed to write: {text}",
            zh=f"没有写入权限：{text}",
            hint="Run it where you may write (another --db or --out), or ask for write access.",
            hint_zh="请换一个可写入的位置（--db 或 --out），或申请写入权限。",
        )
    return None


@dataclass(frozen=True)
class FieldProblem:
    """One thing wrong in a validated file (a rule or the config), at a key path."""

    loc: tuple[str | int, ...]
    en: str
    zh: str

    @property
    def where(self) -> str:
        return ".".join(str(p) for p in self.loc) or "(file)"

    def __iter__(self) -> Iterator[str]:  # where, en, zh: what a message needs
        return iter((self.where, self.en, self.zh))


_ZH_BY_TYPE = {
    "extra_forbidden": "未知的键（拼写错误？）",
    "missing": "缺少必填项",
}


def validation_problems(error: ValidationError) -> list[FieldProblem]:
    """A pydantic error as problems a person can act on: the key path and what is wrong, in en and zh.

    Rule files and the config file both report through this, so a misspelt key reads the same in both.
    """
    out = []
    for e in error.errors():
        en = str(e["msg"]).removeprefix("Value error, ")
        if e["type"] == "extra_forbidden":
            en = "unknown key (misspelt?)"
        out.append(FieldProblem(tuple(e["loc"]), en, _ZH_BY_TYPE.get(e["type"], f"取值有误：{en}")))
    return out
