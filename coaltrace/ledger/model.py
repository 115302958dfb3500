"""What the ledger holds: items, their statuses and the moves between them, and the eight checks.

An item is one problem at one place: every finding about the same facility (or,
when a finding names none, the same plate, flow or power account) of the same
problem type, whatever the period, is one item; so is each lead from another
source. Its state is the sum of its history (`coaltrace.ledger.chain`): each
entry carries the fields it changed, and replaying an item's entries gives the
item. The words a person reads (statuses, sources, problem types, the checks)
are in `coaltrace.labels`; this module holds the codes and the rules.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from coaltrace.errors import UsageError
from coaltrace.labels import LABELS, label


class Status(StrEnum):
    open = "open"
    assigned = "assigned"
    rectifying = "rectifying"
    verified = "verified"
    closed = "closed"
    dismissed = "dismissed"
    reopened = "reopened"


# Where each status may go. Closing follows a field verification; a false positive is dismissed with its
# reason; a closed or dismissed item comes back as reopened, and goes round again from assigned.
TRANSITIONS: dict[Status, tuple[Status, ...]] = {
    Status.open: (Status.assigned, Status.dismissed),
    Status.assigned: (Status.rectifying, Status.dismissed),
    Status.rectifying: (Status.verified, Status.dismissed),
    Status.verified: (Status.closed, Status.rectifying, Status.dismissed),
    Status.closed: (Status.reopened,),
    Status.dismissed: (Status.reopened,),
    Status.reopened: (Status.assigned, Status.dismissed),
}
# Statuses in which the rectification is still owed: past its deadline, such an item is overdue.
OWED = (Status.open, Status.assigned, Status.rectifying, Status.reopened)
DONE = (Status.closed, Status.dismissed)


class Source(StrEnum):
    """Where a problem came from: the audit, or one of the lead sources the campaign plan names."""

    audit = "audit"
    tip_off = "tip_off"  # 群众举报
    media = "media"  # 媒体曝光
    satellite = "satellite"  # 卫片执法
    inspection = "inspection"  # 上级督察
    patrol = "patrol"  # 日常巡查
    instruction = "instruction"  # 领导批办


LEAD_SOURCES = tuple(s for s in Source if s is not Source.audit)

PROBLEM_TYPES = tuple(LABELS["ledger_problem"])

# The shipped rules in the ledger's words. A rule not named here (a county's own) takes the type of
# its first check (FROM_CHECK), unless the config's [ledger] problem_types names one.
RULE_PROBLEMS = {
    "mine_unlicensed_sales": "unlicensed_mining",
    "mine_closed_shipping": "closed_mine_mining",
    "power_at_closed_mine": "closed_mine_mining",
    "mine_over_capacity": "over_capacity",
    "facility_unsourced_output": "covert_mining",
    "facility_ships_before_receipt": "covert_mining",
    "flow_carries_unsourced": "covert_mining",
    "facility_low_licensed_share": "irregular_intake",
    "intake_unlicensed_supplier": "irregular_intake",
    "intake_unregistered_supplier": "irregular_intake",
    "intake_no_waybill": "irregular_intake",
    "intake_without_trip_or_sale": "irregular_intake",
    "power_residential_industrial": "abnormal_power",
    "mine_low_kwh_per_tonne": "abnormal_power",
    "trip_heavier_on_arrival": "transport_anomaly",
    "trip_without_sale": "transport_anomaly",
    "trip_too_fast": "transport_anomaly",
    "trip_remote_road_night": "transport_anomaly",
    "plate_cloned": "transport_anomaly",
    "trip_starts_in_zone": "outcrop_mining",
    "facility_closed_shipping": "closed_facility_operating",
    "dq_invalid_uscc": "data_quality",
    "dq_impossible_times": "data_quality",
    "dq_negative_tonnes": "data_quality",
    "dq_invalid_plate": "data_quality",
}
FROM_CHECK = {
    1: "abnormal_power",
    2: "irregular_intake",
    3: "outcrop_mining",
    4: "transport_anomaly",
    5: "covert_mining",
    6: "closed_mine_mining",
    7: "illegal_mining",
    8: "illegal_mining",
}
# When two items at one facility hold origin tonnes of the same class, the first of these counts them.
PROBLEM_ORDER = {code: i for i, code in enumerate(PROBLEM_TYPES)}


def problem_of(rule_id: str, checks: tuple[int, ...], configured: dict[str, str]) -> str:
    """The problem type of a rule's findings: the config's, the shipped table's, else its first check's."""
    return configured.get(rule_id) or RULE_PROBLEMS.get(rule_id) or FROM_CHECK.get(checks[0] if checks else 0, "other")


def check_problem_types(configured: dict[str, str]) -> None:
    wrong = {rule: code for rule, code in configured.items() if code not in PROBLEM_TYPES}
    if wrong:
        raise UsageError(
            "[ledger] problem_types names unknown problem types: "
            + ", ".join(f"{r} = {c!r}" for r, c in sorted(wrong.items())),
            zh="[ledger] problem_types 中有未知的问题类型："
            + "，".join(f"{r} = {c!r}" for r, c in sorted(wrong.items())),
            hint="Use one of: " + ", ".join(PROBLEM_TYPES),
            hint_zh="可用的类型：" + "、".join(f"{c}（{label('ledger_problem', c, 'zh')}）" for c in PROBLEM_TYPES),
        )


class CheckResult(StrEnum):
    clear = "clear"  # done, nothing found
    found = "found"  # done, a problem found
    not_done = "not_done"  # not done (a note says why)


@dataclass(frozen=True)
class FieldCheck:
    """The result of one of the eight checks in a field verification."""

    check: int
    result: CheckResult
    note: str | None = None

    @property
    def done(self) -> bool:
        return self.result is not CheckResult.not_done

    @property
    def found(self) -> bool | None:
        return None if not self.done else self.result is CheckResult.found

    def as_record(self) -> dict[str, Any]:
        return {"check": self.check, "result": self.result.value, "note": self.note}

    @classmethod
    def of(cls, record: dict[str, Any]) -> FieldCheck:
        return cls(int(record["check"]), CheckResult(record["result"]), record.get("note"))

    def say(self, lang: str) -> str:
        text = f"{self.check} {label('check_result', self.result.value, lang)}"
        return text + (f" {self.note}" if self.note else "")


_CHECK_NUMBER = re.compile(r"^\s*(?:第\s*)?([1-8])\s*(?:项|查)?\s*[:：\s]\s*")


def _result_words() -> list[tuple[str, str]]:
    """(word, result code), longest first: codes, their labels in both languages, and the short forms."""
    words = {"未发现": "clear", "发现": "found", "无": "clear", "有": "found", "not done": "not_done"}
    for code, t in LABELS["check_result"].items():
        words |= {code: code, t.zh: code, t.en.lower(): code}
    return sorted(words.items(), key=lambda kv: -len(kv[0]))


def parse_check(text: str) -> FieldCheck:
    """`2:clear`, `5:found:院内有筛分机`, `8 未查 无人在场`, `第2项 未发现问题`, `1 problem found meter
    tampered`: a check, its result, a note.

    Results are codes or their labels in either language (clear/未发现问题/nothing found, found/发现问题/
    problem found, not_done/未查/not done). A check not done needs a note saying why. ValueError otherwise.
    """
    m = _CHECK_NUMBER.match(text)
    if not m:
        raise ValueError(text)
    rest = text[m.end() :].strip()
    for word, code in _result_words():
        after = rest[len(word) :]
        if rest[: len(word)].lower() == word and (not after or after[0] in ":： \t"):
            note = after.lstrip(":： \t").strip() or None
            if code == "not_done" and not note:
                raise ValueError(text)
            return FieldCheck(int(m.group(1)), CheckResult(code), note)
    raise ValueError(text)


def parse_checks(text: str) -> tuple[FieldCheck, ...]:
    """Checks separated by `;`, `；` or new lines, as the ledger sheet's 现场核查 column holds them."""
    parts = [p for p in re.split(r"[;；\n]", text) if p.strip()]
    return tuple(parse_check(p) for p in parts)


