"""Two languages for everything a person reads: zh-CN (default) and English.

Each module that talks to people keeps its own catalogue, `{key: (zh, en)}`,
and asks `say(CATALOGUE, key, lang, **values)`.
"""

from __future__ import annotations

import os
from typing import Literal

Lang = Literal["zh", "en"]
LANGS: tuple[Lang, ...] = ("zh", "en")


def default_lang() -> Lang:
    env = os.environ.get("COALTRACE_LANG", "zh").lower()
    return "en" if env.startswith("en") else "zh"


def say(catalogue: dict[str, tuple[str, str]], key: str, lang: str, **values: object) -> str:
    zh, en = catalogue[key]
    return (en if lang == "en" else zh).format(**values)
