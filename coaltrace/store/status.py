"""What the store holds: rows and date range per table, files loaded, quarantine."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel

from coaltrace.contract import TABLES
from coaltrace.store.db import Store


class LoadedFile(BaseModel):
    file: str
    sha256: str
    loaded_at: datetime
    sheet: str | None
    rows_loaded: int


class TableStatus(BaseModel):
    rows: int
    revisions: int
    first: str | None  # earliest value of the table's time column
    last: str | None
    files: list[LoadedFile]


class StoreStatus(BaseModel):
    db: str
    tables: dict[str, TableStatus]
    quarantine: dict[str, int]  # source file name -> quarantined rows


def store_status(store: Store) -> StoreStatus:
    tables: dict[str, TableStatus] = {}
    for t in TABLES.values():
        rows = int(store.engine.scalar(f"SELECT count(*) FROM {t.name}"))
        revs = int(store.engine.scalar(f"SELECT count(*) FROM {t.name}_revisions"))
        first = last = None
        if t.time_column and rows:
            lo, hi = store.engine.rows(f'SELECT min("{t.time_column}"), max("{t.time_column}") FROM {t.name}')[0]
            first, last = str(lo), str(hi)
        files = [
            LoadedFile(**r)
            for r in store.query(
                "SELECT file, sha256, loaded_at, sheet, rows_loaded FROM loaded_files "
                "WHERE table_name = ? ORDER BY loaded_at, file",
                [t.name],
            )
        ]
        tables[t.name] = TableStatus(rows=rows, revisions=revs, first=first, last=last, files=files)
    quarantine = {
        r["file"]: r["n"]
        for r in store.query(
            "SELECT file, count(DISTINCT (sheet, line)) AS n FROM quarantine GROUP BY file ORDER BY file"
        )
    }
    return StoreStatus(db=str(store.path), tables=tables, quarantine=quarantine)


def quarantined_rows(store: Store, *, file: str | None = None, limit: int | None = None) -> list[dict[str, object]]:
    sql = (
        "SELECT table_name, file, sheet, line, column_name, raw_value, reason FROM quarantine"
        + (" WHERE file = ?" if file else "")
        + " ORDER BY file, sheet, line, column_name"
        + (f" LIMIT {int(limit)}" if limit else "")
    )
    return store.query(sql, [file] if file else [])
