"""The workflow: what a person may do to an item, and what each move needs.

    open → assigned → rectifying → verified → closed
                          ↑____________|
    any of open, assigned, rectifying, verified, reopened → dismissed (a false positive, with its reason)
    closed, dismissed → reopened → assigned ...

Every change names who makes it (谁排查、谁签字、谁负责). Assigning needs a
responsible unit and person; verifying needs the result of each of the eight
checks that applies to the site; closing and dismissing need the signer and a
note; reopening needs a note. An invalid move is refused with the moves that
are allowed. The functions here are pure: they take an item and return the item
changed and the history entry that says so; `coaltrace.ledger.chain.commit`
writes them. The same checks serve the command line and an imported sheet.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from coaltrace.config import LedgerSettings
from coaltrace.errors import UsageError
from coaltrace.labels import label
from coaltrace.ledger.model import (
    TRANSITIONS,
    Entry,
    FieldCheck,
    Item,
    Source,
    Status,
    diff,
)

MAX_NAME = 100
MAX_TEXT = 4000
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def item_id_for(key: str) -> str:
    """A stable id: the same problem at the same place gets the same id in every run and database."""
    return "TZ-" + hashlib.sha256(key.encode()).hexdigest()[:10].upper()


def now() -> datetime:
    return datetime.now().replace(microsecond=0)


def status_label(status: Status | str, lang: str) -> str:
    return label("ledger_status", str(status), lang)


def person(value: str | None, what_en: str, what_zh: str, *, required: bool = True) -> str | None:
    """A name typed by a person: stripped, one line, not too long; required unless told otherwise."""
    text = (value or "").strip()
    if not text:
        if required:
            raise UsageError(
                f"{what_en} is required",
                zh=f"必须写明{what_zh}",
                hint="Name the person (--as NAME, or set COALTRACE_USER for --as).",
                hint_zh="请写明人员姓名（--as 姓名，或设置环境变量 COALTRACE_USER 代替 --as）。",
            )
        return None
    if _CONTROL.search(text) or "\n" in text or len(text) > MAX_NAME:
        raise UsageError(
            f"{what_en} {text[:40]!r} is not a name (one line, at most {MAX_NAME} characters)",
            zh=f"{what_zh} {text[:40]!r} 不是有效的姓名（须为一行，不超过 {MAX_NAME} 个字符）",
        )
    return text


def text_value(value: str | None, what_en: str, what_zh: str) -> str | None:
    """Free text (a note, a requirement, a description): stripped; empty is None."""
    text = (value or "").strip()
    if not text:
        return None
    if _CONTROL.sub("", text.replace("\t", " ")) != text.replace("\t", " ") or len(text) > MAX_TEXT:
        raise UsageError(
            f"{what_en}: control characters or more than {MAX_TEXT} characters",
            zh=f"{what_zh}：含控制字符或超过 {MAX_TEXT} 个字符",
        )
    return text


def require_actor(actor: str | None) -> str:
    name = person(actor, "who makes the change", "操作人")
    assert name is not None
    return name


def _on(on: date | None, today: date, item: Item | None) -> date:
    day = on or today
    if day > today:
        raise UsageError(
            f"the date {day} is in the future",
            zh=f"日期 {day} 晚于今天",
            hint="A change takes effect today or on a day that has passed (--on YYYY-MM-DD).",
            hint_zh="变更只能在今天或已过去的某天生效（--on YYYY-MM-DD）。",
        )
    if item is not None and day < item.found_on:
        raise UsageError(
            f"item {item.item_id}: the date {day} is before the problem was found ({item.found_on})",
            zh=f"事项 {item.item_id}：日期 {day} 早于发现时间（{item.found_on}）",
        )
    return day


def _deadline(deadline: date, found_on: date, item_id: str) -> date:
    if deadline < found_on:
        raise UsageError(
            f"item {item_id}: the deadline {deadline} is already past when the problem was found ({found_on})",
            zh=f"事项 {item_id}：整改时限 {deadline} 早于发现时间（{found_on}），已经过期",
            hint="Give a deadline on or after the day the problem was found.",
            hint_zh="整改时限不能早于发现问题的日期。",
        )
    return deadline


def default_deadline(found_on: date, severity: str, settings: LedgerSettings) -> date:
    return found_on + timedelta(days=settings.days_for(severity))


@dataclass(frozen=True)
class Update:
    """What a person asks of an item. None leaves a field as it is; an empty text clears it."""

    status: Status | None = None
    owner: str | None = None
    unit: str | None = None
    deadline: date | None = None
    requirement: str | None = None
    note: str | None = None
    signer: str | None = None
    checks: tuple[FieldCheck, ...] = ()
    on: date | None = None


def refuse_move(item: Item, to: Status) -> UsageError:
    allowed = TRANSITIONS[item.status]
    return UsageError(
        f"item {item.item_id} cannot go from {item.status.value} to {to.value}; "
        f"from {item.status.value} it can go to: {', '.join(s.value for s in allowed)}",
        zh=f"事项 {item.item_id} 不能从“{status_label(item.status, 'zh')}”变为“{status_label(to, 'zh')}”；"
        f"“{status_label(item.status, 'zh')}”只能变为：{'、'.join(status_label(s, 'zh') for s in allowed)}",
    )


def update(
    item: Item, u: Update, *, actor: str, settings: LedgerSettings, today: date, at: datetime | None = None
) -> tuple[Item, Entry]:
    """ITEM changed as U asks, by ACTOR, and the entry that records it; UsageError when it may not."""
    actor = require_actor(actor)
    on = _on(u.on, today, item)
    new = item
    for name, en, zh in (("owner", "the responsible person", "责任人"), ("unit", "the responsible unit", "责任单位")):
        value = getattr(u, name)
        if value is not None:
            new = new.changed(**{name: person(value, en, zh, required=False)})
    if u.requirement is not None:
        new = new.changed(requirement=text_value(u.requirement, "the requirement", "整改要求"))
    note = text_value(u.note, "the note", "备注") if u.note is not None else None
    if note is not None:
        new = new.changed(note=note)
    if u.deadline is not None:
        new = new.changed(deadline=_deadline(u.deadline, item.found_on, item.item_id))
    if u.checks:
        by_check = {c.check: c for c in new.field_checks}
        by_check.update({c.check: c for c in u.checks})
        new = new.changed(field_checks=tuple(by_check[k] for k in sorted(by_check)))
    signer = person(u.signer, "the signer", "核查人（签字人）", required=False) if u.signer is not None else None
    to = u.status if u.status is not None and u.status != item.status else None
    if to is not None:
        new = _move(item, new, to, actor=actor, signer=signer, note=note, on=on, settings=settings)
    elif signer is not None:
        raise UsageError(
            f"item {item.item_id}: a signer signs a verification, a closing or a dismissal; "
            "give the status it signs for (--status verified|closed|dismissed)",
            zh=f"事项 {item.item_id}：核查人签字用于核查、销号或排除，请同时给出对应状态（--status verified|closed|dismissed）",
        )
    if (
        item.status in (Status.assigned, Status.rectifying, Status.verified)
        and to is None
        and not (new.unit and new.owner)
    ):
        raise UsageError(
            f"item {item.item_id} is {item.status.value}: its responsible unit and person cannot be cleared",
            zh=f"事项 {item.item_id} 已{status_label(item.status, 'zh')}，不能清空责任单位或责任人",
        )
    changed = diff(item, new)
    if not changed and note is None:
        raise UsageError(f"item {item.item_id}: nothing to change", zh=f"事项 {item.item_id}：没有要变更的内容")
    entry = Entry(
        item_id=item.item_id,
        action="status" if to is not None else "update",
        actor=actor,
        at=at or now(),
        on=on,
        from_status=item.status if to is not None else None,
        to_status=to,
        fields=changed,
        note=note,
        signer=new.signer if to in (Status.verified, Status.closed, Status.dismissed) else None,
    )
    return new, entry


def _move(
    item: Item,
    new: Item,
    to: Status,
    *,
    actor: str,
    signer: str | None,
    note: str | None,
    on: date,
    settings: LedgerSettings,
) -> Item:
    if to not in TRANSITIONS[item.status]:
        raise refuse_move(item, to)
    where = f"item {item.item_id} → {to.value}"
    where_zh = f"事项 {item.item_id} 变为“{status_label(to, 'zh')}”"
    if to is Status.assigned and not (new.unit and new.owner):
        raise UsageError(
            f"{where}: name the responsible unit and person (--unit, --owner)",
            zh=f"{where_zh}：须明确责任单位和责任人（--unit、--owner）",
        )
    if to is Status.verified:
        done = {c.check for c in new.field_checks}
        missing = [c for c in new.checks_applicable if c not in done]
        if missing:
            raise UsageError(
                f"{where}: the field verification must record each check that applies to this site; "
                f"missing: {', '.join(label('field_check', str(c), 'en') for c in missing)}",
                zh=f"{where_zh}：现场核查须逐项记录适用于该地点的“八查”结果；缺少："
                + "；".join(label("field_check", str(c), "zh") for c in missing),
                hint="Give each as --check N:clear|found|not_done[:NOTE] (a check not done needs its reason).",
                hint_zh="逐项用 --check 序号:clear|found|not_done[:说明] 给出（未查的须说明原因）。",
            )
        return new.changed(status=to, signer=signer or actor)
    if to in (Status.closed, Status.dismissed):
        if signer is None:
            raise UsageError(
                f"{where}: the person who signs for it is required (--signer NAME): 谁排查、谁签字、谁负责",
                zh=f"{where_zh}：须有签字人（--signer 姓名）：谁排查、谁签字、谁负责",
            )
        if note is None:
            raise UsageError(
                f"{where}: a note is required ({'what was done' if to is Status.closed else 'why it is not a problem'})",
                zh=f"{where_zh}：须填写{'整改情况说明' if to is Status.closed else '排除理由'}（--note）",
            )
        return new.changed(status=to, signer=signer, closed_on=on if to is Status.closed else None)
    if (to is Status.reopened or (to is Status.rectifying and item.status is Status.verified)) and note is None:
        raise UsageError(
            f"{where}: say why in a note (--note)",
            zh=f"{where_zh}：须在备注中说明原因（--note）",
        )
    if to is Status.reopened:
        return reopened(new, on, settings)
    return new.changed(status=to)


def reopened(item: Item, on: date, settings: LedgerSettings) -> Item:
    """ITEM back in the workflow: its verification and closing undone, and a new deadline if the old one passed."""
    deadline = item.deadline if item.deadline >= on else default_deadline(on, item.severity, settings)
    return item.changed(status=Status.reopened, signer=None, closed_on=None, field_checks=(), deadline=deadline)


@dataclass(frozen=True)
class Lead:
    """A problem reported from outside the data: a tip-off, a media report, a patrol..."""

    source: Source
    description: str
    problem_type: str = "illegal_mining"
    severity: str = "high"
    facility_id: str | None = None
    county: str | None = None
    lat: float | None = None
    lon: float | None = None
    place: str | None = None  # the place's name, when it is no registered facility
    found_on: date | None = None
    found_by: str | None = None
    deadline: date | None = None
    unit: str | None = None
    owner: str | None = None
    requirement: str | None = None


def new_lead(
    lead: Lead,
    facility: dict[str, Any] | None,
    *,
    actor: str,
    settings: LedgerSettings,
    today: date,
    checks: tuple[int, ...],
    at: datetime | None = None,
) -> tuple[Item, Entry]:
    """The item a lead opens (FACILITY: its register row, when the lead names one) and its first entry."""
    actor = require_actor(actor)
    if lead.source is Source.audit:
        raise UsageError(
            "items from the audit are filed by `coaltrace audit`; a lead comes from another source",
            zh="数据审计发现的问题由 coaltrace audit 自动登记；此处登记其他来源的线索",
        )
    description = text_value(lead.description, "the description", "问题描述")
    if description is None:
        raise UsageError("describe the problem (--description)", zh="请填写问题描述（--description）")
    found_on = _on(lead.found_on, today, None)
    found_by = person(lead.found_by, "who found it", "发现人", required=False) or actor
    if facility is not None:
        county = facility.get("county")
        if lead.county and county and lead.county.strip() != county:
            raise UsageError(
                f"facility {lead.facility_id} is in {county}, not {lead.county}",
                zh=f"单位 {lead.facility_id} 属于{county}，不是{lead.county}",
            )
        county = county or (lead.county or "").strip() or None
        subject_kind, subject_id = "facility", str(facility["facility_id"])
        lat, lon = facility.get("lat"), facility.get("lon")
        kind, name = facility.get("kind"), facility.get("name")
    else:
        county = (lead.county or "").strip() or None
        if lead.lat is None or lead.lon is None or county is None:
            raise UsageError(
                "say where: a facility (--facility ID), or coordinates with their county (--lat, --lon, --county)",
                zh="请写明地点：单位编码（--facility），或坐标及所属县区（--lat、--lon、--county）",
            )
        if not (-90 <= lead.lat <= 90 and -180 <= lead.lon <= 180):
            raise UsageError(
                f"coordinates {lead.lat}, {lead.lon} are not a place on Earth",
                zh=f"坐标 {lead.lat}, {lead.lon} 无效",
            )
        lat, lon = round(lead.lat, 6), round(lead.lon, 6)
        subject_kind, subject_id = "place", f"{lat:.5f},{lon:.5f}"
        kind, name = None, text_value(lead.place, "the place's name", "地点名称")
    item_id = item_id_for(
        f"lead|{lead.source.value}|{subject_kind}:{subject_id}|{lead.problem_type}|{found_on}|{description}"
    )
    deadline = _deadline(lead.deadline or default_deadline(found_on, lead.severity, settings), found_on, item_id)
    item = Item(
        item_id=item_id,
        status=Status.open,
        problem_type=lead.problem_type,
        severity=lead.severity,
        source=lead.source,
        subject_kind=subject_kind,
        subject_id=subject_id,
        found_by=found_by,
        found_on=found_on,
        deadline=deadline,
        county=county,
        facility_id=str(facility["facility_id"]) if facility else None,
        facility_name=name,
        facility_kind=kind,
        lat=lat,
        lon=lon,
        description=description,
        unit=person(lead.unit, "the responsible unit", "责任单位", required=False),
        owner=person(lead.owner, "the responsible person", "责任人", required=False),
        requirement=text_value(lead.requirement, "the requirement", "整改要求"),
        periods=(f"{found_on:%Y-%m}",),
        checks_applicable=checks,
    )
    entry = Entry(
        item_id=item_id,
        action="create",
        actor=actor,
        at=at or now(),
        on=found_on,
        from_status=None,
        to_status=Status.open,
        fields=diff(None, item),
    )
    return item, entry
