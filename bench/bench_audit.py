"""Audit speed: the whole rule pack on a month of about one million trips, graph and provenance included.

Generates the sample month at scale 3.7 (just over a million trips) into a cache
folder once, loads it into a cached database once, then times `run_audit` on a
copy of that database (so provenance is computed from scratch, as on a fresh
month). Prints seconds (total, preparation, per rule) and peak RSS.
Target: at most 30 seconds.

    python bench/bench_audit.py [--scale 3.7] [--cache DIR] [--period 2021-12]
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def prepare(cache: Path, scale: float) -> Path:
    """The loaded database for SCALE, built once and kept in CACHE."""
    from coaltrace.ingest.loader import load_paths
    from coaltrace.sample import write_sample
    from coaltrace.store import Store

    data = cache / f"sample-{scale}"
    db = cache / f"sample-{scale}.duckdb"
    if not (data / "truth.csv").exists():
        t0 = time.perf_counter()
        write_sample(data, seed=42, scale=scale)
        print(f"generated {data} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    if not db.exists():
        t0 = time.perf_counter()
        tmp = db.with_suffix(".loading")
        tmp.unlink(missing_ok=True)
        with Store(tmp) as store:
            load_paths(store, [data / "data"])
        tmp.rename(db)
        print(f"loaded {db} in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return db


AUDIT = """
import json, resource, sys, time
from coaltrace.rules import run_audit
from coaltrace.store import Store
db, period = sys.argv[1], sys.argv[2]
with Store(db) as store:
    trips = store.query("SELECT count(*) AS n FROM transports")[0]["n"]
    gps = store.query("SELECT count(*) AS n FROM gps")[0]["n"]
    t0 = time.perf_counter()
    result = run_audit(store, period)
    seconds = time.perf_counter() - t0
slowest = sorted(result.rules, key=lambda r: -r.seconds)[:5]
print(json.dumps({
    "trips": trips, "gps_points": gps, "rules": len(result.rules), "findings": result.findings,
    "seconds": round(seconds, 2), "prepare_seconds": round(result.prepare_seconds, 2),
    "slowest_rules": {r.rule_id: round(r.seconds, 2) for r in slowest},
    "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=3.7)
    ap.add_argument("--cache", type=Path, default=HERE / "data")
    ap.add_argument("--period", default="2021-12")
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    db = prepare(args.cache, args.scale)

    # The audit runs in a fresh process on a copy, so its time and peak memory are its own,
    # not the generator's or the loader's.
    work = args.cache / "bench-audit.duckdb"
    shutil.copyfile(db, work)
    try:
        done = subprocess.run(
            [sys.executable, "-c", AUDIT, str(work), args.period], check=True, capture_output=True, text=True
        )
    finally:
        work.unlink(missing_ok=True)
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    figures |= {"target_seconds": 30, "ok": figures["seconds"] <= 30 and figures["peak_rss_mb"] < 2048}
    print(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
