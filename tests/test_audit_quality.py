"""Quality on the sample month: every planted violation found by its rule, no false alarm anywhere.

Generates the sample at a small scale, loads it with the real loader, runs the
whole pack, and compares findings with the generator's truth.csv per rule.
Consequences of planted cases (the channels that book in a planted mine's coal,
the flows that carry a planted facility's unsourced coal on) are real findings,
so the truth lists them too: nothing is excused here.
"""

from __future__ import annotations

import csv
from collections import defaultdict

import pytest

from coaltrace.rules import load_rules, query_findings, run_audit
from coaltrace.store import Store

pytestmark = pytest.mark.slow

SCALE = 0.2
SEED = 42

Sample = tuple[list[dict[str, str]], list[dict[str, object]], dict[str, float]]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Sample:
    from coaltrace.ingest.loader import load_paths
    from coaltrace.sample import write_sample

    out = tmp_path_factory.mktemp("sample")
    write_sample(out, seed=SEED, scale=SCALE)
    with (out / "truth.csv").open(encoding="utf-8") as f:
        truth = list(csv.DictReader(f))
    with Store(out / "audit.duckdb") as store:
        load_paths(store, [out / "data"])
        at_risk = {period: run_audit(store, period).tonnes_at_risk for period in sorted({t["period"] for t in truth})}
        findings = query_findings(store)
    return truth, findings, at_risk


def _score(truth: list[dict[str, str]], findings: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    expected: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for t in truth:
        expected[t["rule_id"]].add((t["entity_kind"], t["entity_id"]))
    got: dict[str, set[tuple[str, str]]] = defaultdict(set)
    for f in findings:
        got[str(f["rule_id"])].add((str(f["entity_kind"]), str(f["entity_id"])))
    scores = {}
    for rule in sorted(set(expected) | set(got)):
        e, g = expected[rule], got[rule]
        hit = e & g
        scores[rule] = {
            "expected": len(e),
            "found": len(g),
            "recall": len(hit) / len(e) if e else None,
            "precision": len(hit) / len(g) if g else None,
            "missed": sorted(e - g)[:5],
            "false_alarms": sorted(g - e)[:5],
        }
    return scores


def test_truth_and_pack_cover_each_other(sample: Sample) -> None:
    # A rule with no planted case could find nothing, or anything, unnoticed.
    truth, _, _ = sample
    assert {t["rule_id"] for t in truth} == set(load_rules().rules)


def test_recall_and_precision_per_rule(sample: Sample) -> None:
    truth, findings, _ = sample
    scores = _score(truth, findings)
    for rule, s in scores.items():
        print(
            f"{rule:32} expected {s['expected']:4} found {s['found']:4} recall {s['recall']} precision {s['precision']}"
        )
    bad = {r: s for r, s in scores.items() if s["missed"] or s["false_alarms"]}
    assert bad == {}


def test_one_finding_per_channel_with_its_truckloads(sample: Sample) -> None:
    # The ledger gets one item per (mine, receiving facility), not one per truckload,
    # and that item still carries the channel's tonnes and every intake behind them.
    truth, findings, _ = sample
    tonnes = {t["entity_id"]: float(t["tonnes"]) for t in truth if t["rule_id"] == "intake_unlicensed_supplier"}
    channels = [f for f in findings if f["rule_id"] == "intake_unlicensed_supplier"]
    assert len(channels) == len(tonnes)
    for f in channels:
        assert f["tonnes_at_risk"] == pytest.approx(tonnes[str(f["entity_id"])], abs=0.05)
        evidence = f["evidence"]
        assert isinstance(evidence, dict)
        supplier, receiver = str(f["entity_id"]).split(">")
        assert evidence["total_rows"] > 1
        assert {(r["supplier_id"], r["facility_id"] if "facility_id" in r else receiver) for r in evidence["rows"]} == {
            (supplier, receiver)
        }


def test_flows_carry_the_unsourced_tonnes_the_truth_traces(sample: Sample) -> None:
    truth, findings, _ = sample
    tonnes = {t["entity_id"]: float(t["tonnes"]) for t in truth if t["rule_id"] == "flow_carries_unsourced"}
    for f in findings:
        if f["rule_id"] == "flow_carries_unsourced":
            assert f["tonnes_at_risk"] == pytest.approx(tonnes[str(f["entity_id"])], rel=0.01)


# The rules whose tonnes are coal entering the chain with no licensed source, and its class.
ORIGIN_CLASS = {
    "mine_unlicensed_sales": "unlicensed",
    "mine_closed_shipping": "unlicensed",
    "mine_over_capacity": "over_capacity",
    "facility_unsourced_output": "unsourced",
}


def test_the_headline_is_the_sum_of_distinct_coal_at_risk(sample: Sample) -> None:
    # Worked out from the generator's own tonnes, not from coaltrace: each planted origin's
    # coal once, however many rules found it and however far it travelled.
    truth, findings, at_risk = sample
    distinct: dict[tuple[str, str, str], float] = {}
    for t in truth:
        if t["rule_id"] in ORIGIN_CLASS:
            key = (t["period"], t["facility_id"], ORIGIN_CLASS[t["rule_id"]])
            distinct[key] = max(distinct.get(key, 0.0), float(t["tonnes"]))
    for period, figure in at_risk.items():
        expected = sum(v for (p, _, _), v in distinct.items() if p == period)
        assert figure == pytest.approx(expected, abs=0.01 * len(distinct))
    # The sum over every finding's tonnes would count the same coal again downstream.
    assert sum(float(f["tonnes_at_risk"] or 0) for f in findings) > 1.5 * sum(at_risk.values())
