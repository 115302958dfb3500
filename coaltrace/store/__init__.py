"""The embedded DuckDB store."""

from coaltrace.store.db import Store, resolve_db_path

__all__ = ["Store", "resolve_db_path"]
