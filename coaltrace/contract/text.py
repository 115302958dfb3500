"""Folding of header cells and enum words, so that matching survives how people type."""

from __future__ import annotations

import re
import unicodedata

_UNIT_IN_BRACKETS = re.compile(r"[(\[]([^)\]]*)[)\]]")
_SPACES = re.compile(r"[\s_\-·•.:：]+")


def fold(text: str) -> str:
    """NFKC (full-width → half-width), lower case, no spaces or separators."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", text)).lower()


def split_header(cell: str) -> tuple[str, str | None]:
    """`' 数量（万吨） '` → (`'数量'`, `'万吨'`): the folded name and the unit in brackets, if any."""
    text = unicodedata.normalize("NFKC", str(cell)).strip()
    unit = None
    m = _UNIT_IN_BRACKETS.search(text)
    if m:
        unit = fold(m.group(1)) or None
        text = _UNIT_IN_BRACKETS.sub("", text)
    return fold(text), unit
