"""The report's charts, drawn by matplotlib into static SVG that sits inside the page.

Why matplotlib: it installs from wheels with nothing to download at run time, draws
a chart in about 0.05 s (a Vega-Lite spec through vl-convert took about 0.2 s), and
its patches and paths draw the two charts no chart grammar has, the layered flow
diagram and the coordinate map, with the same library as the bars. Text stays
text in the SVG (`svg.fonttype = none`), so the reader's browser sets the Chinese
with its own fonts and the page can be searched and copied; nothing in it runs.

Every label comes from the data or `coaltrace.labels`; matplotlib escapes it, and
mathtext is off, so a `$` or `<` in a county name is drawn as typed.
"""

from __future__ import annotations

import io
import logging
import math
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from coaltrace.labels import label
from coaltrace.severity import Severity

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from coaltrace.report.model import Report

Say = Callable[[str], str]

# Fonts that carry Chinese on Linux, Windows and macOS; the browser picks what it has.
FONTS = [
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    "WenQuanYi Micro Hei",
    "Microsoft YaHei",
    "PingFang SC",
    "SimHei",
    "DejaVu Sans",
]
ORIGIN_COLOURS = {
    "licensed": "#4e9a6a",
    "over_capacity": "#e0a030",
    "unlicensed": "#c0392b",
    "unsourced": "#8e44ad",
    "opening_stock": "#95a5a6",
    "data_gap": "#cfcfcf",
}
SEVERITY_COLOURS = {"critical": "#8b0000", "high": "#d35400", "medium": "#e0a030", "low": "#7f8c8d"}
KIND_COLOURS = {
    "mine": "#2c3e50",
    "washery": "#2980b9",
    "coking_plant": "#16a085",
    "yard": "#d4ac0d",
    "trader": "#a569bd",
    "power_plant": "#5d6d7e",
    "rail_station": "#dc7633",
    "other": "#bdc3c7",
}
NODE_KINDS = tuple(KIND_COLOURS)


