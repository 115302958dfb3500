"""The audit report: gathered from the store (`model`), drawn (`charts`), written as HTML and
Markdown (`render`) and as a workbook (`xlsx`); the ledger's part is asked of `ledger`."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from coaltrace.config import ReportSettings
from coaltrace.files import output_dir, write_whole
from coaltrace.period import Period
from coaltrace.report.model import Report, build_report
from coaltrace.report.render import to_html, to_markdown
from coaltrace.report.xlsx import to_xlsx
from coaltrace.store import Store


def write_report(
    store: Store,
    period: Period,
    outdir: Path,
    lang: str,
    *,
    credit: str | None = None,
    settings: ReportSettings | None = None,
    rule_dirs: Iterable[Path] | None = None,
) -> list[Path]:
    """Write report.html, report.xlsx and report.md for PERIOD into OUTDIR, each whole or not at all;
    returns their paths."""
    r = build_report(store, period, credit=credit, rule_dirs=rule_dirs)
    # Rendered before anything is written: a template that fails leaves no half of a report behind.
    pages: dict[str, str | bytes] = {
        "report.html": to_html(r, lang, settings),
        "report.xlsx": to_xlsx(r, lang),
        "report.md": to_markdown(r, lang, settings),
    }
    output_dir(outdir)
    paths = []
    for name, data in pages.items():
        write_whole(outdir / name, data)
        paths.append(outdir / name)
    return paths


__all__ = ["Report", "build_report", "to_html", "to_markdown", "to_xlsx", "write_report"]
