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

Sample = tuple[list[dict[str, str]], list[dict[str, object]]]


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
        for period in sorted({t["period"] for t in truth}):
            run_audit(store, period)
        findings = query_findings(store)
    return truth, findings


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
    truth, _ = sample
    assert {t["rule_id"] for t in truth} == set(load_rules().rules)


def test_recall_and_precision_per_rule(sample: Sample) -> None:
    truth, findings = sample
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
    truth, findings = sample
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
    truth, findings = sample
    tonnes = {t["entity_id"]: float(t["tonnes"]) for t in truth if t["rule_id"] == "flow_carries_unsourced"}
    for f in findings:
        if f["rule_id"] == "flow_carries_unsourced":
            assert f["tonnes_at_risk"] == pytest.approx(tonnes[str(f["entity_id"])], rel=0.01)
