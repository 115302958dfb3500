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


def ensure_current(store: Store, period: Period, config: ProvenanceConfig | Mapping[str, Any] | None = None) -> bool:
    """Write the period's balances, running_breaches, origin_shares and flows (and the
    flow_origins view) unless they are current for the same data; True when rebuilt.

    CONFIG may also be the `provenance:` mapping of an audit configuration file.
    """
    config = ProvenanceConfig.model_validate(config or {})
    create_tables(store)
    mark = fingerprint(store, period, config)
    done = store.con.execute("SELECT fingerprint FROM provenance_runs WHERE period = ?", [period.label]).fetchone()
    if done is not None and done[0] == mark:
        return False
    started = time.perf_counter()
    result = compute(store, period, config)
    frames = result.frames()
    import polars as pl

    frames["provenance_runs"] = pl.DataFrame(
        {"fingerprint": [mark], "built_at": [datetime.now()], "seconds": [time.perf_counter() - started]}
    )
    replace_period(store, period.label, frames)
    return True
