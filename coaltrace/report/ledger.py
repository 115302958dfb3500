"""The problem ledger's part of the report: what the store holds of it for a period.

The report asks this one function; the ledger's own module will answer it with its
items and their follow-up. Until a store has ledger tables the section says there
is no ledger yet; a store that has them is shown as it is: each `ledger*` table's
rows of the period (all of them, when the table has no period), counted by status.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from coaltrace.numbers import tidy
from coaltrace.period import Period
from coaltrace.store import Store

# Enough for a county's ledger on paper; the count says how many more the table holds.
LEDGER_ROWS = 500


class LedgerTable(BaseModel):
    name: str
    columns: list[str]
    rows: list[dict[str, Any]]
    total: int
    by_status: dict[str, int] = {}


class LedgerState(BaseModel):
    tables: list[LedgerTable] = []

    @property
    def exists(self) -> bool:
        return bool(self.tables)


def ledger_state(store: Store, period: Period) -> LedgerState:
    """The ledger of PERIOD as the store holds it; no tables when there is no ledger yet."""
    names = [
        n
        for (n,) in store.engine.rows(
            "SELECT table_name FROM information_schema.tables WHERE table_name LIKE 'ledger%' "
            "AND table_type = 'BASE TABLE' AND table_name NOT LIKE '%\\_revisions' ESCAPE '\\' ORDER BY 1"
        )
    ]
    tables = []
    for name in names:
        columns = [
            c
            for (c,) in store.engine.rows(
                "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                [name],
            )
        ]
        where, params = ("WHERE period = ?", [period.label]) if "period" in columns else ("", [])
        total = int(store.engine.scalar(f'SELECT count(*) FROM "{name}" {where}', params))
        rows = store.query(f'SELECT * FROM "{name}" {where} LIMIT {LEDGER_ROWS}', params)
        by_status = (
            {
                str(s): int(n)
                for s, n in store.engine.rows(
                    f'SELECT status, count(*) FROM "{name}" {where} GROUP BY 1 ORDER BY 2 DESC, 1', params
                )
            }
            if "status" in columns
            else {}
        )
        tables.append(LedgerTable(name=name, columns=columns, rows=tidy(rows), total=total, by_status=by_status))
    return LedgerState(tables=tables)
