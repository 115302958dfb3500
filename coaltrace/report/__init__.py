"""The audit report: gathered from the store (`model`), written as Markdown or HTML (`render`)."""

from __future__ import annotations

import os
from contextlib import suppress
from pathlib import Path

from coaltrace.errors import CannotWriteError, refused_write
from coaltrace.files import output_dir
from coaltrace.period import Period
from coaltrace.report.model import Report, build_report
from coaltrace.report.render import to_html, to_markdown
from coaltrace.store import Store


def write_report(store: Store, period: Period, outdir: Path, lang: str, *, credit: str | None = None) -> list[Path]:
    """Write report.md and report.html for PERIOD into OUTDIR; returns their paths."""
    r = build_report(store, period, credit=credit)
    output_dir(outdir)
    md, page = outdir / "report.md", outdir / "report.html"
    _write_whole(md, to_markdown(r, lang))
    _write_whole(page, to_html(r, lang))
    return [md, page]


def _write_whole(path: Path, text: str) -> None:
    """All of TEXT or nothing: a report cut short by a full disk must not pass for a whole one."""
    part = path.with_name(f".{path.name}.part")
    try:
        part.write_text(text, encoding="utf-8")
        os.replace(part, path)
    except OSError as e:
        with suppress(OSError):
            part.unlink(missing_ok=True)
        raise refused_write(e) or CannotWriteError(
            f"cannot write {path}: {e.strerror or e}",
            zh=f"无法写入 {path}：{e.strerror or e}",
            hint="Name a folder you may write with --out.",
            hint_zh="请用 --out 指定一个可写入的文件夹。",
        ) from None


__all__ = ["Report", "build_report", "to_html", "to_markdown", "write_report"]
