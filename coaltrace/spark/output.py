"""What a Spark audit leaves behind: one folder that `coaltrace load-findings` reads.

    OUT/audit.json                   the run: period, rules, parameters, figures, data gaps
    OUT/findings.parquet             the findings, in the findings table's columns
    OUT/findings.jsonl               the same, one JSON object a line (evidence as objects)
    OUT/provenance/<table>.parquet   balances, running_breaches, origin_shares, flows of the period
    OUT/registers/<table>.parquet    facilities, licences, zones, as the audit read them

Everything in it is facility-sized, never trip-sized: a national month's
findings, flows and registers, not its GPS points. The folder is written beside
OUT and moved into place at the end (`coaltrace.files.whole_folder`), so a failed
run leaves no half folder.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from coaltrace.config import AuditConfig
from coaltrace.export.formats import plain
from coaltrace.files import whole_folder

if TYPE_CHECKING:
    import polars as pl

    from coaltrace.rules.runner import AuditResult
    from coaltrace.spark.inputs import Inputs

LAYOUT = "coaltrace spark findings 1"
AUDIT = "audit.json"
FINDINGS = "findings.parquet"
FINDINGS_JSONL = "findings.jsonl"
PROVENANCE = "provenance"
REGISTERS = "registers"
REGISTER_TABLES = ("facilities", "licences", "zones")
JSON_COLUMNS = ("evidence", "params", "config")


@dataclass(frozen=True)
class SparkOutput:
    folder: Path
    findings: int
    files: tuple[str, ...]
    missing_tables: tuple[str, ...]  # tables with no folder in the input, read as empty


def _jsonl(findings: pl.DataFrame) -> str:
    lines = []
    for row in findings.to_dicts():
        for key in JSON_COLUMNS:
            if isinstance(row.get(key), str):
                row[key] = json.loads(row[key])
        lines.append(json.dumps(row, ensure_ascii=False, default=plain))
    return "".join(line + "\n" for line in lines)


def write_output(
    out: Path,
    result: AuditResult,
    findings: pl.DataFrame,
    provenance: dict[str, pl.DataFrame],
    inputs: Inputs,
    config: AuditConfig,
) -> SparkOutput:
    """Write the audit's folder (replacing a previous audit output there)."""
    import pyarrow.parquet as pq

    from coaltrace.engine.spark_engine import SparkEngine

    with whole_folder(out, AUDIT, what="a coaltrace audit output", what_zh="coaltrace 的审计输出目录") as work:
        (work / PROVENANCE).mkdir()
        (work / REGISTERS).mkdir()
        findings.write_parquet(work / FINDINGS)
        (work / FINDINGS_JSONL).write_text(_jsonl(findings), encoding="utf-8")
        for name, frame in provenance.items():
            frame.write_parquet(work / PROVENANCE / f"{name}.parquet")
        for name in REGISTER_TABLES:
            pq.write_table(SparkEngine.arrow_of(inputs.frames[name]), work / REGISTERS / f"{name}.parquet")
        record: dict[str, Any] = {
            "layout": LAYOUT,
            "input": str(inputs.root),
            "tables_missing": inputs.missing,
            "rules": [r.rule_id for r in result.rules],
            "config": {"source": config.source, "params": result.params},
            "provenance_config": config.provenance.model_dump(mode="json"),
            "summary": result.summary(),
        }
        (work / AUDIT).write_text(
            json.dumps(record, ensure_ascii=False, indent=2, default=plain) + "\n", encoding="utf-8"
        )
        files = tuple(sorted(str(p.relative_to(work)) for p in work.rglob("*") if p.is_file()))
    return SparkOutput(out.resolve(), findings.height, files, tuple(inputs.missing))
