"""The nine input tables of the data contract, as data.

This module is the one source of truth for columns: the DuckDB schema
(`coaltrace.store.schema`), the header matcher and the value normalisers
(`coaltrace.ingest`) and the sample generator all read it. See
docs/contract.md for the contract in prose.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from functools import cached_property

from pydantic import BaseModel, ConfigDict, model_validator

from coaltrace.contract.text import fold
from coaltrace.contract.values import (
    AccountType,
    FacilityKind,
    FacilityStatus,
    LicenceType,
    Product,
    ZoneKind,
)


class Kind(StrEnum):
    """How a column's cells are read and what type it is stored as."""

    text = "text"  # VARCHAR, trimmed
    code = "code"  # VARCHAR identifier: trimmed, NFKC, no inner spaces
    date = "date"  # DATE
    timestamp = "timestamp"  # TIMESTAMP, China local time
    month = "month"  # VARCHAR 'YYYY-MM'
    tonnes = "tonnes"  # DOUBLE tonnes; 万吨 and kg converted
    tonnes_per_year = "tonnes_per_year"  # DOUBLE tonnes a year; 万吨/年 converted
    kwh = "kwh"  # DOUBLE kWh
    number = "number"  # DOUBLE (degrees, km/h, metres)
    enum = "enum"  # VARCHAR canonical code
    plate = "plate"  # VARCHAR normalised licence plate (晋E·12345 → 晋E12345)
    uscc = "uscc"  # VARCHAR unified social credit code, upper case

    @property
    def sql_type(self) -> str:
        return _SQL_TYPES[self]


_SQL_TYPES = {
    Kind.text: "VARCHAR",
    Kind.code: "VARCHAR",
    Kind.date: "DATE",
    Kind.timestamp: "TIMESTAMP",
    Kind.month: "VARCHAR",
    Kind.tonnes: "DOUBLE",
    Kind.tonnes_per_year: "DOUBLE",
    Kind.kwh: "DOUBLE",
    Kind.number: "DOUBLE",
    Kind.enum: "VARCHAR",
    Kind.plate: "VARCHAR",
    Kind.uscc: "VARCHAR",
}


# What is possible, per kind, for one record. A value outside it is not a record
# that looks wrong (a rule's job) but one that cannot be (a typo, a cell shifted
# into another column, a serial number read as a date): the loader quarantines
# it as `out_of_range`. Columns may narrow or widen these (see `_c` below).
# Magnitudes, so a negative correction still loads and the rules judge it.
NUMBER_RANGES: dict[Kind, tuple[float, float]] = {
    # A sale, trip, intake over a million tonnes: a whole month of a big mine in one ticket.
    Kind.tonnes: (-1e6, 1e6),
    # 200 Mt a year: more than the largest mine in the world.
    Kind.tonnes_per_year: (0.0, 2e8),
    # Ten billion kWh in a month: about fourteen 1 GW plants running flat out.
    Kind.kwh: (-1e10, 1e10),
}
# Dates: from EARLIEST_DATE to the end of the year after this one (a date in the
# future is at most a plan); columns may reach further back or ahead.
EARLIEST_DATE = date(1990, 1, 1)
YEARS_AHEAD = 1
# A licence valid "long term" (长期) has no end: offices write it as a word or as 9999-12-31.
OPEN_END = date(9999, 12, 31)
OPEN_END_WORDS = (
    *("长期", "长期有效", "永久", "永久有效", "无固定期限", "无期限"),
    # As offices in Hong Kong, Macao and Taiwan, or a Big5 export, write them.
    *("長期", "長期有效", "無固定期限", "無期限"),
)
_DATED = (Kind.date, Kind.timestamp, Kind.month)


