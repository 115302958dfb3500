"""The benchmarks still run against the library as it is: `just bench` is not part of the suite,
and the provenance benchmark drives the solver's own interface (Network, solve) directly."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[1] / "bench"


def bench_module(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_provenance_benchmark_solves_a_small_supply_chain() -> None:
    bench = bench_module("bench_provenance")
    chain = bench.supply_chain(300, 3000, seed=1)
    rows, balanced = bench.solve_once(chain)
    assert rows > 0
    # Every facility that holds coal gets origin shares summing to one.
    assert balanced >= 0.95 * 300
