"""Finding a facility the way a person names it: its id in any case, or part of its name.

An inspector types `140522mc0004`, `昌顺`, or a name half remembered. The id
wins when it matches (exactly, then ignoring case and full-width forms); then
a part of the id or of the name. One match is the facility; none or several
is a usage error that lists the candidates (several) or the nearest ids and
names (`difflib`, none), so the next command is a copy away.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass

from coaltrace.errors import UsageError
from coaltrace.store import Store

# Candidates listed in a message: enough to pick from, short enough to read.
SHOWN = 12


@dataclass(frozen=True)
class Candidate:
    facility_id: str
    name: str | None
    kind: str | None
    county: str | None

    def line(self, lang: str = "en") -> str:
        from coaltrace.labels import label

        extra = ("，" if lang == "zh" else ", ").join(
            x for x in (label("facility_kind", self.kind, lang), self.county) if x
        )
        if not extra:
            return f"{self.facility_id} {self.name or ''}".strip()
        return f"{self.facility_id} {self.name or ''}".strip() + (f"（{extra}）" if lang == "zh" else f" ({extra})")


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).strip().casefold()


def candidates(store: Store) -> list[Candidate]:
    """Every facility a command can be about: the register, and any id the provenance knows."""
    has_balances = store.engine.has_table("balances")
    rows = store.engine.rows(
        "SELECT facility_id, any_value(name), any_value(kind), any_value(county) FROM ("
        "SELECT facility_id, name, kind, county FROM facilities"
        + (" UNION ALL SELECT facility_id, name, kind, county FROM balances" if has_balances else "")
        + ") WHERE facility_id IS NOT NULL GROUP BY facility_id ORDER BY facility_id"
    )
    return [Candidate(*r) for r in rows]


def _known_id(store: Store, text: str) -> bool:
    found = store.engine.first(
        "SELECT 1 FROM facilities WHERE facility_id = $f"
        + (" UNION ALL SELECT 1 FROM balances WHERE facility_id = $f" if store.engine.has_table("balances") else "")
        + " LIMIT 1",
        {"f": text},
    )
    return found is not None


def find_facility(store: Store, text: str) -> str:
    """The id of the one facility TEXT names; UsageError listing candidates or suggestions otherwise."""
    if _known_id(store, text):
        return text  # the id as typed: the common case, answered without reading the whole register
    everyone = candidates(store)
    word = _fold(text)
    if not word:
        raise UsageError("no facility given", zh="未给出单位编码或名称")
    by_id = [c for c in everyone if _fold(c.facility_id) == word]
    if len(by_id) == 1:
        return by_id[0].facility_id
    matches = by_id or [
        c for c in everyone if word in _fold(c.facility_id) or (c.name is not None and word in _fold(c.name))
    ]
    if len(matches) == 1:
        return matches[0].facility_id
    if matches:
        shown = matches[:SHOWN]
        more = len(matches) - len(shown)
        raise UsageError(
            f"{text!r} matches {len(matches)} facilities; give one of their ids",
            zh=f"“{text}”匹配到 {len(matches)} 个单位，请给出其中一个的单位编码",
            details=[c.line("en") for c in shown] + ([f"... and {more} more"] if more else []),
            details_zh=[c.line("zh") for c in shown] + ([f"……另有 {more} 个"] if more else []),
        )
    raise UsageError(
        f"unknown facility {text!r}: no id or name matches it",
        zh=f"未知单位 {text!r}：没有匹配的单位编码或名称",
        details=[f"did you mean: {c.line('en')}" for c in suggestions(everyone, text)],
        details_zh=[f"是否要找：{c.line('zh')}" for c in suggestions(everyone, text)],
        hint="Give the facility_id (单位编码) or part of the name; `coaltrace balance` lists every facility.",
        hint_zh="请给出单位编码或名称的一部分；`coaltrace balance` 可列出全部单位。",
    )


def suggestions(everyone: list[Candidate], text: str, n: int = 5) -> list[Candidate]:
    """The facilities whose id or name is closest to TEXT, nearest first."""
    word = _fold(text)
    scored: dict[str, tuple[float, Candidate]] = {}
    for c in everyone:
        keys = [_fold(c.facility_id)] + ([_fold(c.name)] if c.name else [])
        best = max(difflib.SequenceMatcher(None, word, k).ratio() for k in keys)
        if c.name and len(word) < len(_fold(c.name)):
            # Part of a long name typed with a slip: compare with its pieces of the same length.
            name = _fold(c.name)
            size = len(word)
            best = max(
                best,
                *(difflib.SequenceMatcher(None, word, name[i : i + size]).ratio() for i in range(len(name) - size + 1)),
            )
        scored[c.facility_id] = (best, c)
    ranked = sorted(scored.values(), key=lambda x: (-x[0], x[1].facility_id))
    return [c for score, c in ranked[:n] if score >= 0.6]
