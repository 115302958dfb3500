"""What every command shares: options, consoles, the error handler, JSON output.

Kept light: only typer and rich are imported here, so `coaltrace --help` is instant.
"""

from __future__ import annotations

import functools
import json
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any, ParamSpec, TypeVar

import typer
from rich.console import Console

from coaltrace.errors import CoaltraceError, ExitCode
from coaltrace.i18n import Lang, default_lang, say


@dataclass
class State:
    lang: Lang = "zh"
    debug: bool = False


state = State(lang=default_lang())

# stdout is for data, stderr for progress and messages. Piped into a file, tables get
# room for whole ids instead of the 80 columns rich assumes without a terminal.
out = Console(highlight=False, width=None if sys.stdout.isatty() else 200)
err = Console(stderr=True, highlight=False, soft_wrap=True)

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Database file (default: $COALTRACE_DB or ./coaltrace.duckdb).", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")]

MESSAGES = {
    "error": ("错误", "error"),
    "internal": (
        "内部错误：{error}。请加 --debug 重新运行，并把输出报告给维护者。",
        "internal error: {error}. Run again with --debug and report the output.",
    ),
}

P = ParamSpec("P")
R = TypeVar("R")


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn CoaltraceError into a red message and its exit code; --debug shows tracebacks."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except CoaltraceError as e:
            if state.debug:
                traceback.print_exc()
            err.print(f"[bold red]{say(MESSAGES, 'error', state.lang)}:[/] ", end="")
            err.print(e.render(state.lang), markup=False, highlight=False)
            raise typer.Exit(int(e.exit_code)) from None
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except Exception as e:
            if state.debug:
                raise
            err.print(f"[bold red]{say(MESSAGES, 'internal', state.lang, error=repr(e))}[/]")
            raise typer.Exit(int(ExitCode.INTERNAL)) from None

    return wrapper


def _default(o: Any) -> Any:
    if isinstance(o, datetime | date):
        return o.isoformat()
    if hasattr(o, "model_dump"):
        return o.model_dump(mode="json")
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=_default) + "\n")
