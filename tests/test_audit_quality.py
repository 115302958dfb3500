"""Quality on the sample month: every planted violation found by its rule, no false alarm anywhere.

Generates the sample at a small scale, loads it with the real loader, runs the
whole pack, and compares findings with the generator's truth.csv per rule.
Two rules are not planted as their own cases but follow from planted ones:
`flow_carries_unsourced` (coal from a planted facility carried on downstream)
and `intake_unlicensed_supplier` (a yard booking in coal from a planted mine);
their findings must lead back to a facility the truth names.
"""

from __future__ import annotations

import csv
from collections import defaultdict

import pytest

from coaltrace.rules import load_rules, query_findings, run_audit
from coaltrace.store import Store

pytestmark = pytest.mark.slow

SCALE = 0.2
CONSEQUENCES = {"flow_carries_unsourced": "entered_at", "intake_unlicensed_supplier": "supplier_id"}


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> tuple[list[dict[str, str]], list[dict[str, object]]]:
    from coaltrace.ingest.loader import load_paths
    from coaltrace.sample import write_sample

    out = tmp_path_factory.mktemp("sample")
    write_sample(out, seed=42, scale=SCALE)
    with (out / "truth.csv").open(encoding="utf-8") as f:
        truth = list(csv.DictReader(f))
    with Store(out / "audit.duckdb") as store:
        load_paths(store, [out / "data"])
        periods = sorted({t["period"] for t in truth})
        for period in periods:
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
            "expected": len(e), "found": len(g),
            "recall": len(hit) / len(e) if e else None,
            "precision": len(hit) / len(g) if g else None,
            "missed": sorted(e - g)[:5], "false_alarms": sorted(g - e)[:5],
        }
    return scores


def test_every_planted_case_has_a_rule(sample: tuple[list[dict[str, str]], list[dict[str, object]]]) -> None:
    truth, _ = sample
    pack = set(load_rules().rules)
    assert {t["rule_id"] for t in truth} <= pack


def test_recall_and_precision_per_rule(sample: tuple[list[dict[str, str]], list[dict[str, object]]]) -> None:
    truth, findings = sample
    planted = [f for f in findings if f["rule_id"] not in CONSEQUENCES]
    scores = _score(truth, planted)
    for rule, s in scores.items():
        print(f"{rule:32} expected {s['expected']:4} found {s['found']:4} recall {s['recall']} precision {s['precision']}")
    bad = {r: s for r, s in scores.items() if s["missed"] or s["false_alarms"]}
    assert bad == {}


def test_consequence_rules_lead_back_to_planted_facilities(
    sample: tuple[list[dict[str, str]], list[dict[str, object]]],
) -> None:
    truth, findings = sample
    planted_facilities = {t["facility_id"] for t in truth if t["facility_id"]}
    for f in findings:
        column = CONSEQUENCES.get(str(f["rule_id"]))
        if column is None:
            continue
        evidence = f["evidence"]
        assert isinstance(evidence, dict)
        sources = {row[column] for row in evidence["rows"]}
        assert sources & planted_facilities, f"{f['rule_id']} {f['entity_id']} leads to {sources}, not a planted case"
