"""Numbers as they were measured: tonnes to the kilogram, shares to a millionth.

A weighbridge weighs to 0.001 t (a kilogram, or ten, on the big ones); anything
finer in an output is float noise (`3297621.0659999996`) that an auditor cannot
sign. Every figure leaves coaltrace through `decimals_for`, by the name of the
field that holds it, so JSON, CSV, tables and reports agree.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, TypeVar, cast

T = TypeVar("T")

TONNES_DECIMALS = 3
SHARE_DECIMALS = 6
DEGREE_DECIMALS = 6  # about 0.1 m: a GPS fix keeps what it measured

_DEGREES = ("lat", "lon", "latitude", "longitude")


def decimals_for(name: str) -> int:
    """How many decimals a field of this name keeps."""
    key = name.lower()
    if key.endswith("share") or key.endswith("_ratio"):
        return SHARE_DECIMALS
    if key in _DEGREES or key.endswith(("_lat", "_lon")):
        return DEGREE_DECIMALS
    return TONNES_DECIMALS


def round_to(value: float, decimals: int) -> float:
    rounded = round(value, decimals)
    return 0.0 if rounded == 0 else rounded  # no "-0.0" in a report


def tidy(data: T, name: str = "") -> T:
    """DATA with every float rounded for the field that holds it; dicts and lists walked (tuples become lists)."""
    return cast(T, _tidy(data, name))


def _tidy(data: Any, name: str) -> Any:
    if isinstance(data, bool) or data is None:
        return data
    if isinstance(data, float):
        return data if not math.isfinite(data) else round_to(data, decimals_for(name))
    if isinstance(data, Mapping):
        return {k: _tidy(v, str(k)) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [_tidy(v, name) for v in data]
    return data
