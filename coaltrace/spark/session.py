"""The Spark session an audit runs on: local, a cluster master, or Spark Connect.

The settings that make Spark read the data as DuckDB does are fixed, whatever
else is passed: instants without a zone, in China time; month folders read as
text; no ANSI errors where DuckDB gives NULL; Arrow between Spark and Python.
Everything else (`spark.executor.memory`, `spark.sql.shuffle.partitions`, a
cluster's own settings) passes through with `--conf KEY=VALUE`, or comes from
`spark-defaults.conf` and `spark-submit` as for any Spark application.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from coaltrace.errors import CoaltraceError, ExitCode, UsageError

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

# How Spark must read the contract to give DuckDB's answers (not overridable).
SEMANTICS: dict[str, str] = {
    "spark.sql.session.timeZone": "Asia/Shanghai",
    "spark.sql.timestampType": "TIMESTAMP_NTZ",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
    "spark.sql.sources.partitionColumnTypeInference.enabled": "false",
    "spark.sql.ansi.enabled": "false",
    "spark.sql.execution.arrow.pyspark.enabled": "true",
}
# Sensible on one machine; a cluster's own settings win.
LOCAL_DEFAULTS: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.sql.shuffle.partitions": "8",
    "spark.driver.memory": "2g",
    "spark.sql.adaptive.enabled": "true",
    "spark.ui.showConsoleProgress": "false",
}
# Spark's log on a local run: errors only (a file shipped with coaltrace, read by the JVM it starts).
LOG_CONFIG = Path(__file__).with_name("log4j2.properties")
INSTALL_HINT = "pip install 'coaltrace[spark]'"


class SparkUnavailableError(CoaltraceError):
    """Spark cannot be started here: what to install or where to point it."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True)
class SparkSettings:
    """Where the audit runs: MASTER (local[*], yarn, spark://host:7077, k8s://...) or REMOTE (sc://host:15002)."""

    master: str | None = None
    remote: str | None = None
    conf: Mapping[str, str] = field(default_factory=dict)
    app_name: str = "coaltrace audit"

    @property
    def local(self) -> bool:
        return self.remote is None and (self.master is None or self.master.startswith("local"))


def parse_conf(pairs: list[str]) -> dict[str, str]:
    """`--conf KEY=VALUE` options as a mapping; a pair without `=` or a key outside spark.* is refused."""
    conf: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        key = key.strip()
        if not sep or not key.startswith("spark."):
            raise UsageError(
                f"--conf {pair!r}: give a Spark setting as spark.KEY=VALUE",
                zh=f"--conf {pair!r}：请写成 spark.键=值",
            )
        if key in SEMANTICS and value.strip() != SEMANTICS[key]:
            raise UsageError(
                f"--conf {key}: coaltrace sets it to {SEMANTICS[key]} so that Spark reads the data as DuckDB does",
                zh=f"--conf {key}：此项固定为 {SEMANTICS[key]}，以保证与 DuckDB 结果一致",
            )
        conf[key] = value.strip()
    return conf


@contextmanager
def session(settings: SparkSettings) -> Iterator[SparkSession]:
    """A session for the block: stopped at its end if this block started it (a caller's own stays up)."""
    existing = _active()
    spark = start(settings)
    try:
        yield spark
    finally:
        if existing is None:
            spark.stop()


def _active() -> SparkSession | None:
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        return None
    return SparkSession.getActiveSession()


def start(settings: SparkSettings) -> SparkSession:
    """A Spark session with SETTINGS, or a message that says what is missing."""
    try:
        from pyspark.errors import PySparkException
        from pyspark.sql import SparkSession
    except ImportError:
        raise SparkUnavailableError(
            "the Spark engine needs pyspark, which is not installed",
            zh="Spark 引擎需要 pyspark，当前未安装",
            hint=f"Install it with: {INSTALL_HINT} (and Java 17 or later for a local run).",
            hint_zh=f"请安装：{INSTALL_HINT}（本机运行还需 Java 17 及以上）。",
        ) from None
    import pyspark

    if int(pyspark.__version__.split(".")[0]) < 4:
        raise SparkUnavailableError(
            f"the Spark engine needs pyspark 4 or later, this machine has {pyspark.__version__}",
            zh=f"Spark 引擎需要 pyspark 4 及以上版本，当前为 {pyspark.__version__}",
            hint=f"Upgrade it with: {INSTALL_HINT}",
            hint_zh=f"请升级：{INSTALL_HINT}",
        )
    builder = SparkSession.builder.appName(settings.app_name)
    if settings.remote:
        builder = builder.remote(settings.remote)
    else:
        builder = builder.master(settings.master or "local[*]")
    local = LOCAL_DEFAULTS | {"spark.driver.extraJavaOptions": f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}"}
    conf = (local if settings.local else {}) | dict(settings.conf) | SEMANTICS
    for key, value in conf.items():
        builder = builder.config(key, value)
    try:
        spark = builder.getOrCreate()
    except (PySparkException, RuntimeError, OSError) as e:
        where = settings.remote or settings.master or "local[*]"
        raise SparkUnavailableError(
            f"Spark did not start ({where}): {str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__}",
            zh=f"Spark 未能启动（{where}）",
            hint="A local run needs Java 17 or later on PATH (or JAVA_HOME); a cluster needs its master or "
            "Spark Connect address to answer.",
            hint_zh="本机运行需要 Java 17 及以上（PATH 或 JAVA_HOME）；集群运行需可连接的 master 或 Spark Connect 地址。",
        ) from None
    if settings.local:
        spark.sparkContext.setLogLevel("ERROR")
    return spark
