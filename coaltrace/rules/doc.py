"""The generated parts of docs/rules.md: the views rules read, and the rule pack.

    python -m coaltrace.rules.doc          # rewrite the generated blocks of docs/rules.md

Each block sits between `<!-- generated: NAME -->` and `<!-- end: NAME -->`; a
test fails when the page and the code disagree.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

from coaltrace.rules.load import load_rules
from coaltrace.rules.views import BASE_TABLES, VIEWS

PAGE = Path(__file__).resolve().parents[2] / "docs" / "rules.md"


def views_table() -> str:
    lines = ["| name | is | holds | reads |", "|---|---|---|---|"]
    for kind, named in (("table", BASE_TABLES), ("view", VIEWS)):
        for name, view in named.items():
            lines.append(f"| `{name}` | {kind} | {view.text} | {', '.join(view.tables) or '-'} |")
    return "\n".join(lines)


def pack_table() -> str:
    lines = [
        "| id | title | severity | entity | tonnes | requires | checks | clauses |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in load_rules():
        tonnes = r.tonnes.role.value + (f" ({r.tonnes.origin_class.value})" if r.tonnes.origin_class else "")
        lines.append(
            f"| `{r.id}` | {r.title.en} / {r.title.zh} | {r.severity.value} | {r.entity.value} | {tonnes} | "
            f"{', '.join(r.requires) or '-'} | {', '.join(map(str, r.checks.check))} | "
            f"{', '.join(map(str, r.checks.clause)) or '-'} |"
        )
    return "\n".join(lines)


BLOCKS = {"views": views_table, "pack": pack_table}


def render(page: str) -> str:
    """PAGE with every generated block made anew."""
    for name, make in BLOCKS.items():
        pattern = re.compile(rf"(<!-- generated: {name} -->\n)(?:.*?\n)?(<!-- end: {name} -->)", re.S)
        if not pattern.search(page):
            raise ValueError(f"docs/rules.md has no generated block {name!r}")
        body = make()

        def block(m: re.Match[str], body: str = body) -> str:
            return m.group(1) + body + "\n" + m.group(2)

        page = pattern.sub(block, page)
    return page


if __name__ == "__main__":
    text = PAGE.read_text(encoding="utf-8")
    PAGE.write_text(render(text), encoding="utf-8")
    sys.stdout.write(f"wrote {PAGE}\n")
