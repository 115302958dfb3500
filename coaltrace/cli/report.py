"""`coaltrace report`: the audit report of a period, as HTML, XLSX and Markdown files."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coaltrace.cli.app import app
from coaltrace.cli.common import DbOption, err, handle_errors, state
from coaltrace.i18n import catalogue, say

MESSAGES = catalogue(
    {
        "written": ("已写出报告：{paths}", "report written: {paths}"),
    }
)


@app.command()
@handle_errors
def report(
    period: Annotated[
        str, typer.Option("--period", "-p", help="Month (2021-12), year (2021) or range (2021-10..2021-12).")
    ],
    out_dir: Annotated[
        Path, typer.Option("--out", "-o", help="Folder for report.html, report.xlsx and report.md.")
    ] = Path("."),
    config: Annotated[
        Path | None,
        typer.Option("--config", help="Config file whose [report] section sets the letterhead, logo and templates."),
    ] = None,
    template_dir: Annotated[
        Path | None,
        typer.Option("--template-dir", help="Folder of templates that replace the shipped ones of the same name."),
    ] = None,
    rules: Annotated[
        list[Path] | None,
        typer.Option(
            "--rules", help="Rule folder the notes on false positives are read from (default: the shipped pack)."
        ),
    ] = None,
    db: DbOption = None,
) -> None:
    """Write the audit report of a period (report.html, report.xlsx, report.md). 写出审计报告。"""
    from coaltrace.config import load_config
    from coaltrace.period import Period
    from coaltrace.report import write_report
    from coaltrace.store import Store

    p = Period.parse(period)
    settings = load_config(config).report_settings(template_dir)
    with Store(db, read_only=True) as store:
        paths = write_report(store, p, out_dir, state.lang, settings=settings, rule_dirs=rules)
    err.print(say(MESSAGES, "written", state.lang, paths=", ".join(map(str, paths))))
