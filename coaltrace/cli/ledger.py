"""`coaltrace ledger ...`: the problem ledger (问题台账), from finding to closed item.

list | show | history | add | update | close | dismiss | reopen | sample | lookback | export | import | verify
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from coaltrace.cli.app import app
from coaltrace.cli.common import DbOption, JsonOption, err, handle_errors, out, print_json, printable, state, styled
from coaltrace.errors import ExitCode, UsageError
from coaltrace.i18n import catalogue, say
from coaltrace.labels import label, parse

if TYPE_CHECKING:
    from coaltrace.config import LedgerSettings
    from coaltrace.ledger.model import FieldCheck, Status
    from coaltrace.ledger.queries import ItemFilter

MESSAGES = catalogue(
    {
        "item": ("编号", "item"),
        "finding": ("问题编号", "finding"),
        "county": ("县区", "county"),
        "facility": ("单位/地点", "facility or place"),
        "problem": ("问题类型", "problem"),
        "source": ("来源", "source"),
        "severity": ("级别", "severity"),
        "status": ("状态", "status"),
        "deadline": ("整改时限", "deadline"),
        "owner": ("责任人", "owner"),
        "unit": ("责任单位", "unit"),
        "tonnes": ("涉险吨数", "t at risk"),
        "recur": ("复发", "recurred"),
        "overdue_mark": ("（逾期）", " (overdue)"),
        "empty": ("台账中没有符合条件的事项。", "No ledger item matches."),
        "total": ("共 {n} 项；{by_status}", "{n} item(s); {by_status}"),
        "description": ("问题描述", "description"),
        "requirement": ("整改要求", "rectification required"),
        "found": ("发现", "found"),
        "periods": ("期间", "periods"),
        "signer": ("核查人", "signed by"),
        "closed_on": ("销号时间", "closed on"),
        "checks": ("现场核查", "field checks"),
        "applicable": ("适用的八查", "checks that apply"),
        "note": ("备注", "note"),
        "samples": ("市级抽查", "spot checks"),
        "lookbacks": ("回头看", "look-backs"),
        "seen": ("回头看所见", "activity seen"),
        "version": ("版本", "version"),
        "findings": ("问题线索（{n}）", "findings ({n})"),
        "history": ("变更记录（{n}）", "history ({n})"),
        "evidence": ("证据（文件:行）", "evidence (file:line)"),
        "more_findings": ("……另有 {n} 条（--json 可查看全部）", "... and {n} more (--json shows them all)"),
        "rule": ("规则", "rule"),
        "period": ("期间", "period"),
        "entity": ("对象", "entity"),
        "at": ("时间", "at"),
        "on": ("生效日", "on"),
        "actor": ("操作人", "by"),
        "action": ("操作", "action"),
        "move": ("状态", "status"),
        "changed": ("变更内容", "changed"),
        "added": (
            "已登记线索 {item}（{source}，{county}），整改时限 {deadline}",
            "registered lead {item} ({source}, {county}), deadline {deadline}",
        ),
        "related": ("该地点已有未销号事项：{items}", "open items at the same place: {items}"),
        "updated": ("事项 {item}：{what}（版本 {version}）", "item {item}: {what} (version {version})"),
        "moved": ("{from_} → {to}", "{from_} → {to}"),
        "fields_changed": ("更新 {fields}", "updated {fields}"),
        "sampled": (
            "抽样 {sample}：{population} 项中抽取 {drawn} 项（种子 {seed}，比例 {rate:.0%}），已记入台账",
            "sample {sample}: {drawn} of {population} items drawn (seed {seed}, rate {rate:.0%}), recorded in the ledger",
        ),
        "sample_county": ("  {county}：{population} 项中抽取 {drawn} 项", "  {county}: {drawn} of {population}"),
        "written": ("已写出：{paths}", "written: {paths}"),
        "lookback_none": (
            "回头看 {period}：{closed_before} 及之前销号的 {n} 项中，没有发现复产迹象。",
            "look-back {period}: none of the {n} item(s) closed on or before {closed_before} shows activity again.",
        ),
        "lookback_found": (
            "回头看 {period}：{closed_before} 及之前销号的 {n} 项中，{k} 项有复产迹象：",
            "look-back {period}: {k} of the {n} item(s) closed on or before {closed_before} show activity again:",
        ),
        "lookback_no_records": (
            "注意：{period} 没有销售、运输、入库或用电记录，回头看无从判断。",
            "note: {period} has no sale, trip, intake or power record; the look-back could see nothing.",
        ),
        "lookback_reopened": ("已重新打开 {n} 项。", "reopened {n} item(s)."),
        "lookback_hint": ("如需重新打开，请加 --reopen --as 姓名。", "To reopen them, add --reopen --as NAME."),
        "lookback_note": ("回头看 {period}：{activity}", "look-back {period}: {activity}"),
        "activity": (
            "问题 {findings} 条，销售 {sales} 笔 {tonnes:,.3f} 吨，运输 {trips} 车次，入库 {intakes} 笔，用电 {kwh:,.0f} 千瓦时",
            "{findings} finding(s), {sales} sale(s) of {tonnes:,.3f} t, {trips} trip(s), {intakes} intake(s), {kwh:,.0f} kWh",
        ),
        "closed": ("销号", "closed"),
        "exported": (
            "已导出 {n} 项到 {path}（数据库 {db}；历史链末端 {head}）",
            "exported {n} item(s) to {path} (database {db}; history head {head})",
        ),
        "imported": (
            "{path}：{rows} 行，{applied} 项已更新，{unchanged} 项未修改",
            "{path}: {rows} row(s), {applied} item(s) updated, {unchanged} unchanged",
        ),
        "dry_run": ("（试运行：未写入台账）", "(dry run: nothing written)"),
        "import_line": ("  第 {line} 行 {item}：{what}", "  line {line} {item}: {what}"),
        "verified_ok": (
            "台账历史完好：{n} 条记录，链条、证据和事项均一致。末端哈希 {head}",
            "the ledger's history is intact: {n} entries; chain, evidence and items agree. head {head}",
        ),
        "verified_bad": ("台账历史被改动过：", "the ledger's history was altered:"),
        "no_ledger": ("该数据库中还没有问题台账。", "This database has no ledger yet."),
    }
)

ledger_app = typer.Typer(
    help="The problem ledger (问题台账): items from the audit and from leads, followed to their closing. "
    "问题台账：登记、交办、整改、核查、销号、抽查、回头看。",
    no_args_is_help=True,
)
app.add_typer(ledger_app, name="ledger")

AsOption = Annotated[
    str | None,
    typer.Option("--as", help="Who makes the change (default: $COALTRACE_USER).", show_default=False),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option("--config", help="Config file (default: ./coaltrace.toml if present).", show_default=False),
]
OnOption = Annotated[
    str | None,
    typer.Option("--on", help="The day the change took effect, YYYY-MM-DD (default: today).", show_default=False),
]
CountyOption = Annotated[str | None, typer.Option("--county", help="Only this county's items.")]
StatusOption = Annotated[
    list[str] | None,
    typer.Option(
        "--status",
        help="Only items in this status (repeatable): open, assigned, rectifying, verified, "
        "closed, dismissed, reopened, or their Chinese labels.",
    ),
]
SourceOption = Annotated[
    str | None,
    typer.Option(
        "--source",
        help="Only items from this source: audit, tip_off, media, satellite, inspection, "
        "patrol, instruction (or 群众举报, ...).",
    ),
]
PeriodOption = Annotated[
    str | None, typer.Option("--period", "-p", help="Only items with findings in this period (a lead: found in it).")
]
ItemArgument = Annotated[str, typer.Argument(help="The item id (TZ-...), as `ledger list` shows it.")]


def _t(key: str, **kw: object) -> str:
    return say(MESSAGES, key, state.lang, **kw)


def _sep() -> str:
    return "；" if state.lang == "zh" else "; "


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    from coaltrace.ledger.sheets import _date

    try:
        return _date(value.strip())
    except ValueError:
        raise UsageError(
            f"{option} {value!r} is not a date: write YYYY-MM-DD, e.g. 2022-01-15",
            zh=f"{option} {value!r} 不是日期：请写成 YYYY-MM-DD，如 2022-01-15",
        ) from None


def _code(family: str, value: str, option: str) -> str:
    try:
        return parse(family, value)
    except ValueError:
        from coaltrace.labels import LABELS

        codes = LABELS[family]
        raise UsageError(
            f"{option} {value!r}: use one of {', '.join(codes)}",
            zh=f"{option} {value!r}：只能是 {'、'.join(f'{c}（{t.zh}）' for c, t in codes.items())} 之一",
        ) from None


def _statuses(values: list[str] | None) -> tuple[Status, ...]:
    from coaltrace.ledger.model import Status

    words = [w for v in values or [] for w in v.replace("，", ",").split(",") if w.strip()]
    return tuple(Status(_code("ledger_status", w, "--status")) for w in words)


def _period(value: str | None) -> Any:
    from coaltrace.period import Period

    return Period.parse(value) if value is not None else None


def _filter(
    county: str | None,
    status: list[str] | None,
    source: str | None,
    period: str | None,
    *,
    overdue: bool = False,
    as_of: date | None = None,
) -> ItemFilter:
    from coaltrace.ledger.queries import ItemFilter

    return ItemFilter(
        county=county.strip() if county else None,
        statuses=_statuses(status),
        overdue=overdue,
        source=_code("ledger_source", source, "--source") if source else None,
        period=_period(period),
        as_of=as_of,
    )


def _settings(config: Path | None) -> LedgerSettings:
    from coaltrace.config import load_config

    return load_config(config).ledger


def _actor(value: str | None) -> str:
    from coaltrace.config import default_user
    from coaltrace.ledger.workflow import require_actor

    return require_actor(value if value is not None else default_user())


def _checks(values: list[str] | None) -> tuple[FieldCheck, ...]:
    from coaltrace.ledger.model import parse_check

    out = []
    for v in values or []:
        try:
            out.append(parse_check(v))
        except ValueError:
            raise UsageError(
                f"--check {v!r}: write N:clear, N:found[:NOTE] or N:not_done:REASON with N from 1 to 8",
                zh=f"--check {v!r}：请写成 序号:clear、序号:found[:说明] 或 序号:not_done:原因（序号 1 到 8）",
            ) from None
    return tuple(out)


@ledger_app.command("list")
@handle_errors
def list_items(
    county: CountyOption = None,
    status: StatusOption = None,
    overdue: Annotated[bool, typer.Option("--overdue", help="Only items past their deadline and not done.")] = False,
    source: SourceOption = None,
    period: PeriodOption = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Judge deadlines on this day (default: today).", show_default=False)
    ] = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List ledger items, by county: the city's ledger is the counties' together. 列出台账事项。"""
    from coaltrace.ledger.queries import list_items as query
    from coaltrace.store import Store

    where = _filter(county, status, source, period, overdue=overdue, as_of=_day(as_of, "--as-of"))
    with Store(db, read_only=True) as store:
        rows = query(store.engine, where, state.lang)
    if as_json:
        print_json(rows)
        return
    if not rows:
        err.print(_t("empty"))
        return
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for key in (
        "item",
        "county",
        "facility",
        "problem",
        "source",
        "severity",
        "status",
        "deadline",
        "owner",
        "tonnes",
        "recur",
    ):
        table.add_column(
            _t(key), overflow="fold", no_wrap=key == "item", justify="right" if key in ("tonnes", "recur") else "left"
        )
    for r in rows:
        table.add_row(
            r["item_id"],
            r["county"] or "",
            r["facility_name"] or r["subject_id"],
            r["problem_label"],
            r["source_label"],
            r["severity_label"],
            r["status_label"],
            r["deadline"] + (_t("overdue_mark") if r["overdue"] else ""),
            r["owner"] or "",
            f"{r['tonnes_at_risk']:,.3f}" if r["tonnes_at_risk"] else "",
            str(r["recurrences"]) if r["recurrences"] else "",
        )
    out.print(table)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status_label"]] = counts.get(r["status_label"], 0) + 1
    err.print(_t("total", n=len(rows), by_status=", ".join(f"{k} {v}" for k, v in counts.items())))


