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

from coaltrace.checks import CHECKS
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
        "place": Text("地点", "place"),  # a ledger item known only by its coordinates
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
    # The problem ledger (coaltrace.ledger): an item's status, where the problem came from, its type in the
    # ledger's words, the eight checks (八查) of a field verification and what each found.
    "ledger_status": {
        "open": Text("待交办", "open"),
        "assigned": Text("已交办", "assigned"),
        "rectifying": Text("整改中", "rectifying"),
        "verified": Text("已核查", "verified"),
        "closed": Text("已销号", "closed"),
        "dismissed": Text("已排除（误报）", "dismissed"),
        "reopened": Text("重新打开", "reopened"),
    },
    "ledger_source": {
        "audit": Text("数据审计", "data audit"),
        "tip_off": Text("群众举报", "public tip-off"),
        "media": Text("媒体曝光", "media report"),
        "satellite": Text("卫片执法", "satellite imagery"),
        "inspection": Text("上级督察", "higher-level inspection"),
        "patrol": Text("日常巡查", "routine patrol"),
        "instruction": Text("领导批办", "leader's instruction"),
    },
    "ledger_problem": {
        "unlicensed_mining": Text("无证开采（无有效采矿许可证生产销售）", "mining or selling without a valid licence"),
        "closed_mine_mining": Text("关闭（停产）矿井违法生产", "closed or shut mine producing"),
        "over_capacity": Text("超能力生产", "production over approved capacity"),
        "covert_mining": Text(
            "以洗煤厂、焦化厂、煤场等为掩护的无来源煤炭", "coal with no source at a washery, plant or yard"
        ),
        "irregular_intake": Text("煤场收货渠道不正规", "coal taken in through irregular channels"),
        "abnormal_power": Text("用电异常", "abnormal electricity use"),
        "transport_anomaly": Text("运煤车辆异常", "abnormal coal transport"),
        "outcrop_mining": Text("露头煤开采迹象", "signs of digging at an outcrop"),
        "closed_facility_operating": Text("关停单位违规经营", "closed business still trading"),
        "data_quality": Text("数据质量问题", "data quality"),
        "illegal_mining": Text("私挖盗采", "illegal digging"),
        "unsealed_shaft": Text("关闭井口未填实", "closed shaft not sealed"),
        "other": Text("其他", "other"),
    },
    "field_check": {str(c.number): c.label for c in CHECKS},
    "check_result": {
        "clear": Text("未发现问题", "nothing found"),
        "found": Text("发现问题", "problem found"),
        "not_done": Text("未查", "not done"),
    },
    "ledger_field": {
        "status": Text("整改状态", "status"),
        "problem_type": Text("问题类型", "problem type"),
        "severity": Text("级别", "severity"),
        "source": Text("问题来源", "source"),
        "subject_kind": Text("对象类型", "subject kind"),
        "subject_id": Text("对象", "subject"),
        "found_by": Text("发现人", "found by"),
        "found_on": Text("发现时间", "found on"),
        "deadline": Text("整改时限", "deadline"),
        "county": Text("县区", "county"),
        "facility_id": Text("单位编码", "facility id"),
        "facility_name": Text("单位名称", "facility name"),
        "facility_kind": Text("单位类型", "facility kind"),
        "lat": Text("纬度", "latitude"),
        "lon": Text("经度", "longitude"),
        "description": Text("问题描述", "description"),
        "unit": Text("责任单位", "responsible unit"),
        "owner": Text("责任人", "responsible person"),
        "requirement": Text("整改要求", "requirement"),
        "signer": Text("核查人", "signer"),
        "closed_on": Text("销号时间", "closed on"),
        "note": Text("备注", "note"),
        "recurrences": Text("复发次数", "recurrences"),
        "periods": Text("期间", "periods"),
        "rule_ids": Text("规则", "rules"),
        "checks_applicable": Text("适用的八查", "checks that apply"),
        "field_checks": Text("现场核查", "field checks"),
        "samples": Text("市级抽查", "spot checks"),
        "lookbacks": Text("回头看", "look-backs"),
        "sample": Text("抽查记录", "spot check record"),
        "lookback": Text("回头看所见", "what the look-back saw"),
    },
    "ledger_action": {
        "create": Text("登记", "registered"),
        "attach": Text("追加证据", "evidence added"),
        "update": Text("更新", "updated"),
        "status": Text("状态变更", "status changed"),
        "recur": Text("复发重新打开", "recurred, reopened"),
        "sample": Text("市级抽查抽中", "drawn for a city spot check"),
    },
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
