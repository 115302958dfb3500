"""The monthly job at three sizes, against a floor, each stage in a fresh process (`just bench`).

    python bench/run.py [--sizes city,city10,province] [--quick] [--cap-mb 1024] [--json FILE]

For each size the sample month is generated once into bench/data/<size>/ (kept
for later runs), then each stage runs as its own process under `/usr/bin/time
-v`, so the peak memory reported is that process's own high-water mark (a child
forked from a big benchmark would otherwise report its parent's):

  floor    DuckDB importing the same files into tables and nothing else: each
           CSV with read_csv (GB18030 files decoded to UTF-8 first, and
           workbooks written out as CSV, before the clock starts), each Parquet
           file with read_parquet
  load     coaltrace load of the month's folder into a fresh database
  audit    coaltrace audit of the month (graph, provenance, every rule)
  report   coaltrace report of the month
  yard     coaltrace yard of the busiest yard, warm: the median of 5 runs
  findings, status, help: the same, for the commands an inspector types

Ratios are to the floor of the same size in the same run. The capped run loads
and audits the city10 month in a cgroup limited to --cap-mb (cgroup v1 or v2,
as root); it is skipped, saying why, where no cgroup can be made. The
provenance solve is timed by bench_provenance.py. Targets (docs/benchmarks.md):
load within 1.5x the floor, load + audit + report within 2x, every stage's peak
at most 2 GB and not growing with the data, ten times the data at most ten
times the time, yard at most 200 ms, findings and status 300 ms, --help 300 ms.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DATA = HERE / "data"
# The installed command, as a user runs it (its start-up is part of every figure).
CLI = [str(Path(sys.executable).with_name("coaltrace"))]
PERIOD = "2021-12"

# name -> sample arguments; city10 is ten city months' worth of data, the province month all of Shanxi.
SIZES: dict[str, list[str]] = {
    "city": ["--scale", "1.0"],
    "city10": ["--scale", "10.0"],
    "province": ["--province", "--scale", "0.92"],
}
QUICK: dict[str, list[str]] = {
    "city": ["--scale", "0.05"],
    "city10": ["--scale", "0.5"],
    "province": ["--province", "--scale", "0.046"],
}

TARGETS = {
    "load_ratio": 1.5,
    "job_ratio": 2.0,
    "peak_mb": 2048,
    "scaling": 10.0,
    "yard_ms": 200,
    "findings_ms": 300,
    "status_ms": 300,
    "help_ms": 300,
}


@dataclass
class Stage:
    size: str
    stage: str
    wall_s: float
    peak_mb: float
    rows: int = 0
    ok: bool = True
    note: str = ""

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.wall_s if self.wall_s > 0 else 0.0


_PEAK = re.compile(r"Maximum resident set size \(kbytes\): (\d+)")
_WALL = re.compile(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): (?:(\d+):)?(\d+):([\d.]+)")


def timed(args: list[str], *, cwd: Path | None = None, cgroup: Path | None = None) -> tuple[float, float, int, str]:
    """(wall seconds, own peak MB, exit code, stderr tail) of ARGS run under /usr/bin/time -v."""
    prefix: list[str] = []
    if cgroup is not None:
        # Join the cgroup first, then exec: the measured process and its children live under the cap.
        prefix = ["sh", "-c", f'echo $$ > "{cgroup}" && exec "$@"', "sh"]
    done = subprocess.run(
        [*prefix, "/usr/bin/time", "-v", *args], cwd=cwd, capture_output=True, text=True, env={**os.environ}
    )
    peak = _PEAK.search(done.stderr)
    wall = _WALL.search(done.stderr)
    seconds = (int(wall[1] or 0) * 3600 + int(wall[2]) * 60 + float(wall[3])) if wall else float("nan")
    return seconds, (int(peak[1]) / 1024 if peak else float("nan")), done.returncode, done.stderr[-600:]


def sample(size: str, quick: bool) -> Path:
    folder = DATA / (f"quick-{size}" if quick else size)
    if not (folder / "truth.csv").exists():
        t0 = time.perf_counter()
        subprocess.run([*CLI, "sample", str(folder), "--force", *(QUICK if quick else SIZES)[size]], check=True)
        print(f"generated {folder} in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return folder


FLOOR = """
import duckdb, sys
db, files = sys.argv[1], sys.argv[2:]
con = duckdb.connect(db)
for i, f in enumerate(files):
    reader = "read_parquet" if f.endswith(".parquet") else "read_csv"
    con.execute(f"CREATE TABLE t{i} AS SELECT * FROM {reader}('{f}')")
con.close()
"""


def floor_inputs(folder: Path, work: Path) -> list[Path]:
    """The month's files as DuckDB reads them: CSV in UTF-8, workbooks as CSV, Parquet as it is."""
    import polars as pl

    out: list[Path] = []
    for i, f in enumerate(sorted((folder / "data").rglob("*"))):
        if not f.is_file():
            continue
        target = work / f"f{i}.csv"
        if f.suffix == ".parquet":
            out.append(f)
        elif f.suffix == ".xlsx":
            pl.read_excel(f, sheet_id=1).write_csv(target)
            out.append(target)
        elif f.suffix == ".csv":
            raw = f.read_bytes()
            try:
                raw.decode("utf-8")
                out.append(f)
            except UnicodeDecodeError:
                target.write_bytes(raw.decode("gb18030").encode("utf-8"))
                out.append(target)
    return out


