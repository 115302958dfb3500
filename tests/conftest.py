"""Shared fixtures: a fresh store, a database path, the CLI runner, and file writers
that produce inputs the way offices send them (Chinese headers, GB18030, BOM, xlsx)."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coaltrace.store import Store


@pytest.fixture
def fresh_db() -> Iterator[Store]:
    store = Store(":memory:")
    yield store
    store.close()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "audit.duckdb"


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture(autouse=True)
def _no_env_db(monkeypatch: pytest.MonkeyPatch) -> None:
    # Tests name their database; a developer's COALTRACE_DB must not leak in.
    monkeypatch.delenv("COALTRACE_DB", raising=False)
    monkeypatch.delenv("COALTRACE_LANG", raising=False)


def write_csv(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]], *, encoding: str = "utf-8") -> Path:
    """Write a CSV as an office would: `encoding` may be utf-8, utf-8-sig (BOM) or gb18030."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, sheets: dict[str, Sequence[Sequence[object]]]) -> Path:
    """Write a workbook; each sheet is a list of rows, the first row its header."""
    import openpyxl

    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for name, rows in sheets.items():
        ws = wb.create_sheet(name)
        for r in rows:
            ws.append(list(r))
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.save(path)
    return path