class Column(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)

    name: str
    kind: Kind
    required: bool = False
    aliases: tuple[str, ...] = ()
    enum: type[StrEnum] | None = None
    zh: str = ""
    doc: str = ""
    # Overrides of the kind's possible range (NUMBER_RANGES, EARLIEST_DATE, YEARS_AHEAD).
    low: float | None = None
    high: float | None = None
    earliest: date | None = None
    years_ahead: int | None = None
    # An end date that may be "none": 长期 and its like, or 9999-12-31, read as OPEN_END.
    open_end: bool = False

    @model_validator(mode="after")
    def _enum_iff_kind_enum(self) -> Column:
        if (self.kind is Kind.enum) != (self.enum is not None):
            raise ValueError(f"column {self.name}: an enum column needs its enum, and only it")
        return self

    @property
    def sql_type(self) -> str:
        return self.kind.sql_type

    def number_range(self) -> tuple[float, float] | None:
        """The lowest and highest value one record can hold; None when any finite number can be."""
        low, high = NUMBER_RANGES.get(self.kind, (None, None))
        low = self.low if self.low is not None else low
        high = self.high if self.high is not None else high
        if low is None or high is None:
            return None
        return low, high

    def date_range(self, today: date) -> tuple[date, date] | None:
        """The earliest and latest date a record can carry, seen from TODAY; None for columns without dates."""
        if self.kind not in _DATED:
            return None
        ahead = self.years_ahead if self.years_ahead is not None else YEARS_AHEAD
        return self.earliest or EARLIEST_DATE, date(today.year + ahead, 12, 31)

    def accepted_headers(self) -> tuple[str, ...]:
        """Every header spelling this column answers to, folded."""
        return tuple(dict.fromkeys(fold(h) for h in (self.name, *self.aliases)))


class Table(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    zh: str
    doc: str
    key: tuple[str, ...]
    columns: tuple[Column, ...]
    # The column whose range `status` reports (a date, time or month).
    time_column: str | None = None
    # Extra names a user may give with --table.
    aliases: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _key_is_required(self) -> Table:
        names = {c.name for c in self.columns}
        for k in self.key:
            if k not in names or not self.column(k).required:
                raise ValueError(f"table {self.name}: key column {k} must be a required column")
        if self.time_column and self.time_column not in names:
            raise ValueError(f"table {self.name}: unknown time column {self.time_column}")
        return self

    def column(self, name: str) -> Column:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    @cached_property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)

    @cached_property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    @cached_property
    def value_columns(self) -> tuple[str, ...]:
        """Columns that are not part of the key: what a revision can change."""
        return tuple(c.name for c in self.columns if c.name not in self.key)


def _c(
    name: str,
    kind: Kind,
    *aliases: str,
    required: bool = False,
    enum: type[StrEnum] | None = None,
    zh: str = "",
    doc: str = "",
    low: float | None = None,
    high: float | None = None,
    earliest: date | None = None,
    years_ahead: int | None = None,
    open_end: bool = False,
) -> Column:
    return Column(
        name=name,
        kind=kind,
        aliases=aliases,
        required=required,
        enum=enum,
        zh=zh or (aliases[0] if aliases else name),
        doc=doc,
        low=low,
        high=high,
        earliest=earliest,
        years_ahead=years_ahead,
        open_end=open_end,
    )


# A mine may have closed, or a licence been issued, before 1990; a mining licence runs up to 30 years.
_HISTORY = date(1950, 1, 1)


FACILITIES = Table(
    name="facilities",
    zh="单位",
    doc="Every party that mines, stores, processes, trades or burns coal.",
    key=("facility_id",),
    columns=(
        _c("facility_id", Kind.code, "单位编码", "企业编码", "编码", required=True),
        _c("name", Kind.text, "单位名称", "企业名称", "名称", required=True),
        _c("kind", Kind.enum, "单位类型", "类型", required=True, enum=FacilityKind),
        _c("uscc", Kind.uscc, "统一社会信用代码", "信用代码", "社会信用代码"),
        _c("county", Kind.text, "所属县区", "县区", "县(市、区)", "县（市、区）", "县市区"),
        _c("lat", Kind.number, "纬度", low=-90.0, high=90.0),
        _c("lon", Kind.number, "经度", low=-180.0, high=180.0),
        _c("status", Kind.enum, "状态", "生产状态", enum=FacilityStatus),
        _c("status_since", Kind.date, "状态日期", "状态变更日期", earliest=_HISTORY),
        # What an inspector needs to find the place and the person who answers for it.
        _c("address", Kind.text, "地址", "单位地址", "详细地址", "注册地址", "经营地址"),
        _c("legal_rep", Kind.text, "法定代表人", "法人", "法人代表", "负责人", zh="法定代表人"),
        _c("phone", Kind.text, "联系电话", "电话", "联系方式", "手机"),
    ),
)