def checks_text(checks: tuple[FieldCheck, ...], lang: str) -> str:
    return "；".join(c.say(lang) for c in checks) if lang == "zh" else "; ".join(c.say(lang) for c in checks)


@dataclass(frozen=True)
class Item:
    """One problem at one place, as its history left it."""

    item_id: str
    status: Status
    problem_type: str
    severity: str
    source: Source
    subject_kind: str  # facility, plate, flow, power_account, place, ...
    subject_id: str
    found_by: str
    found_on: date
    deadline: date
    county: str | None = None
    facility_id: str | None = None
    facility_name: str | None = None
    facility_kind: str | None = None
    lat: float | None = None
    lon: float | None = None
    description: str | None = None  # a person's words; audit items are described by their findings
    unit: str | None = None  # 责任单位
    owner: str | None = None  # 责任人
    requirement: str | None = None  # 整改要求; None: the problem type's standard requirement
    signer: str | None = None  # 核查人: who signed the verification, the closing or the dismissal
    closed_on: date | None = None  # 销号时间
    note: str | None = None  # the latest note
    recurrences: int = 0
    periods: tuple[str, ...] = ()  # the periods of its findings (a lead: the month it was found)
    rule_ids: tuple[str, ...] = ()
    checks_applicable: tuple[int, ...] = ()
    field_checks: tuple[FieldCheck, ...] = ()
    samples: tuple[str, ...] = ()  # city spot checks that drew it
    lookbacks: tuple[str, ...] = ()  # periods whose look-back (回头看) reopened it
    # Kept by the history, not by its entries' fields:
    version: int = 0  # how many history entries the item has
    created_at: datetime | None = None
    updated_at: datetime | None = None

    def changed(self, **changes: Any) -> Item:
        return replace(self, **changes)

    def overdue(self, as_of: date) -> bool:
        return self.status in OWED and self.deadline < as_of