def cgroup(cap_mb: int) -> Path | None:
    """A memory cgroup capped at CAP_MB that this process may put others in, or None."""
    for base, limit in (
        (Path("/sys/fs/cgroup/memory"), "memory.limit_in_bytes"),  # v1
        (Path("/sys/fs/cgroup"), "memory.max"),  # v2
    ):
        if not (base / "cgroup.procs").exists():
            continue
        group = base / f"coaltrace-bench-{os.getpid()}"
        try:
            group.mkdir(exist_ok=True)
            (group / limit).write_text(str(cap_mb * 1024 * 1024))
            swap = group / "memory.memsw.limit_in_bytes"
            if swap.exists():
                swap.write_text(str(cap_mb * 1024 * 1024))
            return group / "cgroup.procs"
        except OSError:
            continue
    return None


def busiest_yard(db: Path) -> str:
    import duckdb

    con = duckdb.connect(str(db), read_only=True)
    try:
        [(facility,)] = con.execute(
            "SELECT facility_id FROM balances b WHERE kind = 'yard' ORDER BY inflow_t DESC, facility_id LIMIT 1"
        ).fetchall()
    finally:
        con.close()
    return str(facility)


def truth_check(size: str, folder: Path, db: Path) -> Stage:
    """Whether the audit found every planted case of the month's truth.csv (rule and entity), as a stage
    whose note says how many were found and how many findings no case explains."""
    import duckdb

    with (folder / "truth.csv").open(encoding="utf-8") as f:
        planted = {(r["rule_id"], r["entity_id"]) for r in csv.DictReader(f) if r["period"] == PERIOD}
    con = duckdb.connect(str(db), read_only=True)
    try:
        found = {
            (rule, entity)
            for rule, entity in con.execute(
                "SELECT rule_id, entity_id FROM findings WHERE period = ?", [PERIOD]
            ).fetchall()
        }
    finally:
        con.close()
    hit = len(planted & found)
    note = f"{hit}/{len(planted)} planted cases found, {len(found - planted)} findings beyond them"
    print(f"  {size:9} truth     {note}", file=sys.stderr)
    return Stage(size, "truth", 0.0, 0.0, len(planted), ok=hit == len(planted), note=note)


def latency(args: list[str], runs: int = 5) -> tuple[float, float]:
    """Median wall seconds of ARGS over RUNS warm runs (after one to warm the disk cache), and its peak."""
    timed(args)
    measured = [timed(args) for _ in range(runs)]
    return statistics.median(m[0] for m in measured), max(m[1] for m in measured)


def rows_in(folder: Path) -> int:
    summary = (folder / "README.md").read_text(encoding="utf-8")
    return sum(int(n.replace(",", "")) for n in re.findall(r"\(([\d,]+) rows\)", summary))


def run_size(size: str, quick: bool, work: Path) -> list[Stage]:
    folder = sample(size, quick)
    rows = rows_in(folder)
    db = work / f"{size}.duckdb"
    out: list[Stage] = []

    def stage(name: str, args: list[str], n: int = rows) -> Stage:
        wall, peak, code, tail = timed(args, cwd=work)
        s = Stage(size, name, wall, peak, n, code == 0, "" if code == 0 else tail.strip().splitlines()[-1])
        out.append(s)
        print(
            f"  {size:9} {name:9} {wall:8.2f} s {peak:8.0f} MB{'' if s.ok else '  FAILED: ' + s.note}", file=sys.stderr
        )
        return s

    inputs = floor_inputs(folder, Path(tempfile.mkdtemp(dir=work)))
    stage("floor", [sys.executable, "-c", FLOOR, str(work / f"{size}-floor.duckdb"), *map(str, inputs)])
    stage("load", [*CLI, "load", str(folder / "data"), "--db", str(db)])
    stage("audit", [*CLI, "audit", "--period", PERIOD, "--db", str(db)])
    stage("report", [*CLI, "report", "--period", PERIOD, "--db", str(db), "--out", str(work / f"{size}-report")])
    out.append(truth_check(size, folder, db))
    yard = busiest_yard(db)
    for name, args in (
        ("yard", [*CLI, "yard", yard, "--period", PERIOD, "--db", str(db), "--json"]),
        ("findings", [*CLI, "findings", "--period", PERIOD, "--db", str(db), "--format", "json"]),
        ("status", [*CLI, "status", "--db", str(db), "--json"]),
        ("help", [*CLI, "--help"]),
    ):
        wall, peak = latency(args)
        out.append(Stage(size, name, wall, peak))
        print(f"  {size:9} {name:9} {wall * 1000:8.0f} ms {peak:7.0f} MB", file=sys.stderr)
    return out


