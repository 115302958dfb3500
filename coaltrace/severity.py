"""How serious a finding is: the one definition of the severities, their order and their names.

Everything that sorts, filters, grades or names a severity (the rule model, the
findings table, the summary, reports, the CLI) asks this module, in Python or
in SQL (`rank_sql`).
"""

from __future__ import annotations

from enum import StrEnum

from coaltrace.errors import UsageError
from coaltrace.i18n import Text


class Severity(StrEnum):
    low = "low"
    medium = "medium"
    high = "high"
    critical = "critical"

    @property
    def rank(self) -> int:
        """1 (low) to 4 (critical): higher is worse."""
        return _ORDER.index(self) + 1

    @property
    def label(self) -> Text:
        return _LABELS[self]

    @classmethod
    def worst_first(cls) -> tuple[Severity, ...]:
        return tuple(reversed(_ORDER))

    @classmethod
    def of_rank(cls, rank: int) -> Severity | None:
        return _ORDER[rank - 1] if 1 <= rank <= len(_ORDER) else None

    @classmethod
    def parse(cls, text: str) -> Severity:
        """A severity as a person writes it: `high`, `High`, `高`; ValueError otherwise."""
        word = text.strip().lower()
        for s in _ORDER:
            if word in (s.value, s.label.zh, s.label.en):
                return s
        raise ValueError(text)

    @classmethod
    def rank_of(cls, value: str | None) -> int:
        """The rank of a stored severity, 0 for none or one this version does not know."""
        return cls(value).rank if value is not None and value in cls._value2member_map_ else 0


_ORDER = (Severity.low, Severity.medium, Severity.high, Severity.critical)
_LABELS = {
    Severity.low: Text("低", "low"),
    Severity.medium: Text("中", "medium"),
    Severity.high: Text("高", "high"),
    Severity.critical: Text("严重", "critical"),
}


def parse_option(text: str, option: str = "--severity") -> Severity:
    """A severity typed on the command line (`high`, `高`, `严重`); a UsageError naming the choices otherwise."""
    try:
        return Severity.parse(text)
    except ValueError:
        raise UsageError(
            f"{option} {text!r}: use one of {', '.join(s.value for s in _ORDER)}",
            zh=f"{option} {text!r}：只能是 {'、'.join(f'{s.value}（{s.label.zh}）' for s in _ORDER)} 之一",
        ) from None


def rank_sql(column: str = "severity") -> str:
    """SQL giving the rank of COLUMN (0 for anything else), in a form every dialect reads."""
    whens = " ".join(f"WHEN '{s.value}' THEN {s.rank}" for s in _ORDER)
    return f"CASE {column} {whens} ELSE 0 END"
