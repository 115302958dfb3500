"""`coaltrace report`: the audit report of a period, as Markdown and HTML files."""

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
    out_dir: Annotated[Path, typer.Option("--out", "-o", help="Folder for report.md and report.html.")] = Path("."),
    db: DbOption = None,
) -> None:
    """Write the audit report of a period (report.md, report.html). 写出审计报告。"""
    from coaltrace.period import Period
    from coaltrace.report import write_report
    from coaltrace.store import Store

    p = Period.parse(period)
    with Store(db, read_only=True) as store:
        paths = write_report(store, p, out_dir, state.lang)
    err.print(say(MESSAGES, "written", state.lang, paths=", ".join(map(str, paths))))
