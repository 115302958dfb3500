"""Merge one call's staged rows into the store: once per record, newer versions win.

Staged rows (a temporary table filled file by file, see `stage_rows`) carry `_fid` (which file
of the call) and `_seq` (their order in the call). For each contract table, in
one transaction:
- a row equal (all columns) to an earlier row of the call, or to the stored row
  with its key, is *present* and changes nothing;
- of several versions of one key in the call, the last is the candidate; the
  earlier ones are *superseded* and go straight to `<table>_revisions`, unless
  the store already holds that exact row (stored or as a revision): then they
  are *present*;
- a candidate whose key is stored with other values *revises* it: the stored
  row moves to `<table>_revisions` and the candidate takes its place, unless
  it comes from a file the store has loaded before (a *stale* file): that file
  is old news, so its rows are *present* and never undo a later revision, and
  the loader orders them before the call's new files;
- a column the candidate's file does not have (an export without arrival
  times) says nothing about the record: it neither makes a revision nor
  erases the stored value, which the new version keeps;
- any other candidate is *new*.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING

from coaltrace.contract import Table
from coaltrace.store.schema import LINEAGE

if TYPE_CHECKING:
    import pyarrow as pa

    from coaltrace.engine import Engine

STAGE_EXTRA = ("_fid", "_seq")
# Lineage that is one value per file: kept once per file in `_stage_files`, not on every staged row
# (three strings on each of a province's 11.8 M GPS points would be most of what the stage holds).
PER_FILE = ("_load_id", "_file", "_sheet")


def stage_name(table: Table) -> str:
    return f"stage_{table.name}"


def begin_stage(engine: Engine) -> None:
    """An empty list of the call's files (`stage_file`)."""
    engine.execute(
        "CREATE OR REPLACE TEMP TABLE _stage_files (_fid INTEGER, _load_id VARCHAR, _file VARCHAR, _sheet VARCHAR)"
    )


def stage_file(engine: Engine, fid: int, load_id: str, file: str, sheet: str | None) -> None:
    """What every row of file FID carries as lineage besides its line."""
    engine.execute("INSERT INTO _stage_files VALUES (?, ?, ?, ?)", [fid, load_id, file, sheet])


def end_stage(engine: Engine) -> None:
    engine.execute("DROP TABLE IF EXISTS _stage_files")


def stage_rows(engine: Engine, table: Table, rows: pa.Table) -> None:
    """Add one file's rows for TABLE (its columns, `_line` and STAGE_EXTRA) to `stage_name(table)`.

    A temporary table in DuckDB, filled file by file: the rows leave Python as each file is read,
    and beyond the memory limit DuckDB spills them to its temp folder, so a load's memory does
    not grow with the number of files. Columns go in by name, cast to the contract's types.
    """
    stage = stage_name(table)
    if stage not in engine.tables():
        engine.execute(
            f"CREATE TEMP TABLE {stage} AS SELECT * EXCLUDE ({', '.join(PER_FILE)}), "
            f"NULL::INTEGER AS _fid, NULL::BIGINT AS _seq FROM {table.name} LIMIT 0"
        )
    engine.append(stage, rows)


def _q(name: str) -> str:
    return f'"{name}"'


def _same(a: str, b: str, cols: tuple[str, ...]) -> str:
    return " AND ".join(f"{a}.{_q(c)} IS NOT DISTINCT FROM {b}.{_q(c)}" for c in cols) or "TRUE"


def _same_key(a: str, b: str, table: Table) -> str:
    # Key columns are required, never NULL: plain equality lets DuckDB hash-join.
    return " AND ".join(f"{a}.{_q(c)} = {b}.{_q(c)}" for c in table.key)


