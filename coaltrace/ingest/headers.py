"""Match a file's header row to a contract table, and guess the table when not told.

The header is the first of a file's top rows that fits (`locate_header`):
exports often carry a title, a date line or a blank row above it.

A header cell matches a column when, folded (NFKC, lower case, no spaces), it
equals the column's name or one of its aliases, either whole (`县(市、区)`) or
with a unit in brackets taken off (`数量（万吨）` → `数量` + unit `万吨`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from coaltrace.contract import TABLES, Table
from coaltrace.contract.text import fold, split_header
from coaltrace.errors import InputFileError, Location
from coaltrace.ingest.normalise import known_unit


@dataclass
class HeaderMatch:
    table: Table
    sources: dict[str, str] = field(default_factory=dict)  # contract column -> header cell
    positions: dict[str, int] = field(default_factory=dict)  # contract column -> index of its header cell
    units: dict[str, str | None] = field(default_factory=dict)  # contract column -> unit in brackets
    ignored: list[str] = field(default_factory=list)  # header cells the contract does not name
    # Contract column -> indices of the header cells that fit it equally well.
    ambiguous: dict[str, list[int]] = field(default_factory=dict)

    @property
    def missing(self) -> list[str]:
        return [c.name for c in self.table.required if c.name not in self.sources]


def match_headers(headers: list[str], table: Table) -> HeaderMatch:
    """Each column takes the header that matches its earliest alias (the most specific)."""
    rank: dict[str, tuple[str, int]] = {}  # folded spelling -> (column, preference)
    for col in table.columns:
        for i, spelling in enumerate(col.accepted_headers()):
            rank.setdefault(spelling, (col.name, i))
    best: dict[str, tuple[int, list[int], str | None]] = {}  # column -> (preference, cell indices, unit)
    result = HeaderMatch(table)
    for index, cell in enumerate(headers):
        whole = fold(str(cell))
        name, unit = split_header(str(cell))
        target, unit = (rank.get(whole), None) if whole in rank else (rank.get(name), unit)
        if target is None:
            continue
        column, pref = target
        if not known_unit(table.column(column).kind, unit):
            # `数量（车）` beside `净重（吨）` counts trucks, not tonnes: it is chosen
            # only when nothing else fits, and then refused for its unit.
            pref += len(rank)
        if column not in best or pref < best[column][0]:
            best[column] = (pref, [index], unit)
        elif pref == best[column][0]:
            best[column][1].append(index)
    for column, (_, indices, unit) in best.items():
        result.sources[column] = headers[indices[0]]
        result.positions[column] = indices[0]
        result.units[column] = unit
        if len(indices) > 1:
            result.ambiguous[column] = indices
    matched = set(result.positions.values())
    result.ignored = [h for i, h in enumerate(headers) if i not in matched]
    return result


def _first_cells(headers: list[str], n: int = 40) -> list[str]:
    """The header cells to show in a message: a row of twenty thousand cells is cut, and says so."""
    cells = [str(h) for h in headers[:n]]
    return cells + [f"… (+{len(headers) - n})"] if len(headers) > n else cells


def _describe_missing(match: HeaderMatch) -> list[str]:
    # Both languages at once: the column names and aliases are what the user must type either way.
    return [
        f"{name} ({match.table.column(name).zh}): accepted headers / 可用表头 "
        + ", ".join(dict.fromkeys((name, *match.table.column(name).aliases)))
        for name in match.missing
    ]


def _refuse_ambiguous(match: HeaderMatch, headers: list[str], where: Location) -> None:
    if not match.ambiguous:
        return
    # Columns are counted from 1, as a spreadsheet user counts them.
    clashes = [
        (name, " / ".join(f"{headers[i]} (#{i + 1})" for i in indices)) for name, indices in match.ambiguous.items()
    ]
    raise InputFileError(
        "more than one column could be " + "; ".join(f"{name}: {cells}" for name, cells in clashes),
        zh="有多列都可以是同一个字段："
        + "；".join(f"{name}（{match.table.column(name).zh}）：{cells}" for name, cells in clashes),
        location=where,
        hint="coaltrace will not guess which one is meant: rename or delete the others, then load again.",
        hint_zh="coaltrace 不会猜测用哪一列：请把多余的列改名或删除后重新载入。",
    )


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
                hint=f"Its header row is: {', '.join(_first_cells(headers))}",
                hint_zh=f"文件的表头是：{'，'.join(_first_cells(headers))}",
            )
        _refuse_ambiguous(match, headers, where)
        return match
    matches = [match_headers(headers, t) for t in TABLES.values()]
    complete = [m for m in matches if not m.missing]
    if complete:
        # The table whose columns the header covers most; then the more specific one.
        match = max(complete, key=lambda m: (len(m.sources), len(m.table.required), -list(TABLES).index(m.table.name)))
        _refuse_ambiguous(match, headers, where)
        return match
    closest = max(matches, key=lambda m: (len(m.sources) - len(m.missing), len(m.sources)))
    shown = _first_cells(headers)
    named = [i for i, h in enumerate(headers) if str(h).strip()]
    # An empty cell between named ones is most often a merged header cell over two columns.
    gap = bool(named) and any(not str(headers[i]).strip() for i in range(named[0], named[-1]))
    details = [
        f"closest is {closest.table.name} ({closest.table.zh}), which lacks / 最接近的表缺少: "
        + "; ".join(_describe_missing(closest))
    ]
    if gap:
        details.append(
            "a header cell between named ones is empty (merged cells?): every column needs its own header / "
            "表头中间有空单元格（合并单元格？）：每一列都需要自己的表头"
        )
    raise InputFileError(
        "cannot tell which table this file holds: its header row fits none of the contract's tables",
        zh="无法判断文件属于哪张表：表头与数据规范中的任何一张表都不符",
        location=where,
        details=details,
        hint=f"Its header row is: {', '.join(shown)}. Name the table with --table "
        f"({', '.join(TABLES)}) or fix the header.",
        hint_zh=f"文件的表头是：{'，'.join(shown)}。请用 --table 指定表名（{', '.join(TABLES)}），或修改表头。",
    )


def looks_like_data(rows: Sequence[list[str]], table: Table | None = None) -> bool:
    """Whether one of ROWS names at least half (and two) of the required columns of TABLE, or of any table.

    A workbook's sheet of notes names none or one; a data sheet that lacks a
    column, or spells one wrong, still names most of them, and is refused rather
    than passed over.
    """
    tables = [table] if table is not None else list(TABLES.values())
    for cells in rows:
        for t in tables:
            named = len(t.required) - len(match_headers(cells, t).missing)
            if named >= max(2, (len(t.required) + 1) // 2):
                return True
    return False


def _fits(cells: list[str], table: Table | None) -> bool:
    tables = [table] if table is not None else list(TABLES.values())
    return any(not match_headers(cells, t).missing for t in tables)


def locate_header(
    rows: Sequence[tuple[int | None, list[str]]], where: Location, table: Table | None = None
) -> tuple[int, HeaderMatch]:
    """Which of ROWS (line, cells), the file's first non-blank rows, is its header, and its match.

    The first row that fits TABLE (or any table when not told) is the header;
    if none fits, the file is refused with the first row's reasons.
    """
    index = next((i for i, (_, cells) in enumerate(rows) if _fits(cells, table)), None)
    line, cells = rows[index if index is not None else 0]
    try:
        match = resolve_table(cells, replace(where, line=line), table)
    except InputFileError as e:
        if index is None and len(rows) > 1:
            span = f"{rows[1][0]}-{rows[-1][0]}" if len(rows) > 2 else f"{rows[1][0]}"
            lines = f"any of lines {span}" if len(rows) > 2 else f"line {span}"
            e.details.append(f"nor does {lines} below it / 其下第 {span} 行也都不是表头")
        raise
    return index or 0, match
