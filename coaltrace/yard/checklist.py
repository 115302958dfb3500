"""The eight checks (八查) of the campaign plan, as data: what an inspector checks on site, by kind of site.

The plan (晋市政办函〔2021〕52号) names eight checks; which apply depends on the
site: a closed shaft is checked at a mine, intake channels at a yard or a
washery. Each check carries its words from the plan and what to do on site; the
yard page links each to the findings whose rules serve it (a rule's
`checks: {check: [...]}`). The terminal view and the HTML page both render
this list; neither keeps its own.
"""

from __future__ import annotations

from typing import Any

from coaltrace.i18n import Text

ALL_KINDS = frozenset({"mine", "washery", "coking_plant", "yard", "power_plant", "trader", "rail_station", "other"})
_RECEIVERS = frozenset({"washery", "coking_plant", "yard", "power_plant", "trader", "rail_station", "other"})
_NOT_MINES = ALL_KINDS - {"mine"}

# (check number, the plan's words, what to do on site, the kinds of site it applies to)
CHECKS: tuple[tuple[int, Text, Text, frozenset[str]], ...] = (
    (
        1,
        Text("用电是否异常", "is electricity use abnormal"),
        Text(
            "抄录电表读数，与本期产量或经营量对照；查看有无居民户、临时户承担工业负荷。",
            "read the meters and compare with the period's output or trade; look for residential or temporary "
            "accounts carrying an industrial load.",
        ),
        ALL_KINDS,
    ),
    (
        2,
        Text("煤场收货渠道是否正规", "are the yard's intake channels regular"),
        Text(
            "逐车核对下列入库单、运单、磅单与车牌、日期；核验每个供货单位的采矿许可证或经营资质；现场盘点库存，与计算期末库存比较。",
            "check the intakes listed below against waybills, weighbridge tickets, plates and dates; verify each "
            "supplier's mining licence or business permit; count the stock on site and compare it with the "
            "computed closing stock.",
        ),
        _RECEIVERS,
    ),
    (
        3,
        Text("露头煤线是否有开采迹象", "are there traces of digging at outcrop seams"),
        Text(
            "查看井田范围及周边露头煤线有无新开挖、剥离痕迹。",
            "look for fresh digging or stripping along outcrop seams in and around the licensed area.",
        ),
        frozenset({"mine"}),
    ),
    (
        4,
        Text("偏僻路段是否有车辆运煤痕迹", "are there coal-truck traces on remote roads"),
        Text(
            "查看进出场道路及周边偏僻路段有无撒煤、车辙，夜间有无运煤车辆。",
            "look for spilt coal and fresh ruts on the access roads and nearby remote roads, and for trucks at night.",
        ),
        ALL_KINDS,
    ),
    (
        5,
        Text("圈占场地内是否有机械设备和生产迹象", "is there machinery or production inside fenced sites"),
        Text(
            "查看场内有无采掘设备、新挖掘痕迹、来源不明的煤堆。",
            "look for digging machinery, fresh excavation and coal heaps of unknown origin inside the site.",
        ),
        _NOT_MINES,
    ),
    (
        6,
        Text("关闭井口是否填实填死", "are closed shafts really sealed"),
        Text(
            "逐个查看关闭、废弃井口是否填实封闭，有无重新启封、通电、出煤迹象。",
            "check every closed or abandoned shaft is filled and sealed, with no sign of reopening, power or coal.",
        ),
        frozenset({"mine"}),
    ),
    (
        7,
        Text("废弃矿井附近是否有隐蔽建筑和巷道", "are there hidden structures or tunnels near abandoned mines"),
        Text(
            "查看周边有无隐蔽建筑物、通风设施、新巷道口。",
            "look for hidden buildings, ventilation and new tunnel mouths nearby.",
        ),
        frozenset({"mine"}),
    ),
    (
        8,
        Text("重点区域是否有非法务工人员", "are there illegal workers in key areas"),
        Text("查看有无来历不明的务工人员及住宿。", "look for workers and lodgings that no employer accounts for."),
        ALL_KINDS,
    ),
)

SIGN_LINES: tuple[Text, ...] = (
    Text("检查人员（签字）", "inspector (signature)"),
    Text("检查日期", "date of inspection"),
    Text("被检查单位负责人（签字）", "person in charge of the site (signature)"),
    Text("现场盘点库存（吨）", "stock counted on site (t)"),
)


def checklist(kind: str | None, findings_by_check: dict[int, list[str]]) -> list[dict[str, Any]]:
    """The checks that apply to a site of KIND (every check when the kind is unknown), each with the
    ids of the page's findings whose rules serve it."""
    return [
        {
            "check": number,
            "title": title.as_dict(),
            "what_to_do": todo.as_dict(),
            "findings": findings_by_check.get(number, []),
        }
        for number, title, todo, kinds in CHECKS
        if kind is None or kind in kinds or kind not in ALL_KINDS
    ]


def sign_lines() -> list[dict[str, str]]:
    return [t.as_dict() for t in SIGN_LINES]
