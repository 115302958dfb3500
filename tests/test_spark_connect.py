"""The audit through Spark Connect (`--remote`): a local Connect server, the CLI as a user runs it.

The server is the one pyspark ships (`org.apache.spark.sql.connect.service.SparkConnectServer`),
started for this module on a free port; the audit runs in a process of its own, as a client only.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from coaltrace.spark.session import LOG_CONFIG
from tests.spark_helpers import PERIOD, demo_and_tables, duckdb_findings

pytestmark = pytest.mark.slow

CLI = Path(sys.executable).with_name("coaltrace")


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return demo_and_tables(tmp_path_factory)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import pyspark

    home = Path(pyspark.__file__).parent
    port = _free_port()
    log = tmp_path_factory.mktemp("connect") / "server.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            [
                str(home / "bin" / "spark-submit"),
                "--class",
                "org.apache.spark.sql.connect.service.SparkConnectServer",
                "--name",
                "coaltrace test",
                "--master",
                "local[2]",
                "--conf",
                f"spark.connect.grpc.binding.port={port}",
                "--conf",
                "spark.ui.enabled=false",
                "--driver-java-options",
                f"-Dlog4j2.configurationFile={LOG_CONFIG.as_uri()}",
            ],
            env={**os.environ, "SPARK_HOME": str(home)},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 180
        while True:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            assert proc.poll() is None, log.read_text(encoding="utf-8", errors="replace")[-3000:]
            assert time.monotonic() < deadline, "the Connect server did not open its port in 180 s"
            time.sleep(0.5)
        yield f"sc://127.0.0.1:{port}"
    finally:
        proc.terminate()
        try:
            proc.wait(60)
        except subprocess.TimeoutExpired:
            proc.kill()


def test_an_audit_through_spark_connect_finds_what_duckdb_finds(
    server: str, month: tuple[Path, Path], tmp_path: Path
) -> None:
    demo, tables = month
    done = subprocess.run(
        [str(CLI), "--lang", "en", "audit", "--engine", "spark", "--remote", server]
        + ["--input", str(tables), "--out", "out", "--period", PERIOD, "--json"],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["engine"] == "spark"
    duck = duckdb_findings(demo / "coaltrace.duckdb")
    found = pq.read_table(tmp_path / "out" / "findings.parquet").sort_by("finding_id")
    ids = found.column("finding_id").to_pylist()
    assert ids == [d[0] for d in duck] and len(ids) == summary["findings"] > 40
    assert found.column("entity_id").to_pylist() == [d[2] for d in duck]
    for (_, _, _, want), got in zip(duck, found.column("tonnes_at_risk").to_pylist(), strict=True):
        assert (want is None) == (got is None) and (want is None or abs(want - got) <= 0.0005)


TIMEOUT_PROBE = """
import sys
from pyspark.sql import SparkSession
from coaltrace.engine.spark_engine import SparkEngine
from coaltrace.rules.sandbox import RuleTimeoutError
spark = SparkSession.builder.remote(sys.argv[1]).getOrCreate()
spark.read.parquet(sys.argv[2]).createOrReplaceTempView("sales")
engine = SparkEngine(spark)
assert engine.run_rule("SELECT count(*) AS n FROM sales", ["sales"], 60).column("n")[0].as_py() > 0
heavy = "SELECT count(*) AS n FROM range(0, 40000000000, 1, 4000) WHERE hash(id) % 7 = 3"
try:
    engine.run_rule(heavy, [], 2)
except RuleTimeoutError as e:
    print("stopped:", e)
"""


def test_a_rule_past_its_time_limit_is_interrupted_through_spark_connect(server: str, month: tuple[Path, Path]) -> None:
    _, tables = month
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", TIMEOUT_PROBE, server, str(tables / "sales")],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "stopped: stopped after 2 s, its time limit" in done.stdout
    assert time.monotonic() - started < 120
