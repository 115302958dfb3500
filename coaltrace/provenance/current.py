"""Build a period's balances and provenance, or reuse them when nothing changed."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from coaltrace.config import ProvenanceConfig
from coaltrace.engine import Workspace
from coaltrace.graph import GraphData
from coaltrace.graph.nodes import node_frame
from coaltrace.graph.staging import staged
from coaltrace.period import Period
from coaltrace.provenance.running import running_breaches
from coaltrace.provenance.storage import create_tables, has_tables, replace_period
from coaltrace.store import Store
from coaltrace.store.schema import data_version

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


def compute(store: Workspace, period: Period, config: ProvenanceConfig | None = None) -> Provenance:
    """The period's graph, balances, running breaches and origin shares, not yet stored."""
    # The solver's modules (and scipy) are imported only for a build: a page that finds the
    # stored build current never needs them.
    import polars as pl

    from coaltrace.provenance.attribution import licensed_shares, origin_rows, taint
    from coaltrace.provenance.balance import balance
    from coaltrace.provenance.solve import solve

    config = config or ProvenanceConfig()
    # The period's shipments are staged once: the graph, the balance and the running stock read them.
    with staged(store, period, config) as window:
        data = GraphData(nodes=node_frame(store, window, config), flows=store.engine.frame("SELECT * FROM _ct_flows"))
        balanced = balance(data, config)
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


def data_fingerprint(store: Store, period: Period) -> str:
    """Changes whenever the input tables, the period or the model version change.

    Cheap enough for every page an inspector opens: the stamp every load that keeps a row
    writes (`coaltrace.store.schema.mark_data_changed`) and each input table's row count
    (which also catches rows written without a load, as rule cases and tests do), never
    a hash of every row.
    """
    digest = hashlib.sha256(f"{MODEL_VERSION}|{period.label}|{data_version(store.engine)}".encode())
    for table in _INPUTS:
        digest.update(f"|{table}:{store.engine.scalar(f'SELECT count(*) FROM {table}')}".encode())
    return digest.hexdigest()[:32]


@dataclass(frozen=True)
class Build:
    """The stored build of a period: which data and which config made it."""

    data_fingerprint: str
    config: ProvenanceConfig
    config_source: str | None
    built_at: datetime


def stored_build(store: Store, period: Period) -> Build | None:
    if not has_tables(store):
        return None
    rows = store.engine.rows(
        "SELECT data_fingerprint, config, config_source, built_at FROM provenance_runs WHERE period = ?",
        [period.label],
    )
    row = rows[0] if rows else None
    if row is None or row[0] is None:
        return None
    return Build(row[0], ProvenanceConfig.model_validate_json(row[1] or "{}"), row[2], row[3])


def wanted_config(
    store: Store,
    period: Period,
    config: ProvenanceConfig | Mapping[str, Any] | None,
    *,
    keep_build: bool = False,
) -> tuple[ProvenanceConfig, Build | None]:
    """The config a build of PERIOD must have, and the stored build if it is current.

    An explicit CONFIG (an audit's `[provenance]` section, even an empty one) decides
    what a build uses. None means "whatever made the stored build", so a rebuild after
    new data keeps the audit's config. KEEP_BUILD (the reading commands) keeps a build
    that is current for the data whatever its config: a yard page or a trace shows what
    the audit computed and its findings rest on, never a silent rebuild beside them.
    """
    build = stored_build(store, period)
    if config is None:
        chosen = build.config if build is not None else ProvenanceConfig()
    else:
        chosen = ProvenanceConfig.model_validate(config)
    fresh = build is not None and build.data_fingerprint == data_fingerprint(store, period)
    if fresh and build is not None and (keep_build or build.config == chosen):
        return build.config, build
    return chosen, None


def is_current(
    store: Store,
    period: Period,
    config: ProvenanceConfig | Mapping[str, Any] | None = None,
    *,
    keep_build: bool = False,
) -> bool:
    """True when the stored provenance of PERIOD needs no rebuild (reads only: safe on a read-only store)."""
    return wanted_config(store, period, config, keep_build=keep_build)[1] is not None


def ensure_current(
    store: Store,
    period: Period,
    config: ProvenanceConfig | Mapping[str, Any] | None = None,
    *,
    source: str | None = None,
    keep_build: bool = False,
) -> bool:
    """Write the period's balances, running_breaches, origin_shares and flows (and the
    flow_origins view) unless they are current for the same data and config; True when rebuilt.

    CONFIG may also be the `provenance:` mapping of an audit configuration file, and
    SOURCE the file it came from (kept with the build); None reuses the stored build's.
    KEEP_BUILD: see `wanted_config`.
    """
    chosen, current = wanted_config(store, period, config, keep_build=keep_build)
    if current is not None:
        return False
    started = time.perf_counter()
    result = compute(store, period, chosen)
    frames = result.frames()
    source = source if config is not None else None
    frames["provenance_runs"] = build_record(store, period, chosen, source, time.perf_counter() - started)
    create_tables(store)
    replace_period(store, period.label, frames)
    return True


def build_record(
    store: Store, period: Period, config: ProvenanceConfig, source: str | None, seconds: float
) -> pl.DataFrame:
    """The provenance_runs row of a build of PERIOD: which data (as the store holds it now) and which config."""
    import polars as pl

    fingerprint = data_fingerprint(store, period)
    return pl.DataFrame(
        {
            "fingerprint": [f"{fingerprint}:{config.fingerprint()}"],
            "data_fingerprint": [fingerprint],
            "config": [config.model_dump_json()],
            "config_source": [source],
            "built_at": [datetime.now()],
            "seconds": [seconds],
        },
        schema_overrides={"config_source": pl.String},
    )