# The fields an entry may carry, and how each is written in its JSON (dates as ISO text, tuples as lists).
STATE_FIELDS = tuple(f.name for f in fields(Item) if f.name not in ("item_id", "version", "created_at", "updated_at"))
_DATES = {"found_on", "deadline", "closed_on"}
_TUPLES = {"periods", "rule_ids", "checks_applicable", "samples", "lookbacks"}


def encode(name: str, value: Any) -> Any:
    """A field's value as it is written into a history entry."""
    if value is None:
        return None
    if name in _DATES:
        return value.isoformat()
    if name in _TUPLES:
        return list(value)
    if name == "field_checks":
        return [c.as_record() for c in value]
    if isinstance(value, StrEnum):
        return value.value
    return value


def decode(name: str, value: Any) -> Any:
    """A field's value read back from a history entry."""
    if value is None:
        return None
    if name in _DATES:
        return date.fromisoformat(value)
    if name in _TUPLES:
        return tuple(value)
    if name == "field_checks":
        return tuple(FieldCheck.of(r) for r in value)
    if name == "status":
        return Status(value)
    if name == "source":
        return Source(value)
    return value


def diff(before: Item | None, after: Item) -> dict[str, Any]:
    """The fields that differ, encoded: what an entry records."""
    return {
        name: encode(name, getattr(after, name))
        for name in STATE_FIELDS
        if before is None or getattr(before, name) != getattr(after, name)
    }


def apply_fields(item: Item | None, item_id: str, changes: dict[str, Any]) -> Item:
    decoded = {name: decode(name, value) for name, value in changes.items() if name in STATE_FIELDS}
    if item is None:
        return Item(item_id=item_id, **decoded)
    return replace(item, **decoded)


@dataclass(frozen=True)
class Entry:
    """One change to one item, as the history keeps it (every field but its place in the chain)."""

    item_id: str
    action: str  # create, attach, update, status, recur, sample
    actor: str
    at: datetime
    on: date  # the day the change took effect (a closing's 销号时间)
    from_status: Status | None
    to_status: Status | None
    fields: dict[str, Any]
    note: str | None = None
    signer: str | None = None
    # finding id -> sha256 of the evidence attached with this entry
    evidence: dict[str, str] = field(default_factory=dict)

    def payload(self, seq: int) -> dict[str, Any]:
        return {
            "seq": seq,
            "item_id": self.item_id,
            "at": self.at.isoformat(),
            "on": self.on.isoformat(),
            "actor": self.actor,
            "action": self.action,
            "from": self.from_status.value if self.from_status else None,
            "to": self.to_status.value if self.to_status else None,
            "signer": self.signer,
            "note": self.note,
            "fields": self.fields,
            "evidence": self.evidence,
        }


def canonical(value: Any) -> str:
    """The one serialisation the chain hashes: sorted keys, no spaces, text as written."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
