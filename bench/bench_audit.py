"""Audit speed: the whole rule pack on a month of about one million trips, graph and provenance included.

Generates the sample month at scale ~3.4 (about a million trips) into a cache
folder once, loads it into a cached database once, then times `run_audit` on a
copy of that database (so provenance is computed from scratch, as on a fresh
month). Prints seconds (total, preparation, per rule) and peak RSS.
Target: at most 30 seconds.

    python bench/bench_audit.py [--scale 3.4] [--cache DIR] [--period 2021-12]
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--scale", type=float, default=3.4)
    ap.add_argument("--cache", type=Path, default=HERE / "data")
    ap.add_argument("--period", default="2021-12")
    args = ap.parse_args()
    args.cache.mkdir(parents=True, exist_ok=True)
    db = prepare(args.cache, args.scale)

    from coaltrace.rules import run_audit
    from coaltrace.store import Store

    work = args.cache / "bench-audit.duckdb"
    shutil.copyfile(db, work)
    with Store(work) as store:
        trips = store.query("SELECT count(*) AS n FROM transports")[0]["n"]
        gps = store.query("SELECT count(*) AS n FROM gps")[0]["n"]
        t0 = time.perf_counter()
        result = run_audit(store, args.period)
        seconds = time.perf_counter() - t0
    work.unlink()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    slowest = sorted(result.rules, key=lambda r: -r.seconds)[:5]
    print(json.dumps({
        "trips": trips, "gps_points": gps, "rules": len(result.rules), "findings": result.findings,
        "seconds": round(seconds, 2), "prepare_seconds": round(result.prepare_seconds, 2),
        "slowest_rules": {r.rule_id: round(r.seconds, 2) for r in slowest},
        "peak_rss_mb": round(peak_mb), "target_seconds": 30, "ok": seconds <= 30,
    }, indent=2))


if __name__ == "__main__":
    main()