def capped(size: str, quick: bool, work: Path, cap_mb: int) -> list[Stage]:
    procs = cgroup(cap_mb)
    if procs is None:
        print(
            "  capped run skipped: no memory cgroup can be made here (needs root and a cgroup mount)", file=sys.stderr
        )
        return [Stage(size, f"capped-{cap_mb}MB", float("nan"), float("nan"), ok=False, note="no cgroup")]
    folder = sample(size, quick)
    db = work / f"{size}-capped.duckdb"
    out = []
    try:
        for name, args in (
            ("load", [*CLI, "load", str(folder / "data"), "--db", str(db)]),
            ("audit", [*CLI, "audit", "--period", PERIOD, "--db", str(db)]),
        ):
            wall, peak, code, tail = timed(args, cwd=work, cgroup=procs)
            note = "" if code == 0 else tail.strip().splitlines()[-1] if tail.strip() else f"exit {code}"
            out.append(Stage(size, f"{name}@{cap_mb}MB", wall, peak, rows_in(folder), code == 0, note))
            print(
                f"  {size:9} {name}@{cap_mb}MB {wall:8.2f} s {peak:8.0f} MB{'' if code == 0 else '  FAILED: ' + note}",
                file=sys.stderr,
            )
    finally:
        shutil.rmtree(procs.parent, ignore_errors=True)
        try:
            procs.parent.rmdir()
        except OSError:
            pass
    return out


def verdicts(stages: list[Stage]) -> dict[str, object]:
    by = {(s.size, s.stage): s for s in stages}
    out: dict[str, object] = {}
    for size in {s.size for s in stages}:
        floor = by.get((size, "floor"))
        if floor is None:
            continue
        job = sum(by[(size, n)].wall_s for n in ("load", "audit", "report") if (size, n) in by)
        out[size] = {
            "load_ratio": round(by[(size, "load")].wall_s / floor.wall_s, 2),
            "job_ratio": round(job / floor.wall_s, 2),
            "max_peak_mb": round(max(s.peak_mb for s in stages if s.size == size and s.stage not in ("help",)), 0),
        }
    if ("city", "load") in by and ("city10", "load") in by:
        out["scaling_city10_over_city"] = {
            n: round(by[("city10", n)].wall_s / by[("city", n)].wall_s, 2)
            for n in ("floor", "load", "audit", "report")
            if ("city", n) in by and ("city10", n) in by
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="city,city10,province")
    ap.add_argument(
        "--quick", action="store_true", help="small months, to check the benchmark runs (figures mean little)"
    )
    ap.add_argument("--cap-mb", type=int, default=1024, help="memory cap of the capped run (0: no capped run)")
    ap.add_argument("--json", type=Path, default=HERE / "results.json")
    ap.add_argument("--no-provenance", action="store_true", help="leave out bench_provenance.py")
    args = ap.parse_args()
    sizes = [s for s in args.sizes.split(",") if s]
    stages: list[Stage] = []
    work = Path(tempfile.mkdtemp(prefix="coaltrace-bench-"))
    try:
        for size in sizes:
            print(f"== {size}", file=sys.stderr)
            stages += run_size(size, args.quick, work)
        if args.cap_mb and "city10" in sizes:
            print(f"== capped at {args.cap_mb} MB", file=sys.stderr)
            stages += capped("city10", args.quick, work, args.cap_mb)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    provenance = None
    if not args.no_provenance:
        done = subprocess.run(
            [sys.executable, str(HERE / "bench_provenance.py"), *(["--quick"] if args.quick else [])],
            capture_output=True,
            text=True,
        )
        provenance = json.loads(done.stdout.strip().splitlines()[-1]) if done.stdout.strip() else None
    result = {
        "stages": [asdict(s) | {"rows_per_s": round(s.rows_per_s)} for s in stages],
        "verdicts": verdicts(stages),
        "provenance": provenance,
        "targets": TARGETS,
        "quick": args.quick,
    }
    args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    print(f"\n{'size':9} {'stage':14} {'wall':>10} {'peak MB':>8} {'rows/s':>10} {'x floor':>8}")
    floors = {s.size: s.wall_s for s in stages if s.stage == "floor"}
    for s in stages:
        if s.stage == "truth":
            print(f"{s.size:9} {s.stage:14} {s.note}{'' if s.ok else '  FAILED'}")
            continue
        wall = f"{s.wall_s * 1000:.0f} ms" if s.stage in ("yard", "findings", "status", "help") else f"{s.wall_s:.2f} s"
        ratio = (
            f"{s.wall_s / floors[s.size]:.2f}" if s.size in floors and s.stage in ("load", "audit", "report") else ""
        )
        rps = f"{s.rows_per_s:,.0f}" if s.rows else ""
        print(f"{s.size:9} {s.stage:14} {wall:>10} {s.peak_mb:8.0f} {rps:>10} {ratio:>8}{'' if s.ok else '  FAILED'}")
    print(json.dumps(result["verdicts"], indent=2))
    if provenance:
        print("provenance:", json.dumps(provenance))
    print(f"figures written to {args.json}", file=sys.stderr)
    sys.exit(0 if all(s.ok for s in stages) else 1)


if __name__ == "__main__":
    main()
