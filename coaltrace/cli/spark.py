"""Audits beyond one machine: `audit --engine spark` (run from `coaltrace.cli.rules`) and `load-findings`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from coaltrace.cli.app import app
from coaltrace.cli.common import DbOption, JsonOption, QuietOption, err, handle_errors, print_json, state
from coaltrace.cli.reading import ConfigOption
from coaltrace.errors import UsageError
from coaltrace.i18n import catalogue, say

if TYPE_CHECKING:
    from coaltrace.config import AuditConfig
    from coaltrace.period import Period
    from coaltrace.rules import AuditResult

MESSAGES = catalogue(
    {
        "starting": ("正在启动 Spark（{where}）……", "starting Spark ({where}) ..."),
        "missing_tables": (
            "以下数据表没有目录，按空表处理（见数据缺口）：{tables}",
            "no folder for these tables, read as empty (see the data gaps): {tables}",
        ),
        "written": (
            "Spark 审计结果已写入 {path}：{n} 个问题；用 `coaltrace load-findings {path}` 导入本地数据库",
            "Spark audit written to {path}: {n} findings; bring them into a local store with "
            "`coaltrace load-findings {path}`",
        ),
        "needs_input": (
            "--engine spark 需要 --input（Parquet 数据表目录）和 --out（结果目录）",
            "--engine spark needs --input (the Parquet tables) and --out (the folder for the findings)",
        ),
        "spark_only": (
            "{option} 只用于 --engine spark",
            "{option} is for --engine spark only",
        ),
        "bad_engine": ("--engine {value!r}：可选 duckdb 或 spark", "--engine {value!r}: choose duckdb or spark"),
        "loaded": (
            "已导入 {period} 的审计（{run_id}）：{n} 个问题；登记册{registers}；台账新增 {created}、归并 {attached}、"
            "重新打开 {reopened}",
            "brought in the audit of {period} ({run_id}): {n} findings; registers {registers}; ledger: "
            "{created} new, {attached} attached, {reopened} reopened",
        ),
        "registers_loaded": ("已从结果目录导入", "loaded from the folder"),
        "registers_kept": ("沿用本地数据库的", "kept from this store"),
    }
)


def _t(key: str, **kw: object) -> str:
    return say(MESSAGES, key, state.lang, **kw)


def check_engine(engine: str, *, spark_options: dict[str, Any], needs_folders: bool = True) -> bool:
    """True for the Spark engine; refuses an unknown engine, Spark's options without it, and (with
    NEEDS_FOLDERS, as `audit` has) the Spark engine without --input and --out."""
    choice = engine.strip().lower()
    if choice not in ("duckdb", "spark"):
        raise UsageError(
            say(MESSAGES, "bad_engine", "en", value=engine), zh=say(MESSAGES, "bad_engine", "zh", value=engine)
        )
    if choice == "duckdb":
        for option, value in spark_options.items():
            if value:
                raise UsageError(
                    say(MESSAGES, "spark_only", "en", option=option),
                    zh=say(MESSAGES, "spark_only", "zh", option=option),
                )
        return False
    if needs_folders and (not spark_options.get("--input") or not spark_options.get("--out")):
        raise UsageError(say(MESSAGES, "needs_input", "en"), zh=say(MESSAGES, "needs_input", "zh"))
    return True


def audit_on_spark(
    period: Period,
    settings: AuditConfig,
    *,
    input_dir: str,
    out_dir: Path,
    master: str | None,
    remote: str | None,
    conf: list[str],
    rule_dirs: list[Path] | None,
    only: list[str] | None,
    quiet: bool,
) -> AuditResult:
    from coaltrace.spark.audit import run_spark_audit
    from coaltrace.spark.session import SparkSettings, parse_conf, session

    spark_settings = SparkSettings(master=master, remote=remote, conf=parse_conf(conf))
    if not quiet:
        err.print(_t("starting", where=remote or master or "local[*]"))
    with session(spark_settings) as spark:
        result, output = run_spark_audit(
            spark, input_dir, period, out_dir, rule_dirs=rule_dirs, only=only, config=settings
        )
    if output.missing_tables and not quiet:
        err.print(_t("missing_tables", tables=", ".join(output.missing_tables)))
    if not quiet:
        err.print(_t("written", path=output.folder, n=output.findings))
    return result


@app.command("load-findings")
@handle_errors
def load_findings_command(
    folder: Annotated[Path, typer.Argument(help="The folder `audit --engine spark --out` wrote.")],
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
) -> None:
    """Bring an audit that ran on Spark into this store, for the report, the yard page and the ledger.
    导入 Spark 审计结果到本地数据库（供报告、现场核查单和台账使用）。"""
    from coaltrace.config import load_config
    from coaltrace.spark.load_findings import load_findings, read_folder
    from coaltrace.store import Store

    settings = load_config(config)
    audit = read_folder(folder)  # checked before the store is opened (or made)
    with Store(db) as store:
        imported = load_findings(store, audit, settings)
    if as_json:
        print_json(imported.result.summary())
        return
    if not quiet:
        ledger = imported.result.ledger or {"created": 0, "attached": 0, "reopened": 0}
        err.print(
            _t(
                "loaded",
                period=imported.period,
                run_id=imported.run_id,
                n=imported.findings,
                registers=_t("registers_loaded" if imported.registers_loaded else "registers_kept"),
                created=ledger.get("created", 0),
                attached=ledger.get("attached", 0),
                reopened=ledger.get("reopened", 0),
            )
        )
