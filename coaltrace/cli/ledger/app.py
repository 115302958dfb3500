"""The `coaltrace ledger` sub-app: the Typer group the ledger commands add themselves to.

It is its own module, as coaltrace/cli/app.py is for `coaltrace`, so the command
modules (items.py, lifecycle.py, review.py) import it without importing the
package that imports them.
"""

from __future__ import annotations

import typer

from coaltrace.cli.app import app

ledger_app = typer.Typer(
    help="The problem ledger (问题台账): items from the audit and from leads, followed to their closing. "
    "问题台账：登记、交办、整改、核查、销号、抽查、回头看。",
    no_args_is_help=True,
)
app.add_typer(ledger_app, name="ledger")
