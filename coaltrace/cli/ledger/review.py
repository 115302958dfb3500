"""`coaltrace ledger sample | lookback | export | import | verify`: the city's review of the counties' ledger.

`sample` draws the city's spot checks (市级抽查) and writes their checklist;
`lookback` looks again (回头看) at closed items whose place shows activity in a
later period and reopens them on request; `export` and `import` carry the sheet
the counties fill in; `verify` proves the history's hash chain intact.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.table import Table
from rich.text import Text

from coaltrace.cli.common import DbOption, JsonOption, err, handle_errors, out, print_json, state, styled
from coaltrace.cli.ledger.app import ledger_app
from coaltrace.cli.ledger.options import (
    AsOption,
    ConfigOption,
    CountyOption,
    PeriodOption,
    SourceOption,
    StatusOption,
    item_filter,
    ledger_settings,
    parse_period,
    resolve_actor,
)
from coaltrace.cli.ledger.words import sep, t
from coaltrace.errors import ExitCode, UsageError
from coaltrace.labels import label


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

    who = resolve_actor(actor)
    where = item_filter(county, status, source, period)
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
        t("sampled", sample=drawn.sample_id, population=drawn.population, drawn=len(drawn.items), seed=seed, rate=rate)
    )
    for c in drawn.by_county():
        err.print(t("sample_county", county=c["county"] or "-", population=c["population"], drawn=c["drawn"]))
    err.print(t("written", paths=", ".join(map(str, paths))))


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

    p = parse_period(period)
    settings = ledger_settings(config)
    who = resolve_actor(actor) if do_reopen else None
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
                note=lambda a: t("lookback_note", period=p.label, activity=_activity(a.as_record())),
            )
    else:
        with Store(db, read_only=True) as store:
            result = look_back(store.engine, p, settings)
    if as_json:
        print_json(result.as_record() | {"reopened": [i.item_id for i in reopened]})
        return
    if not any(result.records.values()):
        err.print(Text(t("lookback_no_records", period=p.label), style="yellow"))
    if not result.found:
        err.print(
            t("lookback_none", period=p.label, closed_before=result.closed_before.isoformat(), n=result.looked_at)
        )
        return
    err.print(
        t(
            "lookback_found",
            period=p.label,
            closed_before=result.closed_before.isoformat(),
            n=result.looked_at,
            k=len(result.found),
        )
    )
    table = Table(box=box.SIMPLE_HEAD, pad_edge=False)
    for key in ("item", "county", "facility", "problem", "closed_on", "signer"):
        table.add_column(t(key), overflow="fold")
    table.add_column(t("seen"), overflow="fold")
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
    err.print(t("lookback_reopened", n=len(reopened)) if do_reopen else t("lookback_hint"))


def _activity(r: dict[str, Any]) -> str:
    return t(
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
    from coaltrace.ledger.sheet_export import export_sheet
    from coaltrace.store import Store

    kind = (fmt or out_file.suffix.lstrip(".") or "xlsx").lower()
    if kind not in ("xlsx", "csv"):
        raise UsageError(f"--format {kind!r}: use xlsx or csv", zh=f"--format {kind!r}：只能是 xlsx 或 csv")
    where = item_filter(county, status, source, period)
    with Store(db, read_only=True) as store:
        done = export_sheet(store.engine, out_file, fmt=kind, lang=state.lang, where=where)
    err.print(t("exported", n=done.items, path=done.path, db=done.database_id, head=(done.head or "-")[:16]))


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
    from coaltrace.ledger.sheet_import import import_sheet as apply_sheet
    from coaltrace.store import Store

    who = resolve_actor(actor)
    settings = ledger_settings(config)
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
            what.append(t("fields_changed", fields=", ".join(rest)))
        out.print(t("import_line", line=a["line"], item=a["item_id"], what=sep().join(what)))
    err.print(
        t("imported", path=sheet, rows=done.rows, applied=len(done.applied), unchanged=done.unchanged)
        + (" " + t("dry_run") if dry_run else "")
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
            err.print(t("no_ledger"))
            return
        report = check(store.engine)
    if as_json:
        print_json(report.as_record())
    elif report.ok:
        err.print(t("verified_ok", n=report.entries, head=report.head or "-"))
    else:
        err.print(styled(t("verified_bad"), "bold red"))
        for p in report.problems:
            err.print(f"  - {p.zh if state.lang == 'zh' else p.en}")
    if not report.ok:
        raise typer.Exit(int(ExitCode.FINDINGS))