@contextmanager
def _style(name: str) -> Iterator[None]:
    import matplotlib

    matplotlib.use("svg", force=True)
    rc: dict[str, Any] = {
        "svg.fonttype": "none",
        "svg.hashsalt": name,  # ids that are the same on every run, and apart between charts
        "font.family": "sans-serif",
        "font.sans-serif": FONTS,
        "font.size": 9,
        "text.parse_math": False,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
    with matplotlib.rc_context(rc), warnings.catch_warnings():  # type: ignore[arg-type]
        # Measuring Chinese with a font that lacks it warns once per glyph: the browser draws the text.
        warnings.simplefilter("ignore", UserWarning)
        logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
        yield


def _figure(width: float, height: float) -> Figure:
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


_ID = re.compile(r'(\bid="|url\(#|href="#)')


def _svg(fig: Figure, name: str) -> str:
    """FIG as an SVG element to put inside a page: no XML prologue, ids prefixed with NAME (several
    charts share one page), sized by the page (its viewBox kept), titled for screen readers."""
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", pad_inches=0.05, metadata={"Date": None, "Creator": None})
    text = buf.getvalue()
    text = text[text.index("<svg") :]
    text = _ID.sub(lambda m: f"{m.group(1)}{name}-", text)
    return re.sub(
        r'<svg([^>]*?) width="[^"]*" height="[^"]*"', rf'<svg\1 class="chart-{name}" role="img"', text, count=1
    )


def _tonnes(x: float) -> str:
    return f"{x:,.0f} t" if abs(x) >= 10 else f"{x:,.1f} t"


def flow_diagram(r: Report, lang: str, t: Say) -> str | None:
    """Origin class → kind of the facility that delivered → kind of end buyer, band widths in tonnes."""
    if not r.flow:
        return None
    import matplotlib.patches as mpatches
    from matplotlib.path import Path as MPath

    links = r.flow
    total = sum(x["tonnes"] for x in links)
    columns: list[list[tuple[str, float]]] = []
    for key, order in (
        ("origin_class", list(ORIGIN_COLOURS)),
        ("via_kind", list(NODE_KINDS)),
        ("to_kind", list(NODE_KINDS)),
    ):
        sums: dict[str, float] = {}
        for x in links:
            sums[x[key]] = sums.get(x[key], 0.0) + x["tonnes"]
        names = sorted(sums, key=lambda n: (order.index(n) if n in order else len(order), n))
        columns.append([(n, sums[n]) for n in names])
    gap = 0.03
    # A node is drawn at least this tall, so a small flow of unlicensed coal is seen (and its label read) beside
    # millions; the caption says so.
    least = 0.045
    heights = [{n: max(v / total * (1 - gap * (len(col) - 1)), least) for n, v in col} for col in columns]
    scale = [1 / max(1.0, sum(h.values()) + gap * (len(h) - 1)) for h in heights]
    tops: list[dict[str, float]] = []
    for col, h, s in zip(columns, heights, scale, strict=True):
        y, place = 1.0, {}
        for n, _ in col:
            place[n] = y
            y -= h[n] * s + gap
        tops.append(place)
    xs = (0.0, 0.45, 0.9)
    width = 0.035
    with _style("flow"):
        fig = _figure(7.2, 3.8)
        ax = fig.add_subplot()
        ax.set_axis_off()
        ax.set_xlim(-0.02, 1.22)
        ax.set_ylim(-0.02, 1.04)
        keys = ("origin_class", "via_kind", "to_kind")
        # Where the next band leaves a node (out) and enters one (in), top down.
        out_at = [dict(p) for p in tops]
        in_at = [dict(p) for p in tops]
        for stage in (0, 1):
            a, b = keys[stage], keys[stage + 1]
            order_b = [n for n, _ in columns[stage + 1]]
            order_a = [n for n, _ in columns[stage]]
            classes = list(ORIGIN_COLOURS)
            bands: dict[tuple[str, str, str], float] = {}
            for x in links:
                k = (x[a], x[b], x["origin_class"])
                bands[k] = bands.get(k, 0.0) + x["tonnes"]
            ordered = sorted(
                bands.items(),
                key=lambda kv: (order_a.index(kv[0][0]), order_b.index(kv[0][1]), classes.index(kv[0][2])),
            )
            for (na, nb, cls), tonnes in ordered:
                ha = tonnes / columns[stage][order_a.index(na)][1] * heights[stage][na] * scale[stage]
                hb = tonnes / columns[stage + 1][order_b.index(nb)][1] * heights[stage + 1][nb] * scale[stage + 1]
                y0, y1 = out_at[stage][na], in_at[stage + 1][nb]
                out_at[stage][na] -= ha
                in_at[stage + 1][nb] -= hb
                x0, x1 = xs[stage] + width, xs[stage + 1]
                mid = (x0 + x1) / 2
                verts = [
                    (x0, y0),
                    (mid, y0),
                    (mid, y1),
                    (x1, y1),
                    (x1, y1 - hb),
                    (mid, y1 - hb),
                    (mid, y0 - ha),
                    (x0, y0 - ha),
                    (x0, y0),
                ]
                codes = [MPath.MOVETO, *[MPath.CURVE4] * 3, MPath.LINETO, *[MPath.CURVE4] * 3, MPath.CLOSEPOLY]
                ax.add_patch(
                    mpatches.PathPatch(
                        MPath(verts, codes), facecolor=ORIGIN_COLOURS.get(cls, "#999999"), alpha=0.55, lw=0
                    )
                )
        for i, col in enumerate(columns):
            family = "origin_class" if i == 0 else "facility_kind"
            for n, tonnes in col:
                h = heights[i][n] * scale[i]
                colour = ORIGIN_COLOURS.get(n, "#444444") if i == 0 else KIND_COLOURS.get(n, "#444444")
                ax.add_patch(mpatches.Rectangle((xs[i], tops[i][n] - h), width, h, facecolor=colour, lw=0))
                ax.text(
                    xs[i] + width + 0.008,
                    tops[i][n] - h / 2,
                    f"{label(family, n, lang)}  {_tonnes(tonnes)}",
                    va="center",
                    ha="left",
                    fontsize=8,
                )
        for i, key in enumerate(("flow_from", "flow_via", "flow_to")):
            ax.text(xs[i], 1.035, t(key), fontsize=9, fontweight="bold", ha="left", va="bottom")
        return _svg(fig, "flow")


def facility_map(r: Report, lang: str, t: Say) -> str | None:
    """The registered facilities where their coordinates put them, the flagged flows between them,
    and each county's name where its facilities are; no tiles, no projection beyond longitude's shrink."""
    if not r.places:
        return None
    mean_lat = sum(p["lat"] for p in r.places) / len(r.places)
    with _style("map"):
        fig = _figure(7.2, 5.6)
        ax = fig.add_subplot()
        ax.set_aspect(1 / max(math.cos(math.radians(mean_lat)), 0.1))
        ax.tick_params(labelsize=7)
        ax.set_xlabel(t("map_lon"), fontsize=8)
        ax.set_ylabel(t("map_lat"), fontsize=8)
        ax.grid(True, color="#eeeeee", lw=0.6)
        for fl in r.flagged_flows:
            sev = (Severity.of_rank(int(fl["worst_rank"] or 0)) or Severity.low).value
            ax.annotate(
                "",
                xy=(fl["buyer_lon"], fl["buyer_lat"]),
                xytext=(fl["seller_lon"], fl["seller_lat"]),
                arrowprops={"arrowstyle": "-|>", "color": SEVERITY_COLOURS[sev], "lw": 1.4, "alpha": 0.8},
            )
        kinds = sorted({p["kind"] or "other" for p in r.places}, key=lambda k: (NODE_KINDS + (k,)).index(k))
        for kind in kinds:
            pts = [p for p in r.places if (p["kind"] or "other") == kind]
            ax.scatter(
                [p["lon"] for p in pts],
                [p["lat"] for p in pts],
                s=14,
                color=KIND_COLOURS.get(kind, "#999999"),
                label=label("facility_kind", kind, lang),
                zorder=3,
            )
        for sev in Severity.worst_first():
            pts = [p for p in r.places if p["worst_severity"] == sev.value]
            if pts:
                ax.scatter(
                    [p["lon"] for p in pts],
                    [p["lat"] for p in pts],
                    s=70,
                    facecolors="none",
                    edgecolors=SEVERITY_COLOURS[sev.value],
                    linewidths=1.4,
                    label=t("map_flagged").format(severity=sev.label.say(lang)),
                    zorder=4,
                )
        counties: dict[str, list[tuple[float, float]]] = {}
        for p in r.places:
            if p["county"]:
                counties.setdefault(p["county"], []).append((p["lon"], p["lat"]))
        for county, spots in sorted(counties.items()):
            lon = sorted(x for x, _ in spots)[len(spots) // 2]
            lat = sorted(y for _, y in spots)[len(spots) // 2]
            ax.text(lon, lat, county, fontsize=11, fontweight="bold", color="#555555", alpha=0.6, ha="center")
        ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
        return _svg(fig, "map")


def _hbars(
    name: str,
    names: Sequence[str],
    values: Sequence[float],
    colours: Sequence[str],
    notes: Sequence[str],
    xlabel: str,
) -> str:
    with _style(name):
        fig = _figure(7.2, 0.45 + 0.26 * len(names))
        ax = fig.add_subplot()
        y = list(range(len(names)))
        ax.barh(y, values, color=list(colours), height=0.7)
        ax.set_yticks(y, list(names), fontsize=8)
        ax.invert_yaxis()
        ax.tick_params(axis="x", labelsize=7)
        ax.set_xlabel(xlabel, fontsize=8)
        top = max(values) if values and max(values) > 0 else 1.0
        ax.set_xlim(0, top * 1.3)
        for yi, v, note in zip(y, values, notes, strict=True):
            ax.text(v + top * 0.01, yi, note, va="center", fontsize=7)
        return _svg(fig, name)


def county_bars(r: Report, lang: str, t: Say) -> str | None:
    """Per county: coal at risk counted once (bar), with its findings and worst severity beside it."""
    if not r.counties:
        return None
    rows = r.counties
    return _hbars(
        "counties",
        [c["county"] or t("no_county") for c in rows],
        [c["tonnes_at_risk"] for c in rows],
        [SEVERITY_COLOURS.get(c["worst_severity"], "#999999") for c in rows],
        [
            t("bar_note").format(
                t=_tonnes(c["tonnes_at_risk"]),
                n=c["findings"],
                severity=Severity(c["worst_severity"]).label.say(lang),
            )
            for c in rows
        ],
        t("bar_tonnes"),
    )


def rule_bars(r: Report, lang: str, t: Say) -> str | None:
    """Findings per rule that found any, coloured by the rule's severity."""
    rows = [x for x in r.rules if x.findings]
    if not rows:
        return None
    return _hbars(
        "rules",
        [x.title_zh if lang == "zh" else x.title_en for x in rows],
        [float(x.findings) for x in rows],
        [SEVERITY_COLOURS.get(x.severity, "#999999") for x in rows],
        [str(x.findings) for x in rows],
        t("bar_findings"),
    )


def charts(r: Report, lang: str, t: Say) -> dict[str, str]:
    """Every chart the report has data for, by name, as SVG markup."""
    drawn: dict[str, Any] = {
        "flow": flow_diagram(r, lang, t),
        "map": facility_map(r, lang, t),
        "counties": county_bars(r, lang, t),
        "rules": rule_bars(r, lang, t),
    }
    return {k: v for k, v in drawn.items() if v}
