"""What the ledger commands share on their way in: option types and the small parsers of their values.

The Annotated option types (--as, --config, --on, --county, --status, --source,
--period, the item id) keep one help text for every command that takes them; the
parsers turn what a person typed (a day, a coded value or its Chinese label, a
status list, a period, a field check, who acts) into the library's values; a
wrong day, code or field check is a bilingual UsageError that names the option.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from coaltrace.errors import UsageError
from coaltrace.labels import parse

if TYPE_CHECKING:
    from coaltrace.config import LedgerSettings
    from coaltrace.ledger.model import FieldCheck, Status
    from coaltrace.ledger.queries import ItemFilter


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


def parse_day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    from coaltrace.ledger.sheets import cell_date

    try:
        return cell_date(value.strip())
    except ValueError:
        raise UsageError(
            f"{option} {value!r} is not a date: write YYYY-MM-DD, e.g. 2022-01-15",
            zh=f"{option} {value!r} 不是日期：请写成 YYYY-MM-DD，如 2022-01-15",
        ) from None


def parse_code(family: str, value: str, option: str) -> str:
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
    return tuple(Status(parse_code("ledger_status", w, "--status")) for w in words)


def parse_period(value: str | None) -> Any:
    from coaltrace.period import Period

    return Period.parse(value) if value is not None else None


def item_filter(
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
        source=parse_code("ledger_source", source, "--source") if source else None,
        period=parse_period(period),
        as_of=as_of,
    )


def ledger_settings(config: Path | None) -> LedgerSettings:
    from coaltrace.config import load_config

    return load_config(config).ledger


def resolve_actor(value: str | None) -> str:
    from coaltrace.config import default_user
    from coaltrace.ledger.workflow import require_actor

    return require_actor(value if value is not None else default_user())


def field_checks(values: list[str] | None) -> tuple[FieldCheck, ...]:
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
