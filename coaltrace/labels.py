"""One label table: every coded value a person reads, in Chinese and English.

Reports, exports, the yard page and the terminal show a facility kind, a
severity, a licence state, an origin class, a rule status... through `label`,
never as the code, so Chinese mode is Chinese everywhere. The contract's enums
keep their words in `coaltrace.contract.values` (where the loader also learns
the synonyms it accepts); the severities in `coaltrace.severity`; the rest is
here. `parse` reads a label back (`高` → `high`), for options a person types.
"""

from __future__ import annotations

from enum import StrEnum

from coaltrace.contract.tables import TABLES
from coaltrace.contract.values import (
    AccountType,
    FacilityKind,
    FacilityStatus,
    LicenceType,
    Product,
    ZoneKind,
    words,
)
from coaltrace.i18n import Text
from coaltrace.severity import Severity

_OWN: dict[str, dict[str, Text]] = {
    "licence_state": {
        "valid": Text("有效", "valid"),
        "none": Text("无证", "no licence"),
        "expired": Text("已过期", "expired"),
        "not_yet_valid": Text("尚未生效", "not yet valid"),
        "closed": Text("已关闭", "closed"),
        "suspended": Text("停产", "suspended"),
        "revoked": Text("已吊销", "revoked"),
    },
    "origin_class": {
        "licensed": Text("合法产量", "licensed production"),
        "over_capacity": Text("超能力生产", "over capacity"),
        "unlicensed": Text("无证/关停生产", "unlicensed production"),
        "unsourced": Text("无来源", "unsourced"),
        "data_gap": Text("数据缺口（未判断）", "data gap (not judged)"),
        "opening_stock": Text("期初库存", "opening stock"),
    },
    "entity": {
        "facility": Text("单位", "facility"),
        "trip": Text("车次", "trip"),
        "intake": Text("入库", "intake"),
        "sale": Text("销售", "sale"),
        "power_account": Text("用电户", "power account"),
        "plate": Text("车牌", "plate"),
        "flow": Text("流向", "flow"),
    },
    "tonnes_role": {
        "origin": Text("源头（计入总量）", "origin (counted)"),
        "carried": Text("携带（不重复计）", "carried (not added)"),
        "records": Text("记录（不计入）", "on records (not added)"),
        "none": Text("无", "none"),
    },
    "rule_status": {
        "ran": Text("已运行", "ran"),
        "no_data": Text("无数据未运行", "no data"),
        "disabled": Text("已停用", "disabled"),
    },
    "rule_release": {
        "stable": Text("正式", "stable"),
        "experimental": Text("试行", "experimental"),
    },
    "policy": {
        "proportional": Text("按比例混合", "proportional"),
        "taint": Text("混入即污染", "taint"),
        "both": Text("两者对照", "both"),
    },
    "direction": {"in": Text("进", "in"), "out": Text("出", "out")},
}

_CONTRACT: dict[str, type[StrEnum]] = {
    "facility_kind": FacilityKind,
    "facility_status": FacilityStatus,
    "licence_type": LicenceType,
    "product": Product,
    "account_type": AccountType,
    "zone_kind": ZoneKind,
}


def _table() -> dict[str, dict[str, Text]]:
    out = {
        family: {code: Text(zh, en) for code, (zh, en, _) in words(enum).items()} for family, enum in _CONTRACT.items()
    }
    out["severity"] = {s.value: s.label for s in Severity}
    out["table"] = {name: Text(t.zh, name) for name, t in TABLES.items()}
    return out | _OWN


LABELS: dict[str, dict[str, Text]] = _table()


def label(family: str, code: str | None, lang: str) -> str:
    """The label of CODE in FAMILY (e.g. `label("facility_kind", "yard", "zh")` is 煤场); the code itself
    when the family does not know it (data from a newer version), and "" for None."""
    if code is None:
        return ""
    text = LABELS[family].get(code)
    return text.say(lang) if text is not None else code


def parse(family: str, text: str) -> str:
    """The code a person means by TEXT: the code, or its label in either language; ValueError otherwise."""
    word = text.strip().lower()
    for code, t in LABELS[family].items():
        if word in (code, t.zh, t.en.lower()):
            return code
    raise ValueError(text)