@ledger_app.command("show")
@handle_errors
def show(item_id: ItemArgument, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Show one item: its fields, its findings with their evidence, and its history. 查看一个事项。"""
    from coaltrace.ledger.queries import detail
    from coaltrace.store import Store

    with Store(db, read_only=True) as store:
        d = detail(store.engine, item_id, state.lang)
    if as_json:
        print_json(d)
        return
    lang = state.lang
    out.print(
        Text.assemble(
            styled(d["item_id"], "bold"),
            printable(f"  {d['status_label']}  {d['severity_label']}  {d['problem_label']}"),
        )
    )
    place = " ".join(x for x in (d["facility_id"], d["facility_name"]) if x) or d["subject_id"]
    kind = (
        label("facility_kind", d["facility_kind"], lang)
        if d["facility_kind"]
        else label("entity", d["subject_kind"], lang)
    )
    lines = [
        (_t("county"), d["county"] or ""),
        (_t("facility"), f"{place} ({kind})"),
        (_t("source"), d["source_label"]),
        (_t("found"), f"{d['found_by']} {d['found_on']}"),
        (_t("periods"), ", ".join(d["periods"])),
        (_t("description"), d["description"]),
        (_t("requirement"), d["requirement"]),
        (_t("unit"), d["unit"] or ""),
        (_t("owner"), d["owner"] or ""),
        (_t("deadline"), d["deadline"] + (_t("overdue_mark") if d["overdue"] else "")),
        (_t("signer"), d["signer"] or ""),
        (_t("closed_on"), d["closed_on"] or ""),
        (_t("checks"), d["field_checks_text"]),
        (_t("applicable"), ", ".join(map(str, d["checks_applicable"]))),
        (_t("note"), d["note"] or ""),
        (_t("tonnes"), f"{d['tonnes_at_risk']:,.3f}"),
        (_t("recur"), str(d["recurrences"])),
        (_t("samples"), ", ".join(d["samples"])),
        (_t("lookbacks"), ", ".join(d["lookbacks"])),
        (_t("version"), str(d["version"])),
    ]
    for key, value in lines:
        if value:
            out.print(f"{key}: {value}")
    if d["findings"]:
        table = Table(title=_t("findings", n=len(d["findings"])), box=box.SIMPLE_HEAD, pad_edge=False)
        for key in ("finding", "period", "rule", "severity", "entity", "tonnes", "evidence"):
            table.add_column(_t(key), overflow="fold")
        for f in d["findings"][:SHOWN]:
            rows = f["evidence"].get("rows", [])
            refs = ", ".join(f"{r.get('_file')}:{r.get('_line')}" for r in rows[:3] if r.get("_file"))
            more = int(f["evidence"].get("total_rows", len(rows))) - min(3, len(rows))
            table.add_row(
                f["finding_id"],
                f["period"],
                f"{f['rule_id']} v{f['rule_version']}",
                label("severity", f["severity"], lang),
                f"{f['entity_kind']} {f['entity_id']}",
                "" if f["tonnes_at_risk"] is None else f"{f['tonnes_at_risk']:,.3f}",
                refs + (f" (+{more})" if more > 0 and refs else ""),
            )
        out.print(table)
        if len(d["findings"]) > SHOWN:
            out.print(_t("more_findings", n=len(d["findings"]) - SHOWN))
    _print_history(d["history"])


# Findings `show` lists in the terminal (--json gives them all).
SHOWN = 50


def _print_history(entries: list[dict[str, Any]]) -> None:
    table = Table(title=_t("history", n=len(entries)), box=box.SIMPLE_HEAD, pad_edge=False)
    for key in ("at", "on", "actor", "action", "move", "signer", "note", "changed"):
        table.add_column(_t(key), overflow="fold")
    for e in entries:
        move = ""
        if e["to"]:
            move = (label("ledger_status", e["from"], state.lang) + " → " if e["from"] else "→ ") + label(
                "ledger_status", e["to"], state.lang
            )
        # A registration carries the whole item; show what it set, not every empty field.
        changed = ", ".join(
            label("ledger_field", k, state.lang)
            for k, v in e["fields"].items()
            if k != "status" and (e["action"] != "create" or v)
        )
        table.add_row(
            e["at"].replace("T", " "),
            e["on"],
            e["actor"],
            e["action_label"],
            move,
            e["signer"] or "",
            e["note"] or "",
            changed,
        )
    out.print(table)


@ledger_app.command("history")
@handle_errors
def history(item_id: ItemArgument, db: DbOption = None, as_json: JsonOption = False) -> None:
    """Every change to one item: who, when, what, with each entry's hash. 查看事项的变更记录。"""
    from coaltrace.ledger.queries import history as query
    from coaltrace.store import Store

    with Store(db, read_only=True) as store:
        entries = query(store.engine, item_id, state.lang)
    if as_json:
        print_json(entries)
    else:
        _print_history(entries)


@ledger_app.command("add")
@handle_errors
def add(
    source: Annotated[
        str,
        typer.Option(
            "--source",
            help="Where the lead came from: tip_off (群众举报), media (媒体曝光), satellite (卫片执法), "
            "inspection (上级督察), patrol (日常巡查), instruction (领导批办).",
        ),
    ],
    description: Annotated[str, typer.Option("--description", "-d", help="What was reported.")],
    facility: Annotated[
        str | None, typer.Option("--facility", help="The facility id, when it is a registered one.")
    ] = None,
    lat: Annotated[
        float | None, typer.Option("--lat", help="Latitude of a place that is no registered facility.")
    ] = None,
    lon: Annotated[float | None, typer.Option("--lon", help="Longitude of that place.")] = None,
    county: Annotated[str | None, typer.Option("--county", help="The county (required with --lat/--lon).")] = None,
    place: Annotated[str | None, typer.Option("--place", help="The place's name (with --lat/--lon).")] = None,
    problem: Annotated[
        str,
        typer.Option(
            "--problem", help="Problem type: illegal_mining, unsealed_shaft, covert_mining, ... (or its label)."
        ),
    ] = "illegal_mining",
    severity: Annotated[str, typer.Option("--severity", help="low, medium, high or critical.")] = "high",
    found_on: Annotated[str | None, typer.Option("--found-on", help="When it was found (default: today).")] = None,
    found_by: Annotated[str | None, typer.Option("--found-by", help="Who found it (default: --as).")] = None,
    deadline: Annotated[
        str | None, typer.Option("--deadline", help="Rectification deadline (default: by severity).")
    ] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Responsible unit (责任单位).")] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Responsible person (责任人).")] = None,
    requirement: Annotated[
        str | None, typer.Option("--requirement", help="Rectification requirement (整改要求).")
    ] = None,
    actor: AsOption = None,
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Register a lead from another source than the data (tip-off, media, satellite, ...). 登记其他来源的问题线索。"""
    from coaltrace.checks import applicable
    from coaltrace.ledger.chain import commit
    from coaltrace.ledger.model import Source
    from coaltrace.ledger.queries import ItemFilter, find
    from coaltrace.ledger.schema import ensure_tables
    from coaltrace.ledger.workflow import Lead, new_lead
    from coaltrace.severity import Severity
    from coaltrace.store import Store

    who = _actor(actor)
    settings = _settings(config)
    try:
        sev = Severity.parse(severity).value
    except ValueError:
        raise UsageError(
            f"--severity {severity!r}: use low, medium, high or critical",
            zh=f"--severity {severity!r}：只能是 低、中、高、严重",
        ) from None
    lead = Lead(
        source=Source(_code("ledger_source", source, "--source")),
        description=description,
        problem_type=_code("ledger_problem", problem, "--problem"),
        severity=sev,
        facility_id=facility.strip() if facility else None,
        county=county,
        lat=lat,
        lon=lon,
        place=place,
        found_on=_day(found_on, "--found-on"),
        found_by=found_by,
        deadline=_day(deadline, "--deadline"),
        unit=unit,
        owner=owner,
        requirement=requirement,
    )
    with Store(db, must_exist=True) as store, store.transaction() as engine:
        row = None
        if lead.facility_id:
            row = engine.query(
                "SELECT facility_id, any_value(name) AS name, any_value(kind) AS kind, any_value(county) AS county, "
                "any_value(lat) AS lat, any_value(lon) AS lon FROM facilities WHERE facility_id = ? GROUP BY 1",
                [lead.facility_id],
            )
            if not row:
                raise UsageError(
                    f"unknown facility {lead.facility_id!r}: it is not in the facility register",
                    zh=f"未知单位 {lead.facility_id!r}：单位名录中没有该编码",
                    hint="Check the id, or give the place by --lat, --lon and --county.",
                    hint_zh="请核对编码，或用 --lat、--lon、--county 给出地点。",
                )
        fac = row[0] if row else None
        ensure_tables(engine)
        existing = {i.item_id: i for i in find(engine, ItemFilter())}
        item, entry = new_lead(
            lead,
            fac,
            actor=who,
            settings=settings,
            today=date.today(),
            checks=applicable(fac["kind"] if fac else "place"),
        )
        if item.item_id in existing:
            raise UsageError(
                f"this lead is already in the ledger as {item.item_id}",
                zh=f"该线索已登记，编号 {item.item_id}",
            )
        [saved] = commit(engine, [(item, entry)])
        related = [
            i.item_id
            for i in existing.values()
            if i.subject_kind == saved.subject_kind
            and i.subject_id == saved.subject_id
            and i.status.value not in ("closed", "dismissed")
        ]
    if as_json:
        print_json({"item_id": saved.item_id, "version": saved.version, "related": related})
        return
    out.print(saved.item_id)
    err.print(
        _t(
            "added",
            item=saved.item_id,
            source=label("ledger_source", saved.source.value, state.lang),
            county=saved.county or "",
            deadline=saved.deadline.isoformat(),
        )
    )
    if related:
        err.print(_t("related", items=", ".join(related)))


def _change(item_id: str, make: Any, config: Path | None, db: Path | None, as_json: bool) -> None:
    """Apply one update to one item and say what changed."""
    from coaltrace.ledger.chain import commit
    from coaltrace.ledger.queries import get
    from coaltrace.ledger.workflow import update
    from coaltrace.store import Store

    settings = _settings(config)
    actor, change = make()
    with Store(db, must_exist=True) as store, store.transaction() as engine:
        item = get(engine, item_id)
        after, entry = update(item, change, actor=actor, settings=settings, today=date.today())
        [saved] = commit(engine, [(after, entry)])
    if as_json:
        print_json(
            {
                "item_id": saved.item_id,
                "version": saved.version,
                "status": saved.status.value,
                "fields": sorted(entry.fields),
            }
        )
        return
    what = []
    if entry.to_status is not None:
        what.append(
            _t(
                "moved",
                from_=label("ledger_status", item.status.value, state.lang),
                to=label("ledger_status", entry.to_status.value, state.lang),
            )
        )
    rest = [label("ledger_field", k, state.lang) for k in entry.fields if k != "status"]
    if rest:
        what.append(_t("fields_changed", fields=", ".join(rest)))
    err.print(_t("updated", item=saved.item_id, what=_sep().join(what) or entry.note or "", version=saved.version))


@ledger_app.command("update")
@handle_errors
def update_item(
    item_id: ItemArgument,
    status: Annotated[
        str | None, typer.Option("--status", help="Move to this status (the workflow decides which may follow).")
    ] = None,
    owner: Annotated[str | None, typer.Option("--owner", help="Responsible person (责任人).")] = None,
    unit: Annotated[str | None, typer.Option("--unit", help="Responsible unit (责任单位).")] = None,
    deadline: Annotated[str | None, typer.Option("--deadline", help="Rectification deadline, YYYY-MM-DD.")] = None,
    requirement: Annotated[
        str | None, typer.Option("--requirement", help="Rectification requirement (整改要求).")
    ] = None,
    note: Annotated[str | None, typer.Option("--note", help="A note, kept with the change.")] = None,
    signer: Annotated[
        str | None, typer.Option("--signer", help="Who signs a verification, closing or dismissal.")
    ] = None,
    check: Annotated[
        list[str] | None,
        typer.Option(
            "--check", help="A field check result: N:clear, N:found[:NOTE] or N:not_done:REASON (repeatable)."
        ),
    ] = None,
    on: OnOption = None,
    actor: AsOption = None,
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Change an item: status, owner, unit, deadline, requirement, note, field checks. 更新事项。"""
    from coaltrace.ledger.model import Status
    from coaltrace.ledger.workflow import Update

    def make() -> tuple[str, Update]:
        return _actor(actor), Update(
            status=Status(_code("ledger_status", status, "--status")) if status else None,
            owner=owner,
            unit=unit,
            deadline=_day(deadline, "--deadline"),
            requirement=requirement,
            note=note,
            signer=signer,
            checks=_checks(check),
            on=_day(on, "--on"),
        )

    _change(item_id, make, config, db, as_json)


