"""Every benchmark, one after the other (`just bench`): load, provenance, audit.

Each prints one JSON line with its figures and whether it met its target.
    python bench/run.py [--quick]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a tenth of the size, to check the benchmarks run")
    args = ap.parse_args()
    runs = [
        ["bench_load.py", *(["--rows", "100000", "--data", str(HERE / "data" / "load-quick")] if args.quick else [])],
        ["bench_provenance.py", *(["--quick"] if args.quick else [])],
        ["bench_audit.py", *(["--scale", "0.34"] if args.quick else [])],
    ]
    failed = 0
    for script, *rest in runs:
        print(f"== {script} {' '.join(rest)}", file=sys.stderr, flush=True)
        failed += subprocess.run([sys.executable, str(HERE / script), *rest]).returncode != 0
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
