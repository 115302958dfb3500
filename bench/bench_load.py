"""Load speed and memory: `coaltrace load` against DuckDB's own CSV import of the same files.

Writes 1,000,000 trips, 1,000,000 sales and 1,000,000 intakes as CSV with the
contract's Chinese headers and the formats offices use (GB18030 for one table,
mixed date formats, thousands separators, plates with a dot), then measures, each
in a fresh process and a fresh database:
  baseline: DuckDB `CREATE TABLE t AS SELECT * FROM read_csv(file)` for every file
            (the GB18030 file is given to DuckDB as UTF-8, which favours DuckDB);
  coaltrace: `load_paths` of the same files (one transaction, with validation,
             normalisation, quarantine and de-duplication).
Prints seconds, peak RSS and the ratio. Targets: ratio <= 3, peak < 2 GB.

    python bench/bench_load.py [--rows N] [--data DIR]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import numpy as np
import polars as pl

HERE = Path(__file__).resolve().parent


def write_inputs(data: Path, n: int, seed: int = 7) -> dict[str, list[Path]]:
    rng = np.random.default_rng(seed)
    data.mkdir(parents=True, exist_ok=True)
    minutes = rng.integers(0, 31 * 24 * 60, n)
    ts = pl.Series((np.datetime64("2021-12-01T00:00") + minutes.astype("timedelta64[m]")).astype("datetime64[ms]"))
    tonnes = np.round(rng.uniform(28, 40, n), 2)
    plates = pl.Series([f"晋E·{i:05d}" for i in rng.integers(0, 99999, 4096)])[rng.integers(0, 4096, n)]
    mines = pl.Series([f"MK{i:04d}" for i in range(200)])[rng.integers(0, 200, n)]
    yards = pl.Series([f"YD{i:04d}" for i in range(300)])[rng.integers(0, 300, n)]
    ids = pl.Series(np.arange(n)).cast(pl.String).str.zfill(8)
    waybills = "WB" + ids
    trips = pl.DataFrame(
        {
            "运输单号": "T" + ids,
            "运单号": waybills,
            "车牌号": plates,
            "发货单位编码": mines,
            "收货单位编码": yards,
            "发车时间": ts.dt.strftime("%Y/%m/%d %H:%M"),
            "到达时间": (ts + timedelta(minutes=90)).dt.strftime("%Y-%m-%d %H:%M:%S"),
            "装车净重": tonnes,
            "卸车净重": np.round(tonnes * 0.998, 2),
        }
    )
    sales = pl.DataFrame(
        {
            "销售单号": "S" + ids,
            "销售日期": ts.dt.strftime("%Y年%-m月%-d日"),
            "销售单位编码": mines,
            "购买单位编码": yards,
            "煤种": pl.Series(["原煤", "洗精煤", "混煤"])[rng.integers(0, 3, n)],
            "数量（吨）": pl.Series(tonnes).cast(pl.String),
            "运单号": waybills,
        }
    )
    intakes = pl.DataFrame(
        {
            "入库单号": "I" + ids,
            "煤场编码": yards,
            "入库时间": (ts + timedelta(minutes=95)).dt.strftime("%Y%m%d %H:%M"),
            "供货单位编码": mines,
            "车牌号": plates,
            "运单号": waybills,
            "入库数量": np.round(tonnes * 0.998, 2),
        }
    )
    out = {"transports": data / "trips.csv", "sales": data / "sales.csv", "intakes": data / "intakes.csv"}
    trips.write_csv(out["transports"])
    intakes.write_csv(out["intakes"])
    # Sales arrive from a county office in GB18030.
    out["sales"].write_bytes(sales.write_csv().encode("gb18030"))
    (data / "sales_utf8.csv").write_text(sales.write_csv(), encoding="utf-8")
    return {"coaltrace": list(out.values()), "duckdb": [out["transports"], data / "sales_utf8.csv", out["intakes"]]}


BASELINE = """
import duckdb, json, resource, sys, time
files, db = sys.argv[1:-1], sys.argv[-1]
t = time.perf_counter()
con = duckdb.connect(db)
for i, f in enumerate(files):
    con.execute(f"CREATE TABLE t{i} AS SELECT * FROM read_csv('{f}')")
con.close()
print(json.dumps({"seconds": time.perf_counter() - t, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

COALTRACE = """
import json, resource, sys, time
from pathlib import Path
from coaltrace.ingest.loader import load_paths
from coaltrace.store import Store
files, db = sys.argv[1:-1], sys.argv[-1]
t = time.perf_counter()
with Store(db) as store:
    report = load_paths(store, [Path(f) for f in files])
loaded = sum(f.rows_loaded for f in report.files)
print(json.dumps({"seconds": time.perf_counter() - t, "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "rows": loaded}))
"""


def run(script: str, files: list[Path], db: Path) -> dict[str, float]:
    db.unlink(missing_ok=True)
    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, files), str(db)], check=True, capture_output=True, text=True
    )
    db.unlink(missing_ok=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--data", type=Path, default=HERE / "data" / "load")
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    marker = args.data / f".rows-{args.rows}"
    if not marker.exists():
        t = time.perf_counter()
        files = write_inputs(args.data, args.rows)
        marker.write_text(json.dumps({k: list(map(str, v)) for k, v in files.items()}))
        print(f"wrote 3 x {args.rows:,} rows in {time.perf_counter() - t:.1f} s", file=sys.stderr)
    files = {k: [Path(p) for p in v] for k, v in json.loads(marker.read_text()).items()}
    db = args.data / "bench.duckdb"
    for _ in range(args.repeat):
        base = run(BASELINE, files["duckdb"], db)
        ours = run(COALTRACE, files["coaltrace"], db)
        ratio = ours["seconds"] / base["seconds"]
        print(
            json.dumps(
                {
                    "rows_per_table": args.rows,
                    "duckdb_s": round(base["seconds"], 2),
                    "duckdb_peak_mb": round(base["peak_mb"]),
                    "coaltrace_s": round(ours["seconds"], 2),
                    "coaltrace_peak_mb": round(ours["peak_mb"]),
                    "rows_loaded": ours["rows"],
                    "ratio": round(ratio, 2),
                    "ok": ratio <= 3 and ours["peak_mb"] < 2048,
                }
            )
        )


if __name__ == "__main__":
    main()
