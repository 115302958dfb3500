"""Match a file's header row to a contract table, and guess the table when not told.

A header cell matches a column when, folded (NFKC, lower case, no spaces), it
equals the column's name or one of its aliases, either whole (`县(市、区)`) or
with a unit in brackets taken off (`数量（万吨）` → `数量` + unit `万吨`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from coaltrace.contract import TABLES, Table
from coaltrace.contract.text import fold, split_header
from coaltrace.errors import InputFileError, Location


@dataclass
class HeaderMatch:
    table: Table
    sources: dict[str, str] = field(default_factory=dict)  # contract column -> header cell
    units: dict[str, str | None] = field(default_factory=dict)  # contract column -> unit in brackets
    ignored: list[str] = field(default_factory=list)  # header cells the contract does not name

    @property
    def missing(self) -> list[str]:
        return [c.name for c in self.table.required if c.name not in self.sources]


def match_headers(headers: list[str], table: Table) -> HeaderMatch:
    """Each column takes the header that matches its earliest alias (the most specific)."""
    rank: dict[str, tuple[str, int]] = {}  # folded spelling -> (column, preference)
    for col in table.columns:
        for i, spelling in enumerate(col.accepted_headers()):
            rank.setdefault(spelling, (col.name, i))
    best: dict[str, tuple[int, str, str | None]] = {}
    result = HeaderMatch(table)
    for cell in headers:
        whole = fold(str(cell))
        name, unit = split_header(str(cell))
        hit = (rank.get(whole), None) if whole in rank else (rank.get(name), unit)
        target, unit = hit
        if target is None:
            result.ignored.append(cell)
            continue
        column, pref = target
        if column not in best or pref < best[column][0]:
            best[column] = (pref, cell, unit)
    for column, (_, cell, unit) in best.items():
        result.sources[column] = cell
        result.units[column] = unit
    matched = set(result.sources.values())
    result.ignored = [h for h in headers if h not in matched]
    return result


def _describe_missing(match: HeaderMatch) -> list[str]:
    # Both languages at once: the column names and aliases are what the user must type either way.
    return [
        f"{name} ({match.table.column(name).zh}): accepted headers / 可用表头 "
        + ", ".join(dict.fromkeys((name, *match.table.column(name).aliases)))
        for name in match.missing
    ]


def resolve_table(headers: list[str], where: Location, table: Table | None = None) -> HeaderMatch:
    """The match for TABLE, or for the table the headers fit best; refuse the file otherwise."""
    if table is not None:
        match = match_headers(headers, table)
        if match.missing:
            raise InputFileError(
                f"the file lacks required column(s) of table {table.name}: {', '.join(match.missing)}",
                zh=f"文件缺少 {table.name}（{table.zh}）表的必填列：{'、'.join(match.missing)}",
                location=where,
                details=_describe_missing(match),
                hint=f"Its header row is: {', '.join(map(str, headers))}",
                hint_zh=f"文件的表头是：{'，'.join(map(str, headers))}",
            )
        return match
    matches = [match_headers(headers, t) for t in TABLES.values()]
    complete = [m for m in matches if not m.missing]
    if complete:
        # The table whose columns the header covers most; then the more specific one.
        return max(complete, key=lambda m: (len(m.sources), len(m.table.required), -list(TABLES).index(m.table.name)))
    closest = max(matches, key=lambda m: (len(m.sources) - len(m.missing), len(m.sources)))
    raise InputFileError(
        "cannot tell which table this file holds: its header row fits none of the contract's tables",
        zh="无法判断文件属于哪张表：表头与数据规范中的任何一张表都不符",
        location=where,
        details=[f"closest is {closest.table.name} ({closest.table.zh}), which lacks / 最接近的表缺少: "
                 + "; ".join(_describe_missing(closest))],
        hint=f"Its header row is: {', '.join(map(str, headers))}. Name the table with --table "
        f"({', '.join(TABLES)}) or fix the header.",
        hint_zh=f"文件的表头是：{'，'.join(map(str, headers))}。请用 --table 指定表名"
        f"（{', '.join(TABLES)}），或修改表头。",
    )
