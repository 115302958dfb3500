"""docs/contract.md, written from the contract models so the two cannot drift.

python -m coaltrace.contract.doc > docs/contract.md
"""

from __future__ import annotations

from coaltrace.contract.layout import LINEAGE_COLUMNS, NO_MONTH, PARQUET_TYPES, PARTITION, is_partitioned
from coaltrace.contract.tables import EARLIEST_DATE, OPEN_END, OPEN_END_WORDS, TABLES, YEARS_AHEAD, Column, Kind
from coaltrace.contract.values import words

_KIND_TEXT = {
    Kind.text: "text",
    Kind.code: "identifier (full-width characters and inner spaces removed)",
    Kind.date: "date",
    Kind.timestamp: "date and time, China local time",
    Kind.month: "month, stored as YYYY-MM",
    Kind.tonnes: "tonnes (万吨 and kg/千克 converted, in the header or the cell)",
    Kind.tonnes_per_year: "tonnes a year (万吨/年 converted)",
    Kind.kwh: "kWh (千瓦时, 度; 万千瓦时 converted)",
    Kind.number: "number",
    Kind.enum: "one of the values below",
    Kind.plate: "licence plate, normalised (晋E·12345 → 晋E12345)",
    Kind.uscc: "unified social credit code (18 characters, GB 32100-2015)",
}


def _number(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 1000 else f"{x:g}"


def _possible(c: Column) -> str:
    """The range a value must fall in, or it is quarantined as out_of_range."""
    numbers = c.number_range()
    if numbers is not None:
        return f"{_number(numbers[0])} … {_number(numbers[1])}"
    if c.kind in (Kind.date, Kind.timestamp, Kind.month):
        ahead = c.years_ahead if c.years_ahead is not None else YEARS_AHEAD
        end = "the end of next year" if ahead == 1 else f"the end of the year {ahead} years ahead"
        no_end = f", or no end: {OPEN_END} or {' / '.join(OPEN_END_WORDS)}" if c.open_end else ""
        return f"{c.earliest or EARLIEST_DATE} … {end}{no_end}"
    if c.kind is Kind.number:
        return "any finite number"
    return ""


def contract_markdown() -> str:
    out = [
        "# The data contract in code",
        "",
        "Generated from `coaltrace/contract/` by `python -m coaltrace.contract.doc`; a test",
        "fails when this page and the code disagree. `*` marks a required column.",
        "",
        "Headers match case-, space- and bracket-insensitively; a unit in brackets",
        "(`数量（万吨）`) converts the column. Values: dates as `2021-12-01`, `2021/12/1`,",
        "`2021年12月1日`, `20211201` or an Excel serial, with or without `08:30[:00]`;",
        "numbers with thousands separators or full-width digits. Every table in the",
        "database also has the lineage columns `_load_id`, `_file`, `_sheet` and `_line`",
        "(the row in the file: CSV and Excel count the header as line 1, Parquet counts",
        "records from 1), and a `<table>_revisions` twin holding older versions.",
        "",
        "Times are China local time (UTC+8). A time that names its offset from UTC",
        "(`2021-12-05T00:30:00Z`, `+00:00`, `+09:00`, or a Parquet timestamp with a time",
        "zone) is converted to China time. A thousands separator must sit between groups",
        "of three digits (`1,234.5`, `12,345,678`); `1,2,3` is quarantined as `bad_separator`.",
        "",
        "The *possible* column is what one record can hold: a value outside it (an",
        "infinite number, a trip of two million tonnes, a date in 1900 or 2173, a",
        "latitude of 95) is not loaded but quarantined as `out_of_range`, with its file,",
        'line and column. "Next year" is counted from the day of the load. A negative',
        "quantity within the range loads, and the rules judge it.",
        "",
    ]
    for t in TABLES.values():
        out += [f"## {t.name} ({t.zh})", "", t.doc, "", f"Key: {', '.join(t.key)}."]
        if t.aliases:
            out.append(f"`--table` also accepts: {', '.join(t.aliases)}, {t.zh}.")
        out += ["", "| column | type | possible | accepted headers |", "|---|---|---|---|"]
        for c in t.columns:
            star = "*" if c.required else ""
            out.append(f"| {c.name}{star} | {_KIND_TEXT[c.kind]} | {_possible(c)} | {', '.join(c.aliases)} |")
        enums = [c for c in t.columns if c.enum is not None]
        for c in enums:
            assert c.enum is not None
            out += ["", f"`{c.name}` values:", "", "| value | zh | en | also accepted |", "|---|---|---|---|"]
            for code, (zh, en, others) in words(c.enum).items():
                out.append(f"| {code} | {zh} | {en} | {', '.join(others)} |")
        out.append("")
    return "\n".join(out + _layout())


def _layout() -> list[str]:
    """The Parquet layout section: what `audit --engine spark` reads."""
    out = [
        "## Parquet layout (for `audit --engine spark`)",
        "",
        "The same tables as Parquet files, one folder per table, which",
        "`coaltrace export tables --format parquet --out DIR` writes from a store and any",
        "pipeline may write itself:",
        "",
        "```",
        f"DIR/<table>/{PARTITION}=YYYY-MM/*.parquet   tables with a time column, one folder a month",
        "DIR/<table>/*.parquet                 the registers",
        "```",
        "",
        f"A month folder holds the rows whose time column falls in that month (`{PARTITION}={NO_MONTH}`:",
        "rows without one). Every contract column must be in every file, under its",
        f"contract name, in a type that holds it (power's `{PARTITION}` may be its folder alone);",
        "a table whose files do not fit is",
        "refused before anything runs, naming the table, the column and the file. A",
        "table with no folder is read as empty and reported as a data gap. The lineage",
        f"columns {', '.join(f'`{n}` ({t})' for n, t in LINEAGE_COLUMNS)} are optional:",
        "a finding cites them as its evidence when they are there.",
        "",
        "| table | folders | time column |",
        "|---|---|---|",
    ]
    for t in TABLES.values():
        folders = f"`{t.name}/{PARTITION}=YYYY-MM/`" if is_partitioned(t) else f"`{t.name}/`"
        out.append(f"| {t.name} | {folders} | {t.time_column or ''} |")
    out += ["", "| contract type | Parquet type |", "|---|---|"]
    out += [f"| {sql.lower()} | {parquet} |" for sql, parquet in PARQUET_TYPES.items()]
    out.append("")
    return out


if __name__ == "__main__":
    print(contract_markdown(), end="")