LICENCES = Table(
    name="licences",
    zh="许可证",
    doc="Mining licences and coal-business permits.",
    key=("licence_id",),
    columns=(
        _c("licence_id", Kind.code, "许可证号", "证号", "采矿许可证号", required=True),
        _c("facility_id", Kind.code, "单位编码", "企业编码", required=True),
        _c("licence_type", Kind.enum, "许可证类型", "证照类型", required=True, enum=LicenceType),
        _c("mineral", Kind.text, "开采矿种", "矿种"),
        _c("valid_from", Kind.date, "有效期起", "有效期自", required=True, earliest=_HISTORY),
        _c(
            "valid_to",
            Kind.date,
            "有效期止",
            "有效期至",
            required=True,
            earliest=_HISTORY,
            years_ahead=50,
            open_end=True,
        ),
        _c("capacity_tpa", Kind.tonnes_per_year, "核定生产能力", "生产规模"),
    ),
    aliases=("licenses", "licence", "license"),
)

# What counts as a coal mining licence, for every query that asks (graph nodes, rule views):
# a mining licence whose mineral is coal or not stated.
COAL_MINING_LICENCE = (
    "licence_type = 'mining' AND (mineral IS NULL OR TRIM(mineral) = '' "
    "OR mineral LIKE '%煤%' OR LOWER(mineral) LIKE '%coal%')"
)

SALES = Table(
    name="sales",
    zh="销售",
    doc="What each seller declares it sold.",
    key=("sale_id",),
    time_column="sold_at",
    columns=(
        _c("sale_id", Kind.code, "销售单号", "单号", required=True),
        _c("sold_at", Kind.timestamp, "销售日期", "销售时间", "日期", required=True),
        _c("seller_id", Kind.code, "销售单位编码", "发货单位编码", required=True),
        _c("buyer_id", Kind.code, "购买单位编码", "收货单位编码", required=True),
        _c("product", Kind.enum, "煤种", "品种", enum=Product),
        _c("tonnes", Kind.tonnes, "数量", "销售数量", "净重", required=True),
        _c("waybill_no", Kind.code, "运单号"),
        _c("invoice_no", Kind.code, "发票号", "发票号码"),
    ),
    aliases=("sale",),
)

TRANSPORTS = Table(
    name="transports",
    zh="运输",
    doc="One truck trip, with a weighbridge ticket at each end.",
    key=("trip_id",),
    time_column="departed_at",
    columns=(
        _c("trip_id", Kind.code, "运输单号", "磅单号", required=True),
        _c("waybill_no", Kind.code, "运单号"),
        _c("plate", Kind.plate, "车牌号", "车号", required=True),
        _c("origin_id", Kind.code, "发货单位编码", "起运地编码", required=True),
        _c("destination_id", Kind.code, "收货单位编码", "目的地编码", required=True),
        _c("departed_at", Kind.timestamp, "发车时间", "出场时间", required=True),
        _c("arrived_at", Kind.timestamp, "到达时间", "进场时间"),
        _c("tonnes_loaded", Kind.tonnes, "装车净重", "出场净重", required=True),
        _c("tonnes_unloaded", Kind.tonnes, "卸车净重", "进场净重"),
    ),
    aliases=("trips", "trip", "transport"),
)

