"""The `coaltrace` command: parse arguments, make one library call, render, exit.

Each command lives in its own module under coaltrace/cli/ and adds itself to
`app` (coaltrace/cli/app.py) when imported below. Heavy libraries are imported
inside the commands, so `coaltrace --help` stays instant.
"""

from __future__ import annotations

from coaltrace.cli import audit as _audit  # noqa: F401
from coaltrace.cli import demo as _demo  # noqa: F401
from coaltrace.cli import export as _export  # noqa: F401
from coaltrace.cli import ledger as _ledger  # noqa: F401
from coaltrace.cli import load as _load  # noqa: F401
from coaltrace.cli import query as _query  # noqa: F401
from coaltrace.cli import report as _report  # noqa: F401
from coaltrace.cli import rules as _rules  # noqa: F401
from coaltrace.cli import sample as _sample  # noqa: F401
from coaltrace.cli import spark as _spark  # noqa: F401
from coaltrace.cli import trace as _trace  # noqa: F401
from coaltrace.cli import yard as _yard  # noqa: F401
from coaltrace.cli.app import app


def main() -> None:
    app()


__all__ = ["app", "main"]
