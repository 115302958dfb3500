"""`coaltrace ledger add | update | close | dismiss | reopen`: one item's life, from lead to closing.

`add` registers a lead that came from elsewhere than the data (tip-off, media,
satellite, ...); `update`, `close`, `dismiss` and `reopen` each make one change
through the ledger's workflow (`_change`), which decides which status may follow,
and append it to the item's hash-chained history in one transaction.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer

from coaltrace.cli.common import DbOption, JsonOption, err, handle_errors, out, print_json, state
from coaltrace.cli.ledger.app import ledger_app
from coaltrace.cli.ledger.options import (
    AsOption,
    ConfigOption,
    ItemArgument,
    OnOption,
    field_checks,
    ledger_settings,
    parse_code,
    parse_day,
    resolve_actor,
)
from coaltrace.cli.ledger.words import sep, t
from coaltrace.errors import UsageError
from coaltrace.labels import label


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

    who = resolve_actor(actor)
    settings = ledger_settings(config)
    try:
        sev = Severity.parse(severity).value
    except ValueError:
        raise UsageError(
            f"--severity {severity!r}: use low, medium, high or critical",
            zh=f"--severity {severity!r}：只能是 低、中、高、严重",
        ) from None
    lead = Lead(
        source=Source(parse_code("ledger_source", source, "--source")),
        description=description,
        problem_type=parse_code("ledger_problem", problem, "--problem"),
        severity=sev,
        facility_id=facility.strip() if facility else None,
        county=county,
        lat=lat,
        lon=lon,
        place=place,
        found_on=parse_day(found_on, "--found-on"),
        found_by=found_by,
        deadline=parse_day(deadline, "--deadline"),
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
        t(
            "added",
            item=saved.item_id,
            source=label("ledger_source", saved.source.value, state.lang),
            county=saved.county or "",
            deadline=saved.deadline.isoformat(),
        )
    )
    if related:
        err.print(t("related", items=", ".join(related)))


def _change(item_id: str, make: Any, config: Path | None, db: Path | None, as_json: bool) -> None:
    """Apply one update to one item and say what changed."""
    from coaltrace.ledger.chain import commit
    from coaltrace.ledger.queries import get
    from coaltrace.ledger.workflow import update
    from coaltrace.store import Store

    settings = ledger_settings(config)
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
            t(
                "moved",
                from_=label("ledger_status", item.status.value, state.lang),
                to=label("ledger_status", entry.to_status.value, state.lang),
            )
        )
    rest = [label("ledger_field", k, state.lang) for k in entry.fields if k != "status"]
    if rest:
        what.append(t("fields_changed", fields=", ".join(rest)))
    err.print(t("updated", item=saved.item_id, what=sep().join(what) or entry.note or "", version=saved.version))


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
        return resolve_actor(actor), Update(
            status=Status(parse_code("ledger_status", status, "--status")) if status else None,
            owner=owner,
            unit=unit,
            deadline=parse_day(deadline, "--deadline"),
            requirement=requirement,
            note=note,
            signer=signer,
            checks=field_checks(check),
            on=parse_day(on, "--on"),
        )

    _change(item_id, make, config, db, as_json)


def _move(
    item_id: str,
    status: str,
    note: str,
    on: str | None,
    actor: str | None,
    config: Path | None,
    db: Path | None,
    as_json: bool,
    signer: str | None = None,
) -> None:
    """Move ITEM_ID to STATUS with a note (and the signer, where the move needs one)."""
    from coaltrace.ledger.model import Status
    from coaltrace.ledger.workflow import Update

    _change(
        item_id,
        lambda: (
            resolve_actor(actor),
            Update(status=Status(status), signer=signer, note=note, on=parse_day(on, "--on")),
        ),
        config,
        db,
        as_json,
    )


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
    _move(item_id, "closed", note, on, actor, config, db, as_json, signer=signer)


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
    _move(item_id, "dismissed", note, on, actor, config, db, as_json, signer=signer)


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
    _move(item_id, "reopened", note, on, actor, config, db, as_json)
