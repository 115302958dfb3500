"""The ledger's history: appended, hashed in a chain, replayed into items, and verified.

Every change is one entry in `ledger_history`: who, when, the day it took
effect, the status it left and entered, the signer, the note, the fields it
changed and the evidence it filed. Entries are only ever inserted. Each carries

    hash = sha256(prev_hash + "\\n" + canonical(entry))

over a canonical serialisation (sorted keys, no spaces, text as written), the
first one chained to a hash of the database id. The chain's head is also kept
in `meta` (`ledger_head`), so entries cut off its end are missed too.

`verify` walks the chain and names the first entry whose content no longer
matches its hash or that does not follow the one before; then checks that the
filed evidence still hashes as its entry says, and that `ledger_items` is what
replaying the history gives. What it cannot see: someone who rewrites every
entry after the one they changed and the head with it. Against that, the head
hash is printed by `ledger verify` and written into exports and reports: a copy
kept elsewhere (a signed printout) shows any later rewrite.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from coaltrace.engine import Engine
from coaltrace.ledger.model import (
    Entry,
    FieldCheck,
    Item,
    Source,
    Status,
    apply_fields,
    canonical,
)
from coaltrace.ledger.schema import (
    FINDINGS,
    HISTORY,
    HISTORY_NAMES,
    ITEM_COLUMNS,
    ITEM_NAMES,
    ITEMS,
    database_id,
)


def genesis(db_id: str) -> str:
    return hashlib.sha256(f"coaltrace ledger {db_id}".encode()).hexdigest()


def entry_hash(prev_hash: str, payload: dict[str, Any]) -> str:
    return hashlib.sha256(f"{prev_hash}\n{canonical(payload)}".encode()).hexdigest()


def head(engine: Engine) -> tuple[int, str] | None:
    """(seq, hash) of the last entry, as `meta` keeps it."""
    value = engine.scalar("SELECT value FROM meta WHERE key = 'ledger_head'")
    if value is None:
        return None
    seq, _, digest = str(value).partition(":")
    return int(seq), digest


def commit(engine: Engine, changes: Iterable[tuple[Item, Entry]]) -> list[Item]:
    """Append each entry to the history and store each item as it left it; return the items.

    ITEM is the item's state after ENTRY (its fields); the version and times are filled in here.
    Call inside a transaction: the entries and the items are written together or not at all.
    """
    import polars as pl

    pending = list(changes)
    if not pending:
        return []
    db_id = database_id(engine)
    assert db_id is not None, "ensure_tables() first"
    last = head(engine)
    seq, prev = last if last is not None else (0, genesis(db_id))
    versions: dict[str, int] = dict(
        engine.rows(
            f"SELECT item_id, version FROM {ITEMS} WHERE item_id IN (SELECT UNNEST(?::VARCHAR[]))",
            [sorted({item.item_id for item, _ in pending})],
        )
    )
    rows: list[dict[str, Any]] = []
    saved: dict[str, Item] = {}
    for item, entry in pending:
        seq += 1
        digest = entry_hash(prev, entry.payload(seq))
        rows.append(
            {
                "seq": seq,
                "item_id": entry.item_id,
                "changed_at": entry.at,
                "on_date": entry.on,
                "actor": entry.actor,
                "action": entry.action,
                "from_status": entry.from_status.value if entry.from_status else None,
                "to_status": entry.to_status.value if entry.to_status else None,
                "signer": entry.signer,
                "note": entry.note,
                "fields": canonical(entry.fields),
                "evidence": canonical(entry.evidence),
                "prev_hash": prev,
                "hash": digest,
            }
        )
        prev = digest
        version = versions.get(item.item_id, 0) + 1
        versions[item.item_id] = version
        earlier = saved.get(item.item_id)
        created = item.created_at or (earlier.created_at if earlier else None) or entry.at
        saved[item.item_id] = item.changed(version=version, created_at=created, updated_at=entry.at)
    history = pl.DataFrame(rows, schema=_schema(HISTORY_NAMES, _HISTORY_TYPES), orient="row")
    items = pl.DataFrame([_item_row(i) for i in saved.values()], schema=_item_schema(), orient="row")
    with engine.registered("_ledger_new_history", history.to_arrow()):
        engine.execute(f"INSERT INTO {HISTORY} SELECT {', '.join(HISTORY_NAMES)} FROM _ledger_new_history")
    engine.execute(f"DELETE FROM {ITEMS} WHERE item_id IN (SELECT UNNEST(?::VARCHAR[]))", [sorted(saved)])
    with engine.registered("_ledger_new_items", items.to_arrow()):
        engine.execute(f"INSERT INTO {ITEMS} SELECT {', '.join(ITEM_NAMES)} FROM _ledger_new_items")
    engine.execute("DELETE FROM meta WHERE key = 'ledger_head'")
    engine.execute("INSERT INTO meta VALUES ('ledger_head', ?)", [f"{seq}:{prev}"])
    return list(saved.values())


_HISTORY_TYPES = {
    "seq": "BIGINT",
    "changed_at": "TIMESTAMP",
    "on_date": "DATE",
}


def _polars_type(sql: str) -> Any:
    import polars as pl

    return {
        "VARCHAR": pl.String,
        "DATE": pl.Date,
        "DOUBLE": pl.Float64,
        "INTEGER": pl.Int32,
        "BIGINT": pl.Int64,
        "TIMESTAMP": pl.Datetime("us"),
        "VARCHAR[]": pl.List(pl.String),
        "INTEGER[]": pl.List(pl.Int32),
    }[sql]


def _schema(names: tuple[str, ...], types: dict[str, str]) -> dict[str, Any]:
    return {name: _polars_type(types.get(name, "VARCHAR")) for name in names}


def _item_schema() -> dict[str, Any]:
    return {name: _polars_type(sql) for name, sql in ITEM_COLUMNS}


def _item_row(item: Item) -> tuple[Any, ...]:
    """ITEM in the column order of `ledger_items`: codes for enums, lists for tuples, JSON for the checks."""
    special: dict[str, Any] = {
        "status": item.status.value,
        "source": item.source.value,
        "field_checks": canonical([c.as_record() for c in item.field_checks]),
    }
    values = []
    for name in ITEM_NAMES:
        value = special[name] if name in special else getattr(item, name)
        values.append(list(value) if isinstance(value, tuple) else value)
    return tuple(values)


def item_of(row: dict[str, Any]) -> Item:
    """An item as `ledger_items` holds it."""
    values = dict(row)
    values["status"] = Status(values["status"])
    values["source"] = Source(values["source"])
    values["field_checks"] = tuple(FieldCheck.of(r) for r in json.loads(values["field_checks"] or "[]"))
    for name in ("periods", "rule_ids", "checks_applicable", "samples", "lookbacks"):
        values[name] = tuple(values[name] or ())
    return Item(**{k: v for k, v in values.items() if k in ITEM_NAMES})


def load_items(engine: Engine, ids: Iterable[str] | None = None) -> dict[str, Item]:
    """Items by id (all of them, or those named), as stored."""
    if ids is None:
        rows = engine.query(f"SELECT {', '.join(ITEM_NAMES)} FROM {ITEMS} ORDER BY item_id")
    else:
        rows = engine.query(
            f"SELECT {', '.join(ITEM_NAMES)} FROM {ITEMS} WHERE item_id IN (SELECT UNNEST(?::VARCHAR[])) ORDER BY item_id",
            [sorted(set(ids))],
        )
    return {r["item_id"]: item_of(r) for r in rows}


def history_rows(engine: Engine, item_id: str | None = None) -> list[dict[str, Any]]:
    where, args = ("WHERE item_id = ?", [item_id]) if item_id is not None else ("", [])
    return engine.query(f"SELECT {', '.join(HISTORY_NAMES)} FROM {HISTORY} {where} ORDER BY seq", args)


def _entry_payload(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "seq": row["seq"],
        "item_id": row["item_id"],
        "at": row["changed_at"].isoformat() if isinstance(row["changed_at"], datetime) else row["changed_at"],
        "on": row["on_date"].isoformat() if isinstance(row["on_date"], date) else row["on_date"],
        "actor": row["actor"],
        "action": row["action"],
        "from": row["from_status"],
        "to": row["to_status"],
        "signer": row["signer"],
        "note": row["note"],
        "fields": json.loads(row["fields"]),
        "evidence": json.loads(row["evidence"]),
    }


def replay(rows: Iterable[dict[str, Any]], until_version: dict[str, int] | None = None) -> dict[str, Item]:
    """Items as their entries build them (only the first N entries of an item, for UNTIL_VERSION's items)."""
    items: dict[str, Item] = {}
    for row in rows:
        item_id = row["item_id"]
        current = items.get(item_id)
        version = (current.version if current else 0) + 1
        if until_version is not None and item_id in until_version and version > until_version[item_id]:
            continue
        changes = json.loads(row["fields"]) if isinstance(row["fields"], str) else row["fields"]
        item = apply_fields(current, item_id, changes)
        items[item_id] = item.changed(
            version=version,
            created_at=current.created_at if current else row["changed_at"],
            updated_at=row["changed_at"],
        )
    return items


def state_at(engine: Engine, item_id: str, version: int) -> Item | None:
    """The item as it was after its first VERSION entries (what an export of that version showed)."""
    return replay(history_rows(engine, item_id), {item_id: version}).get(item_id)


@dataclass(frozen=True)
class Problem:
    code: str  # altered, broken, missing, head, evidence, items
    en: str
    zh: str
    seq: int | None = None
    item_id: str | None = None


@dataclass
class ChainReport:
    entries: int
    head: str | None
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_record(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "entries": self.entries,
            "head": self.head,
            "problems": [
                {"code": p.code, "seq": p.seq, "item_id": p.item_id, "message": {"zh": p.zh, "en": p.en}}
                for p in self.problems
            ],
        }


def verify(engine: Engine) -> ChainReport:
    """Walk the chain; then the evidence and the items against it. Reads only."""
    db_id = database_id(engine)
    rows = history_rows(engine)
    kept = head(engine)
    report = ChainReport(entries=len(rows), head=rows[-1]["hash"] if rows else None)
    if db_id is None:
        if rows:
            report.problems.append(Problem("altered", "the database id is gone from meta", "meta 中的数据库编号已丢失"))
        return report
    prev = genesis(db_id)
    for expected_seq, row in enumerate(rows, start=1):
        seq, item_id = row["seq"], row["item_id"]
        where_en = f"entry {seq} (item {item_id}, {row['action']} by {row['actor']} at {row['changed_at']})"
        where_zh = f"第 {seq} 条记录（事项 {item_id}，{row['actor']} 于 {row['changed_at']} {row['action']}）"
        if seq != expected_seq:
            report.problems.append(
                Problem(
                    "missing",
                    f"{where_en} comes where entry {expected_seq} should: entries were removed or inserted",
                    f"{where_zh} 处应为第 {expected_seq} 条：有记录被删除或插入",
                    seq,
                    item_id,
                )
            )
            return report
        if row["prev_hash"] != prev:
            report.problems.append(
                Problem(
                    "broken",
                    f"{where_en} does not follow the entry before it: the chain was broken there",
                    f"{where_zh} 与前一条记录不相接：链条在此处被破坏",
                    seq,
                    item_id,
                )
            )
            return report
        try:
            digest = entry_hash(prev, _entry_payload(row))
        except (ValueError, TypeError):
            digest = ""
        if digest != row["hash"]:
            report.problems.append(
                Problem(
                    "altered",
                    f"{where_en} was altered: its content no longer matches its hash",
                    f"{where_zh} 已被改动：内容与其哈希不符",
                    seq,
                    item_id,
                )
            )
            return report
        prev = row["hash"]
    if rows and (kept is None or kept != (rows[-1]["seq"], rows[-1]["hash"])):
        report.problems.append(
            Problem(
                "head",
                f"the history ends at entry {rows[-1]['seq']}, but the ledger's head says "
                f"{'nothing' if kept is None else f'entry {kept[0]}'}: entries were cut off its end",
                f"历史记录止于第 {rows[-1]['seq']} 条，但台账记录的末条为{'空' if kept is None else f'第 {kept[0]} 条'}："
                "末尾的记录被删除",
            )
        )
        return report
    report.problems += _evidence_problems(engine, rows)
    report.problems += _item_problems(engine, rows)
    return report


def _evidence_problems(engine: Engine, rows: list[dict[str, Any]]) -> list[Problem]:
    filed = {
        (item_id, finding_id): (stored, actual)
        for item_id, finding_id, stored, actual in engine.rows(
            f"SELECT item_id, finding_id, evidence_sha256, sha256(COALESCE(evidence, '')) FROM {FINDINGS}"
        )
    }
    problems: list[Problem] = []
    claimed: set[tuple[str, str]] = set()
    for row in rows:
        for finding_id, digest in json.loads(row["evidence"]).items():
            key = (row["item_id"], finding_id)
            claimed.add(key)
            stored = filed.get(key)
            if stored is None or stored[1] != digest:
                what_en = "is gone" if stored is None else "was altered"
                what_zh = "已被删除" if stored is None else "已被改动"
                problems.append(
                    Problem(
                        "evidence",
                        f"the evidence of finding {finding_id}, filed on item {row['item_id']} by entry {row['seq']}, {what_en}",
                        f"第 {row['seq']} 条记录归入事项 {row['item_id']} 的问题 {finding_id} 的证据{what_zh}",
                        row["seq"],
                        row["item_id"],
                    )
                )
    for item_id, finding_id in sorted(set(filed) - claimed):
        problems.append(
            Problem(
                "evidence",
                f"finding {finding_id} is filed on item {item_id} but no entry of the history filed it",
                f"问题 {finding_id} 归在事项 {item_id} 下，但历史记录中没有归入它的记录",
                None,
                item_id,
            )
        )
    return problems[:20]


def _item_problems(engine: Engine, rows: list[dict[str, Any]]) -> list[Problem]:
    replayed = replay(rows)
    stored = load_items(engine)
    problems: list[Problem] = []
    for item_id in sorted(set(replayed) | set(stored)):
        want, have = replayed.get(item_id), stored.get(item_id)
        if want == have:
            continue
        if have is None or want is None:
            en = "has no row in ledger_items" if have is None else "is in ledger_items but has no history"
            zh = "在 ledger_items 中没有记录" if have is None else "在 ledger_items 中存在，但没有历史记录"
        else:
            names = [n for n in ITEM_NAMES if getattr(want, n) != getattr(have, n)]
            en = f"differs in ledger_items from its history ({', '.join(names)})"
            zh = f"在 ledger_items 中与其历史记录不符（{'、'.join(names)}）"
        problems.append(Problem("items", f"item {item_id} {en}", f"事项 {item_id} {zh}", None, item_id))
    return problems[:20]
