"""The data contract: the tables coaltrace accepts, as pydantic models."""

from coaltrace.contract.tables import TABLES, Column, Kind, Table, table_named

__all__ = ["TABLES", "Column", "Kind", "Table", "table_named"]
