"""The contract's tables as Spark reads them: the Parquet layout, checked before anything runs.

The layout is the contract's (`coaltrace.contract.layout`): one folder per
table, month folders (`month=YYYY-MM`) under the tables with a time column, as
`export tables --format parquet` writes it; a pipeline that writes the same
layout needs no coaltrace to do it. What is given is checked against the contract before any rule runs:

- a table's folder that is missing is read as an empty table, and the audit
  reports it as a data gap, as it does for an empty table on one machine;
- every contract column must be there, with a type that holds its values
  (text for text, a date for a date, an instant for an instant, any number
  for a number); a column that is missing or of another type is refused, with
  the table, the column and the file that has it;
- lineage (`_file`, `_sheet`, `_line`) is optional: without it, evidence
  cites the record ids alone.

Instants are read as China time: a zoned instant (Parquet's isAdjustedToUTC)
is converted, as the loader converts it, and a naive one is taken as it is.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from coaltrace.contract import TABLES, Kind, Table
from coaltrace.contract.layout import LINEAGE_COLUMNS
from coaltrace.errors import CoaltraceError, Location, UsageError

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession
    from pyspark.sql.types import DataType

_LINEAGE_TYPES = {name: {"string": "STRING", "int64": "BIGINT"}[kind] for name, kind in LINEAGE_COLUMNS}


class InputSchemaError(CoaltraceError):
    """A table given to the Spark engine does not fit the contract."""


@dataclass
class Inputs:
    """The tables read, and what the reading noticed."""

    root: str
    frames: dict[str, DataFrame] = field(default_factory=dict)
    missing: list[str] = field(default_factory=list)  # tables with no folder, read as empty


def _spark_type(kind: Kind) -> str:
    return {"VARCHAR": "STRING", "DOUBLE": "DOUBLE", "DATE": "DATE", "TIMESTAMP": "TIMESTAMP_NTZ"}[kind.sql_type]


def _fits(kind: Kind, given: DataType) -> bool:
    from pyspark.sql import types as T

    sql = kind.sql_type
    if sql == "VARCHAR":
        return isinstance(given, T.StringType | T.VarcharType | T.CharType)
    if sql == "DOUBLE":
        return isinstance(given, T.NumericType)
    if sql == "DATE":
        return isinstance(given, T.DateType)
    return isinstance(given, T.TimestampNTZType | T.TimestampType)


def _empty(spark: SparkSession, table: Table) -> DataFrame:
    columns = [f"`{c.name}` {_spark_type(c.kind)}" for c in table.columns]
    columns += [f"`{n}` {t}" for n, t in _LINEAGE_TYPES.items()]
    return spark.createDataFrame([], ", ".join(columns))


def is_local(root: str) -> bool:
    """A folder on this machine (a path, or file://), not one only the cluster reads (hdfs://, s3a://, ...)."""
    return "://" not in root or root.startswith("file://")


def _local_path(root: str) -> Path:
    return Path(root.removeprefix("file://"))


def _first_file(df: DataFrame, folder: str) -> str:
    files = sorted(df.inputFiles())
    return files[0].removeprefix("file://") if files else folder


def read_table(spark: SparkSession, root: str, table: Table) -> DataFrame | None:
    """TABLE's rows under ROOT, in the contract's column types; None when its folder is absent."""
    from pyspark.errors import PySparkException
    from pyspark.sql import functions as F
    from pyspark.sql import types as T

    folder = f"{root.rstrip('/')}/{table.name}"
    if is_local(root) and not _local_path(folder).is_dir():
        return None
    try:
        df = spark.read.option("basePath", folder).parquet(folder)
    except PySparkException as e:
        if not is_local(root) and e.getCondition() == "PATH_NOT_FOUND":
            return None
        raise InputSchemaError(
            f"table {table.name}: Spark cannot read its Parquet files: {str(e).strip().splitlines()[0]}",
            zh=f"数据表 {table.name}：Spark 无法读取其 Parquet 文件",
            location=Location(file=folder),
        ) from None
    where = Location(file=_first_file(df, folder))
    given = {f.name: f.dataType for f in df.schema.fields}
    problems: list[str] = []
    problems_zh: list[str] = []
    for column in table.columns:
        if column.name not in given:
            problems.append(f"column {column.name!r} is missing")
            problems_zh.append(f"缺少列 {column.name!r}")
        elif not _fits(column.kind, given[column.name]):
            problems.append(
                f"column {column.name!r} is {given[column.name].simpleString()}, "
                f"the contract needs {column.kind.sql_type.lower()}"
            )
            problems_zh.append(
                f"列 {column.name!r} 的类型为 {given[column.name].simpleString()}，应为 {column.kind.sql_type.lower()}"
            )
    if problems:
        raise InputSchemaError(
            f"table {table.name} does not fit the contract",
            zh=f"数据表 {table.name} 不符合数据规范",
            location=where,
            details=problems,
            details_zh=problems_zh,
            hint="docs/contract.md lists every table's columns and types; "
            "`coaltrace export tables --format parquet` writes this layout from a store.",
            hint_zh="各表的列和类型见 docs/contract.md；`coaltrace export tables --format parquet` 可从数据库导出此格式。",
        )
    columns = []
    for column in table.columns:
        value = F.col(f"`{column.name}`")
        if column.kind.sql_type == "TIMESTAMP" and isinstance(given[column.name], T.TimestampType):
            # A zoned instant, as China time (the session's zone), with no zone: what the loader keeps.
            value = value.cast("TIMESTAMP_NTZ")
        columns.append(value.cast(_spark_type(column.kind)).alias(column.name))
    for name, kind in _LINEAGE_TYPES.items():
        columns.append((F.col(f"`{name}`") if name in given else F.lit(None)).cast(kind).alias(name))
    return df.select(*columns)


def read_inputs(spark: SparkSession, root: str | Path) -> Inputs:
    """Every contract table under ROOT (a folder here, or a URI the cluster reads: hdfs://, s3a://, ...),
    checked; raises InputSchemaError on the first that does not fit."""
    root = str(root)
    if is_local(root) and not _local_path(root).is_dir():
        raise UsageError(
            f"{root}: no such folder",
            zh=f"{root}：目录不存在",
            hint="Give the folder `coaltrace export tables --format parquet --out DIR` wrote.",
            hint_zh="请指定 `coaltrace export tables --format parquet --out 目录` 写出的目录。",
        )
    inputs = Inputs(root=root)
    for table in TABLES.values():
        df = read_table(spark, root, table)
        if df is None:
            inputs.missing.append(table.name)
            df = _empty(spark, table)
        inputs.frames[table.name] = df
    if len(inputs.missing) == len(TABLES):
        raise UsageError(
            f"{root} holds none of the contract's tables",
            zh=f"{root} 中没有任何数据表",
            hint="Expected one folder per table (facilities, licences, sales, ...), as "
            "`coaltrace export tables --format parquet` writes them.",
            hint_zh="应为每张表一个子目录（facilities、licences、sales……），见 `coaltrace export tables --format parquet`。",
        )
    return inputs