INTAKES = Table(
    name="intakes",
    zh="入库",
    doc="What a yard, washery, coking plant or power plant books in.",
    key=("intake_id",),
    time_column="received_at",
    columns=(
        _c("intake_id", Kind.code, "入库单号", "收货单号", required=True),
        _c("facility_id", Kind.code, "煤场编码", "收货单位编码", required=True),
        _c("received_at", Kind.timestamp, "入库时间", "收货时间", required=True),
        _c("supplier_id", Kind.code, "供货单位编码"),
        _c("supplier_name", Kind.text, "供货单位", "供货单位名称", "供货人"),
        _c("plate", Kind.plate, "车牌号"),
        _c("waybill_no", Kind.code, "运单号"),
        _c("tonnes", Kind.tonnes, "入库数量", "数量", "净重", required=True),
    ),
    aliases=("intake",),
)

STOCKS = Table(
    name="stocks",
    zh="库存",
    doc="Opening stock of a facility on a date.",
    key=("facility_id", "as_of"),
    time_column="as_of",
    columns=(
        _c("facility_id", Kind.code, "单位编码", "煤场编码", required=True),
        _c("as_of", Kind.date, "盘点日期", "日期", required=True),
        # A coal port or a big power plant may hold millions of tonnes.
        _c("tonnes", Kind.tonnes, "库存", "期初库存", "库存数量", required=True, low=-1e8, high=1e8),
    ),
    aliases=("stock",),
)

POWER = Table(
    name="power",
    zh="用电",
    doc="Monthly electricity use per account.",
    key=("account_id", "month"),
    time_column="month",
    columns=(
        _c("account_id", Kind.code, "户号", "用电户号", required=True),
        _c("facility_id", Kind.code, "单位编码"),
        _c("account_type", Kind.enum, "用电类别", required=True, enum=AccountType),
        _c("address", Kind.text, "用电地址"),
        _c("lat", Kind.number, "纬度", low=-90.0, high=90.0),
        _c("lon", Kind.number, "经度", low=-180.0, high=180.0),
        _c("month", Kind.month, "月份", "抄表月份", required=True),
        _c("kwh", Kind.kwh, "用电量", "电量", required=True),
    ),
    aliases=("electricity",),
)

GPS = Table(
    name="gps",
    zh="定位",
    doc="Vehicle positions.",
    key=("plate", "ts"),
    time_column="ts",
    columns=(
        _c("plate", Kind.plate, "车牌号", required=True),
        _c("ts", Kind.timestamp, "定位时间", "时间", required=True),
        _c("lat", Kind.number, "纬度", required=True, low=-90.0, high=90.0),
        _c("lon", Kind.number, "经度", required=True, low=-180.0, high=180.0),
        _c("speed_kmh", Kind.number, "速度", low=0.0, high=500.0),
    ),
    aliases=("positions",),
)

ZONES = Table(
    name="zones",
    zh="区域",
    doc="Places that matter: closed mines, outcrops, remote roads, protected areas.",
    key=("zone_id",),
    columns=(
        _c("zone_id", Kind.code, "区域编码", required=True),
        _c("kind", Kind.enum, "区域类型", required=True, enum=ZoneKind),
        _c("name", Kind.text, "名称", "区域名称"),
        _c("geometry", Kind.text, "范围", "wkt"),
        _c("lat", Kind.number, "纬度", low=-90.0, high=90.0),
        _c("lon", Kind.number, "经度", low=-180.0, high=180.0),
        _c("radius_m", Kind.number, "半径", low=0.0, high=1e6),
    ),
    aliases=("zone",),
)

TABLES: dict[str, Table] = {
    t.name: t for t in (FACILITIES, LICENCES, SALES, TRANSPORTS, INTAKES, STOCKS, POWER, GPS, ZONES)
}


def table_named(name: str) -> Table | None:
    """The table a user means by NAME (canonical name, alias or Chinese name)."""
    key = fold(name)
    for t in TABLES.values():
        if key in {fold(n) for n in (t.name, t.zh, *t.aliases)}:
            return t
    return None
