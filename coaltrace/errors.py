"""The one root exception, its subclasses, and the exit codes scripts rely on.

The library raises; only the CLI turns an error into a message and an exit code.
Every error that a user can cause says where (file, sheet, row, column, rule
file and line) and, where we know it, how to fix it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class ExitCode(IntEnum):
    OK = 0
    FINDINGS = 1  # findings at or above --fail-on
    USAGE = 2  # bad option or argument, unknown facility or rule
    BAD_INPUT = 3  # a file or a rule that cannot be used
    STORE_BUSY = 4  # another coaltrace process holds the database
    INTERNAL = 70  # a bug: please report it with --debug output


@dataclass(frozen=True)
class Location:
    """Where a problem is. Every part is optional; str() prints what is known."""

    file: str | None = None
    sheet: str | None = None
    line: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        parts: list[str] = []
        if self.file:
            where = self.file
            if self.sheet:
                where += f"[{self.sheet}]"
            if self.line is not None:
                where += f":{self.line}"
            parts.append(where)
        elif self.line is not None:
            parts.append(f"line {self.line}")
        if self.column:
            parts.append(f"column {self.column!r}")
        return ", ".join(parts)


class CoaltraceError(Exception):
    """Root of every error coaltrace raises on purpose."""

    exit_code: ExitCode = ExitCode.BAD_INPUT

    def __init__(
        self,
        message: str,
        *,
        location: Location | None = None,
        hint: str | None = None,
        details: list[str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.location = location
        self.hint = hint
        self.details = details or []

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location and str(self.location) else ""
        text = where + self.message
        for d in self.details:
            text += f"\n  - {d}"
        if self.hint:
            text += f"\n{self.hint}"
        return text


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
