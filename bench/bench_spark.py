"""The same month audited on DuckDB and on Spark in local mode, each in its own process (`just bench-spark`).

    python bench/bench_spark.py [--sizes demo,city] [--master local[*]] [--json FILE]

For each size: the sample month is loaded into a fresh database (not timed), the
DuckDB audit runs, the tables are exported as Parquet (`export tables`), and the
Spark audit runs on them (`audit --engine spark`), each command under
`/usr/bin/time -v`. The Spark figure includes starting the JVM. Then the two
runs' findings are compared: the same ids, and tonnes within 0.001 t.

The peak memory of the Spark run is given twice: the Python driver's own
high-water mark (from `/usr/bin/time -v`), and the JVM's that pyspark starts
(its `VmHWM`, read from /proc while it runs: `/usr/bin/time` does not see it,
as nothing waits for it).
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import threading
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from run import CLI, PERIOD, timed  # noqa: E402

SIZES: dict[str, list[str]] = {
    "demo": ["--scale", "0.1"],  # the README's sample month
    "city": ["--scale", "1.0"],
}


def _sample(size: str) -> Path:
    folder = HERE / "data" / f"spark-{size}"
    if not (folder / "truth.csv").exists():
        subprocess.run([*CLI, "sample", str(folder), "--force", "--seed", "42", *SIZES[size]], check=True)
    return folder


def _findings(db: Path, spark_out: Path) -> dict[str, object]:
    import polars as pl

    from coaltrace.store import Store

    with Store(db, read_only=True) as store:
        duck = store.engine.frame(
            "SELECT finding_id, tonnes_at_risk FROM findings WHERE period = ? ORDER BY 1", [PERIOD]
        )
    spark = pl.read_parquet(spark_out / "findings.parquet").select("finding_id", "tonnes_at_risk").sort("finding_id")
    same_ids = duck["finding_id"].to_list() == spark["finding_id"].to_list()
    worst = (
        (duck["tonnes_at_risk"].fill_null(0) - spark["tonnes_at_risk"].fill_null(0)).abs().max() if same_ids else None
    )
    return {"duckdb": duck.height, "spark": spark.height, "same_ids": same_ids, "max_tonnes_diff": worst}


def _jvm_peak_mb(stop: threading.Event, found: list[float]) -> None:
    """The largest VmHWM of any java process seen until STOP (the JVM of the run being timed)."""
    while not stop.wait(0.5):
        for status in Path("/proc").glob("[0-9]*/status"):
            try:
                text = status.read_text()
            except OSError:
                continue
            if text.startswith("Name:\tjava\n"):
                for line in text.splitlines():
                    if line.startswith("VmHWM:"):
                        found.append(int(line.split()[1]) / 1024)


def bench(size: str, master: str, work: Path) -> dict[str, object]:
    folder = _sample(size)
    db, tables, out = work / f"{size}.duckdb", work / f"{size}-tables", work / f"{size}-spark"
    subprocess.run([*CLI, "load", str(folder / "data"), "--db", str(db), "--quiet"], check=True, capture_output=True)
    duck_s, duck_mb, rc, tail = timed([*CLI, "audit", "--period", PERIOD, "--db", str(db), "--quiet"])
    assert rc == 0, tail
    export_s, _, rc, tail = timed([*CLI, "export", "tables", "--out", str(tables), "--db", str(db)])
    assert rc == 0, tail
    stop, jvm = threading.Event(), [0.0]
    sampler = threading.Thread(target=_jvm_peak_mb, args=(stop, jvm), daemon=True)
    sampler.start()
    try:
        spark_s, spark_mb, rc, tail = timed(
            [*CLI, "audit", "--engine", "spark", "--master", master, "--input", str(tables), "--out", str(out)]
            + ["--period", PERIOD, "--quiet"]
        )
    finally:
        stop.set()
        sampler.join()
    assert rc == 0, tail
    rows = sum(t["rows"] for t in json.loads((tables / "tables.json").read_text(encoding="utf-8"))["tables"])
    record = {
        "size": size,
        "rows": rows,
        "duckdb_audit_s": round(duck_s, 2),
        "duckdb_peak_mb": round(duck_mb),
        "export_tables_s": round(export_s, 2),
        "spark_audit_s": round(spark_s, 2),
        "spark_peak_mb": round(spark_mb),
        "spark_jvm_peak_mb": round(max(jvm)),
        "spark_over_duckdb": round(spark_s / duck_s, 1),
        "master": master,
        "findings": _findings(db, out),
    }
    return record


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="demo,city")
    ap.add_argument("--master", default="local[*]")
    ap.add_argument("--json", type=Path, default=HERE / "results-spark.json")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="coaltrace-bench-spark-"))
    try:
        results = [bench(size, args.master, work) for size in args.sizes.split(",")]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'size':8} {'rows':>10} {'DuckDB audit':>13} {'Spark audit':>12} {'ratio':>6}  {'JVM peak':>9}  findings")
    for r in results:
        f = r["findings"]
        assert isinstance(f, dict)
        same = "same ids" if f["same_ids"] else "IDS DIFFER"
        print(
            f"{r['size']:8} {r['rows']:>10,} {r['duckdb_audit_s']:>11.2f} s {r['spark_audit_s']:>10.2f} s "
            f"{r['spark_over_duckdb']:>5.1f}x  {r['spark_jvm_peak_mb']:>6} MB  "
            f"{f['duckdb']} / {f['spark']}, {same}, max diff {f['max_tonnes_diff']}"
        )
    args.json.write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
