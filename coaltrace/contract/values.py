"""Enumerated values of the contract: canonical code, and the words offices use for it.

Each enum member's value is the canonical code stored in the database; LABELS
gives its zh-CN and English label; SYNONYMS lists every spelling the loader
accepts for it (compared after NFKC, lower-casing and removing spaces).
"""

from __future__ import annotations

from enum import StrEnum


class FacilityKind(StrEnum):
    mine = "mine"
    washery = "washery"
    coking_plant = "coking_plant"
    yard = "yard"
    power_plant = "power_plant"
    trader = "trader"
    rail_station = "rail_station"
    other = "other"


class FacilityStatus(StrEnum):
    active = "active"
    suspended = "suspended"
    closed = "closed"
    revoked = "revoked"


class LicenceType(StrEnum):
    mining = "mining"
    business = "business"


class Product(StrEnum):
    raw = "raw"
    washed = "washed"
    mixed = "mixed"
    coke = "coke"
    other = "other"


class AccountType(StrEnum):
    residential = "residential"
    industrial = "industrial"
    commercial = "commercial"
    agricultural = "agricultural"


class ZoneKind(StrEnum):
    closed_mine = "closed_mine"
    outcrop = "outcrop"
    remote_road = "remote_road"
    protected = "protected"


# canonical code -> (zh label, en label, other accepted spellings)
_WORDS: dict[type[StrEnum], dict[str, tuple[str, str, tuple[str, ...]]]] = {
    FacilityKind: {
        "mine": ("煤矿", "coal mine", ("矿井", "煤矿企业")),
        "washery": ("洗煤厂", "washery", ("洗煤", "选煤厂")),
        "coking_plant": ("焦化厂", "coking plant", ("焦化", "coking")),
        "yard": ("煤场", "coal yard", ("储煤场", "储煤厂", "煤厂", "堆场")),
        "power_plant": ("电厂", "power plant", ("发电厂", "火电厂")),
        "trader": ("贸易商", "trader", ("贸易公司", "煤炭贸易", "经销商")),
        "rail_station": ("集运站", "rail loading station", ("发运站", "铁路发运站", "集运站台")),
        "other": ("其他", "other", ("其它",)),
    },
    FacilityStatus: {
        "active": ("正常", "active", ("生产", "正常生产", "在产", "operating")),
        "suspended": ("停产", "suspended", ("停业", "停产整顿", "停工")),
        "closed": ("关闭", "closed", ("已关闭", "关停", "闭坑")),
        "revoked": ("吊销", "revoked", ("注销", "已吊销", "已注销")),
    },
    LicenceType: {
        "mining": ("采矿许可证", "mining licence", ("采矿证", "采矿许可", "mining license")),
        "business": ("经营许可", "business permit", ("营业执照", "经营许可证", "煤炭经营许可证")),
    },
    Product: {
        "raw": ("原煤", "raw coal", ()),
        "washed": ("精煤", "washed coal", ("洗精煤", "洗煤")),
        "mixed": ("混煤", "mixed coal", ("洗混煤", "中煤")),
        "coke": ("焦炭", "coke", ()),
        "other": ("其他", "other", ("其它", "煤矸石")),
    },
    AccountType: {
        "residential": ("居民", "residential", ("居民生活", "城乡居民")),
        "industrial": ("工业", "industrial", ("大工业", "一般工商业", "普通工业")),
        "commercial": ("商业", "commercial", ("商业用电",)),
        "agricultural": ("农业", "agricultural", ("农业生产", "农排")),
    },
    ZoneKind: {
        "closed_mine": ("关闭矿井", "closed mine", ("废弃矿井", "关闭煤矿")),
        "outcrop": ("露头煤", "outcrop", ("露头", "煤层露头", "露头煤线")),
        "remote_road": ("偏僻路段", "remote road", ("偏远路段",)),
        "protected": ("保护区", "protected area", ()),
    },
}


def words(enum: type[StrEnum]) -> dict[str, tuple[str, str, tuple[str, ...]]]:
    """canonical code -> (zh label, en label, other accepted spellings)."""
    return _WORDS[enum]


def label(value: StrEnum, lang: str) -> str:
    zh, en, _ = _WORDS[type(value)][value.value]
    return zh if lang == "zh" else en


def synonyms(enum: type[StrEnum]) -> dict[str, str]:
    """Every accepted spelling (already folded) -> canonical code."""
    from coaltrace.contract.text import fold

    out: dict[str, str] = {}
    for code, (zh, en, others) in _WORDS[enum].items():
        for word in (code, zh, en, *others):
            out[fold(word)] = code
    return out
