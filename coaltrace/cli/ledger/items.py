"""`coaltrace ledger list | show | history`: reading the ledger, the whole of it or one item.

`list` is the ledger by county (filters, overdue marks, counts by status); `show`
is one item with its findings and their evidence; `history` is every change made
to one item. They only read the store and write nothing.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from coaltrace.cli.common import DbOption, JsonOption, err, handle_errors, out, print_json, printable, state, styled
from coaltrace.cli.ledger.app import ledger_app
from coaltrace.cli.ledger.options import (
    CountyOption,
    ItemArgument,
    PeriodOption,
    SourceOption,
    StatusOption,
    item_filter,
    parse_day,
)
from coaltrace.cli.ledger.words import t
from coaltrace.cli.output import FormatOption, OutOption, emit, resolve_format
from coaltrace.i18n import Text as Words
from coaltrace.labels import label


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
    fmt: FormatOption = "table",
    out_path: OutOption = None,
    db: DbOption = None,
    as_json: JsonOption = False,
) -> None:
    """List ledger items, by county: the city's ledger is the counties' together. 列出台账事项。"""
    from coaltrace.ledger.queries import list_items as query
    from coaltrace.store import Store

    fmt = resolve_format(fmt, out_path, what=Words("台账事项", "ledger items"), json_flag=as_json)
    where = item_filter(county, status, source, period, overdue=overdue, as_of=parse_day(as_of, "--as-of"))
    with Store(db, read_only=True) as store:
        rows = query(store.engine, where, state.lang)
    if fmt != "table":
        emit(rows, fmt, out_path, sheet="ledger")
        return
    if not rows:
        err.print(t("empty"))
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
            t(key), overflow="fold", no_wrap=key == "item", justify="right" if key in ("tonnes", "recur") else "left"
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
            r["deadline"] + (t("overdue_mark") if r["overdue"] else ""),
            r["owner"] or "",
            f"{r['tonnes_at_risk']:,.3f}" if r["tonnes_at_risk"] else "",
            str(r["recurrences"]) if r["recurrences"] else "",
        )
    out.print(table)
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["status_label"]] = counts.get(r["status_label"], 0) + 1
    err.print(t("total", n=len(rows), by_status=", ".join(f"{k} {v}" for k, v in counts.items())))


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
        (t("county"), d["county"] or ""),
        (t("facility"), f"{place} ({kind})"),
        (t("source"), d["source_label"]),
        (t("found"), f"{d['found_by']} {d['found_on']}"),
        (t("periods"), ", ".join(d["periods"])),
        (t("description"), d["description"]),
        (t("requirement"), d["requirement"]),
        (t("unit"), d["unit"] or ""),
        (t("owner"), d["owner"] or ""),
        (t("deadline"), d["deadline"] + (t("overdue_mark") if d["overdue"] else "")),
        (t("signer"), d["signer"] or ""),
        (t("closed_on"), d["closed_on"] or ""),
        (t("checks"), d["field_checks_text"]),
        (t("applicable"), ", ".join(map(str, d["checks_applicable"]))),
        (t("note"), d["note"] or ""),
        (t("tonnes"), f"{d['tonnes_at_risk']:,.3f}"),
        (t("recur"), str(d["recurrences"])),
        (t("samples"), ", ".join(d["samples"])),
        (t("lookbacks"), ", ".join(d["lookbacks"])),
        (t("version"), str(d["version"])),
    ]
    for key, value in lines:
        if value:
            out.print(f"{key}: {value}")
    if d["findings"]:
        table = Table(title=t("findings", n=len(d["findings"])), box=box.SIMPLE_HEAD, pad_edge=False)
        for key in ("finding", "period", "rule", "severity", "entity", "tonnes", "evidence"):
            table.add_column(t(key), overflow="fold")
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
            out.print(t("more_findings", n=len(d["findings"]) - SHOWN))
    _print_history(d["history"])


# Findings `show` lists in the terminal (--json gives them all).
SHOWN = 50


def _print_history(entries: list[dict[str, Any]]) -> None:
    table = Table(title=t("history", n=len(entries)), box=box.SIMPLE_HEAD, pad_edge=False)
    for key in ("at", "on", "actor", "action", "move", "signer", "note", "changed"):
        table.add_column(t(key), overflow="fold")
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
