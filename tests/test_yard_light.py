"""The inspector's page answers at once: it imports only what one page needs, reads the cycles and
origins of one facility (not of the whole graph), and gives what the whole-graph methods give."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.graph.network import facility_graph, round_trips
from coaltrace.period import Period
from coaltrace.provenance import ensure_current, origins
from coaltrace.store import Store
from coaltrace.yard.page import yard_page
from tests.provenance_helpers import facility, mine, sale, stock

DEC = Period.parse("2021-12")
ROOT = Path(__file__).resolve().parents[1]

# Libraries and modules the page must never import: the build's solver and graph library, the rule
# runner, its SQL parser and the rule model, the frame libraries (the page reads a few rows as tuples).
NOT_FOR_A_PAGE = (
    "scipy",
    "sqlglot",
    "networkx",
    "polars",
    "pyarrow",
    "numpy",
    "coaltrace.provenance.solve",
    "coaltrace.rules.runner",
    "coaltrace.rules.casetest",
    "coaltrace.rules.load",
    "coaltrace.rules.sql",
    "coaltrace.rules.model",
)

# Runs the command as `coaltrace` does, then says which of those it imported.
_PROBE = """
import json, sys
from coaltrace.cli import main
sys.argv = ["coaltrace", *sys.argv[1:]]
try:
    main()
except SystemExit as e:
    code = e.code or 0
else:
    code = 0
banned = {banned!r}
print(json.dumps({{"code": code, "imported": sorted(m for m in sys.modules if m in banned)}}), file=sys.stderr)
"""


def _ring_month(db: Path) -> None:
    """A licensed mine and one without a licence, two traders selling to each other, and a yard that
    buys from both: audited."""
    with Store(db) as s:
        mine(s, "M1")
        facility(s, "M2", "mine")
        for t in ("T1", "T2"):
            facility(s, t, "trader")
        facility(s, "Y1", "yard")
        stock(s, "T1", 0)
        sale(s, "M1", "T1", 500, "2021-12-02")
        sale(s, "M2", "T1", 300, "2021-12-02")
        sale(s, "T1", "T2", 400, "2021-12-03")
        sale(s, "T2", "T1", 300, "2021-12-04")
        sale(s, "T1", "Y1", 200, "2021-12-05")
        sale(s, "T2", "Y1", 50, "2021-12-06")
    res = CliRunner().invoke(app, ["audit", "--period", "2021-12", "--db", str(db)])
    assert res.exit_code == 0, res.output


def test_the_yard_page_imports_no_solver_parser_graph_or_frame_library(tmp_path: Path) -> None:
    db = tmp_path / "ring.duckdb"
    _ring_month(db)
    for args in (["yard", "t1", "--json"], ["yard", "Y1"]):
        done = subprocess.run(
            [sys.executable, "-c", _PROBE.format(banned=NOT_FOR_A_PAGE), "--lang", "en", *args, "--db", str(db)],
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )
        report = json.loads(done.stderr.strip().splitlines()[-1])
        assert report["code"] == 0, done.stderr
        assert report["imported"] == [], f"`coaltrace {' '.join(args)}` imported {report['imported']}"
        if "--json" in args:  # the whole page was made: origins, a round trip, findings with their notes
            page = json.loads(done.stdout)
            assert page["origins"] and page["round_trips"] and page["findings"]
            assert any(f["checks"] for f in page["findings"])
        else:
            assert "Round trips" not in done.stdout and "Suppliers" in done.stdout and "T2 T2 名称" in done.stdout


def _random_month(db: Path, seed: int) -> list[str]:
    """Mines and traders selling to each other at random: cycles of 2 to 5 facilities, shared flows."""
    rnd = random.Random(seed)
    mines = [f"M{i}" for i in range(3)]
    traders = [f"T{i}" for i in range(9)]
    with Store(db) as s:
        for m in mines:
            mine(s, m)
        for t in traders:
            facility(s, t, "trader")
            stock(s, t, rnd.choice([0, 50]))
        for m in mines:
            for t in rnd.sample(traders, 3):
                sale(s, m, t, rnd.randint(100, 900), "2021-12-02")
        for a in traders:
            for b in rnd.sample([t for t in traders if t != a], 2):
                sale(s, a, b, rnd.randint(10, 300), f"2021-12-{rnd.randint(3, 28):02d}")
        # A ring of five: too long to be a round trip.
        ring = ["R1", "R2", "R3", "R4", "R5"]
        for r in ring:
            facility(s, r, "trader")
        sale(s, mines[0], "R1", 500, "2021-12-02")
        for a, b in zip(ring, ring[1:] + ring[:1], strict=True):
            sale(s, a, b, 100, "2021-12-10")
        ensure_current(s, DEC)
    return mines + traders + ring


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_page_finds_the_round_trips_the_whole_graph_has(tmp_path: Path, seed: int) -> None:
    db = tmp_path / "random.duckdb"
    ids = _random_month(db, seed)
    with Store(db, read_only=True) as s:
        edges = s.query(
            "SELECT seller_id, buyer_id, sum(tonnes) AS tonnes FROM flows WHERE period = '2021-12' "
            "AND seller_id <> buyer_id GROUP BY ALL HAVING sum(tonnes) > 0"
        )
        whole = round_trips(facility_graph([], edges))
        assert {c["length"] for c in whole} >= {2, 3}  # the graph has cycles worth comparing
        for f in ids:
            expected = [
                {k: c[k] for k in ("cycle_id", "facilities", "length")}
                | {"tonnes_round": pytest.approx(c["tonnes_round"])}
                for c in whole
                if f in c["facilities"]
            ]
            got = yard_page(s, f, DEC)["round_trips"]
            assert [{k: c[k] for k in ("cycle_id", "facilities", "length", "tonnes_round")} for c in got] == expected
            assert all(c["names"] == [f"{x} 名称" for x in c["facilities"]] for c in got)
            assert not any(c["cycle_id"].startswith("R") for c in got)  # the ring of five is no round trip


def test_the_three_solvers_give_the_same_origins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "random.duckdb"
    ids = _random_month(db, 4)
    with Store(db, read_only=True) as s:
        plain = {f: origins.facility_origins(s, DEC, f) for f in ids}
        assert sum(len(v) for v in plain.values()) > len(ids)  # origins worth comparing
        monkeypatch.setattr(origins, "PLAIN_MAX", 0)
        dense = {f: origins.facility_origins(s, DEC, f) for f in ids}
        monkeypatch.setattr(origins, "DENSE_MAX", 0)
        sparse = {f: origins.facility_origins(s, DEC, f) for f in ids}
    for f in ids:
        for other in (dense[f], sparse[f]):
            assert [(r["origin_class"], r["origin_id"], r["grouped"]) for r in other] == [
                (r["origin_class"], r["origin_id"], r["grouped"]) for r in plain[f]
            ]
            assert [r["tonnes"] for r in other] == pytest.approx([r["tonnes"] for r in plain[f]], rel=1e-9)


def test_the_origin_classes_are_the_solvers(tmp_path: Path) -> None:
    from coaltrace.provenance.solve import CLASSES

    assert origins.CLASSES == CLASSES
