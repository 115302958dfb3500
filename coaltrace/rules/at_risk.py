"""The provenance classes of coal at risk, as the headline counts them.

Apart from the rule model (`coaltrace.rules.model`, which uses it) so that what counts the
tonnes at risk, the inspector's page among them, need not build pydantic's model of a rule.
"""

from __future__ import annotations

from enum import StrEnum


class OriginClass(StrEnum):
    """The provenance classes of coal at risk, as the headline counts them."""

    unlicensed = "unlicensed"
    over_capacity = "over_capacity"
    unsourced = "unsourced"
