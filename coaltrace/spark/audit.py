"""The audit on Spark: the same rule pack, the same provenance code, the same findings.

1. The contract's tables are read from Parquet and checked (`coaltrace.spark.inputs`).
2. Row-level work runs as Spark SQL, transpiled from the same SQL the DuckDB
   engine runs: the period's shipments are staged and aggregated into facility
   flows (`coaltrace.graph.staging`), node attributes and licence state per
   shipment day (`coaltrace.graph.nodes`), running stock (`coaltrace.provenance.running`).
3. The facility graph, small even for a country (one row per facility, one per
   seller, buyer and product), is collected to the driver and solved by the
   same provenance code as on one machine (`coaltrace.provenance.current.compute`).
4. Its tables go back to Spark as views; the period's views and zone hits are
   defined over them (`coaltrace.rules.views`, `coaltrace.rules.zones`).
5. Coverage and every rule run as on one machine (`coaltrace.rules.runner.judge`),
   each rule's SQL transpiled to Spark and run in the Spark sandbox.
6. The findings (one per rule and entity: small) are grouped on the driver by the
   same code, and the figures counted once by the same SQL, on Spark.

Nothing here is a second version of a rule or of the model: the only Spark-only
code is reading the Parquet layout and writing the output folder.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coaltrace.config import AuditConfig
from coaltrace.engine.spark_engine import SparkEngine
from coaltrace.period import Period
from coaltrace.provenance.storage import FLOW_ORIGINS, stored_frame
from coaltrace.rules.runner import AuditResult, choose_rules, judge, new_run, take_figures
from coaltrace.rules.views import create_views
from coaltrace.rules.zones import build_zone_tables
from coaltrace.spark.inputs import Inputs, read_inputs
from coaltrace.spark.output import SparkOutput, write_output

if TYPE_CHECKING:
    import polars as pl
    from pyspark.sql import SparkSession


@dataclass(frozen=True)
class SparkWorkspace:
    """An audit's steps work in a Spark session through its engine (`coaltrace.engine.Workspace`):
    the tables read, and the period's provenance (empty when not built)."""

    engine: SparkEngine
    inputs: Inputs
    provenance: dict[str, pl.DataFrame]


def prepare_on_spark(
    spark: SparkSession, input_dir: str | Path, period: Period, config: AuditConfig, *, provenance: bool = True
) -> SparkWorkspace:
    """Steps 1 to 4: the tables read and checked, provenance built (unless PROVENANCE is False),
    the period's views and zone hits defined. What `prepare` does on one machine."""
    from coaltrace.provenance.current import compute

    inputs = read_inputs(spark, input_dir)
    engine = SparkEngine(spark)
    # A clean slate: nothing a previous audit in this session defined (its provenance, its findings)
    # may stand in for this one's.
    for table in spark.catalog.listTables():
        if table.isTemporary:
            engine.unregister(table.name)
    for name, df in inputs.frames.items():
        df.createOrReplaceTempView(name)
    frames: dict[str, pl.DataFrame] = {}
    if provenance:
        built = compute(SparkWorkspace(engine, inputs, {}), period, config.provenance)
        frames = {name: stored_frame(name, frame, period.label) for name, frame in built.frames().items()}
        for name, frame in frames.items():
            engine.register(name, frame)
        engine.create_view("flow_origins", FLOW_ORIGINS)
    create_views(engine, period)
    build_zone_tables(engine)
    return SparkWorkspace(engine, inputs, frames)


def run_spark_audit(
    spark: SparkSession,
    input_dir: str | Path,
    period: Period | str,
    out: Path,
    *,
    rule_dirs: Iterable[Path] | None = None,
    only: Iterable[str] | None = None,
    params: dict[str, dict[str, Any]] | None = None,
    config: AuditConfig | None = None,
) -> tuple[AuditResult, SparkOutput]:
    """Audit PERIOD of the Parquet tables under INPUT_DIR (a folder, or a URI the cluster reads) on SPARK;
    findings and figures go to OUT, a folder on this machine (the driver)."""
    import polars as pl

    from coaltrace.rules.findings import COLUMNS

    started = time.perf_counter()
    p = period if isinstance(period, Period) else Period.parse(period)
    config = config or AuditConfig()
    ruleset, selected, values = choose_rules(rule_dirs, only, params, config)
    result = new_run(p, selected, values, config)
    result.engine = "spark"
    prepared = prepare_on_spark(spark, input_dir, p, config)
    ws, engine, inputs, frames = prepared, prepared.engine, prepared.inputs, prepared.provenance
    result.prepare_seconds = time.perf_counter() - started

    found = judge(ws, p, ruleset, selected, values, config, result)
    findings = found if found is not None else pl.DataFrame(schema={n: pl.String for n, _ in COLUMNS})
    engine.register("findings", findings)
    take_figures(ws, result)
    result.seconds = time.perf_counter() - started
    output = write_output(out, result, findings, frames, inputs, config)
    return result, output
