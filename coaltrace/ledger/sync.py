"""From findings to ledger items: what `audit` files after it has stored a run's findings.

Each finding of the run that the ledger does not hold yet goes to the item of
its place and problem type: its facility (or, when it names none, its plate,
flow or power account) and the ledger's problem type for its rule
(`coaltrace.ledger.model.problem_of`). A new place and type opens an item; an
existing item gets the new evidence. Findings are filed by id, and a finding's
id depends only on its rule, entity and period, so auditing the same period
again files nothing and changes nothing. When a later period brings a closed
item's problem back, the item reopens and counts a recurrence.

The evidence is copied as it was filed (the audit replaces its findings when it
runs again; the ledger keeps what was signed for), and each entry records the
sha256 of the evidence it filed, so `ledger verify` sees it altered.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from coaltrace.checks import applicable
from coaltrace.config import LedgerSettings, default_user
from coaltrace.engine import Engine
from coaltrace.ledger.chain import commit, load_items
from coaltrace.ledger.model import (
    Entry,
    Item,
    Source,
    Status,
    check_problem_types,
    diff,
    problem_of,
)
from coaltrace.ledger.schema import FINDING_NAMES, FINDINGS, ensure_tables
from coaltrace.ledger.workflow import default_deadline, item_id_for, now, reopened
from coaltrace.period import Period
from coaltrace.severity import Severity, rank_sql

AUDIT_ACTOR = "coaltrace audit"


@dataclass(frozen=True)
class Filed:
    """What an audit did to the ledger."""

    findings: int = 0  # findings filed
    created: int = 0  # items opened
    attached: int = 0  # items that got new evidence
    reopened: int = 0  # closed items whose problem came back (recurrences)

    def as_record(self) -> dict[str, int]:
        return {
            "findings": self.findings,
            "created": self.created,
            "attached": self.attached,
            "reopened": self.reopened,
        }


def _later(periods: tuple[str, ...], new: list[str]) -> bool:
    """Whether one of NEW lies wholly after every period in PERIODS."""
    if not periods:
        return False
    end = max(Period.parse(p).end for p in periods)
    return any(Period.parse(p).start >= end for p in new)


def file_audit(
    engine: Engine,
    *,
    run_id: str,
    rule_checks: dict[str, tuple[int, ...]],
    settings: LedgerSettings,
    actor: str | None = None,
    today: date | None = None,
    at: datetime | None = None,
) -> Filed:
    """File the findings of audit run RUN_ID in the ledger. Call inside the audit's transaction.

    RULE_CHECKS: the eight-check numbers of each rule that ran (a verification covers them).
    """
    import polars as pl

    check_problem_types(settings.problem_types)
    ensure_tables(engine)
    today = today or date.today()
    at = at or now()
    actor = actor or default_user() or AUDIT_ACTOR
    rules = pl.DataFrame(
        {
            "rule_id": list(rule_checks),
            "problem_type": [problem_of(r, c, settings.problem_types) for r, c in rule_checks.items()],
        },
        schema={"rule_id": pl.String, "problem_type": pl.String},
    )
    with engine.registered("_ledger_rules", rules.to_arrow()):
        engine.execute(
            f"""CREATE OR REPLACE TEMP TABLE _ledger_filing AS
            SELECT f.finding_id, f.rule_id, f.rule_version, f.severity, f.entity_kind, f.entity_id, f.facility_id,
                   f.county, f.period, f.tonnes_at_risk, f.tonnes_role, f.origin_class, f.title_zh, f.title_en,
                   CAST(f.evidence AS VARCHAR) AS evidence,
                   sha256(COALESCE(CAST(f.evidence AS VARCHAR), '')) AS evidence_sha256, f.run_id,
                   r.problem_type,
                   CASE WHEN f.facility_id IS NOT NULL THEN 'facility' ELSE f.entity_kind END AS subject_kind,
                   COALESCE(f.facility_id, f.entity_id) AS subject_id
            FROM findings f JOIN _ledger_rules r USING (rule_id)
            WHERE f.run_id = $run AND {rank_sql("f.severity")} >= $min_rank
              AND NOT EXISTS (SELECT 1 FROM {FINDINGS} l WHERE l.finding_id = f.finding_id)""",
            {"run": run_id, "min_rank": Severity(settings.min_severity).rank},
        )
    groups = engine.query(
        f"""SELECT subject_kind, subject_id, problem_type, min(county) AS county, min(facility_id) AS facility_id,
                   max({rank_sql()}) AS severity_rank, list(DISTINCT period ORDER BY period) AS periods,
                   list(DISTINCT rule_id ORDER BY rule_id) AS rule_ids,
                   map_from_entries(list(struct_pack(k := finding_id, v := evidence_sha256))) AS evidence,
                   count(*) AS findings
            FROM _ledger_filing GROUP BY ALL ORDER BY subject_kind, subject_id, problem_type"""
    )
    if not groups:
        engine.execute("DROP TABLE _ledger_filing")
        return Filed()
    for g in groups:
        g["item_id"] = item_id_for(f"audit|{g['subject_kind']}:{g['subject_id']}|{g['problem_type']}")
    existing = load_items(engine, [g["item_id"] for g in groups])
    facilities = _facilities(engine, {g["facility_id"] for g in groups if g["facility_id"]})
    changes: list[tuple[Item, Entry]] = []
    created = attached = recurred = 0
    for g in groups:
        severity = Severity.of_rank(int(g["severity_rank"])) or Severity.low
        checks = tuple(c for r in g["rule_ids"] for c in rule_checks.get(r, ()))
        evidence = {str(k): str(v) for k, v in _pairs(g["evidence"])}
        before = existing.get(g["item_id"])
        if before is None:
            fac = facilities.get(g["facility_id"] or "", {})
            item = Item(
                item_id=g["item_id"],
                status=Status.open,
                problem_type=g["problem_type"],
                severity=severity.value,
                source=Source.audit,
                subject_kind=g["subject_kind"],
                subject_id=g["subject_id"],
                found_by=actor,
                found_on=today,
                deadline=default_deadline(today, severity.value, settings),
                county=g["county"] or fac.get("county"),
                facility_id=g["facility_id"],
                facility_name=fac.get("name"),
                facility_kind=fac.get("kind"),
                lat=fac.get("lat"),
                lon=fac.get("lon"),
                periods=tuple(g["periods"]),
                rule_ids=tuple(g["rule_ids"]),
                checks_applicable=applicable(fac.get("kind") or g["subject_kind"], checks),
            )
            entry = Entry(
                g["item_id"], "create", actor, at, today, None, Status.open, diff(None, item), evidence=evidence
            )
            created += 1
        else:
            worst = max(Severity(before.severity), severity, key=lambda s: s.rank)
            item = before.changed(
                severity=worst.value,
                periods=tuple(sorted(set(before.periods) | set(g["periods"]))),
                rule_ids=tuple(sorted(set(before.rule_ids) | set(g["rule_ids"]))),
                checks_applicable=tuple(sorted(set(before.checks_applicable) | set(checks))),
            )
            if before.status is Status.closed and _later(before.periods, g["periods"]):
                item = reopened(item, today, settings).changed(recurrences=before.recurrences + 1)
                entry = Entry(
                    item.item_id,
                    "recur",
                    actor,
                    at,
                    today,
                    before.status,
                    Status.reopened,
                    diff(before, item),
                    evidence=evidence,
                )
                recurred += 1
            else:
                entry = Entry(
                    item.item_id, "attach", actor, at, today, None, None, diff(before, item), evidence=evidence
                )
                attached += 1
        changes.append((item, entry))
    ids = pl.DataFrame(
        {
            "subject_kind": [g["subject_kind"] for g in groups],
            "subject_id": [g["subject_id"] for g in groups],
            "problem_type": [g["problem_type"] for g in groups],
            "item_id": [g["item_id"] for g in groups],
        }
    )
    select = ", ".join(
        "i.item_id" if c == "item_id" else "$at AS filed_at" if c == "filed_at" else f"f.{c}" for c in FINDING_NAMES
    )
    with engine.registered("_ledger_item_ids", ids.to_arrow()):
        engine.execute(
            f"""INSERT INTO {FINDINGS} ({", ".join(FINDING_NAMES)}) SELECT {select}
            FROM _ledger_filing f JOIN _ledger_item_ids i USING (subject_kind, subject_id, problem_type)""",
            {"at": at},
        )
    engine.execute("DROP TABLE _ledger_filing")
    commit(engine, changes)
    return Filed(
        findings=sum(int(g["findings"]) for g in groups), created=created, attached=attached, reopened=recurred
    )


def _pairs(value: Any) -> list[tuple[Any, Any]]:
    """A DuckDB MAP as Python gives it back: a dict, or a {key: [...], value: [...]} pair of lists."""
    if isinstance(value, dict) and set(value) == {"key", "value"} and isinstance(value["key"], list):
        return list(zip(value["key"], value["value"], strict=True))
    return list(dict(value).items())


def _facilities(engine: Engine, ids: set[str]) -> dict[str, dict[str, Any]]:
    if not ids:
        return {}
    rows = engine.query(
        """SELECT facility_id, any_value(name) AS name, any_value(kind) AS kind, any_value(county) AS county,
                  any_value(lat) AS lat, any_value(lon) AS lon
           FROM facilities WHERE facility_id IN (SELECT UNNEST(?::VARCHAR[])) GROUP BY 1""",
        [sorted(ids)],
    )
    return {r["facility_id"]: r for r in rows}
