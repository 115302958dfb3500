"""Write the month the way offices send it: split files, Chinese headers, GB18030, BOMs,
mixed date styles, thousands separators, full-width digits, kilograms, Excel serial
dates, an export sent twice, and a handful of unreadable rows.

Every unreadable row is recorded in `Output.quarantine` with the line it lands
on (in CSV and Excel the header is line 1; Parquet rows count from 1), so the
loader can be checked against it.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from coaltrace.export import spreadsheet_frame
from coaltrace.sample.records import to_time
from coaltrace.sample.world import DECEMBER, MonthSpec

PRODUCT_ZH = {"raw": "原煤", "washed": "洗精煤", "mixed": "混煤", "coke": "焦炭", "other": "其他"}
KIND_ZH = {
    "mine": "煤矿",
    "washery": "洗煤厂",
    "coking_plant": "焦化厂",
    "yard": "储煤场",
    "power_plant": "电厂",
    "trader": "贸易公司",
    "rail_station": "集运站",
    "other": "其他",
}
STATUS_ZH = {"active": "正常", "suspended": "停产", "closed": "关闭", "revoked": "吊销"}
ACCOUNT_ZH = {"residential": "居民", "industrial": "大工业", "commercial": "商业", "agricultural": "农业"}
ZONE_ZH = {"closed_mine": "关闭矿井", "outcrop": "露头煤", "remote_road": "偏僻路段", "protected": "保护区"}
FULL_WIDTH = dict(zip("0123456789.", "０１２３４５６７８９．", strict=True))
XLSX_ROW_LIMIT = 60_000  # openpyxl writes ~50k rows a second; larger county files go to CSV


@dataclass
class Output:
    root: Path
    files: dict[str, list[str]] = field(default_factory=dict)
    rows: dict[str, int] = field(default_factory=dict)
    quarantine: list[dict[str, Any]] = field(default_factory=list)

    def path(self, table: str, rel: str, n_rows: int) -> Path:
        self.files.setdefault(table, []).append(rel)
        self.rows[table] = self.rows.get(table, 0) + n_rows
        p = self.root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        return p

    def bad_row(self, rel: str, line: int, column: str, reason: str) -> None:
        self.quarantine.append({"file": rel, "line": line, "column": column, "reason": reason})


def write_csv(path: Path, df: pl.DataFrame, encoding: str) -> None:
    # One encode call per file: polars builds the text, Python's codec re-encodes it.
    path.write_bytes(spreadsheet_frame(df).write_csv().encode(encoding))


def date_style(ts: pl.Expr, style: str) -> pl.Expr:
    d, m, y = ts.dt.day().cast(pl.String), ts.dt.month().cast(pl.String), ts.dt.year().cast(pl.String)
    return {
        "slash": pl.format("{}/{}/{}", y, m, d),
        "zh": pl.format("{}年{}月{}日", y, m, d),
        "compact": ts.dt.strftime("%Y%m%d"),
        "iso_time": ts.dt.strftime("%Y-%m-%d %H:%M"),
    }[style]


def thousands(x: pl.Expr) -> pl.Expr:
    """1234.5 -> '1,234.50' (sales never reach a million tonnes)."""
    cents = (x.abs() * 100).round(0).cast(pl.Int64)
    whole, frac = cents // 100, (cents % 100).cast(pl.String).str.pad_start(2, "0")
    sign = pl.when(x < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    body = (
        pl.when(whole >= 1000)
        .then(pl.format("{},{}", whole // 1000, (whole % 1000).cast(pl.String).str.pad_start(3, "0")))
        .otherwise(whole.cast(pl.String))
    )
    return pl.format("{}{}.{}", sign, body, frac)


def full_width(s: pl.Expr) -> pl.Expr:
    return s.str.replace_many(list(FULL_WIDTH), list(FULL_WIDTH.values()))


_VILLAGES = ("东沟村", "西岭村", "南庄村", "北坪村", "河底村", "下村", "上庄村", "石门村", "杨家岭村", "马沟村")


def _contact(facility_id: str, county: str | None) -> tuple[str, str]:
    """An address and a phone number for a facility, the same on every run, without drawing from the generator
    (which would change every later draw, and so the whole month)."""
    n = zlib.crc32(facility_id.encode())
    village = _VILLAGES[n % len(_VILLAGES)]
    return f"山西省晋城市{county or ''}{village}{n % 97 + 1}号", f"0356-{2000000 + n % 7999999}"


def write_facilities(out: Output, fac: pl.DataFrame, rng: np.random.Generator) -> None:
    from openpyxl import Workbook

    rel = "facilities.xlsx"
    rows = fac.select("facility_id", "name", "kind", "uscc", "county", "lat", "lon", "status", "status_since").rows()
    reps = [
        str(rng.choice(list("王李张刘陈杨赵郭")))
        + str(rng.choice(list("建国军伟强明海平志红文华")))
        + str(rng.choice(list("军华明亮峰刚勇斌")))
        for _ in rows
    ]
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("单位名录")
    ws.append(
        [
            "单位编码",
            "单位名称",
            "单位类型",
            "统一社会信用代码",
            "所属县区",
            "纬度",
            "经度",
            "状态",
            "状态日期",
            "法定代表人",
            "单位地址",
            "联系电话",
            "备注",
        ]
    )
    bad_at = len(rows) // 2
    for i, (r, rep) in enumerate(zip(rows, reps, strict=True)):
        if i == bad_at:
            # A kind no office list knows: the loader must quarantine this row.
            ws.append(
                [
                    "140525QT9001",
                    "泽州县某村小煤窑",
                    "煤窑",
                    None,
                    "泽州县",
                    35.41,
                    112.83,
                    "正常",
                    date(2020, 5, 1),
                    "李某",
                    "泽州县某村",
                    None,
                    None,
                ]
            )
            out.bad_row(rel, i + 2, "kind", "unknown_value")
        fid, name, kind, code, county, lat, lon, status, since = r
        ws.append(
            [
                fid,
                name,
                KIND_ZH[kind],
                code,
                county,
                round(lat, 6),
                round(lon, 6),
                STATUS_ZH[status],
                since,
                rep,
                *_contact(fid, county),
                "年检合格" if i % 7 == 0 else None,
            ]
        )
    notes = wb.create_sheet("填表说明")
    for line in (
        "单位类型：煤矿、洗煤厂、焦化厂、储煤场、电厂、贸易公司、集运站、其他。",
        "状态：正常、停产、关闭、吊销；状态日期为最近一次状态变更日期。",
        "坐标为 WGS-84 经纬度。",
        "煤矿名称与位置来源：Global Energy Monitor, Global Coal Mine Tracker (CC BY 4.0)。",
    ):
        notes.append([line])
    path = out.path("facilities", rel, len(rows) + 1)
    wb.save(path)


def write_licences(out: Output, lic: pl.DataFrame) -> None:
    rel = "licences.csv"
    n = lic.height
    alt = pl.int_range(pl.len()) % 3 == 0
    df = lic.select(
        pl.col("licence_id").alias("许可证号"),
        pl.col("facility_id").alias("单位编码"),
        pl.col("licence_type").replace_strict({"mining": "采矿许可证", "business": "经营许可证"}).alias("许可证类型"),
        pl.col("mineral").alias("开采矿种"),
        pl.when(alt)
        .then(date_style(pl.col("valid_from"), "zh"))
        .otherwise(pl.col("valid_from").cast(pl.String))
        .alias("有效期起"),
        pl.when(alt)
        .then(date_style(pl.col("valid_to"), "zh"))
        .otherwise(pl.col("valid_to").cast(pl.String))
        .alias("有效期止"),
        (pl.col("capacity_tpa") / 10_000).round(2).alias("核定生产能力（万吨/年）"),
    )
    write_csv(out.path("licences", rel, n), df, "gb18030")


SALES_STYLES = (
    (
        "utf-8-sig",
        "slash",
        [" 销售单号", "销售日期 ", "销售单位编码", "购买单位编码", "煤种", "销售数量（吨）", "运单号", "发票号码"],
    ),
    ("gb18030", "zh", ["单号", "日期", "发货单位编码", "收货单位编码", " 品种 ", "数量（吨）", "运单号", "发票号"]),
    (
        "utf-8-sig",
        "compact",
        ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "煤种", "净重（吨）", " 运单号", "发票号码"],
    ),
    (
        "gb18030",
        "iso_time",
        ["销售单号", "销售时间", "销售单位编码", "购买单位编码", "煤种", "销售数量", "运单号", "发票号码"],
    ),
)


def write_sales(
    out: Output, sales: pl.DataFrame, region: np.ndarray, spec: MonthSpec = DECEMBER, *, junk: bool = True
) -> None:
    df = sales.with_columns(
        pl.Series("region", region[sales["seller"].to_numpy()]), to_time(pl.col("first_dep"), spec.epoch).alias("ts")
    )
    for k, (name, part) in enumerate(sorted(df.partition_by("region", as_dict=True).items())):
        encoding, style, headers = SALES_STYLES[k % len(SALES_STYLES)]
        part = part.sort("first_dep", "sale_id")
        t = pl.col("tonnes")
        amount = thousands(t) if k % 2 == 0 else t.round(2).cast(pl.String)
        if k % 4 == 1:
            # Every twentieth amount typed with a Chinese input method: full-width digits.
            amount = pl.when(pl.int_range(pl.len()) % 20 == 3).then(full_width(amount)).otherwise(amount)
        body = part.select(
            pl.col("sale_id"),
            date_style(pl.col("ts"), style),
            pl.col("seller_id"),
            pl.col("buyer_id"),
            pl.col("product").replace_strict(PRODUCT_ZH),
            amount.alias("tonnes"),
            pl.col("waybill_no"),
            pl.col("invoice_no"),
        )
        body.columns = headers
        rel = f"sales/sales_{name[0]}.csv"
        if k == 0 and junk:
            # A tonnage nobody can read, and a row without its sale number.
            bad = pl.DataFrame(
                [
                    ["XS2021129999901", body[0, 1], body[0, 2], body[0, 3], "原煤", "abc", "YD9999999901", "99999901"],
                    [None, body[1, 1], body[1, 2], body[1, 3], "原煤", "35.00", "YD9999999902", "99999902"],
                ],
                schema=headers,
                orient="row",
            )
            at = min(5, body.height)
            body = pl.concat([body[:at], bad, body[at:]])
            out.bad_row(rel, at + 2, "tonnes", "not_a_number")
            out.bad_row(rel, at + 3, "sale_id", "missing_value")
        write_csv(out.path("sales", rel, body.height), body, encoding)


TRIP_COLUMNS = (
    "trip_id",
    "waybill_no",
    "plate",
    "origin_id",
    "destination_id",
    "departed_at",
    "arrived_at",
    "tonnes_loaded",
    "tonnes_unloaded",
)


def write_trips(out: Output, trips: pl.DataFrame, spec: MonthSpec = DECEMBER, *, junk: bool = True) -> None:
    df = trips.sort("dep", "trip_id").select(
        "trip_id",
        "waybill_no",
        pl.col("plate_written").alias("plate"),
        "origin_id",
        "destination_id",
        to_time(pl.col("dep"), spec.epoch).alias("departed_at"),
        to_time(pl.col("arr"), spec.epoch).alias("arrived_at"),
        "tonnes_loaded",
        "tonnes_unloaded",
        (pl.col("dep") // 86400 // 7).clip(0, 4).alias("week"),
        pl.col("dep").alias("dep_s"),
    )
    for (week,), part in sorted(df.partition_by("week", as_dict=True).items()):
        rel = f"transports/trips_week{week + 1}.parquet"
        part = part.drop("week", "dep_s")
        if week == 2:
            # This week came from an older export that writes times as text, with one impossible date.
            part = part.with_columns(
                pl.col("departed_at").dt.strftime("%Y-%m-%d %H:%M:%S"),
                pl.col("arrived_at").dt.strftime("%Y-%m-%d %H:%M:%S"),
            )
            if junk:
                bad = part[:1].with_columns(
                    pl.lit("YS2112JUNK0001").alias("trip_id"),
                    pl.lit("YD9999999903").alias("waybill_no"),
                    pl.lit("2021-13-45 08:00:00").alias("departed_at"),
                )
                at = min(10, part.height)
                part = pl.concat([part[:at], bad, part[at:]])
                # Parquet has no header row: its lines are the 1-based row numbers.
                out.bad_row(rel, at + 1, "departed_at", "not_a_date")
        part.write_parquet(out.path("transports", rel, part.height))
    # The platform re-sent days 11-17 when an upload failed: the same trips, stored once.
    again = df.filter(pl.col("dep_s").is_between(10 * 86400, 17 * 86400, closed="left")).drop("week", "dep_s")
    again.write_parquet(out.path("transports", "transports/trips_week2_resend.parquet", again.height))


INTAKE_HEADERS = [
    "入库单号",
    "收货单位编码",
    "入库时间",
    "供货单位编码",
    "供货单位",
    "车牌号",
    "运单号",
    "入库数量（吨）",
]


def write_intakes(out: Output, intakes: pl.DataFrame, fac_region: dict[str, str]) -> None:
    from openpyxl import Workbook

    df = intakes.with_columns(pl.col("facility_id").replace_strict(fac_region).alias("region"))
    parts = sorted(df.partition_by("region", as_dict=True).items(), key=lambda kv: (kv[1].height, kv[0][0]))
    for k, ((name,), part) in enumerate(parts):
        part = part.sort("received_at", "intake_id")
        cols = [
            "intake_id",
            "facility_id",
            "received_at",
            "supplier_id",
            "supplier_name",
            "plate",
            "waybill_no",
            "tonnes",
        ]
        if k < 2 and part.height <= XLSX_ROW_LIMIT:
            rel = f"intakes/intakes_{name}.xlsx"
            wb = Workbook(write_only=True)
            ws = wb.create_sheet("入库台账")
            ws.append(INTAKE_HEADERS)
            serial = k == 0
            for r in part.select(cols).iter_rows():
                when = r[2]
                # Some offices' Excel stores times as serial day numbers.
                cell = (when - datetime(1899, 12, 30)).total_seconds() / 86400 if serial else when
                ws.append([r[0], r[1], cell, r[3], r[4], r[5], r[6], r[7]])
            wb.save(out.path("intakes", rel, part.height))
        elif k == 2:
            # A weighbridge export in kilograms.
            rel = f"intakes/intakes_{name}.csv"
            body = part.select(*cols[:-1], (pl.col("tonnes") * 1000).round(0).cast(pl.Int64))
            body.columns = [*INTAKE_HEADERS[:-1], "净重（千克）"]
            write_csv(
                out.path("intakes", rel, body.height),
                body.with_columns(pl.col("入库时间").dt.strftime("%Y-%m-%d %H:%M")),
                "utf-8",
            )
        else:
            rel = f"intakes/intakes_{name}.csv"
            body = part.select(cols).with_columns(pl.col("received_at").dt.strftime("%Y/%m/%d %H:%M:%S"))
            body.columns = INTAKE_HEADERS
            write_csv(out.path("intakes", rel, body.height), body, "utf-8-sig" if k % 2 else "utf-8")


def write_stocks(out: Output, stocks: pl.DataFrame, *, junk: bool = True) -> None:
    rel = "stocks.csv"
    body = stocks.select(
        pl.col("facility_id").alias("单位编码"),
        pl.col("as_of").cast(pl.String).alias("盘点日期"),
        pl.col("tonnes").alias("期初库存（吨）"),
    ).cast(pl.String)
    if junk:
        bad = pl.DataFrame([[body[0, 0], "2021-11-31", "1200.0"]], schema=body.columns, orient="row")
        body = pl.concat([body, bad])
        out.bad_row(rel, body.height + 1, "as_of", "not_a_date")
    write_csv(out.path("stocks", rel, body.height), body, "utf-8")


def write_power(out: Output, power: pl.DataFrame, spec: MonthSpec = DECEMBER, *, junk: bool = True) -> None:
    rel = "power.csv"
    body = power.select(
        pl.col("account_id").alias("户号"),
        pl.col("facility_id").alias("单位编码"),
        pl.col("account_type").replace_strict(ACCOUNT_ZH).alias("用电类别"),
        pl.col("address").alias("用电地址"),
        pl.col("lat").alias("纬度"),
        pl.col("lon").alias("经度"),
        pl.lit(spec.zh).alias("抄表月份"),
        pl.col("kwh").cast(pl.Int64).alias("用电量（千瓦时）"),
    )
    bad = (
        body[:1]
        .cast(pl.String)
        .with_columns(
            pl.lit("1405999999").alias("户号"),
            pl.lit(None, dtype=pl.String).alias("单位编码"),
            pl.lit("居民").alias("用电类别"),
            pl.lit("2021年13月").alias("抄表月份"),
            pl.lit("180").alias("用电量（千瓦时）"),
        )
    )
    body = pl.concat([body.cast(pl.String), bad]) if junk else body.cast(pl.String)
    if junk:
        out.bad_row(rel, body.height + 1, "month", "not_a_month")
    write_csv(out.path("power", rel, body.height), body, "gb18030")


def write_gps(out: Output, gps: pl.DataFrame) -> None:
    df = gps.with_columns((pl.col("ts_s") // 86400 // 7).clip(0, 4).alias("week"))
    for (week,), part in sorted(df.partition_by("week", as_dict=True).items()):
        rel = f"gps/gps_week{week + 1}.parquet"
        part.select("plate", "ts", "lat", "lon", "speed_kmh").write_parquet(out.path("gps", rel, part.height))


def write_zones(out: Output, zones: pl.DataFrame) -> None:
    body = zones.select(
        pl.col("zone_id").alias("区域编码"),
        pl.col("kind").replace_strict(ZONE_ZH).alias("区域类型"),
        pl.col("name").alias("名称"),
        pl.col("geometry").alias("范围"),
        pl.col("lat").alias("纬度"),
        pl.col("lon").alias("经度"),
        pl.col("radius_m").alias("半径"),
    )
    write_csv(out.path("zones", "zones.csv", body.height), body, "utf-8")
