"""The yard page's checklist and signature lines: the eight checks (`coaltrace.checks`) that are made
at this site, each with what to do there and the page's findings whose rules serve it, and the lines
the inspector and the site's head sign. The terminal view and the HTML sheet both render this list.
"""

from __future__ import annotations

from typing import Any

from coaltrace.checks import BY_NUMBER, applicable
from coaltrace.i18n import Text

SIGN_LINES: tuple[Text, ...] = (
    Text("检查人员（签字）", "inspector (signature)"),
    Text("检查日期", "date of inspection"),
    Text("被检查单位负责人（签字）", "person in charge of the site (signature)"),
    Text("现场盘点库存（吨）", "stock counted on site (t)"),
)


def checklist(kind: str | None, findings_by_check: dict[int, list[str]]) -> list[dict[str, Any]]:
    """The checks made at a site of KIND (`coaltrace.checks.applicable`: the checks of its kind and those
    the rules of its findings serve), each with the ids of the page's findings whose rules serve it."""
    return [
        {
            "check": n,
            "title": BY_NUMBER[n].title.as_dict(),
            "what_to_do": BY_NUMBER[n].what_to_do.as_dict(),
            "findings": findings_by_check.get(n, []),
        }
        for n in applicable(kind, [n for n, found in findings_by_check.items() if found])
    ]


def sign_lines() -> list[dict[str, str]]:
    return [t.as_dict() for t in SIGN_LINES]
