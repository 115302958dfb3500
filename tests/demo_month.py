"""One demo month per test session (sample, load, audit, report), shared by the tests that only read it."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from coaltrace.cli import app

_MONTHS: dict[tuple[float, int], Path] = {}


def demo_month(factory: pytest.TempPathFactory, scale: float = 0.02, seed: int = 5) -> Path:
    """The folder `coaltrace demo` wrote (database `coaltrace.duckdb`, `sample/`); tests must not write to it."""
    key = (scale, seed)
    if key not in _MONTHS:
        out = factory.mktemp(f"demo-{seed}")
        res = CliRunner().invoke(app, ["demo", str(out), "--scale", str(scale), "--seed", str(seed)])
        assert res.exit_code == 0, res.output
        _MONTHS[key] = out
    return _MONTHS[key]
