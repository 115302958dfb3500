"""`export tables --format parquet`: the contract's tables as Parquet, by table and by month.

The layout is the contract's (`coaltrace.contract.layout`, docs/contract.md):

    DIR/<table>/month=YYYY-MM/part-0.parquet   tables with a time column
    DIR/<table>/part-0.parquet                 the registers (facilities, licences, zones)

Each file holds the table's contract columns, under their contract names and
types, and the lineage of each row (`_file`, `_sheet`, `_line`), which findings
cite as evidence. A month folder holds the rows whose time column falls in that
month (`power`: its own `month`); rows without one go to `month=none`.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from datetime import timedelta
from pathlib import Path

from coaltrace.contract import TABLES, Table
from coaltrace.contract.layout import LINEAGE_COLUMNS, MANIFEST, NO_MONTH, PARTITION, is_partitioned
from coaltrace.files import whole_folder
from coaltrace.period import Period
from coaltrace.store import Store

LINEAGE = tuple(name for name, _ in LINEAGE_COLUMNS)


@dataclass(frozen=True)
class TableExport:
    table: str
    rows: int
    months: int  # month folders written (0: a register, one file)


def _month_of(table: Table) -> str:
    if table.name == "power":
        return f"coalesce({PARTITION}, '{NO_MONTH}')"
    return f"coalesce(strftime(\"{table.time_column}\", '%Y-%m'), '{NO_MONTH}')"


def _select(table: Table, period: Period | None) -> str:
    columns = [f'"{c}"' for c in (*table.names, *LINEAGE) if not (c == PARTITION and table.name == "power")]
    sql = f"SELECT {', '.join(columns)}"
    if is_partitioned(table):
        sql += f", {_month_of(table)} AS {PARTITION}"
    sql += f" FROM {table.name}"
    if period is not None and is_partitioned(table):
        months = ", ".join(f"'{m}'" for m in months_around(period))
        sql += f" WHERE {_month_of(table)} IN ({months})"
    return sql


def _write_table(store: Store, target: Path, table: Table, period: Period | None) -> TableExport:
    sql = _select(table, period)
    rows = int(store.engine.scalar(f"SELECT count(*) FROM ({sql})") or 0)
    path = str(target).replace("'", "''")
    if not is_partitioned(table):
        target.mkdir()
        store.engine.execute(f"COPY ({sql}) TO '{path}/part-0.parquet' (FORMAT parquet)")
        return TableExport(table.name, rows, 0)
    if rows:
        store.engine.execute(
            f"COPY ({sql}) TO '{path}' (FORMAT parquet, PARTITION_BY ({PARTITION}), "
            "FILENAME_PATTERN 'part-{i}', OVERWRITE_OR_IGNORE)"
        )
    else:
        # An empty table keeps its columns and types: one file with no rows.
        (target / f"{PARTITION}={NO_MONTH}").mkdir(parents=True)
        empty = _select(table, None).replace(f", {_month_of(table)} AS {PARTITION}", "")
        store.engine.execute(
            f"COPY ({empty} LIMIT 0) TO '{path}/{PARTITION}={NO_MONTH}/part-0.parquet' (FORMAT parquet)"
        )
    return TableExport(table.name, rows, sum(1 for p in target.iterdir() if p.is_dir()))


def months_around(period: Period) -> list[str]:
    """The period's months and one on either side: an audit reads the opening stock counted on the
    last day before the period, and some rules look up a sale or trip across the period's edges."""
    before = (period.start - timedelta(days=1)).strftime("%Y-%m")
    return [before, *period.months, period.end.strftime("%Y-%m")]


def export_tables(store: Store, out: Path, period: Period | None = None) -> list[TableExport]:
    """Write every contract table under OUT (replacing what a previous export left there).

    PERIOD keeps the period's months and the month on either side (`months_around`), and the
    registers whole; None writes every month.
    The tables are written to a folder beside OUT and moved into place at the end
    (`coaltrace.files.whole_folder`), so a failed export leaves OUT as it was.
    """
    written: list[TableExport] = []
    with whole_folder(out, MANIFEST, what="a tables export", what_zh="导出的数据表目录") as work:
        for table in TABLES.values():
            written.append(_write_table(store, work / table.name, table, period))
        manifest = {
            "layout": "coaltrace tables 1",
            "period": period.label if period else None,
            "months": months_around(period) if period else None,
            "tables": [asdict(t) for t in written],
        }
        (work / MANIFEST).write_text(json.dumps(manifest, ensure_ascii=False, indent=2), encoding="utf-8")
    return written
