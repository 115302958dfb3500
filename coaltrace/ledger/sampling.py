"""City spot checks (市级抽查): at least the rate of every county's items, every critical one, from a seed.

The population (the items a filter leaves) is cut into strata by county and
severity. In every county all critical items are drawn, and in all at least
ceil(rate × the county's items); the other places go to the other severities in
proportion to their size. Which items of a stratum: those whose
sha256("SEED|ITEM_ID") is smallest. That makes a draw reproducible by anyone
from its seed, with any tool that computes sha256, and an item's chance does
not depend on which other items happen to be in the ledger.

A draw is recorded in the ledger: each drawn item gets an entry saying who drew
it, when, in which sample, with which seed and rate.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from coaltrace.engine import Engine
from coaltrace.errors import UsageError
from coaltrace.ledger.chain import commit
from coaltrace.ledger.model import Entry, Item
from coaltrace.ledger.queries import ItemFilter, find, require_ledger
from coaltrace.ledger.workflow import now, require_actor
from coaltrace.severity import Severity


def draw_key(seed: int, item_id: str) -> str:
    return hashlib.sha256(f"{seed}|{item_id}".encode()).hexdigest()


@dataclass(frozen=True)
class Stratum:
    county: str | None
    severity: str
    population: int
    drawn: int


@dataclass
class Sample:
    sample_id: str
    seed: int
    rate: float
    drawn_by: str
    drawn_at: datetime
    items: list[Item] = field(default_factory=list)
    strata: list[Stratum] = field(default_factory=list)

    @property
    def population(self) -> int:
        return sum(s.population for s in self.strata)

    def by_county(self) -> list[dict[str, Any]]:
        counties: dict[str | None, dict[str, Any]] = {}
        for s in self.strata:
            c = counties.setdefault(s.county, {"county": s.county, "population": 0, "drawn": 0})
            c["population"] += s.population
            c["drawn"] += s.drawn
        return list(counties.values())

    def as_record(self) -> dict[str, Any]:
        return {
            "sample_id": self.sample_id,
            "seed": self.seed,
            "rate": self.rate,
            "drawn_by": self.drawn_by,
            "drawn_at": self.drawn_at.isoformat(),
            "population": self.population,
            "drawn": len(self.items),
            "counties": self.by_county(),
            "strata": [s.__dict__ for s in self.strata],
            "items": [i.item_id for i in self.items],
        }


def choose(items: list[Item], rate: float, seed: int) -> tuple[list[Item], list[Stratum]]:
    """The items drawn from ITEMS, and the strata they were drawn from.

    Per county: every critical item, and in all at least ceil(rate × the county's items); the places
    left after the critical ones are shared among the other severities in proportion to their size
    (largest remainders first, the graver severity on a tie).
    """
    counties: dict[str, dict[str, list[Item]]] = {}
    for item in items:
        counties.setdefault(item.county or "", {}).setdefault(item.severity, []).append(item)
    chosen: list[Item] = []
    summary: list[Stratum] = []
    for county, strata in sorted(counties.items()):
        size = sum(len(m) for m in strata.values())
        critical = len(strata.get(Severity.critical.value, []))
        places = max(math.ceil(rate * size - 1e-9), critical) - critical
        others = {s: m for s, m in strata.items() if s != Severity.critical.value}
        rest = size - critical
        quota = {s: (places * len(m)) // rest if rest else 0 for s, m in others.items()}
        order = sorted(others, key=lambda s: (-((places * len(others[s])) % rest if rest else 0), -Severity.rank_of(s)))
        for s in order[: places - sum(quota.values())]:
            quota[s] += 1
        quota[Severity.critical.value] = critical
        for severity in sorted(strata, key=lambda s: -Severity.rank_of(s)):
            members = strata[severity]
            picked = sorted(members, key=lambda i: draw_key(seed, i.item_id))[: quota[severity]]
            chosen += sorted(picked, key=lambda i: i.item_id)
            summary.append(Stratum(county or None, severity, len(members), len(picked)))
    return chosen, summary


def draw(
    engine: Engine,
    *,
    rate: float,
    seed: int,
    actor: str,
    where: ItemFilter,
    today: date | None = None,
    at: datetime | None = None,
) -> Sample:
    """Draw a spot check from the items WHERE leaves and record it in the ledger. Call inside a transaction."""
    actor = require_actor(actor)
    if not 0 < rate <= 1:
        raise UsageError(
            f"--rate {rate}: a share above 0 and at most 1, e.g. 0.3", zh=f"--rate {rate}：须大于 0 且不超过 1，如 0.3"
        )
    require_ledger(engine)
    population = find(engine, where)
    if not population:
        raise UsageError("no item to draw from: the filter leaves none", zh="没有可抽取的事项：筛选条件下没有事项")
    at = at or now()
    today = today or date.today()
    chosen, strata = choose(population, rate, seed)
    fingerprint = (
        hashlib.sha256(f"{seed}|{rate}|{at.isoformat()}|{','.join(sorted(i.item_id for i in population))}".encode())
        .hexdigest()[:6]
        .upper()
    )
    sample_id = f"CJ-{at:%Y%m%d}-{fingerprint}"
    changes = []
    for item in chosen:
        after = item.changed(samples=(*item.samples, sample_id))
        record = {"id": sample_id, "seed": seed, "rate": rate, "population": len(population)}
        changes.append(
            (
                after,
                Entry(
                    item.item_id,
                    "sample",
                    actor,
                    at,
                    today,
                    None,
                    None,
                    {"samples": list(after.samples), "sample": record},
                ),
            )
        )
    saved = commit(engine, changes)
    return Sample(sample_id, seed, rate, actor, at, saved, strata)