SignerOption = Annotated[str, typer.Option("--signer", help="Who signs for it (谁排查、谁签字、谁负责).")]


@ledger_app.command("close")
@handle_errors
def close(
    item_id: ItemArgument,
    signer: SignerOption,
    note: Annotated[str, typer.Option("--note", help="What was done to put it right.")],
    on: OnOption = None,
    actor: AsOption = None,
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Close a verified item (销号), signed. 销号：须核查后由签字人签字。"""
    from coaltrace.ledger.model import Status
    from coaltrace.ledger.workflow import Update

    _change(
        item_id,
        lambda: (_actor(actor), Update(status=Status.closed, signer=signer, note=note, on=_day(on, "--on"))),
        config,
        db,
        as_json,
    )


@ledger_app.command("dismiss")
@handle_errors
def dismiss(
    item_id: ItemArgument,
    signer: SignerOption,
    note: Annotated[str, typer.Option("--note", "--reason", help="Why it is not a problem (a false positive).")],
    on: OnOption = None,
    actor: AsOption = None,
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Dismiss an item as a false positive, with its reason, signed. 排除误报：须写明理由并签字。"""
    from coaltrace.ledger.model import Status
    from coaltrace.ledger.workflow import Update

    _change(
        item_id,
        lambda: (_actor(actor), Update(status=Status.dismissed, signer=signer, note=note, on=_day(on, "--on"))),
        config,
        db,
        as_json,
    )


@ledger_app.command("reopen")
@handle_errors
def reopen(
    item_id: ItemArgument,
    note: Annotated[str, typer.Option("--note", help="Why it is opened again.")],
    on: OnOption = None,
    actor: AsOption = None,
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Open a closed or dismissed item again. 重新打开已销号或已排除的事项。"""
    from coaltrace.ledger.model import Status
    from coaltrace.ledger.workflow import Update

    _change(
        item_id,
        lambda: (_actor(actor), Update(status=Status.reopened, note=note, on=_day(on, "--on"))),
        config,
        db,
        as_json,
    )


@ledger_app.command("sample")
@handle_errors
def sample(
    rate: Annotated[float, typer.Option("--rate", help="The share to draw in every county, e.g. 0.3 (at least).")],
    seed: Annotated[
        int, typer.Option("--seed", min=0, help="Random seed: the same seed and items give the same draw.")
    ],
    county: CountyOption = None,
    status: StatusOption = None,
    source: SourceOption = None,
    period: PeriodOption = None,
    outdir: Annotated[Path, typer.Option("--out", "-o", help="Folder for the checklist (XLSX and HTML).")] = Path("."),
    actor: AsOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Draw the city's spot check (市级抽查), record it, write its checklist. 市级抽查：分层随机抽取并写出抽查清单。"""
    from coaltrace.ledger.checklist import write_checklist
    from coaltrace.ledger.sampling import draw
    from coaltrace.store import Store

    who = _actor(actor)
    where = _filter(county, status, source, period)
    with Store(db, must_exist=True) as store:
        with store.transaction() as engine:
            drawn = draw(engine, rate=rate, seed=seed, actor=who, where=where)
        paths = write_checklist(store.engine, drawn, outdir, state.lang)
    if as_json:
        print_json(drawn.as_record() | {"files": [str(p) for p in paths]})
    else:
        for item in sorted(drawn.items, key=lambda i: (i.county or "", i.item_id)):
            out.print(f"{item.item_id}\t{item.county or ''}\t{item.facility_name or item.subject_id}")
    err.print(
        _t("sampled", sample=drawn.sample_id, population=drawn.population, drawn=len(drawn.items), seed=seed, rate=rate)
    )
    for c in drawn.by_county():
        err.print(_t("sample_county", county=c["county"] or "-", population=c["population"], drawn=c["drawn"]))
    err.print(_t("written", paths=", ".join(map(str, paths))))


@ledger_app.command("lookback")
@handle_errors
def lookback(
    period: Annotated[str, typer.Option("--period", "-p", help="The period to look at again, e.g. 2022-03.")],
    do_reopen: Annotated[
        bool, typer.Option("--reopen", help="Reopen the items that show activity (needs --as).")
    ] = False,
    actor: AsOption = None,
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """回头看: closed items whose place is active again in a period; reopen them on request. 回头看。"""
    from coaltrace.ledger.lookback import look_back
    from coaltrace.ledger.lookback import reopen as reopen_found
    from coaltrace.store import Store

    p = _period(period)
    settings = _settings(config)
    who = _actor(actor) if do_reopen else None
    reopened = []
    if do_reopen:
        assert who is not None
        with Store(db, must_exist=True) as store, store.transaction() as engine:
            result = look_back(engine, p, settings)
            reopened = reopen_found(
                engine,
                result,
                actor=who,
                settings=settings,
                note=lambda a: _t("lookback_note", period=p.label, activity=_activity(a.as_record())),
            )
    else:
        with Store(db, read_only=True) as store:
            result = look_back(store.engine, p, settings)
    if as_json:
        print_json(result.as_record() | {"reopened": [i.item_id for i in reopened]})
        return
    if not any(result.records.values()):
        err.print(Text(_t("lookback_no_records", period=p.label), style="yellow"))
    if not result.found:
        err.print(
            _t("lookback_none", period=p.label, closed_before=result.closed_before.isoformat(), n=result.looked_at)
        )
        return
    err.print(
        _t(
            "lookback_found",
            period=p.label,
            closed_before=result.closed_before.isoformat(),
            n=result.looked_at,
            k=len(result.found),
        )
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for key in ("item", "county", "facility", "problem", "closed_on", "signer"):
        table.add_column(_t(key), overflow="fold")
    table.add_column(_t("seen"), overflow="fold")
    for a in result.found:
        r = a.as_record()
        table.add_row(
            r["item_id"],
            r["county"] or "",
            r["facility_name"] or r["subject_id"],
            label("ledger_problem", r["problem_type"], state.lang),
            r["closed_on"] or "",
            r["signer"] or "",
            _activity(r),
        )
    out.print(table)
    err.print(_t("lookback_reopened", n=len(reopened)) if do_reopen else _t("lookback_hint"))


def _activity(r: dict[str, Any]) -> str:
    return _t(
        "activity",
        findings=r["findings"],
        sales=r["sales"],
        tonnes=r["sales_tonnes"],
        trips=r["trips"],
        intakes=r["intakes"],
        kwh=r["kwh"],
    )


@ledger_app.command("export")
@handle_errors
def export(
    out_file: Annotated[Path, typer.Option("--out", "-o", help="The file to write (.xlsx or .csv).")],
    fmt: Annotated[
        str | None, typer.Option("--format", "-f", help="xlsx or csv (default: from --out's suffix).")
    ] = None,
    county: CountyOption = None,
    status: StatusOption = None,
    source: SourceOption = None,
    period: PeriodOption = None,
    db: DbOption = None,
) -> None:
    """Write the ledger as the sheet counties work in (XLSX or CSV). 导出台账（Excel/CSV）供县区填报。"""
    from coaltrace.ledger.sheets import export_sheet
    from coaltrace.store import Store

    kind = (fmt or out_file.suffix.lstrip(".") or "xlsx").lower()
    if kind not in ("xlsx", "csv"):
        raise UsageError(f"--format {kind!r}: use xlsx or csv", zh=f"--format {kind!r}：只能是 xlsx 或 csv")
    where = _filter(county, status, source, period)
    with Store(db, read_only=True) as store:
        done = export_sheet(store.engine, out_file, fmt=kind, lang=state.lang, where=where)
    err.print(_t("exported", n=done.items, path=done.path, db=done.database_id, head=(done.head or "-")[:16]))


@ledger_app.command("import")
@handle_errors
def import_sheet(
    sheet: Annotated[Path, typer.Argument(help="The edited sheet (.xlsx or .csv), as `ledger export` wrote it.")],
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Check the sheet and say what it would change; write nothing.")
    ] = False,
    actor: AsOption = None,
    config: ConfigOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """Apply a county's edited sheet through the workflow, all rows or none. 导入县区修改后的台账（全部或全不）。"""
    from coaltrace.ledger.sheets import import_sheet as apply_sheet
    from coaltrace.store import Store

    who = _actor(actor)
    settings = _settings(config)
    with Store(db, must_exist=True) as store, store.transaction() as engine:
        done = apply_sheet(engine, sheet, actor=who, settings=settings, dry_run=dry_run)
    if as_json:
        print_json(done.as_record())
        return
    for a in done.applied:
        what = []
        if a["to"]:
            what.append(
                f"{label('ledger_status', a['from'], state.lang)} → {label('ledger_status', a['to'], state.lang)}"
            )
        rest = [label("ledger_field", f, state.lang) for f in a["fields"] if f != "status"]
        if rest:
            what.append(_t("fields_changed", fields=", ".join(rest)))
        out.print(_t("import_line", line=a["line"], item=a["item_id"], what=_sep().join(what)))
    err.print(
        _t("imported", path=sheet, rows=done.rows, applied=len(done.applied), unchanged=done.unchanged)
        + (" " + _t("dry_run") if dry_run else "")
    )


@ledger_app.command("verify")
@handle_errors
def verify(db: DbOption = None, as_json: JsonOption = False) -> None:
    """Prove the history intact (hash chain, evidence, items) or name the first entry altered. 校验台账历史。"""
    from coaltrace.ledger.chain import verify as check
    from coaltrace.ledger.schema import exists
    from coaltrace.store import Store

    with Store(db, read_only=True) as store:
        if not exists(store.engine):
            err.print(_t("no_ledger"))
            return
        report = check(store.engine)
    if as_json:
        print_json(report.as_record())
    elif report.ok:
        err.print(_t("verified_ok", n=report.entries, head=report.head or "-"))
    else:
        err.print(styled(_t("verified_bad"), "bold red"))
        for p in report.problems:
            err.print(f"  - {p.zh if state.lang == 'zh' else p.en}")
    if not report.ok:
        raise typer.Exit(int(ExitCode.FINDINGS))
