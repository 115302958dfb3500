"""The rule files of a rule pack, and what the report and the inspector's page print beside a
rule's findings (the eight checks it serves, its known false positives).

Apart from `coaltrace.rules.load` so a page that prints the notes reads two keys of a
few YAML files and imports neither the rule model nor the SQL parser.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from pathlib import Path

from coaltrace.errors import UsageError
from coaltrace.files import shipped

Notes = tuple[list[int], list[dict[str, str]]]


def rule_files(dirs: Iterable[Path]) -> list[Path]:
    files: list[Path] = []
    for d in dirs:
        if d.is_file():
            files.append(d)
            continue
        if not d.is_dir():
            raise UsageError(
                f"no rule folder at {d}",
                zh=f"{d} 处没有规则文件夹",
                hint="Point --rules at a folder of rule YAML files.",
                hint_zh="请用 --rules 指向存放规则 YAML 文件的文件夹。",
            )
        found = sorted([*d.glob("*.yaml"), *d.glob("*.yml")])
        if not found:
            raise UsageError(
                f"no rule files (*.yaml) in {d}",
                zh=f"{d} 中没有规则文件（*.yaml）",
                hint="Point --rules at a folder of rule YAML files, or leave it out to use the shipped rule pack.",
                hint_zh="请用 --rules 指向存放规则 YAML 文件的文件夹，或不加 --rules 以使用自带规则包。",
            )
        files.extend(found)
    return files


def rule_notes(dirs: Iterable[Path] | None = None, *, only: Collection[str] | None = None) -> dict[str, Notes]:
    """Per rule: the eight checks it serves and its known false positives, as the report and the
    yard page print them beside its findings.

    Read straight from the YAML files, not validated: two keys, not the whole pack (which parses
    every query, and takes seconds an inspector waits for). A file that does not read loses its
    notes; `rules validate` says what is wrong with it. ONLY: the rules whose notes are wanted;
    their files (named by rule id, as the shipped pack's are) are read first, and the others
    only if one of them is not found that way."""
    files = rule_files(list(dirs) if dirs else [shipped("rules")])
    if only is not None:
        first = [p for p in files if p.stem in only]
        notes = _read(first)
        if set(only) <= notes.keys():
            return {k: v for k, v in notes.items() if k in only}
    return _read(files)


def _read(files: list[Path]) -> dict[str, Notes]:
    if not files:
        return {}
    import yaml  # only for a page with findings

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    notes: dict[str, Notes] = {}
    for path in files:
        try:
            data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if not isinstance(data, dict):
            continue
        checks = (data.get("checks") or {}).get("check") or []
        false_positives = [
            {"zh": str(fp.get("zh", "")), "en": str(fp.get("en", ""))}
            for fp in data.get("false_positives") or []
            if isinstance(fp, dict)
        ]
        notes.setdefault(
            str(data.get("id", path.stem)), ([int(c) for c in checks if isinstance(c, int)], false_positives)
        )
    return notes
