"""Shared fixtures: a fresh store, a database path, the CLI runner, file writers that produce
inputs the way offices send them (Chinese headers, GB18030, BOM, xlsx), the shipped rule pack,
and the settings every test runs under (Hypothesis profile, environment, working folder).

The suite runs in parallel (pytest-xdist), so no test may depend on another's files, on the
folder pytest was started in, or on the developer's environment: each test runs in its own
empty working folder with no COALTRACE_* variable set.
"""

from __future__ import annotations

import csv
import functools
import io
import os
import shutil
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path

import pytest
from hypothesis import settings
from typer.testing import CliRunner

from coaltrace.files import shipped
from coaltrace.rules import load as rule_load
from coaltrace.rules.load import Problem, RuleSet
from coaltrace.store import Store

# --- Hypothesis: the whole truth by default, a quick look in the edit loop ----------------------

# `full` keeps what Hypothesis picked itself (its `ci` profile on CI: derandomised, no example
# database) and each test's own number of examples (100 where a test does not say). Timing on a
# shared machine running tests in parallel says nothing about correctness, so no deadline.
settings.register_profile("full", deadline=None, print_blob=True)
# `quick`: a handful of examples a test, for the edit loop (`just quick`); CI runs `full`.
QUICK_EXAMPLES = 10
settings.register_profile("quick", settings.get_profile("full"), max_examples=QUICK_EXAMPLES)
PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "full")
settings.load_profile(PROFILE)


def pytest_report_header() -> str:
    return f"hypothesis profile: {PROFILE} (HYPOTHESIS_PROFILE: full, the default, or quick)"


def examples(n: int) -> int:
    """For a test that asks for N examples: N, but only the quick profile's few in the edit loop."""
    return min(n, QUICK_EXAMPLES) if PROFILE == "quick" else n


# --- parallel runs ------------------------------------------------------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto` (the default) spreads the suite over every core, but keeps one file in this process.

    Starting workers costs a few seconds: not worth it for the file being edited, and a single
    process keeps its output and print-debugging plain. `-n 2 --dist load` spreads one file's
    tests anyway (each worker then builds the file's module fixtures).
    """
    files = {Path(str(arg).split("::")[0]).resolve() for arg in config.args}
    if len(files) == 1 and next(iter(files)).is_file():
        return 0
    return None


# --- the environment every test starts from -----------------------------------------------------


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    # Tests name their database and their config; a developer's COALTRACE_* variables, or a
    # coaltrace.toml / coaltrace.duckdb in the folder pytest was started from, must not leak in.
    for name in list(os.environ):
        if name.startswith("COALTRACE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


# --- the shipped rule pack ----------------------------------------------------------------------


_read_rules = rule_load.collect


@functools.cache
def shipped_rules() -> tuple[RuleSet, tuple[Problem, ...]]:
    """The shipped rule pack and its problems, read once per test process (also at collection)."""
    ruleset, problems = _read_rules()
    return ruleset, tuple(problems)


@pytest.fixture(scope="session")
def rule_pack() -> RuleSet:
    ruleset, problems = shipped_rules()
    assert not problems, "\n".join(str(p) for p in problems)
    return ruleset


@pytest.fixture(scope="session", autouse=True)
def _shipped_rules_read_once() -> Iterator[None]:
    """Every audit reads the shipped pack: read and check it once per test process, not each time.

    Reading it (YAML, models, SQL checks) takes about half a second and the suite audits a few
    hundred times; a rule file's reading depends on nothing but its text, and the pack does not
    change during a run. Rule folders that tests write are read every time, and tests/test_rules.py
    checks the shipped pack itself.
    """
    pack = shipped("rules")

    def collect(dirs: Iterable[Path] | None = None) -> tuple[RuleSet, list[Problem]]:
        folders = list(dirs) if dirs else [pack]
        if [Path(f).resolve() for f in folders] != [pack.resolve()]:
            return _read_rules(folders)
        ruleset, problems = shipped_rules()
        return RuleSet(dict(ruleset.rules), dict(ruleset.files)), list(problems)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rule_load, "collect", collect)
        yield


# --- stores and files ---------------------------------------------------------------------------


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


def copy_db(template: Path, folder: Path) -> Path:
    """A test's own copy of a database built once for its module: the same bytes, the same name.

    Build the template in a module- or session-scoped fixture (with tmp_path_factory) and hand each
    test a copy, so a test that writes, locks or chmods its database leaves the next one untouched.
    """
    copy = folder / template.name
    shutil.copyfile(template, copy)
    return copy


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
