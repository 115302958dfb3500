"""docs/api.md: the documented Python API imports and works in a fresh interpreter."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

PAGE = Path(__file__).resolve().parents[1] / "docs" / "api.md"

pytestmark = pytest.mark.slow


def test_the_documented_snippet_runs_in_a_fresh_interpreter(tmp_path: Path) -> None:
    [snippet] = re.findall(r"```python\n(.*?)```", PAGE.read_text(encoding="utf-8"), flags=re.S)
    done = subprocess.run(
        [sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True, timeout=600, check=False
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    loaded = int(re.search(r"rows loaded: (\d+)", out).group(1))  # type: ignore[union-attr]
    assert loaded > 1000
    assert int(re.search(r"findings: (\d+)", out).group(1)) > 0  # type: ignore[union-attr]
    assert re.search(r"graph: \d+ facilities, \d+ flows", out)
    assert "checks: [" in out
    flows = pl.read_parquet(tmp_path / "risky-flows.parquet")
    assert flows.height > 0 and (flows["at_risk_share"] >= 0.2).all()
    assert (tmp_path / "audit.duckdb").exists()
