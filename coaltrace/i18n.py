"""Two languages for everything a person reads: zh-CN (default) and English.

One type, `Text`, holds a sentence in both: rule titles and descriptions, data
gaps, labels, messages. Each module that talks to people keeps its own
catalogue of them, made with `catalogue({key: (zh, en)})`, and asks
`say(CATALOGUE, key, lang, **values)`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, NamedTuple

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")


class Text(NamedTuple):
    """A sentence in both languages (a rule file writes it as `{zh: ..., en: ...}`)."""

    zh: str
    en: str

    def say(self, lang: str, **values: object) -> str:
        text = self.en if lang == "en" else self.zh
        return text.format(**values) if values else text

    def as_dict(self) -> dict[str, str]:
        return {"zh": self.zh, "en": self.en}


def catalogue(entries: Mapping[str, tuple[str, str]]) -> dict[str, Text]:
    """A module's sentences by key, each as a `Text`, from `{key: (zh, en)}`."""
    return {key: Text(*pair) for key, pair in entries.items()}


def say(entries: Mapping[str, Text], key: str, lang: str, **values: object) -> str:
    return entries[key].say(lang, **values)
