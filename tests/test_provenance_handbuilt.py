"""Hand-built graphs whose answers were worked out on paper."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from coaltrace.period import Period
from coaltrace.provenance import ProvenanceConfig, compute, ensure_current
from coaltrace.store import Store
from tests.provenance_helpers import facility, licence, mine, sale, stock, trip

DEC = Period.parse("2021-12")


@pytest.fixture
def store() -> Store:
    s = Store(":memory:")
    yield s
    s.close()


def shares(result, facility_id: str, policy: str = "proportional") -> dict[tuple[str, str | None], float]:
    rows = result.origin_shares.filter(
        (pl.col("facility_id") == facility_id) & (pl.col("policy") == policy) & (pl.col("share") > 0)
    )
    return {(r["origin_class"], r["origin_id"]): r["share"] for r in rows.to_dicts()}


def bal(result, facility_id: str) -> dict:
    return result.balances.filter(pl.col("facility_id") == facility_id).to_dicts()[0]


def test_chain_carries_the_mine_to_the_plant(store: Store) -> None:
    mine(store, "M")
    facility(store, "Y", "yard")
    facility(store, "P", "power_plant")
    sale(store, "M", "Y", 100)
    sale(store, "Y", "P", 100, "2021-12-11")
    r = compute(store, DEC)
    assert shares(r, "P") == {("licensed", "M"): pytest.approx(1.0)}
    assert bal(r, "Y")["unsourced_t"] == 0
    assert bal(r, "P")["licensed_share"] == pytest.approx(1.0)


def test_diamond_splits_by_tonnes(store: Store) -> None:
    # M1 (legal) and M2 (no licence) feed two yards that both sell to P.
    mine(store, "M1")
    facility(store, "M2", "mine")
    for y in ("Y1", "Y2"):
        facility(store, y, "yard")
    facility(store, "P", "power_plant")
    sale(store, "M1", "Y1", 300)
    sale(store, "M2", "Y1", 100)
    sale(store, "M1", "Y2", 200)
    sale(store, "Y1", "P", 400, "2021-12-12")
    sale(store, "Y2", "P", 200, "2021-12-12")
    r = compute(store, DEC)
    # P got 400 from Y1 (3/4 licensed) and 200 from Y2 (all licensed): 500/600 licensed.
    assert shares(r, "P") == {("licensed", "M1"): pytest.approx(5 / 6), ("unlicensed", "M2"): pytest.approx(1 / 6)}
    assert bal(r, "M2")["licence_state"] == "none"
    assert bal(r, "M2")["unlicensed_production_t"] == pytest.approx(100)


def test_cycle_between_two_traders_is_solved_not_enumerated(store: Store) -> None:
    mine(store, "M")
    facility(store, "A", "trader")
    facility(store, "B", "trader")
    facility(store, "P", "power_plant")
    sale(store, "M", "A", 100, "2021-12-01")
    sale(store, "A", "B", 100, "2021-12-02")
    sale(store, "B", "A", 50, "2021-12-03")
    sale(store, "A", "P", 50, "2021-12-04")
    sale(store, "B", "P", 60, "2021-12-05")
    r = compute(store, DEC)
    # B ships 110 but got 100: 10 t unsourced at B. x_A = 100 + 50 = 150, x_B = 100 + 10 = 110.
    # c_B = 10/110 (B) + 100/110 c_A; c_A = 100/150 (M) + 50/150 c_B  =>  c_B[B] = 3/23, c_A[B] = 1/23.
    assert bal(r, "B")["unsourced_t"] == pytest.approx(10)
    assert shares(r, "A") == {("licensed", "M"): pytest.approx(22 / 23), ("unsourced", "B"): pytest.approx(1 / 23)}
    assert shares(r, "B") == {("licensed", "M"): pytest.approx(20 / 23), ("unsourced", "B"): pytest.approx(3 / 23)}


def test_closed_ring_with_nothing_entering_is_unsourced(store: Store) -> None:
    facility(store, "A", "trader")
    facility(store, "B", "trader")
    sale(store, "A", "B", 80, "2021-12-02")
    sale(store, "B", "A", 80, "2021-12-02")
    r = compute(store, DEC)
    assert bal(r, "A")["circular_t"] == pytest.approx(80)  # A sorts first among equal outflows
    assert shares(r, "B") == {("unsourced", "A"): pytest.approx(1.0)}


def test_washery_yield_turns_excess_output_into_unsourced(store: Store) -> None:
    mine(store, "M")
    facility(store, "W", "washery")
    facility(store, "P", "power_plant")
    sale(store, "M", "W", 1000, "2021-12-01")
    sale(store, "W", "P", 900, "2021-12-20")
    r = compute(store, DEC)
    w = bal(r, "W")
    assert w["usable_inflow_t"] == pytest.approx(850)
    assert w["unsourced_t"] == pytest.approx(50)
    assert shares(r, "P") == {("licensed", "M"): pytest.approx(850 / 900), ("unsourced", "W"): pytest.approx(50 / 900)}
    generous = compute(store, DEC, ProvenanceConfig(yields={"washery": 0.9}))
    assert bal(generous, "W")["unsourced_t"] == 0


def test_yard_opening_stock_is_its_own_origin(store: Store) -> None:
    mine(store, "M")
    facility(store, "Y", "yard")
    facility(store, "P", "power_plant")
    stock(store, "Y", 200, date(2021, 11, 30))
    sale(store, "M", "Y", 600)
    sale(store, "Y", "P", 800, "2021-12-20")
    r = compute(store, DEC)
    assert bal(r, "Y")["unsourced_t"] == 0
    assert shares(r, "Y") == {("licensed", "M"): pytest.approx(0.75), ("opening_stock", "Y"): pytest.approx(0.25)}
    # The yard received only licensed coal: opening stock stays out of licensed_share.
    assert bal(r, "Y")["licensed_share"] == pytest.approx(1.0)


def test_closed_mine_upstream_of_two_yards_taints_both(store: Store) -> None:
    mine(store, "M1")
    facility(store, "MC", "mine", status="closed", status_since=date(2021, 9, 19))
    licence(store, "MC")  # a licence on paper does not reopen a closed mine
    for y in ("Y1", "Y2"):
        facility(store, y, "yard")
    sale(store, "MC", "Y1", 100)
    sale(store, "MC", "Y2", 300)
    sale(store, "M1", "Y1", 300)
    sale(store, "M1", "Y2", 100)
    r = compute(store, DEC)
    assert bal(r, "MC")["licence_state"] == "closed"
    assert shares(r, "Y1") == {("licensed", "M1"): pytest.approx(0.75), ("unlicensed", "MC"): pytest.approx(0.25)}
    assert shares(r, "Y2") == {("licensed", "M1"): pytest.approx(0.25), ("unlicensed", "MC"): pytest.approx(0.75)}
    assert shares(r, "Y1", "taint") == {("unlicensed", "MC"): pytest.approx(1.0)}
    assert bal(r, "Y2")["licensed_share"] == pytest.approx(0.25)


def test_licence_is_judged_per_sale_date(store: Store) -> None:
    mine(store, "M", valid_to=date(2021, 12, 15))
    facility(store, "Y", "yard")
    sale(store, "M", "Y", 100, "2021-12-10")
    sale(store, "M", "Y", 40, "2021-12-20")
    b = bal(compute(store, DEC), "M")
    assert b["licensed_production_t"] == pytest.approx(100)
    assert b["unlicensed_production_t"] == pytest.approx(40)
    assert b["licence_state"] == "expired"


def test_over_capacity_beyond_prorated_capacity(store: Store) -> None:
    mine(store, "M", capacity_tpa=3650)  # 310 t in December
    facility(store, "Y", "yard")
    sale(store, "M", "Y", 500)
    b = bal(compute(store, DEC), "M")
    assert b["capacity_t"] == pytest.approx(310)
    assert b["licensed_production_t"] == pytest.approx(310)
    assert b["over_capacity_t"] == pytest.approx(190)


def test_trips_move_coal_where_no_sale_was_declared(store: Store) -> None:
    mine(store, "M")
    facility(store, "Y", "yard")
    trip(store, "M", "Y", 35, unloaded=34)
    trip(store, "M", "Y", 30)
    r = compute(store, DEC)
    flow = r.flows.to_dicts()[0]
    assert (flow["declared_t"], flow["physical_t"], flow["trips"], flow["measure"]) == (0, 64, 2, "physical")
    assert bal(r, "Y")["inflow_t"] == pytest.approx(64)


def test_running_balance_catches_shipping_before_receipt(store: Store) -> None:
    mine(store, "M")
    facility(store, "Y", "yard")
    facility(store, "P", "power_plant")
    sale(store, "Y", "P", 300, "2021-12-02 09:00")
    sale(store, "M", "Y", 300, "2021-12-20 09:00")
    r = compute(store, DEC)
    assert bal(r, "Y")["unsourced_t"] == 0  # the month balances
    breach = r.running_breaches.to_dicts()
    assert [(b["facility_id"], b["shortfall_t"], str(b["first_negative_at"])) for b in breach] == [
        ("Y", 300, "2021-12-02 09:00:00")
    ]


def test_ensure_current_rebuilds_only_when_data_changes(store: Store) -> None:
    mine(store, "M")
    facility(store, "Y", "yard")
    sale(store, "M", "Y", 100)
    assert ensure_current(store, DEC) is True
    assert ensure_current(store, DEC) is False
    sale(store, "Y", "M2", 150)
    assert ensure_current(store, DEC) is True
    rows = store.query("SELECT facility_id, unsourced_t FROM balances WHERE period = '2021-12' AND unsourced_t > 0")
    assert rows == [{"facility_id": "Y", "unsourced_t": 50.0}]
    via_view = store.query(
        "SELECT origin_class, origin_id, origin_tonnes FROM flow_origins WHERE policy = 'proportional' AND buyer_id = 'M2' ORDER BY origin_class"
    )
    assert via_view == [
        {"origin_class": "licensed", "origin_id": "M", "origin_tonnes": pytest.approx(100)},
        {"origin_class": "unsourced", "origin_id": "Y", "origin_tonnes": pytest.approx(50)},
    ]


def test_ensure_current_takes_an_audit_files_provenance_section(store: Store) -> None:
    mine(store, "M")
    facility(store, "W", "washery")
    sale(store, "M", "W", 1000)
    sale(store, "W", "M2", 800)
    assert ensure_current(store, DEC, {"yields": {"washery": 0.8}}) is True
    assert store.query("SELECT unsourced_t FROM balances WHERE facility_id = 'W'") == [{"unsourced_t": 0.0}]
    with pytest.raises(ValueError, match="yeilds"):
        ensure_current(store, DEC, {"yeilds": {}})


def test_a_period_without_shipments_builds_empty_tables(store: Store) -> None:
    mine(store, "M")
    sale(store, "M", "Y", 100, "2021-11-10")
    assert ensure_current(store, DEC) is True
    assert store.query("SELECT count(*) AS n FROM origin_shares WHERE period = '2021-12'") == [{"n": 0}]
    assert store.query("SELECT count(*) AS n FROM balances WHERE period = '2021-12'") == [{"n": 0}]


def test_a_load_that_revises_a_record_rebuilds_the_provenance(tmp_path: Path) -> None:
    # Same row counts, other tonnes: the stamp the load writes, not the counts, says the data changed.
    from coaltrace.ingest.loader import load_paths
    from tests.conftest import write_csv

    header = ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "数量"]
    with Store(tmp_path / "a.duckdb") as s:
        mine(s, "M")
        facility(s, "Y", "yard")
        load_paths(s, [write_csv(tmp_path / "s1.csv", header, [["S1", "2021-12-02", "M", "Y", "100"]])])
        assert ensure_current(s, DEC) is True
        assert ensure_current(s, DEC) is False
        load_paths(s, [write_csv(tmp_path / "s2.csv", header, [["S1", "2021-12-02", "M", "Y", "130"]])])
        assert ensure_current(s, DEC) is True
        assert s.query("SELECT inflow_t FROM balances WHERE facility_id = 'Y'") == [{"inflow_t": 130.0}]
