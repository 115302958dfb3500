"""`coaltrace ledger ...`: the problem ledger (问题台账), from finding to closed item.

list | show | history (items.py: reading the ledger) | add | update | close | dismiss |
reopen (lifecycle.py: one item's life) | sample | lookback | export | import | verify
(review.py: the city's review). The sub-app is in app.py, the shared options and
parsers in options.py, the bilingual messages in words.py. Importing this package
registers every command on `ledger_app`.
"""

from __future__ import annotations

# The order of these imports is the order `coaltrace ledger --help` lists the commands in.
# isort: off
from coaltrace.cli.ledger import items as _items  # noqa: F401
from coaltrace.cli.ledger import lifecycle as _lifecycle  # noqa: F401
from coaltrace.cli.ledger import review as _review  # noqa: F401

# isort: on
from coaltrace.cli.ledger.app import ledger_app

__all__ = ["ledger_app"]
