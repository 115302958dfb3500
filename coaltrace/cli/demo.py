"""`coaltrace demo`: the whole job on a generated sample month, in one command."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coaltrace.cli.app import app
from coaltrace.cli.common import QuietOption, err, handle_errors, out, state
from coaltrace.i18n import catalogue, say
from coaltrace.labels import label

MESSAGES = catalogue(
    {
        "sample": ("生成样例月份数据…", "writing the sample month…"),
        "load": ("载入数据…", "loading it…"),
        "audit": ("运行全部规则…", "running every rule…"),
        "report": ("写出报告…", "writing the report…"),
        "done": (
            "完成：载入 {files} 个文件 {rows:,} 行（隔离 {q} 行），发现 {n} 个问题，涉及 {t:,.0f} 吨。",
            "done: {files} files, {rows:,} rows loaded ({q} quarantined), {n} findings, {t:,.0f} t at risk.",
        ),
        "severity": ("按级别：{text}", "by severity: {text}"),
        "report_at": ("报告：{paths}", "report: {paths}"),
        "next": (
            "接着试试：coaltrace --lang zh findings --db {db}\n          coaltrace yard <单位编码> --db {db}",
            "try next: coaltrace --lang en findings --db {db}\n          coaltrace yard <facility_id> --db {db}",
        ),
    }
)


@app.command()
@handle_errors
def demo(
    outdir: Annotated[Path, typer.Argument(help="Folder for the sample, the database and the report.")] = Path("demo"),
    scale: Annotated[
        float, typer.Option("--scale", help="Size of the month: 1.0 is a Jincheng-sized city (~300,000 trips).")
    ] = 0.1,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Seed of the sample generator, 0 or more.")] = 42,
    quiet: QuietOption = False,
) -> None:
    """Sample month → load → audit → report, in OUTDIR (default ./demo). 演示：生成、载入、审计、报告。"""
    from coaltrace.demo import run_demo

    def step(what: str) -> None:
        err.print(say(MESSAGES, what, state.lang))

    result = run_demo(outdir, scale=scale, seed=seed, lang=state.lang, step=None if quiet else step)
    if quiet:
        out.print(say(MESSAGES, "report_at", state.lang, paths=", ".join(result.report)))
        return
    err.print(
        say(
            MESSAGES,
            "done",
            state.lang,
            files=result.files,
            rows=result.rows_loaded,
            q=result.quarantined,
            n=result.findings,
            t=result.tonnes_at_risk,
        )
    )
    by = ", ".join(f"{label('severity', k, state.lang)} {v}" for k, v in result.by_severity.items())
    err.print(say(MESSAGES, "severity", state.lang, text=by))
    out.print(say(MESSAGES, "report_at", state.lang, paths=", ".join(result.report)))
    err.print(say(MESSAGES, "next", state.lang, db=result.db))
