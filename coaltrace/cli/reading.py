"""What the reading commands (`trace`, `balance`, `yard`, `export`) share: the period and config
options, opening the store for a period (read-only when its provenance is current), finding a
facility by what a person types, and the words and figures of their tables."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from coaltrace.cli.common import err, state
from coaltrace.i18n import catalogue, say
from coaltrace.labels import label

if TYPE_CHECKING:
    from coaltrace.config import ProvenanceConfig
    from coaltrace.period import Period
    from coaltrace.store import Store

WORDS = catalogue(
    {
        "facility": ("单位", "facility"),
        "kind": ("类型", "kind"),
        "licence": ("采矿许可状态", "licence state"),
        "class": ("来源类别", "origin class"),
        "origin": ("来源单位", "origin facility"),
        "tonnes": ("吨", "tonnes"),
        "share": ("占比", "share"),
        "trips": ("车次", "trips"),
        "grouped": ("（其余 {n} 个来源，各占比不足 0.01%）", "({n} other origins, each under 0.01%)"),
        "none_rows": ("（无）", "(none)"),
        "role_carried": ("（携带）", "(carried)"),
        "role_records": ("（记录）", "(on records)"),
        "period_latest_audit": (
            "未指定 --period：使用最近一次审计的期间 {period}",
            "no --period given: using {period}, the period audited last",
        ),
        "period_latest_sales": (
            "未指定 --period，且尚未审计：使用有销售记录的最近月份 {period}",
            "no --period given and no audit yet: using {period}, the latest month with sales",
        ),
        "kept_build": (
            "{period} 的来源追溯由上次审计按 {made} 计算，本命令的配置与之不同：仍按审计的结果显示，"
            "与其问题一致；如需按新配置计算，请重新运行 coaltrace audit --config。",
            "the provenance of {period} was built by the last audit with {made}; this command's config differs: "
            "shown as the audit built it, which its findings rest on. To use the new config, run "
            "`coaltrace audit --config ...` again.",
        ),
        "defaults": ("默认设置", "the default settings"),
        "found_as": ("“{text}”即 {id}", "{text!r} is {id}"),
        "buyer": ("去向单位", "destination"),
        "supplier": ("供货单位", "supplier"),
        "supplier_share": ("其合法来源占比", "its licensed share"),
    }
)

PeriodOption = Annotated[
    str | None,
    typer.Option(
        "--period",
        "-p",
        help="Month (2021-12), year (2021) or range (2021-10..2021-12); default: the period audited last.",
    ),
]
ConfigOption = Annotated[
    Path | None,
    typer.Option(
        "--config",
        help="Config file whose [provenance] section builds the provenance, as `audit` reads it "
        "(default: ./coaltrace.toml if present, else whatever made the stored provenance).",
    ),
]


def word(key: str, **kw: Any) -> str:
    return say(WORDS, key, state.lang, **kw)


def num(v: Any) -> str:
    return "" if v is None else f"{v:,.3f}"


def pct(v: Any) -> str:
    return "—" if v is None else f"{v:.1%}"


def origin_name(row: dict[str, Any]) -> str:
    if row["origin_id"] is None:
        return word("grouped", n=row.get("grouped") or 0)
    return f"{row['origin_id']} {row.get('origin_name') or ''}".strip()


def origin_cells(row: dict[str, Any]) -> list[str]:
    return [
        label("origin_class", row["origin_class"], state.lang),
        origin_name(row),
        num(row["tonnes"]),
        pct(row["share"]),
    ]


def open_for_period(db: Path | None, period: str | None, setting: ProvenanceConfig | None) -> tuple[Store, Period]:
    """The store, read-only when the period's provenance is current (a read-only file, or beside
    an analyst's read-only connection, will do), for writing only when it must be built first;
    and the period, saying on stderr which one was taken when --period was left out."""
    from coaltrace.errors import CannotWriteError
    from coaltrace.provenance.current import is_current, stored_build
    from coaltrace.provenance.queries import choose_period
    from coaltrace.store import Store

    reader = Store(db, read_only=True)
    try:
        choice = choose_period(reader, period)
        if choice.how != "given":
            err.print(word(f"period_{choice.how}", period=choice.period.label))
        p = choice.period
        if is_current(reader, p, setting, keep_build=True):
            build = stored_build(reader, p)
            if build is not None and setting is not None and setting != build.config:
                err.print(word("kept_build", period=p.label, made=build.config_source or word("defaults")))
            return reader, p
    except BaseException:
        reader.close()
        raise
    reader.close()
    try:
        return Store(db, must_exist=True), p
    except CannotWriteError as e:
        raise CannotWriteError(
            f"{e.message}; the provenance of {p.label} is not built yet, and building it writes to the database",
            zh=f"{e.zh}；{p.label} 的来源追溯尚未计算，计算结果需要写入数据库",
            hint=f"Run `coaltrace audit --period {p.label}` where the database may be written, then read it anywhere.",
            hint_zh=f"请在可写入数据库的地方先运行 `coaltrace audit --period {p.label}`，之后即可在任何地方只读查看。",
        ) from None


def lookup_facility(store: Store, text: str) -> str:
    """The facility_id a person means by TEXT (an id in any case, or part of a name), saying on
    stderr which one was taken when it was not the id as typed."""
    from coaltrace.yard.lookup import find_facility

    found = find_facility(store, text)
    if found != text:
        err.print(word("found_as", text=text, id=found))
    return found
