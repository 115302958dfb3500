"""One label table: every coded value a person reads has a Chinese and an English label."""

from __future__ import annotations

import pytest

from coaltrace.contract.values import FacilityKind
from coaltrace.graph.nodes import LICENCE_STATES
from coaltrace.labels import LABELS, label, parse
from coaltrace.provenance.solve import CLASSES
from coaltrace.rules.model import Entity, TonnesRole
from coaltrace.severity import Severity


@pytest.mark.parametrize(
    ("family", "codes"),
    [
        ("severity", [s.value for s in Severity]),
        ("facility_kind", [k.value for k in FacilityKind]),
        ("licence_state", list(LICENCE_STATES)),
        ("origin_class", list(CLASSES)),
        ("entity", [e.value for e in Entity]),
        ("tonnes_role", [r.value for r in TonnesRole]),
    ],
)
def test_every_code_has_both_labels(family: str, codes: list[str]) -> None:
    assert set(codes) <= set(LABELS[family])
    for code in codes:
        zh, en = label(family, code, "zh"), label(family, code, "en")
        assert zh and en and zh != code or code == en


def test_labels_read_back_and_unknown_codes_show_as_they_are() -> None:
    assert label("facility_kind", "yard", "zh") == "煤场" and label("severity", "high", "zh") == "高"
    assert parse("severity", "高") == "high" and parse("facility_kind", "Coal Yard") == "yard"
    assert label("licence_state", "from_a_newer_version", "zh") == "from_a_newer_version"
    with pytest.raises(ValueError):
        parse("severity", "urgent")
