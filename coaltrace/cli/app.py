"""The Typer application and its global options. Command modules add themselves to `app`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coaltrace import __version__
from coaltrace.cli.common import state
from coaltrace.config import default_lang, give_engine
from coaltrace.errors import UsageError

app = typer.Typer(
    name="coaltrace",
    help="Trace every tonne of coal back to a licensed mine; find the coal that has none. "
    "追溯每一吨煤的合法来源，发现无合法来源的煤炭。",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"coaltrace {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    lang: Annotated[
        str | None,
        typer.Option("--lang", help="Language of messages and reports: zh or en (default $COALTRACE_LANG or zh)."),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show the full traceback of an error.")] = False,
    memory_limit: Annotated[
        str | None,
        typer.Option(
            "--memory-limit",
            help="Memory the database engine may use, e.g. 2GB; beyond it, it spills to --temp-dir "
            "(default $COALTRACE_MEMORY_LIMIT, [engine] memory_limit, else a quarter of the memory, at most 1GiB).",
        ),
    ] = None,
    temp_dir: Annotated[
        Path | None,
        typer.Option(
            "--temp-dir",
            help="Folder to spill to beyond the memory limit: a disk with room "
            "(default $COALTRACE_TEMP_DIR, [engine] temp_dir, or DATABASE.tmp beside the database).",
        ),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    if lang is not None and lang.lower() not in ("zh", "en", "zh-cn"):
        raise typer.BadParameter("use zh or en", param_hint="--lang")
    state.lang = ("en" if lang.lower() == "en" else "zh") if lang else default_lang()
    state.debug = debug
    try:
        give_engine(memory_limit=memory_limit, temp_dir=temp_dir)
    except UsageError as e:
        raise typer.BadParameter(e.render(state.lang), param_hint="--memory-limit") from None
