"""`coaltrace audit`, `findings` and `rules list|show|validate|test`."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from coaltrace.cli.app import app
from coaltrace.cli.common import (
    DbOption,
    JsonOption,
    QuietOption,
    err,
    handle_errors,
    out,
    print_json,
    printable,
    state,
    styled,
)
from coaltrace.cli.output import FormatOption, OutOption, emit, resolve_format
from coaltrace.errors import ExitCode, RuleError, UsageError
from coaltrace.i18n import Text as Words
from coaltrace.i18n import catalogue, say
from coaltrace.labels import label
from coaltrace.severity import Severity

if TYPE_CHECKING:
    from coaltrace.rules import AuditResult
    from coaltrace.rules.model import Rule

MESSAGES = catalogue(
    {
        "rule": ("规则", "rule"),
        "title": ("名称", "title"),
        "severity": ("级别", "severity"),
        "status": ("状态", "status"),
        "entity": ("对象", "entity"),
        "checks": ("八查", "checks"),
        "findings": ("问题数", "findings"),
        "tonnes": ("涉及吨数", "tonnes at risk"),
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
        "facility": ("单位", "facility"),
        "county": ("县区", "county"),
        "worst": ("最高级别", "worst"),
        "period": ("期间", "period"),
        "entity_id": ("对象编号", "entity id"),
        "finding_id": ("问题编号", "finding id"),
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
        "valid": ("{n} 条规则全部有效。", "all {n} rules are valid."),
        "invalid": ("{n} 个问题：", "{n} problem(s):"),
        "case_ok": ("通过", "ok"),
        "case_fail": ("失败", "FAIL"),
        "missed": ("漏报 {ids}", "missed {ids}"),
        "false_alarms": ("误报 {ids}", "false alarms {ids}"),
        "wrong_severity": ("级别不符 {ids}", "wrong severity {ids}"),
        "tests_summary": (
            "{rules} 条规则，{cases} 个用例，{failed} 个失败",
            "{rules} rules, {cases} cases, {failed} failed",
        ),
        "no_findings": ("没有符合条件的问题。", "No findings match."),
        "description": ("说明", "description"),
        "params": ("参数", "parameters"),
        "evidence": ("证据列", "evidence"),
        "false_positives": ("可能误报", "false positives"),
        "references": ("依据", "references"),
        "query": ("查询", "query"),
        "file": ("文件", "file"),
        "version": ("版本", "version"),
        "clause": ("整治重点", "clauses"),
    }
)

RulesOption = Annotated[
    list[Path] | None,
    typer.Option(
        "--rules", help="Rule folder or file; repeat for more (default: the shipped rule pack).", show_default=False
    ),
]

RuleTimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--rule-timeout",
        min=0.001,
        max=7 * 24 * 3600,
        help="Stop a rule whose query runs longer than this many seconds (default: [rules] timeout_s, or 300).",
        show_default=False,
    ),
]

rules_app = typer.Typer(
    help="List, show, validate and test the rules. 规则：列出、查看、校验、测试。", no_args_is_help=True
)
app.add_typer(rules_app, name="rules")


def _t(key: str, **kw: object) -> str:
    return say(MESSAGES, key, state.lang, **kw)


def _severity(value: str | None, option: str) -> Severity | None:
    from coaltrace.severity import parse_option

    return None if value is None else parse_option(value, option)


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

    threshold = _severity(fail_on, "--fail-on")
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
                f["worst_severity"],
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


@app.command()
@handle_errors
def findings(
    period: Annotated[str | None, typer.Option("--period", "-p", help="Only this period (as given to audit).")] = None,
    rule: Annotated[str | None, typer.Option("--rule", help="Only this rule id.")] = None,
    severity: Annotated[
        str | None, typer.Option("--severity", help="Only at or above this severity (high, 高, ...).")
    ] = None,
    facility: Annotated[
        str | None,
        typer.Option("--facility", help="Only findings about this facility: its id in any case, or part of its name."),
    ] = None,
    county: Annotated[str | None, typer.Option("--county", help="Only findings in this county.")] = None,
    fmt: FormatOption = "table",
    out_path: OutOption = None,
    db: DbOption = None,
) -> None:
    """Show stored findings, worst first. 查看已保存的问题（严重的在前）。"""
    from coaltrace.period import Period
    from coaltrace.rules import FindingFilter, query_findings
    from coaltrace.store import Store

    fmt = resolve_format(fmt, out_path, what=Words("问题列表", "findings"))
    label = Period.parse(period).label if period is not None else None
    min_severity = _severity(severity, "--severity")
    with Store(db, read_only=True) as store:
        # An id as the findings have it (also one the register lacks), else what a person means by it.
        if facility is not None and not store.engine.rows(
            "SELECT 1 FROM findings WHERE facility_id = ? LIMIT 1", [facility]
        ):
            from coaltrace.cli.reading import lookup_facility

            facility = lookup_facility(store, facility)
        rows = query_findings(
            store,
            FindingFilter(period=label, rule_id=rule, min_severity=min_severity, facility_id=facility, county=county),
        )
    for r in rows:
        r["created_at"] = r["created_at"].isoformat() if r["created_at"] else None
        r["title"] = r.pop("title_en") if state.lang == "en" else r.pop("title_zh")
        r.pop("title_en", None)
        r.pop("title_zh", None)
    emit(rows, fmt, out_path, table=lambda: _findings_table(rows), sheet="findings", empty=_t("no_findings"))


def _findings_table(rows: list[dict[str, Any]]) -> Table:
    # Ids must stay whole to be copied into a ledger: fold long cells instead of cutting them.
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for key in ("finding_id", "rule", "severity", "entity", "entity_id", "facility", "county", "period", "tonnes"):
        table.add_column(
            _t(key),
            overflow="fold",
            no_wrap=key in ("finding_id", "entity_id"),
            justify="right" if key == "tonnes" else "left",
        )
    for r in rows:
        tonnes = "" if r["tonnes_at_risk"] is None else f"{r['tonnes_at_risk']:,.3f}"
        table.add_row(
            r["finding_id"],
            r["rule_id"],
            label("severity", r["severity"], state.lang),
            label("entity", r["entity_kind"], state.lang),
            r["entity_id"],
            r["facility_id"] or "",
            r["county"] or "",
            r["period"],
            tonnes,
        )
    return table


@rules_app.command("list")
@handle_errors
def list_rules(
    rules: RulesOption = None, as_json: JsonOption = False, fmt: FormatOption = "table", out_path: OutOption = None
) -> None:
    """List the rules. 列出规则。"""
    from coaltrace.rules import load_rules

    fmt = resolve_format(fmt, out_path, what=Words("规则列表", "rules list"), json_flag=as_json)
    ruleset = load_rules(rules)
    rows = [_rule_summary(r) for r in ruleset]

    def table() -> Table:
        grid = Table()
        for key in ("rule", "title", "severity", "status", "entity", "checks"):
            grid.add_column(_t(key))
        for r in rows:
            grid.add_row(
                r["id"],
                r["title"],
                label("severity", r["severity"], state.lang),
                label("rule_release", r["status"], state.lang),
                label("entity", r["entity"], state.lang),
                ",".join(str(c) for c in r["checks"]),
            )
        return grid

    emit(rows, fmt, out_path, table=table, sheet="rules")


def _rule_summary(r: Rule) -> dict[str, Any]:
    return {
        "id": r.id,
        "version": r.version,
        "title": r.title.say(state.lang),
        "severity": r.severity.value,
        "status": r.status.value,
        "entity": r.entity.value,
        "checks": r.checks.check,
        "clauses": r.checks.clause,
        "enabled": r.enabled,
    }


@rules_app.command("show")
@handle_errors
def show_rule(
    rule_id: Annotated[str, typer.Argument(help="The rule id.")], rules: RulesOption = None, as_json: JsonOption = False
) -> None:
    """Show one rule: what it catches, its parameters and query. 查看一条规则。"""
    from coaltrace.rules import load_rules

    ruleset = load_rules(rules)
    r = ruleset.get(rule_id)
    if as_json:
        print_json(r.model_dump(mode="json") | {"file": str(ruleset.files[r.id])})
        return
    lang = state.lang
    out.print(Text.assemble(styled(r.id, "bold"), printable(f" v{r.version}  {r.title.say(lang)}")))
    out.print(f"{_t('file')}: {ruleset.files[r.id]}")
    out.print(
        f"{_t('severity')}: {r.severity.value}  {_t('status')}: {r.status.value}  {_t('entity')}: {r.entity.value}"
    )
    out.print(f"{_t('checks')}: {r.checks.check}  {_t('clause')}: {r.checks.clause}")
    out.print(f"{_t('description')}: {r.description.say(lang)}")
    if r.params:
        out.print(f"{_t('params')}:")
        for name, p in r.params.items():
            out.print(f"  {name} ({p.type.value}) = {p.default!r}: {p.description.say(lang)}")
    out.print(f"{_t('evidence')}: {', '.join(r.evidence)}")
    for fp in r.false_positives:
        out.print(f"{_t('false_positives')}: {fp.say(lang)}")
    for ref in r.references:
        out.print(f"{_t('references')}: {ref}")
    out.print(f"{_t('query')}:\n{r.query}")


@rules_app.command("validate")
@handle_errors
def validate_rules(
    dirs: Annotated[
        list[Path] | None, typer.Argument(help="Rule folders or files (default: the shipped pack).")
    ] = None,
) -> None:
    """Check rule files without running them: format, SQL, ids, tests. 校验规则文件。"""
    from coaltrace.rules import collect

    ruleset, problems = collect(dirs)
    if problems:
        err.print(_t("invalid", n=len(problems)))
        for p in problems:
            err.print(f"  {p}")
        raise typer.Exit(int(RuleError.exit_code))
    err.print(_t("valid", n=len(ruleset)))


@rules_app.command("test")
@handle_errors
def test_rules(
    dirs: Annotated[
        list[Path] | None, typer.Argument(help="Rule folders or files (default: the shipped pack).")
    ] = None,
    only: Annotated[str | None, typer.Option("--only", help="Only these rule ids, comma-separated.")] = None,
    rule_timeout: RuleTimeoutOption = None,
) -> None:
    """Run each rule's own cases and report per rule. 运行每条规则自带的用例。"""
    from coaltrace.config import DEFAULT_RULE_TIMEOUT_S
    from coaltrace.rules import load_rules, run_rule_tests

    ids = [s.strip() for s in only.split(",") if s.strip()] if only else None
    reports = run_rule_tests(load_rules(dirs), ids, timeout_s=rule_timeout or DEFAULT_RULE_TIMEOUT_S)
    failed = 0
    for rep in reports:
        mark = _t("case_ok") if rep.ok else _t("case_fail")
        out.print(f"{mark:6} {rep.rule_id} ({len(rep.cases)})")
        for c in rep.cases:
            if c.ok:
                continue
            failed += 1
            reasons = [c.error] if c.error else []
            for key in ("missed", "false_alarms", "wrong_severity"):
                ids_ = getattr(c, key)
                if ids_:
                    reasons.append(_t(key, ids=", ".join(ids_)))
            out.print(f"         - {c.case}: {'; '.join(r for r in reasons if r)}")
    cases = sum(len(r.cases) for r in reports)
    err.print(_t("tests_summary", rules=len(reports), cases=cases, failed=failed))
    if failed:
        raise typer.Exit(int(ExitCode.FINDINGS))
