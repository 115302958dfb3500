"""The report and the yard page as a person sees them: opened in a real headless browser, with no
network request, no script error, the headline figures and the charts on the page, and printed on A4.

Screenshots (PNG) and the printed PDFs are kept in tests/artefacts/ (see tests/browser.py).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
import pytest
from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.pages import num, pct
from coaltrace.rules.summary import counted_once
from coaltrace.store import Store
from tests.browser import ARTEFACTS, is_a4, pdf_pages, visit

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def month(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("browse")
    res = CliRunner().invoke(app, ["demo", str(out), "--scale", "0.02", "--seed", "7"])
    assert res.exit_code == 0, res.output
    return out


def _report(month: Path, lang: str, out: Path) -> Path:
    res = CliRunner().invoke(
        app, ["--lang", lang, "report", "-p", "2021-12", "--out", str(out), "--db", str(month / "coaltrace.duckdb")]
    )
    assert res.exit_code == 0, res.output
    return out / "report.html"


def _text(dom: str) -> str:
    """What the page shows: its DOM without tags and styles."""
    body = re.sub(r"<style.*?</style>", "", dom, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body))


def test_a_browser_with_no_network_sees_the_detector_work(tmp_path: Path) -> None:
    """The check below would see a page that loads from a CDN or throws: this page does both."""
    bad = tmp_path / "bad.html"
    bad.write_text(
        '<!doctype html><html><head><link rel="stylesheet" href="https://cdn.example/x.css"></head>'
        '<body><img src="http://tiles.example/1.png"><script>notDefined()</script></body></html>',
        encoding="utf-8",
    )
    seen = visit(bad)
    assert seen.requests[0] == "GET http://coaltrace.test/bad.html"
    assert "CONNECT cdn.example:443" in seen.requests
    assert "GET http://tiles.example/1.png" in seen.requests
    assert any("notDefined" in p for p in seen.problems)


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_the_report_in_a_browser(month: Path, tmp_path: Path, lang: str) -> None:
    page = _report(month, lang, tmp_path / lang)
    shot, pdf = ARTEFACTS / f"report-{lang}.png", ARTEFACTS / f"report-{lang}.pdf"
    seen = visit(page, screenshot=shot, pdf=pdf, height=3200)
    # The page's own load and nothing else: no font, tile, script or favicon from anywhere.
    assert seen.requests == ["GET http://coaltrace.test/report.html"], seen.requests
    assert seen.problems == [], seen.problems
    assert "<script" not in seen.dom
    shown = _text(seen.dom)
    with Store(month / "coaltrace.duckdb", read_only=True) as store:
        figures = counted_once(store, period="2021-12")
        traced = store.engine.scalar(
            "SELECT sum(inflow_t) FROM balances WHERE period = '2021-12' AND outflow_t = 0 AND inflow_t > 0"
        )
    assert f"{num(figures['tonnes_at_risk'])} t" in shown
    assert f"{num(round(traced, 3))} t" in shown
    for severity, n in figures["by_severity"].items():
        word = {"zh": {"critical": "严重", "high": "高", "medium": "中", "low": "低"}, "en": {}}[lang].get(severity)
        assert f"{word or severity} {n}" in shown
    # The flow diagram, the map and the two bar charts, drawn inside the page.
    charts = re.findall(r'<svg[^>]*class="chart-(\w+)"', seen.dom)
    assert charts == ["flow", "map", "counties", "rules"]
    ids = re.findall(r'\bid="([^"]+)"', seen.dom)
    assert len(ids) == len(set(ids)), "an id is used twice: one chart's parts would point at another's"
    if lang == "zh":
        assert "涉险煤炭" in shown and "煤矿" in shown and "严重程度" in shown
        assert not re.search(r"\b(critical|coking_plant|power_plant|rail_station)\b", shown)
    pages = pdf_pages(pdf)
    assert len(pages) > 3 and all(is_a4(p) for p in pages)
    assert shot.stat().st_size > 50_000


def test_the_yard_page_prints_on_one_a4_page(month: Path, tmp_path: Path) -> None:
    truth = pl.read_csv(month / "sample" / "truth.csv", infer_schema_length=0)
    yard = truth.filter(pl.col("rule_id") == "facility_low_licensed_share")["entity_id"][0]
    db = str(month / "coaltrace.duckdb")
    page = tmp_path / "yard.html"
    res = CliRunner().invoke(app, ["--lang", "zh", "yard", yard, "--db", db, "--html", str(page)])
    assert res.exit_code == 0, res.output
    data = json.loads(CliRunner().invoke(app, ["yard", yard, "--db", db, "--json"]).stdout)
    shot, pdf = ARTEFACTS / "yard-zh.png", ARTEFACTS / "yard-zh.pdf"
    seen = visit(page, screenshot=shot, pdf=pdf, width=900, height=1300)
    assert seen.requests == ["GET http://coaltrace.test/yard.html"], seen.requests
    assert seen.problems == []
    shown = _text(seen.dom)
    assert data["name"] in shown and pct(data["licensed_share"]) in shown
    for supplier in data["suppliers"][:8]:
        assert supplier["seller_id"] in shown
    assert "检查人" in shown and "被检查单位负责人" in shown and "日期" in shown
    assert "收货渠道是否正规" in shown  # the eight checks that apply to a yard
    assert "关闭井口是否填实填死" not in shown  # a mine's check, not a yard's
    pages = pdf_pages(pdf)
    assert len(pages) == 1 and is_a4(pages[0])
    # The busiest site of the month, in English (longer words): the sheet still fits its one page.
    busiest = truth.group_by("facility_id").len().sort(["len", "facility_id"], descending=[True, False])
    busiest_id = busiest["facility_id"][0]
    page = tmp_path / "busiest.html"
    res = CliRunner().invoke(app, ["--lang", "en", "yard", busiest_id, "--db", db, "--html", str(page)])
    assert res.exit_code == 0, res.output
    pdf = ARTEFACTS / "yard-busiest-en.pdf"
    seen = visit(page, pdf=pdf, width=900, height=1300)
    assert seen.problems == [] and "inspector (signature)" in _text(seen.dom)
    pages = pdf_pages(pdf)
    assert len(pages) == 1 and is_a4(pages[0]), f"{busiest_id}: {len(pages)} pages"
