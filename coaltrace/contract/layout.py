"""The contract's tables as Parquet files: the layout an engine beyond one machine reads.

`coaltrace export tables --format parquet` writes it from a store, and any
pipeline may write it (docs/contract.md, "Parquet layout"); `audit --engine
spark` reads it and checks it against the contract before anything runs.

    DIR/<table>/month=YYYY-MM/*.parquet   tables with a time column, one folder a month
    DIR/<table>/*.parquet                 the registers (facilities, licences, zones)
"""

from __future__ import annotations

from coaltrace.contract.tables import Table

# The folder level of a month (Hive-style `month=2021-12`); rows with no time go to `month=none`.
PARTITION = "month"
NO_MONTH = "none"
# Where each row came from: what a finding cites as evidence. Optional in a pipeline's files.
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (("_file", "string"), ("_sheet", "string"), ("_line", "int64"))
# Written beside the tables by `export tables`; a folder without it is never replaced.
MANIFEST = "tables.json"

PARQUET_TYPES: dict[str, str] = {
    "VARCHAR": "string (UTF-8)",
    "DOUBLE": "double (any integer, float or decimal is accepted)",
    "DATE": "date",
    "TIMESTAMP": "timestamp without time zone, China time (a zoned one is converted)",
}


def is_partitioned(table: Table) -> bool:
    """Does TABLE have one folder a month (it has a time column)?"""
    return table.time_column is not None
