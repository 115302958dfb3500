"""The audit report: gathered from the store (`model`), written as Markdown or HTML (`render`)."""

from __future__ import annotations

from pathlib import Path

from coaltrace.paths import output_dir
from coaltrace.period import Period
from coaltrace.report.model import Report, build_report
from coaltrace.report.render import to_html, to_markdown
from coaltrace.store import Store


def write_report(store: Store, period: Period, outdir: Path, lang: str, *, credit: str | None = None) -> list[Path]:
    """Write report.md and report.html for PERIOD into OUTDIR; returns their paths."""
    r = build_report(store, period, credit=credit)
    output_dir(outdir)
    md, page = outdir / "report.md", outdir / "report.html"
    md.write_text(to_markdown(r, lang), encoding="utf-8")
    page.write_text(to_html(r, lang), encoding="utf-8")
    return [md, page]


__all__ = ["Report", "build_report", "to_html", "to_markdown", "write_report"]