def merge_stage(
    engine: Engine,
    table: Table,
    load_id: str,
    stale: Collection[int] = (),
    absent: Mapping[int, Collection[str]] | None = None,
) -> dict[int, dict[str, int]]:
    """Merge the stage into TABLE; per file id, how many rows were new/revised/present/superseded.

    STALE: ids of the files the store had loaded before this call.
    ABSENT: per file id, the contract columns that file does not have.
    """
    stage, t = stage_name(table), table.name
    # The staged rows with their file's lineage.
    staged = f"(SELECT * FROM {stage} JOIN _stage_files USING (_fid)) AS _staged"
    key = ", ".join(_q(k) for k in table.key)
    content = ", ".join(_q(c) for c in table.names)
    cols = ", ".join([*(_q(c) for c in table.names), *(n for n, _ in LINEAGE)])
    values = table.value_columns

    counts: dict[int, dict[str, int]] = {}

    def count(sql: str) -> None:
        for fid, what, n in engine.rows(sql):
            counts.setdefault(fid, {}).setdefault(what, 0)
            counts[fid][what] += n

    # Per value column some file of the call lacks: the test for "this row's file lacks it",
    # and a flag column, true where the value is still unknown after the fill below.
    lacking = {c: sorted(f for f, cols in (absent or {}).items() if c in cols) for c in values}
    lacks = {c: f"_fid IN ({', '.join(map(str, fids))})" for c, fids in lacking.items() if fids}
    flag = {c: f"_lacks_{i}" for i, c in enumerate(lacks)}

    # Keys the call holds more than once (a trip in the origin's and the destination's export, a
    # file sent twice): only their rows need the window passes below; the others are one version each.
    engine.execute(
        f"CREATE OR REPLACE TEMP TABLE _dupkeys AS SELECT {key} FROM {stage} GROUP BY ALL HAVING count(*) > 1"
    )
    duplicated = bool(engine.scalar("SELECT count(*) FROM _dupkeys"))
    single_flags = "".join(f"{cond} AS {flag[c]}, " for c, cond in lacks.items())
    if not duplicated:
        # The usual call: every key once. Skip the window functions.
        engine.execute(f"CREATE OR REPLACE TEMP VIEW _versions AS SELECT *, {single_flags}1 AS _ver FROM {staged}")
    else:
        # A file without column c (an origin weighbridge's export, without arrival) takes c
        # from the call's latest version of the record whose file has it, so the two
        # exports of one trip are one version, not a change.
        multi = f"(SELECT * FROM {staged} SEMI JOIN _dupkeys USING ({key}))"
        source = multi
        if lacks:
            window = f"(PARTITION BY {key} ORDER BY _seq ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)"
            given = {
                c: f"last_value(CASE WHEN NOT ({cond}) THEN {{'v': {_q(c)}}} END IGNORE NULLS) OVER {window}"
                for c, cond in lacks.items()
            }
            replaced = ", ".join(
                f"CASE WHEN {cond} THEN ({given[c]}).v ELSE {_q(c)} END AS {_q(c)}" for c, cond in lacks.items()
            )
            flags = ", ".join(f"{cond} AND {given[c]} IS NULL AS {flag[c]}" for c, cond in lacks.items())
            source = f"(SELECT * REPLACE ({replaced}), {flags} FROM {multi})"
        # Distinct versions of the call (first occurrence of each), numbered newest first per key.
        # Rows are compared by key and a 64-bit hash of every column: two versions of one
        # record would have to collide for a change to pass as a duplicate.
        engine.execute(f"""
            CREATE OR REPLACE TEMP TABLE _marked AS
            SELECT *, row_number() OVER (PARTITION BY {key}, hash({content}) ORDER BY _seq) AS _dup FROM {source}
        """)
        count("SELECT _fid, 'present', count(*) FROM _marked WHERE _dup > 1 GROUP BY _fid")
        engine.execute(f"""
            CREATE OR REPLACE TEMP TABLE _versions AS
            SELECT * EXCLUDE (_dup), row_number() OVER (PARTITION BY {key} ORDER BY _seq DESC) AS _ver
            FROM _marked WHERE _dup = 1
            UNION ALL BY NAME
            SELECT *, {single_flags}1 AS _ver FROM {staged} ANTI JOIN _dupkeys USING ({key})
        """)
        engine.execute("DROP TABLE _marked")
        # Before anything moves: an earlier version the store already holds is no news.
        engine.execute(f"""
            CREATE OR REPLACE TEMP TABLE _superseded AS
            SELECT v.*, EXISTS (SELECT 1 FROM {t} s WHERE {_same("v", "s", table.names)})
                     OR EXISTS (SELECT 1 FROM {t}_revisions r WHERE {_same("v", "r", table.names)}) AS _known
            FROM _versions v WHERE v._ver > 1
        """)
        count(
            "SELECT _fid, CASE WHEN _known THEN 'present' ELSE 'superseded' END, count(*) FROM _superseded GROUP BY ALL"
        )
    engine.execute("DROP TABLE _dupkeys")
    stored = engine.scalar(f"SELECT count(*) FROM {t}")
    if not stored:
        engine.execute(
            "CREATE OR REPLACE TEMP VIEW _verdict AS SELECT *, 'new' AS _verdict FROM _versions WHERE _ver = 1"
        )
    else:
        same = (
            " AND ".join(
                f"(v.{_q(c)} IS NOT DISTINCT FROM s.{_q(c)}" + (f" OR v.{flag[c]})" if c in flag else ")")
                for c in values
            )
            or "TRUE"
        )
        keep = ", ".join(f"CASE WHEN v.{flag[c]} THEN s.{_q(c)} ELSE v.{_q(c)} END AS {_q(c)}" for c in flag)
        engine.execute(f"""
            CREATE OR REPLACE TEMP TABLE _verdict AS
            SELECT v.* {f"REPLACE ({keep})" if keep else ""}, CASE
                WHEN s.{_q(table.key[0])} IS NULL THEN 'new'
                WHEN {same} THEN 'present'
                WHEN v._fid IN ({", ".join(map(str, sorted(stale))) or "NULL"}) THEN 'present'
                ELSE 'revised' END AS _verdict
            FROM _versions v LEFT JOIN {t} s ON {_same_key("v", "s", table)}
            WHERE v._ver = 1
        """)
    count("SELECT _fid, _verdict, count(*) FROM _verdict GROUP BY _fid, _verdict")

    engine.execute(
        f"""
        INSERT INTO {t}_revisions
        SELECT s.*, current_localtimestamp(), ? FROM {t} s
        JOIN _verdict v ON {_same_key("v", "s", table)} WHERE v._verdict = 'revised'
    """,
        [load_id],
    )
    engine.execute(f"""
        DELETE FROM {t} s USING _verdict v
        WHERE {_same_key("v", "s", table)} AND v._verdict = 'revised'
    """)
    if duplicated:
        engine.execute(
            f"INSERT INTO {t}_revisions SELECT {cols}, current_localtimestamp(), ? FROM _superseded WHERE NOT _known",
            [load_id],
        )
        engine.execute("DROP TABLE _superseded")
    engine.execute(f"INSERT INTO {t} SELECT {cols} FROM _verdict WHERE _verdict IN ('new', 'revised')")
    for name in ("_verdict", "_versions"):
        kind = engine.scalar(
            "SELECT CASE WHEN count(*) > 0 THEN 'VIEW' ELSE 'TABLE' END FROM duckdb_views() WHERE view_name = ?", [name]
        )
        engine.execute(f"DROP {kind} {name}")
    engine.execute(f"DROP TABLE {stage}")
    return counts
