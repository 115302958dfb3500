"""What every page coaltrace renders for people shares: one Jinja environment.

The report (HTML and Markdown) and the inspector's yard page are Jinja templates
shipped in `coaltrace/templates/`. A bureau puts its own letterhead on them with
`[report]` in the config (`letterhead`, `logo`) or replaces any template by
name with a folder of its own (`template_dir`, or `--template-dir`): that folder
is searched first, so a `letterhead.html.j2` there replaces only the letterhead.

HTML is autoescaped: text from the data cannot become markup. Markdown has no
autoescape of its own, so every value printed there goes through `md_text`.
The pages load nothing: the stylesheet is inside, the logo is embedded, and
the Content-Security-Policy the base template sets forbids every request and
every script, so a template that forgot this would show nothing from outside.
"""

from __future__ import annotations

import base64
import html
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined, select_autoescape

from coaltrace.config import ReportSettings
from coaltrace.errors import UsageError
from coaltrace.i18n import Text
from coaltrace.labels import label
from coaltrace.severity import Severity

TEMPLATES = Path(__file__).resolve().parent / "templates"

_LOGO_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".svg": "image/svg+xml"}

# Markdown that data could use to become something else: a link or image (`[`, `]`, which also
# fetch a tracking pixel), code (`` ` ``), and the backslash that would undo an escape. Emphasis
# (`*`, `_`) is left alone: it changes no meaning, and ids like mine_over_capacity stay searchable.
_MARKDOWN_SPECIAL = str.maketrans({c: "\\" + c for c in "\\`[]"})


def md_text(text: str) -> str:
    """Text from data as Markdown that renders exactly as that text: HTML escaped (no `<script>`,
    no `<img onerror>`), Markdown links and code defused, one line, and no `|` to end a table cell."""
    one_line = " ".join(text.splitlines())
    return html.escape(one_line, quote=False).translate(_MARKDOWN_SPECIAL).replace("|", "\\|")


def num(x: Any, decimals: int = 3) -> str:
    """A figure as measured (tonnes to the kilogram), with thousands separated; "" for none."""
    if x is None or isinstance(x, Undefined):
        return ""
    if isinstance(x, bool) or not isinstance(x, int | float):
        return str(x)
    return f"{x:,.{decimals}f}" if isinstance(x, float) else f"{x:,}"


def pct(x: Any, decimals: int = 1) -> str:
    if x is None or isinstance(x, Undefined) or not isinstance(x, int | float):
        return ""
    return f"{x * 100:.{decimals}f}%"


def severity_label(code: Any, lang: str) -> str:
    return Severity(code).label.say(lang) if code in Severity._value2member_map_ else str(code or "")


def logo_uri(path: Path | None) -> str | None:
    """The logo as a data: URI, so the page carries it and asks nothing of the network."""
    if path is None:
        return None
    mime = _LOGO_TYPES.get(path.suffix.lower())
    if mime is None:
        raise UsageError(
            f"the logo {path} is not a PNG, JPEG or SVG file",
            zh=f"徽标 {path} 不是 PNG、JPEG 或 SVG 文件",
            hint="Set [report] logo to a .png, .jpg or .svg file.",
            hint_zh="请将 [report] 的 logo 设为 .png、.jpg 或 .svg 文件。",
        )
    try:
        data = path.read_bytes()
    except OSError as e:
        raise UsageError(
            f"cannot read the logo {path}: {e.strerror or e}",
            zh=f"无法读取徽标 {path}：{e.strerror or e}",
            hint="Set [report] logo to a file that exists.",
            hint_zh="请将 [report] 的 logo 设为一个存在的文件。",
        ) from None
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def environment(
    lang: str,
    texts: Mapping[str, Text],
    settings: ReportSettings | None = None,
    *,
    markdown: bool = False,
) -> Environment:
    """The Jinja environment of one page in LANG: its TEXTS as `t(key, **values)`, labels, figures."""
    settings = settings or ReportSettings()
    folders = [str(TEMPLATES)]
    if settings.template_dir is not None:
        if not settings.template_dir.is_dir():
            raise UsageError(
                f"no template folder at {settings.template_dir}",
                zh=f"{settings.template_dir} 处没有模板文件夹",
                hint="Point --template-dir (or [report] template_dir) at a folder of templates.",
                hint_zh="请用 --template-dir（或 [report] 的 template_dir）指向模板文件夹。",
            )
        folders.insert(0, str(settings.template_dir))
    env = Environment(
        loader=FileSystemLoader(folders),
        autoescape=False if markdown else select_autoescape(["html", "html.j2", "svg"], default=True),
        undefined=StrictUndefined if markdown else Undefined,
        finalize=_md_finalize if markdown else None,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )

    def t(key: str, **values: object) -> str:
        return texts[key].say(lang, **values)

    env.globals.update(
        t=t,
        lang=lang,
        html_lang="zh-CN" if lang == "zh" else "en",
        letterhead=settings.letterhead,
        logo=logo_uri(settings.logo),
        label=lambda family, code: label(family, code, lang),
        severity_label=lambda code: severity_label(code, lang),
        severities=[s.value for s in Severity.worst_first()],
    )
    env.filters.update(num=num, pct=pct, md=md_text)
    return env


def _md_finalize(value: Any) -> Any:
    """Every value a Markdown template prints, as text that renders as itself."""
    if value is None:
        return ""
    return md_text(value if isinstance(value, str) else str(value))
