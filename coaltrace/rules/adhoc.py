"""Ad-hoc questions (`coaltrace query`): one read-only SELECT over the documented views, in the rules' sandbox.

A question an analyst types is held to the same walls as a rule file
(`coaltrace.rules.sandbox`): DuckDB's parser checks what it names (the views of
`coaltrace.rules.views.READABLE`, CTEs, functions on the allowlist), its binder
what it reads, and it runs on a locked connection, in a transaction that is
rolled back, under a time limit. The period views (`period_sales`,
`period_flows`, ...) are defined for the period given; the provenance views hold
rows once that period was audited (or its provenance built).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from coaltrace.config import DEFAULT_RULE_TIMEOUT_S
from coaltrace.errors import RuleError, UsageError
from coaltrace.period import Period
from coaltrace.rules.sandbox import RuleTimeoutError, check_rule_sql
from coaltrace.rules.sql import RuleSQLError, parse_select
from coaltrace.rules.views import BASE_TABLES, READABLE, create_views
from coaltrace.rules.zones import build_zone_tables
from coaltrace.store import Store

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa

_ZONE_VIEWS = {"gps_zone_hits", "zone_circles"}


def run_query(store: Store, sql: str, period: Period | None, *, timeout_s: float = DEFAULT_RULE_TIMEOUT_S) -> pa.Table:
    """The rows of SQL, read in the sandbox; the period views defined for PERIOD (None: only the base tables)."""
    if not sql.strip():
        raise UsageError(
            "the query is empty", zh="查询语句为空", hint='e.g. coaltrace query "SELECT * FROM facilities"'
        )
    try:
        refused, views_read = check_rule_sql(sql, READABLE)
        if refused:
            raise refused[0]
        parse_select(sql)
    except RuleSQLError as e:
        line = f" (line {e.line})" if e.line else ""
        raise RuleError(
            f"the query{line} was refused: {e}",
            zh=f"查询{f'（第 {e.line} 行）' if e.line else ''}被拒绝：{e}",
            hint="A query is one SELECT over the views listed in docs/rules.md; it may not write or read files.",
            hint_zh="查询只能是一条 SELECT，只能读取 docs/rules.md 列出的视图，不能写入或读取文件。",
        ) from None
    needs_period = sorted(v for v in views_read if v not in BASE_TABLES)
    if needs_period and period is None:
        raise UsageError(
            f"the query reads {', '.join(needs_period)}, which are defined for a period: give --period",
            zh=f"查询读取了 {', '.join(needs_period)}，这些视图按期间定义：请指定 --period",
        )
    if period is not None:
        create_views(store.engine, period)
        if views_read & _ZONE_VIEWS:
            build_zone_tables(store.engine)
    missing = sorted(v for v in views_read if not store.engine.has_table(v))
    if missing:
        raise UsageError(
            f"{', '.join(missing)}: not built for {period.label if period else 'this database'} "
            "(the provenance views exist once a period was audited)",
            zh=f"{', '.join(missing)}：{period.label if period else '该数据库'} 尚未计算（来源追溯视图在审计后才有）",
            hint=f"Run `coaltrace audit --period {period.label if period else 'PERIOD'}` first.",
            hint_zh=f"请先运行 `coaltrace audit --period {period.label if period else '期间'}`。",
        )
    try:
        return store.engine.run_rule(store.engine.render(sql), views_read, timeout_s)
    except RuleTimeoutError:
        raise RuleError(
            f"the query ran past its time limit of {timeout_s:g} s and was stopped",
            zh=f"查询运行超过时限 {timeout_s:g} 秒，已中止",
            hint="Give it more time with --timeout, or narrow it.",
            hint_zh="可用 --timeout 放宽时限，或缩小查询范围。",
        ) from None
    except RuleSQLError as e:
        raise RuleError(f"the query failed: {e}", zh=f"查询失败：{e}") from None


def query_frame(
    store: Store, sql: str, period: Period | None, *, timeout_s: float = DEFAULT_RULE_TIMEOUT_S
) -> pl.DataFrame:
    """`run_query` as a Polars frame."""
    import polars as pl

    frame = pl.from_arrow(run_query(store, sql, period, timeout_s=timeout_s))
    assert isinstance(frame, pl.DataFrame)
    return frame
