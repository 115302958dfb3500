"""Build a period's balances and provenance, or reuse them when nothing changed."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from coaltrace.graph import load_graph_data
from coaltrace.graph.staging import staged
from coaltrace.period import Period
from coaltrace.provenance.attribution import licensed_shares, origin_rows, taint
from coaltrace.provenance.balance import balance
from coaltrace.provenance.config import ProvenanceConfig
from coaltrace.provenance.running import running_breaches
from coaltrace.provenance.solve import solve
from coaltrace.provenance.tables import create_tables, replace_period
from coaltrace.store import Store

if TYPE_CHECKING:
    import polars as pl

# Bump when the meaning of a stored column changes, so old results are rebuilt.
MODEL_VERSION = "1"
_INPUTS = ("facilities", "licences", "sales", "transports", "stocks")


@dataclass(frozen=True)
class Provenance:
    """Everything one period's build writes, one frame per table."""

    balances: pl.DataFrame
    running_breaches: pl.DataFrame
    origin_shares: pl.DataFrame
    flows: pl.DataFrame

    def frames(self) -> dict[str, pl.DataFrame]:
        return {
            "balances": self.balances,
            "running_breaches": self.running_breaches,
            "origin_shares": self.origin_shares,
            "flows": self.flows,
        }


def compute(store: Store, period: Period, config: ProvenanceConfig | None = None) -> Provenance:
    """The period's graph, balances, running breaches and origin shares, not yet stored."""
    import polars as pl

    config = config or ProvenanceConfig()
    data = load_graph_data(store, period, config)
    balanced = balance(data, config)
    with staged(store, period, config):
        breaches = running_breaches(store, balanced.balances, config)
    attribution = solve(
        balanced.network,
        max_origin_nodes=config.max_origin_nodes,
        min_share=config.min_share,
        direct_max_nodes=config.direct_max_nodes,
    )
    rows = origin_rows(balanced.ids, balanced.network, attribution)
    shares = pl.concat([rows, taint(rows)])
    balances = balanced.balances.join(licensed_shares(rows), on="facility_id", how="left")
    return Provenance(balances=balances, running_breaches=breaches, origin_shares=shares, flows=data.flows)


def fingerprint(store: Store, period: Period, config: ProvenanceConfig) -> str:
    """Changes whenever an input table's content, the period or the config changes."""
    digest = hashlib.sha256(f"{MODEL_VERSION}|{period.label}|{config.fingerprint()}".encode())
    for table in _INPUTS:
        row = store.con.execute(f"SELECT count(*), sum(hash(t)::HUGEINT) FROM {table} t").fetchone()
        digest.update(f"|{table}:{row}".encode())
    return digest.hexdigest()[:32]


def _stored_mark(store: Store, period: Period) -> str | None:
    """The fingerprint the period's stored provenance was built from; reads only (a read-only store asks too)."""
    built = store.con.execute(
        "SELECT 1 FROM duckdb_tables() WHERE table_name = 'provenance_runs' AND NOT temporary"
    ).fetchall()
    if not built:
        return None
    rows = store.con.execute("SELECT fingerprint FROM provenance_runs WHERE period = ?", [period.label]).fetchall()
    return str(rows[0][0]) if rows else None


def is_current(store: Store, period: Period, config: ProvenanceConfig | Mapping[str, Any] | None = None) -> bool:
    """Whether the period's stored provenance is current, so a reader needs to write nothing."""
    return _stored_mark(store, period) == fingerprint(store, period, ProvenanceConfig.model_validate(config or {}))


def ensure_current(store: Store, period: Period, config: ProvenanceConfig | Mapping[str, Any] | None = None) -> bool:
    """Write the period's balances, running_breaches, origin_shares and flows (and the
    flow_origins view) unless they are current for the same data; True when rebuilt.

    CONFIG may also be the `provenance:` mapping of an audit configuration file.
    """
    config = ProvenanceConfig.model_validate(config or {})
    mark = fingerprint(store, period, config)
    if _stored_mark(store, period) == mark:
        return False
    create_tables(store)
    started = time.perf_counter()
    result = compute(store, period, config)
    frames = result.frames()
    import polars as pl

    frames["provenance_runs"] = pl.DataFrame(
        {"fingerprint": [mark], "built_at": [datetime.now()], "seconds": [time.perf_counter() - started]}
    )
    replace_period(store, period.label, frames)
    return True
