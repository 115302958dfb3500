"""`coaltrace sample`: write a synthetic campaign month with planted violations and its ground truth."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from coaltrace.cli.app import app
from coaltrace.cli.common import QuietOption, err, handle_errors, state
from coaltrace.i18n import catalogue, say

MESSAGES = catalogue(
    {
        "done": (
            "已生成样例月份（2021年12月，种子 {seed}，规模 {scale}）：{outdir}",
            "wrote a sample month (December 2021, seed {seed}, scale {scale}) to {outdir}",
        ),
        "second": (
            "另有 2022年1月（data/2022-01/）：部分问题已整改，其余问题持续或复发。",
            "and January 2022 (data/2022-01/): some problems were put right, the others go on or come back.",
        ),
        "table": ("  {table}：{files} 个文件，{rows:,} 行", "  {table}: {files} file(s), {rows:,} rows"),
        "truth": (
            "已植入 {cases} 个案例，应报告的发现 {truth} 条（truth.csv）；应隔离的行 {q} 条（quarantine_expected.csv）。",
            "planted {cases} cases, {truth} findings a correct rule pack reports (truth.csv); {q} rows to quarantine (quarantine_expected.csv).",
        ),
        "credit": (
            "煤矿数据：Global Energy Monitor, Global Coal Mine Tracker（CC BY 4.0）。",
            "Mine data: Global Energy Monitor, Global Coal Mine Tracker (CC BY 4.0).",
        ),
    }
)


@app.command()
@handle_errors
def sample(
    outdir: Annotated[Path, typer.Argument(help="Folder to write the sample into (must be empty unless --force).")],
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Random seed, 0 or more; the same seed gives the same files.")
    ] = 42,
    scale: Annotated[
        float,
        typer.Option("--scale", help="1.0 is a realistic Jincheng month (~300,000 trips); 0.01 is a quick test month."),
    ] = 1.0,
    province: Annotated[
        bool, typer.Option("--province", help="All 784 Shanxi mines and about ten times the facilities.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Overwrite a previous sample in OUTDIR.")] = False,
    quiet: QuietOption = False,
    months: Annotated[
        int,
        typer.Option(
            "--months",
            min=1,
            max=2,
            help="1: December 2021; 2: also January 2022 (in data/2022-01/), where some problems come back.",
        ),
    ] = 1,
) -> None:
    """Write a synthetic month of coal records with planted violations, and the findings a correct rule pack must report."""
    from coaltrace.sample import write_sample

    summary = write_sample(outdir, seed=seed, scale=scale, province=province, force=force, months=months)
    if quiet:
        return
    lang = state.lang
    err.print(say(MESSAGES, "done", lang, seed=summary.seed, scale=summary.scale, outdir=summary.outdir))
    if months == 2:
        err.print(say(MESSAGES, "second", lang))
    for table, files in summary.files.items():
        err.print(say(MESSAGES, "table", lang, table=table, files=len(files), rows=summary.rows[table]))
    err.print(say(MESSAGES, "truth", lang, cases=summary.cases, truth=summary.truth_rows, q=summary.quarantined))
    err.print(say(MESSAGES, "credit", lang))
