"""`coaltrace findings` and `rules list|show|validate|test`."""

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
    err,
    handle_errors,
    out,
    print_json,
    printable,
    state,
    styled,
)
from coaltrace.cli.output import FormatOption, OutOption, emit, resolve_format
from coaltrace.cli.rule_words import MESSAGES, RulesOption, RuleTimeoutOption, severity_option
from coaltrace.errors import ExitCode, RuleError
from coaltrace.i18n import Text as Words
from coaltrace.i18n import say
from coaltrace.labels import label

if TYPE_CHECKING:
    from coaltrace.rules.model import Rule

rules_app = typer.Typer(
    help="List, show, validate and test the rules. 规则：列出、查看、校验、测试。", no_args_is_help=True
)
app.add_typer(rules_app, name="rules")


def _t(key: str, **kw: object) -> str:
    return say(MESSAGES, key, state.lang, **kw)


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
    min_severity = severity_option(severity, "--severity")
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
    engine: Annotated[
        str, typer.Option("--engine", help="duckdb, or spark: each case through the Spark engine (local by default).")
    ] = "duckdb",
    master: Annotated[str | None, typer.Option("--master", help="Spark: local[*] (default), yarn, ...")] = None,
    remote: Annotated[str | None, typer.Option("--remote", help="Spark: a Spark Connect server.")] = None,
    spark_conf: Annotated[list[str] | None, typer.Option("--conf", help="Spark: spark.KEY=VALUE.")] = None,
) -> None:
    """Run each rule's own cases and report per rule. 运行每条规则自带的用例。"""
    from coaltrace.cli.spark import check_engine
    from coaltrace.config import DEFAULT_RULE_TIMEOUT_S
    from coaltrace.rules import load_rules, run_rule_tests

    ids = [s.strip() for s in only.split(",") if s.strip()] if only else None
    on_spark = check_engine(
        engine, spark_options={"--master": master, "--remote": remote, "--conf": spark_conf}, needs_folders=False
    )
    ruleset = load_rules(dirs)
    timeout_s = rule_timeout or DEFAULT_RULE_TIMEOUT_S
    if on_spark:
        from coaltrace.spark.cases import case_runner
        from coaltrace.spark.session import SparkSettings, parse_conf, session

        with session(SparkSettings(master=master, remote=remote, conf=parse_conf(spark_conf or []))) as spark:
            reports = run_rule_tests(ruleset, ids, timeout_s=timeout_s, runner=case_runner(spark))
    else:
        reports = run_rule_tests(ruleset, ids, timeout_s=timeout_s)
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
