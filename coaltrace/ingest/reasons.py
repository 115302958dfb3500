"""Why a row went to quarantine, and why a file or sheet was not read: each code once, in two languages.

The loader writes the codes (the quarantine's `reason` column, the load summary's
`skipped` list); the CLI and the docs show the labels. Plain Python, so the CLI
imports it without pulling in Polars.
"""

from __future__ import annotations

from coaltrace.i18n import Text, catalogue

# Quarantine reason code -> (zh, en).
QUARANTINE_REASONS: dict[str, Text] = catalogue(
    {
        "missing_value": ("缺少必填值", "missing required value"),
        "not_a_number": ("不是数字", "not a number"),
        "bad_separator": ("千位分隔符位置不对", "thousands separator in the wrong place"),
        "not_a_date": ("不是日期", "not a date"),
        "not_a_time": ("不是时间", "not a time"),
        "not_a_month": ("不是月份", "not a month"),
        "out_of_range": ("超出可能的范围", "outside what is possible"),
        "unknown_value": ("未知取值", "unknown value"),
        "unknown_unit": ("未知单位", "unknown unit"),
        "extra_cells": ("表头之外还有单元格（可能错位）", "cells beyond the header (the row may be shifted)"),
    }
)

# Why a file of a folder, or a sheet of a workbook, was not read -> (zh, en).
SKIP_REASONS: dict[str, Text] = catalogue(
    {
        "unsupported_type": ("不支持的文件类型", "not a file type coaltrace reads"),
        "archive": ("压缩包：请先解压", "an archive: unpack it first"),
        "hidden": ("隐藏文件", "a hidden file"),
        "lock_file": ("Office 临时锁定文件", "an Office lock file"),
        "link_loop": ("指向已读取文件夹的链接", "a link to a folder already read"),
        "unreadable_folder": ("无法读取的文件夹", "a folder that cannot be read"),
        "broken_link": ("链接指向不存在的文件", "a link to nothing"),
        "empty_sheet": ("空工作表", "an empty sheet"),
        "fits_no_table": ("表头与任何数据表都不符（说明页？）", "its header fits no table (a sheet of notes?)"),
        "other_sheet": ("未用 --sheet 选中", "not the sheet named with --sheet"),
    }
)
