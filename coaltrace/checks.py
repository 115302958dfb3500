"""The eight checks (八查) of the campaign plan (晋市政办函〔2021〕52号), written once.

Each check has the plan's words, what an inspector does on site, and the kinds of
site it is made at: a closed shaft is checked at a mine, intake channels where coal
is received. The yard page lists the checks that apply to a site; the ledger asks a
verification to record a result for the same checks; rules name the checks they
serve (`checks: {check: [...]}`), and a site with a finding of such a rule gets that
check too, whatever its kind.
"""

from __future__ import annotations

from typing import NamedTuple

from coaltrace.i18n import Text

# Kinds of site and of ledger subject a check can be made at. Beyond the facility kinds: a truck
# (plate), a flow between two facilities, a power account, and a place known only by coordinates.
_RECEIVERS = frozenset({"washery", "coking_plant", "yard", "other"})


class Check(NamedTuple):
    number: int
    title: Text  # the plan's words
    label: Text  # the plan's words with the check's number, as a label
    what_to_do: Text
    kinds: frozenset[str]


CHECKS: tuple[Check, ...] = (
    Check(
        1,
        Text("企业和个人用电是否异常", "is electricity use by businesses and households abnormal"),
        Text("一查用电是否异常", "1: abnormal electricity use"),
        Text(
            "抄录电表读数，与本期产量或经营量对照；查看有无居民户、临时户承担工业负荷。",
            "read the meters and compare with the period's output or trade; look for residential or temporary "
            "accounts carrying an industrial load.",
        ),
        frozenset({"mine", "power_account", "place"}) | _RECEIVERS,
    ),
    Check(
        2,
        Text("煤场收货渠道是否正规", "are the yard's intake channels regular"),
        Text("二查煤场收货渠道是否正规", "2: are intake channels regular"),
        Text(
            "逐车核对入库单、运单、磅单与车牌、日期；核验每个供货单位的采矿许可证或经营资质；现场盘点库存，与计算期末库存比较。",
            "check the intakes against waybills, weighbridge tickets, plates and dates; verify each supplier's "
            "mining licence or business permit; count the stock on site and compare it with the computed "
            "closing stock.",
        ),
        frozenset({"trader", "power_plant", "rail_station", "flow", "place"}) | _RECEIVERS,
    ),
    Check(
        3,
        Text("易发区露头煤线是否有开采迹象", "are there traces of digging at outcrop seams"),
        Text("三查露头煤线是否有开采迹象", "3: digging at outcrop seams"),
        Text(
            "查看井田范围及周边露头煤线有无新开挖、剥离痕迹。",
            "look for fresh digging or stripping along outcrop seams in and around the licensed area.",
        ),
        frozenset({"mine", "other", "place"}),
    ),
    Check(
        4,
        Text("偏僻路段是否有车辆运煤痕迹", "are there coal-truck traces on remote roads"),
        Text("四查偏僻路段是否有车辆运煤痕迹", "4: coal trucks on remote roads"),
        Text(
            "查看进出场道路及周边偏僻路段有无撒煤、车辙，夜间有无运煤车辆。",
            "look for spilt coal and fresh ruts on the access roads and nearby remote roads, and for trucks at night.",
        ),
        frozenset({"mine", "rail_station", "plate", "flow", "place"}) | _RECEIVERS,
    ),
    Check(
        5,
        Text("圈占场地内是否有机械设备和生产迹象", "is there machinery or production inside fenced sites"),
        Text("五查圈占场地内是否有机械设备和生产迹象", "5: machinery or production in fenced sites"),
        Text(
            "查看场内有无采掘设备、新挖掘痕迹、来源不明的煤堆。",
            "look for digging machinery, fresh excavation and coal heaps of unknown origin inside the site.",
        ),
        frozenset({"mine", "power_account", "place"}) | _RECEIVERS,
    ),
    Check(
        6,
        Text("关闭井口是否填实填死", "are closed shafts really sealed"),
        Text("六查关闭井口是否填实填死", "6: closed shafts sealed"),
        Text(
            "逐个查看关闭、废弃井口是否填实封闭，有无重新启封、通电、出煤迹象。",
            "check every closed or abandoned shaft is filled and sealed, with no sign of reopening, power or coal.",
        ),
        frozenset({"mine", "place"}),
    ),
    Check(
        7,
        Text(
            "废弃矿井周边是否有遮挡构筑物或暗道暗口",
            "are there screening structures or hidden tunnels near abandoned mines",
        ),
        Text("七查废弃矿井周边是否有遮挡构筑物或暗道暗口", "7: hidden structures or tunnels near abandoned mines"),
        Text(
            "查看周边有无遮挡构筑物、通风设施、新巷道口。",
            "look for screening structures, ventilation and new tunnel mouths nearby.",
        ),
        frozenset({"mine", "place"}),
    ),
    Check(
        8,
        Text("重点区域范围内是否有非法务工人员", "are there illegal workers in key areas"),
        Text("八查重点区域范围内是否有非法务工人员", "8: illegal workers in key areas"),
        Text("查看有无来历不明的务工人员及住宿。", "look for workers and lodgings that no employer accounts for."),
        frozenset({"mine", "place"}) | _RECEIVERS,
    ),
)

BY_NUMBER = {c.number: c for c in CHECKS}


def applicable(kind: str | None, rule_checks: tuple[int, ...] | list[int] = ()) -> tuple[int, ...]:
    """The checks made at a site (or ledger subject) of KIND, plus RULE_CHECKS: those the rules of its
    findings serve. A kind nobody knows, or none, is a place: every check."""
    kind = kind if any(kind in c.kinds for c in CHECKS) else "place"
    return tuple(sorted({c.number for c in CHECKS if kind in c.kinds} | {int(n) for n in rule_checks}))
