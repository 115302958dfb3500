"""The ledger commands' words: every message and table heading they print, in Chinese and English.

`MESSAGES` is the catalogue; `t(key, ...)` says one entry in the language of the run
(`--lang`), and `sep()` is the list separator of that language. Words only: the
commands that print them live in items.py, lifecycle.py and review.py.
"""

from __future__ import annotations

from coaltrace.cli.common import state
from coaltrace.i18n import catalogue, say

MESSAGES = catalogue(
    {
        "item": ("编号", "item"),
        "finding": ("问题编号", "finding"),
        "county": ("县区", "county"),
        "facility": ("单位/地点", "facility or place"),
        "problem": ("问题类型", "problem"),
        "source": ("来源", "source"),
        "severity": ("级别", "severity"),
        "status": ("状态", "status"),
        "deadline": ("整改时限", "deadline"),
        "owner": ("责任人", "owner"),
        "unit": ("责任单位", "unit"),
        "tonnes": ("涉险吨数", "t at risk"),
        "recur": ("复发", "recurred"),
        "overdue_mark": ("（逾期）", " (overdue)"),
        "empty": ("台账中没有符合条件的事项。", "No ledger item matches."),
        "total": ("共 {n} 项；{by_status}", "{n} item(s); {by_status}"),
        "description": ("问题描述", "description"),
        "requirement": ("整改要求", "rectification required"),
        "found": ("发现", "found"),
        "periods": ("期间", "periods"),
        "signer": ("核查人", "signed by"),
        "closed_on": ("销号时间", "closed on"),
        "checks": ("现场核查", "field checks"),
        "applicable": ("适用的八查", "checks that apply"),
        "note": ("备注", "note"),
        "samples": ("市级抽查", "spot checks"),
        "lookbacks": ("回头看", "look-backs"),
        "seen": ("回头看所见", "activity seen"),
        "version": ("版本", "version"),
        "findings": ("问题线索（{n}）", "findings ({n})"),
        "history": ("变更记录（{n}）", "history ({n})"),
        "evidence": ("证据（文件:行）", "evidence (file:line)"),
        "more_findings": ("……另有 {n} 条（--json 可查看全部）", "... and {n} more (--json shows them all)"),
        "rule": ("规则", "rule"),
        "period": ("期间", "period"),
        "entity": ("对象", "entity"),
        "at": ("时间", "at"),
        "on": ("生效日", "on"),
        "actor": ("操作人", "by"),
        "action": ("操作", "action"),
        "move": ("状态", "status"),
        "changed": ("变更内容", "changed"),
        "added": (
            "已登记线索 {item}（{source}，{county}），整改时限 {deadline}",
            "registered lead {item} ({source}, {county}), deadline {deadline}",
        ),
        "related": ("该地点已有未销号事项：{items}", "open items at the same place: {items}"),
        "updated": ("事项 {item}：{what}（版本 {version}）", "item {item}: {what} (version {version})"),
        "moved": ("{from_} → {to}", "{from_} → {to}"),
        "fields_changed": ("更新 {fields}", "updated {fields}"),
        "sampled": (
            "抽样 {sample}：{population} 项中抽取 {drawn} 项（种子 {seed}，比例 {rate:.0%}），已记入台账",
            "sample {sample}: {drawn} of {population} items drawn (seed {seed}, rate {rate:.0%}), recorded in the ledger",
        ),
        "sample_county": ("  {county}：{population} 项中抽取 {drawn} 项", "  {county}: {drawn} of {population}"),
        "written": ("已写出：{paths}", "written: {paths}"),
        "lookback_none": (
            "回头看 {period}：{closed_before} 及之前销号的 {n} 项中，没有发现复产迹象。",
            "look-back {period}: none of the {n} item(s) closed on or before {closed_before} shows activity again.",
        ),
        "lookback_found": (
            "回头看 {period}：{closed_before} 及之前销号的 {n} 项中，{k} 项有复产迹象：",
            "look-back {period}: {k} of the {n} item(s) closed on or before {closed_before} show activity again:",
        ),
        "lookback_no_records": (
            "注意：{period} 没有销售、运输、入库或用电记录，回头看无从判断。",
            "note: {period} has no sale, trip, intake or power record; the look-back could see nothing.",
        ),
        "lookback_reopened": ("已重新打开 {n} 项。", "reopened {n} item(s)."),
        "lookback_hint": ("如需重新打开，请加 --reopen --as 姓名。", "To reopen them, add --reopen --as NAME."),
        "lookback_note": ("回头看 {period}：{activity}", "look-back {period}: {activity}"),
        "activity": (
            "问题 {findings} 条，销售 {sales} 笔 {tonnes:,.3f} 吨，运输 {trips} 车次，入库 {intakes} 笔，用电 {kwh:,.0f} 千瓦时",
            "{findings} finding(s), {sales} sale(s) of {tonnes:,.3f} t, {trips} trip(s), {intakes} intake(s), {kwh:,.0f} kWh",
        ),
        "closed": ("销号", "closed"),
        "exported": (
            "已导出 {n} 项到 {path}（数据库 {db}；历史链末端 {head}）",
            "exported {n} item(s) to {path} (database {db}; history head {head})",
        ),
        "imported": (
            "{path}：{rows} 行，{applied} 项已更新，{unchanged} 项未修改",
            "{path}: {rows} row(s), {applied} item(s) updated, {unchanged} unchanged",
        ),
        "dry_run": ("（试运行：未写入台账）", "(dry run: nothing written)"),
        "import_line": ("  第 {line} 行 {item}：{what}", "  line {line} {item}: {what}"),
        "verified_ok": (
            "台账历史完好：{n} 条记录，链条、证据和事项均一致。末端哈希 {head}",
            "the ledger's history is intact: {n} entries; chain, evidence and items agree. head {head}",
        ),
        "verified_bad": ("台账历史被改动过：", "the ledger's history was altered:"),
        "no_ledger": ("该数据库中还没有问题台账。", "This database has no ledger yet."),
    }
)


def t(key: str, **kw: object) -> str:
    return say(MESSAGES, key, state.lang, **kw)


def sep() -> str:
    return "；" if state.lang == "zh" else "; "
