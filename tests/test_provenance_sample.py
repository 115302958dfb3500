"""The sample month's planted laundering is found with the tonnes its ground truth gives."""

from __future__ import annotations

import polars as pl
import pytest

from coaltrace.ingest.loader import load_paths
from coaltrace.period import Period
from coaltrace.provenance import ProvenanceConfig, compute
from coaltrace.provenance.current import Provenance
from coaltrace.sample.generate import write_sample
from coaltrace.sample.truth import COKE_MAX_YIELD, WASHERY_MAX_YIELD
from coaltrace.store import Store

pytestmark = pytest.mark.slow

# truth.csv rounds tonnes to 0.01 t; prorated capacity and yields are floats.
TOL = 0.05


@pytest.fixture(scope="module", params=[42, 3])
def month(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[Provenance, pl.DataFrame]:
    root = tmp_path_factory.mktemp(f"sample{request.param}")
    write_sample(root / "sample", seed=request.param, scale=0.02)
    with Store(root / "audit.duckdb") as store:
        load_paths(store, [root / "sample" / "data"])
        # The generator plants its cases against these yield ceilings; audit with the same ones.
        config = ProvenanceConfig(yields={"washery": WASHERY_MAX_YIELD, "coking_plant": COKE_MAX_YIELD})
        result = compute(store, Period.parse("2021-12"), config)
    return result, pl.read_csv(root / "sample" / "truth.csv", schema_overrides={"case_id": pl.Utf8})


def _truth(truth: pl.DataFrame, rule: str) -> dict[str, float]:
    rows = truth.filter((pl.col("rule_id") == rule) & (pl.col("entity_kind") == "facility"))
    return dict(zip(rows["facility_id"], rows["tonnes"], strict=True))


def _column(result: Provenance, column: str) -> dict[str, float]:
    b = result.balances.filter(pl.col(column) > 0)
    return dict(zip(b["facility_id"], b[column], strict=True))


def test_unlicensed_and_closed_mines(month: tuple[Provenance, pl.DataFrame]) -> None:
    result, truth = month
    want = _truth(truth, "mine_unlicensed_sales") | _truth(truth, "mine_closed_shipping")
    assert want
    assert _column(result, "unlicensed_production_t") == pytest.approx(want, abs=TOL)


def test_over_capacity_mine(month: tuple[Provenance, pl.DataFrame]) -> None:
    result, truth = month
    assert _column(result, "over_capacity_t") == pytest.approx(_truth(truth, "mine_over_capacity"), abs=TOL)


def test_washery_coking_plant_village_yard_and_round_tripping_trader(month: tuple[Provenance, pl.DataFrame]) -> None:
    result, truth = month
    want = _truth(truth, "facility_unsourced_output")
    assert len(want) == 4
    assert _column(result, "unsourced_t") == pytest.approx(want, abs=TOL)


def test_yard_that_ships_before_it_receives(month: tuple[Provenance, pl.DataFrame]) -> None:
    result, truth = month
    breaches = dict(zip(result.running_breaches["facility_id"], result.running_breaches["shortfall_t"], strict=True))
    for facility_id, tonnes in _truth(truth, "facility_ships_before_receipt").items():
        assert breaches[facility_id] == pytest.approx(tonnes, abs=TOL)
        assert _column(result, "unsourced_t").get(facility_id, 0.0) == 0.0  # its month balances


def test_contaminated_yard_downstream(month: tuple[Provenance, pl.DataFrame]) -> None:
    result, truth = month
    shares = result.origin_shares.filter(pl.col("policy") == "proportional")
    for facility_id, tonnes in _truth(truth, "facility_low_licensed_share").items():
        got = shares.filter(
            (pl.col("facility_id") == facility_id) & pl.col("origin_class").is_in(["unlicensed", "unsourced"])
        )
        assert got["received_t"].sum() == pytest.approx(tonnes, abs=TOL)
        tainted = result.origin_shares.filter((pl.col("policy") == "taint") & (pl.col("facility_id") == facility_id))
        assert tainted.filter(pl.col("origin_class") == "licensed")["share"].sum() == 0.0
