"""The README documents every command, every command has help, and the CLI starts light."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer
import typer.main

from coaltrace.cli import app
from coaltrace.errors import ExitCode

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")


def _commands() -> list[tuple[str, Any]]:
    root: Any = typer.main.get_command(app)
    out: list[tuple[str, Any]] = []
    for name, cmd in root.commands.items():
        if hasattr(cmd, "commands"):
            out += [(f"{name} {sub}", c) for sub, c in cmd.commands.items()]
        else:
            out.append((name, cmd))
    return out


@pytest.mark.parametrize(("name", "command"), _commands(), ids=lambda x: x if isinstance(x, str) else "")
def test_every_command_has_help_and_a_readme_example(name: str, command: Any) -> None:
    assert command.help and len(command.help.strip()) > 20, f"{name} has no help"
    assert f"coaltrace {name}" in README, f"README has no example of `coaltrace {name}`"


def test_exit_codes_are_documented() -> None:
    for code in ExitCode:
        assert f"| {int(code)} |" in README, f"exit code {int(code)} is not in the README's table"


def test_the_cli_starts_without_heavy_libraries() -> None:
    probe = "import sys, coaltrace.cli; print(sorted(m for m in ('duckdb', 'polars', 'networkx', 'scipy', 'numpy') if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def test_the_contract_page_is_generated_from_the_code() -> None:
    from coaltrace.contract.doc import contract_markdown

    page = Path(__file__).resolve().parents[1] / "docs" / "contract.md"
    assert page.read_text(encoding="utf-8") == contract_markdown(), (
        "run: python -m coaltrace.contract.doc > docs/contract.md"
    )


def test_the_rule_tables_are_generated_from_the_code() -> None:
    from coaltrace.rules.doc import PAGE, render

    text = PAGE.read_text(encoding="utf-8")
    assert text == render(text), "docs/rules.md is stale: run `python -m coaltrace.rules.doc`"
