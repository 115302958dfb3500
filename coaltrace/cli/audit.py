"""`coaltrace audit`: run the rules on a period, on this machine's store or on Spark, and say what they found."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table
from rich.text import Text

from coaltrace.cli.app import app
from coaltrace.cli.common import DbOption, JsonOption, QuietOption, err, handle_errors, out, print_json, state
from coaltrace.cli.rule_words import MESSAGES as RULE_WORDS
from coaltrace.cli.rule_words import RulesOption, RuleTimeoutOption, severity_option
from coaltrace.errors import ExitCode, UsageError
from coaltrace.i18n import catalogue, say
from coaltrace.labels import label
from coaltrace.severity import Severity

if TYPE_CHECKING:
    from coaltrace.rules import AuditResult

MESSAGES = RULE_WORDS | catalogue(
    {
        "seconds": ("秒", "seconds"),
        "status_ran": ("已运行", "ran"),
        "status_no_data": ("无数据未运行", "no data"),
        "status_disabled": ("已停用", "disabled"),
        "unjudged": ("未判断的县区", "not judged in"),
        "counts_as": ("吨数含义", "tonnes are"),
        "role_origin": ("源头（计入总量）", "origin (counted)"),
        "role_carried": ("携带（不重复计）", "carried (not added)"),
        "role_records": ("记录（不计入）", "on records (not added)"),
        "role_none": ("", ""),
        "data_gap": ("数据缺口", "data gap"),
        "class_unlicensed": ("无证/关停生产", "unlicensed"),
        "class_over_capacity": ("超能力生产", "over capacity"),
        "class_unsourced": ("无来源", "unsourced"),
        "at_risk_once": (
            "涉险煤炭（按源头只计一次）：{tonnes:,.3f} 吨（{by_class}）",
            "coal at risk, each tonne once at its origin: {tonnes:,.3f} t ({by_class})",
        ),
        "name": ("名称", "name"),
        "at_risk_here": ("源头涉险吨数", "at risk here (t)"),
        "worst": ("最高级别", "worst"),
        "audit_done": (
            "{period} 审计完成：运行 {rules} 条规则，{n} 个问题，涉险 {tonnes:,.3f} 吨（{seconds:.1f} 秒，运行号 {run_id}）",
            "audit of {period} done: {rules} rules ran, {n} findings, {tonnes:,.3f} t at risk ({seconds:.1f} s, run {run_id})",
        ),
        "by_severity": ("按级别：{text}", "by severity: {text}"),
        "ledger_filed": (
            "问题台账：新登记 {created} 项，{attached} 项追加证据，{reopened} 项复发重新打开（coaltrace ledger list）",
            "ledger: {created} new item(s), new evidence on {attached}, {reopened} reopened as recurrences "
            "(coaltrace ledger list)",
        ),
        "worst_facilities": ("问题最多的单位", "worst facilities"),
        "fail_on": ("有 {n} 个问题达到或高于 {level} 级", "{n} finding(s) at or above {level}"),
    }
)


def _t(key: str, **kw: object) -> str:
    return say(MESSAGES, key, state.lang, **kw)


@app.command()
@handle_errors
def audit(
    period: Annotated[
        str, typer.Option("--period", "-p", help="Month (2021-12), year (2021) or range (2021-10..2021-12).")
    ],
    rules: RulesOption = None,
    only: Annotated[str | None, typer.Option("--only", help="Run only these rule ids, comma-separated.")] = None,
    param: Annotated[
        list[str] | None, typer.Option("--param", help="Override a parameter: RULE.NAME=VALUE (repeatable).")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", help="Config file (default: ./coaltrace.toml if present).")
    ] = None,
    fail_on: Annotated[
        str | None,
        typer.Option(
            "--fail-on", help="Exit 1 when a finding is at or above this severity: low, medium, high, critical."
        ),
    ] = None,
    rule_timeout: RuleTimeoutOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
    quiet: QuietOption = False,
    engine: Annotated[
        str,
        typer.Option("--engine", help="duckdb (this machine's store) or spark (Parquet tables, local or a cluster)."),
    ] = "duckdb",
    input_dir: Annotated[
        str | None,
        typer.Option(
            "--input",
            help="Spark: the Parquet tables (`export tables --format parquet` writes them): a folder, "
            "or a URI the cluster reads (hdfs://, s3a://).",
        ),
    ] = None,
    out_dir: Annotated[
        Path | None, typer.Option("--out", help="Spark: the folder for the findings (`load-findings` reads it).")
    ] = None,
    master: Annotated[
        str | None, typer.Option("--master", help="Spark: local[*] (default), yarn, spark://HOST:7077, k8s://...")
    ] = None,
    remote: Annotated[
        str | None, typer.Option("--remote", help="Spark: a Spark Connect server, sc://HOST:15002.")
    ] = None,
    spark_conf: Annotated[
        list[str] | None, typer.Option("--conf", help="Spark: a setting, spark.KEY=VALUE (repeatable).")
    ] = None,
) -> None:
    """Run every enabled rule for a period and store the findings (or, on Spark, write them to --out).
    运行规则，保存问题（Spark 引擎：写入 --out 目录）。"""
    from coaltrace.cli.spark import audit_on_spark, check_engine
    from coaltrace.config import load_config
    from coaltrace.period import Period
    from coaltrace.rules import run_audit
    from coaltrace.store import Store

    threshold = severity_option(fail_on, "--fail-on")
    ids = _rule_ids(only)
    p = Period.parse(period)
    on_spark = check_engine(
        engine,
        spark_options={
            "--input": input_dir,
            "--out": out_dir,
            "--master": master,
            "--remote": remote,
            "--conf": spark_conf,
        },
    )
    settings = load_config(config, params=param or [])
    if rule_timeout is not None:
        settings = settings.with_overrides(rules__timeout_s=rule_timeout)
    if on_spark:
        assert input_dir is not None and out_dir is not None
        result = audit_on_spark(
            p,
            settings,
            input_dir=input_dir,
            out_dir=out_dir,
            master=master,
            remote=remote,
            conf=spark_conf or [],
            rule_dirs=rules,
            only=ids,
            quiet=quiet or as_json,
        )
    else:
        with Store(db, must_exist=True) as store:
            result = run_audit(store, p, rule_dirs=rules, only=ids, config=settings)
    if as_json:
        print_json(result.summary())
    else:
        _render_audit(result, quiet=quiet)
    if threshold is not None:
        hits = sum(n for s, n in result.by_severity.items() if Severity.rank_of(s) >= threshold.rank)
        if hits:
            err.print(_t("fail_on", n=hits, level=threshold.value))
            raise typer.Exit(int(ExitCode.FINDINGS))


def _rule_ids(only: str | None) -> list[str] | None:
    """--only as a list of ids; given but naming none (`--only ""`) is a mistake, not "every rule"."""
    if only is None:
        return None
    ids = [s.strip() for s in only.split(",") if s.strip()]
    if not ids:
        raise UsageError(
            "--only names no rule: give rule ids separated by commas, or leave --only out to run every rule",
            zh="--only 没有给出任何规则：请用逗号分隔规则编号，或去掉 --only 以运行全部规则",
        )
    return ids


def _render_audit(result: AuditResult, *, quiet: bool = False) -> None:
    lang = state.lang
    for gap in result.data_gaps:
        err.print(Text(f"{_t('data_gap')}: {gap['message'][lang]}", style="yellow"))
    table = Table(title=f"{_t('period')} {result.period}")
    for key in ("rule", "title", "severity", "status", "findings", "tonnes", "counts_as", "seconds"):
        table.add_column(_t(key), justify="right" if key in ("findings", "tonnes", "seconds") else "left")
    for r in result.rules:
        ran = r.status == "ran"
        table.add_row(
            r.rule_id,
            r.title.say(lang),
            label("severity", r.severity.value, lang),
            _t(f"status_{r.status}")
            + ("" if ran else f" ({r.reason})")
            + (f" ({_t('unjudged')}: {', '.join(r.unjudged_counties)})" if r.unjudged_counties else ""),
            str(r.findings) if ran else "-",
            f"{r.tonnes_at_risk:,.3f}" if ran and r.tonnes_role != "none" else "",
            _t(f"role_{r.tonnes_role}"),
            f"{r.seconds:.2f}" if ran else "",
        )
    out.print(table)
    text = ", ".join(f"{label('severity', s, state.lang)} {n}" for s, n in result.by_severity.items())
    out.print(_t("by_severity", text=text))
    by_class = ", ".join(f"{_t('class_' + c)} {t:,.3f}" for c, t in result.tonnes_at_risk_by_class.items())
    out.print(_t("at_risk_once", tonnes=result.tonnes_at_risk, by_class=by_class))
    if result.worst_facilities:
        worst = Table(title=_t("worst_facilities"))
        for key in ("facility", "name", "county", "findings", "worst", "at_risk_here"):
            worst.add_column(_t(key), justify="right" if key in ("findings", "at_risk_here") else "left")
        for f in result.worst_facilities:
            worst.add_row(
                f["facility_id"],
                f.get("name") or "",
                f["county"] or "",
                str(f["findings"]),
                label("severity", f["worst_severity"], state.lang),
                f"{f['tonnes_at_risk']:,.3f}",
            )
        out.print(worst)
    if not quiet:
        err.print(
            _t(
                "audit_done",
                period=result.period,
                rules=sum(r.status == "ran" for r in result.rules),
                n=result.findings,
                tonnes=result.tonnes_at_risk,
                seconds=result.seconds,
                run_id=result.run_id,
            )
        )
    if result.ledger and not quiet:
        err.print(_t("ledger_filed", **{k: result.ledger[k] for k in ("created", "attached", "reopened")}))
