"""What the provenance model assumes, in one validated place.

Yields are upper bounds, so that a balance short against them is short for
certain: a washery yields at most 85% washed coal per tonne of raw coal, a
coking plant at most 80% coke per tonne of coal (70-80% in practice); every
other facility passes coal through one for one.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

FlowMeasure = Literal["declared", "physical", "declared_else_physical"]


class ProvenanceConfig(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    yields: dict[str, float] = Field(
        default_factory=lambda: {"washery": 0.85, "coking_plant": 0.80},
        description="Output tonnes per tonne received, by facility kind; kinds not named pass 1.0.",
    )
    default_yield: float = Field(1.0, gt=0, le=1)
    flow_measure: FlowMeasure = Field(
        "declared_else_physical",
        description="Which tonnes move coal between facilities: the sales (declared), the trips "
        "(physical), or the sales where a pair has any and the trips where it has none.",
    )
    stock_window_days: int = Field(
        1, ge=0, description="A stock count this many days before the period start still opens it."
    )
    running_kinds: tuple[str, ...] = ("yard", "washery", "trader")
    min_unrecorded_facilities: int = Field(
        3,
        ge=1,
        description="When no facility of a kind received anything in the period while at least this many of "
        "them shipped coal, the data does not record that kind's inflows: their shortfalls are a data gap "
        "(`data_gap`), not unsourced coal. Fewer shippers with no inflow are judged one by one.",
    )
    tolerance_t: float = Field(
        0.5, ge=0, description="Running stock must fall below -tolerance_t to count as a breach."
    )
    max_origin_nodes: int = Field(
        256,
        ge=0,
        description="Origin facilities tracked one by one; the rest are grouped per origin class.",
    )
    min_share: float = Field(1e-4, ge=0, lt=1, description="Smaller per-origin shares are grouped per origin class.")
    direct_max_nodes: int = Field(
        5000, ge=0, description="Up to this many facilities the solve uses a sparse LU; above, iteration."
    )

    def yield_for(self, kind: str | None) -> float:
        return self.yields.get(kind or "", self.default_yield)

    def fingerprint(self) -> str:
        return hashlib.sha256(self.model_dump_json().encode()).hexdigest()[:16]
