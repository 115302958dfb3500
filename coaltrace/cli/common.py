"""What every command shares: options, consoles, the error handler, JSON output.

Kept light: only typer and rich are imported here, so `coaltrace --help` is instant.

Everything printed to the terminal is text, never rich markup: facility names,
file names and error messages come from data, and `某煤场[/b]` must print as
itself, not crash the command. The consoles below have markup and emoji codes
off and show control characters (an escape sequence in a name could rewrite
the screen) as visible codes; our own styling is built as `rich.text.Text`.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, NoReturn, ParamSpec, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from coaltrace.config import default_lang
from coaltrace.errors import CoaltraceError, ExitCode, out_of_memory, refused_write
from coaltrace.i18n import Lang, catalogue, say


@dataclass
class State:
    lang: Lang = "zh"
    debug: bool = False


state = State(lang=default_lang())

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def printable(text: str) -> str:
    """TEXT with every control character but newline and tab shown as a visible code (ESC as \\x1b)."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


class TextConsole(Console):
    """A console that prints strings as they are: no markup, no emoji codes, no control characters."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(markup=False, emoji=False, highlight=False, **kwargs)

    def render_str(self, text: str, **kwargs: Any) -> Text:
        # Every string a table cell, a title or print() is given passes here.
        return super().render_str(printable(text), **kwargs)


def styled(text: str, style: str) -> Text:
    """Our own styling of a string that may carry data."""
    return Text(printable(text), style=style)


# stdout is for data, stderr for progress and messages. Piped into a file, tables get
# room for whole ids instead of the 80 columns rich assumes without a terminal.
out = TextConsole(width=None if sys.stdout.isatty() else 200)
err = TextConsole(stderr=True, soft_wrap=True)

DbOption = Annotated[
    Path | None,
    typer.Option("--db", help="Database file (default: $COALTRACE_DB or ./coaltrace.duckdb).", show_default=False),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON on stdout instead of a table.")]
QuietOption = Annotated[
    bool, typer.Option("--quiet", "-q", help="No progress and no summary on stderr; errors and warnings still.")
]

MESSAGES = catalogue(
    {
        "error": ("错误", "error"),
        "internal": (
            "内部错误：{error}。请加 --debug 重新运行，并把输出报告给维护者。",
            "internal error: {error}. Run again with --debug and report the output.",
        ),
    }
)

P = ParamSpec("P")
R = TypeVar("R")


def handle_errors(func: Callable[P, R]) -> Callable[P, R]:
    """Turn CoaltraceError into a red message and its exit code; --debug shows tracebacks.

    A write the machine refused (disk full, no permission) is the user's to fix, not a bug: it
    gets its message and exit code too. Anything else is a bug (exit 70).
    """

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return func(*args, **kwargs)
        except (typer.Exit, typer.Abort):
            raise
        except CoaltraceError as e:
            _fail(e)
        except KeyboardInterrupt:
            raise typer.Exit(130) from None
        except BrokenPipeError:
            # The reader stopped reading (`coaltrace findings -f csv | head`): nothing is wrong, and
            # Python must not complain about stdout again when it flushes it at exit.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            raise typer.Exit(0) from None
        except Exception as e:
            refused = refused_write(e) or out_of_memory(e)
            if refused is not None:
                _fail(refused)
            if state.debug:
                raise
            err.print(styled(say(MESSAGES, "internal", state.lang, error=repr(e)), "bold red"))
            raise typer.Exit(int(ExitCode.INTERNAL)) from None

    return wrapper


def _fail(e: CoaltraceError) -> NoReturn:
    if state.debug:
        traceback.print_exc()
    err.print(
        Text.assemble(styled(f"{say(MESSAGES, 'error', state.lang)}: ", "bold red"), printable(e.render(state.lang)))
    )
    raise typer.Exit(int(e.exit_code)) from None


def print_json(data: Any) -> None:
    from coaltrace.export.formats import plain

    sys.stdout.write(json.dumps(data, ensure_ascii=False, indent=2, default=plain) + "\n")
