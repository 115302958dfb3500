"""The static world of the sample month: facilities, their licences, and who plays which case.

Mines come from the shipped registry (Global Energy Monitor, Global Coal Mine
Tracker); every other facility is invented and placed near a mine, so counties
and distances stay plausible. Planted cases get their own facilities, chosen
here, so the flow generator only has to ask `World.role`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import numpy as np
import polars as pl

from coaltrace.files import shipped
from coaltrace.sample.codes import broken_uscc, mining_licence, uscc
from coaltrace.sample.geo import offset

MONTH_START = date(2021, 12, 1)
DAYS = 31


@dataclass(frozen=True)
class MonthSpec:
    """One month the sample writes: the campaign month (December 2021) or the next (January 2022).

    Both have 31 days, which the flows assume (DAYS).
    """

    start: date

    @property
    def label(self) -> str:
        return f"{self.start:%Y-%m}"

    @property
    def tag(self) -> str:
        """`2112`: the year and month in trip and intake numbers."""
        return f"{self.start:%y%m}"

    @property
    def long_tag(self) -> str:
        """`202112`: the year and month in sale numbers."""
        return f"{self.start:%Y%m}"

    @property
    def end(self) -> date:
        return date(self.start.year + self.start.month // 12, self.start.month % 12 + 1, 1)

    @property
    def zh(self) -> str:
        return f"{self.start.year}年{self.start.month}月"

    @property
    def epoch(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day)


DECEMBER = MonthSpec(MONTH_START)
JANUARY = MonthSpec(date(2022, 1, 1))
MONTHS = (DECEMBER, JANUARY)

JINCHENG_COUNTIES = {
    "城区": "140502",
    "沁水县": "140521",
    "阳城县": "140522",
    "陵川县": "140524",
    "泽州县": "140525",
    "高平市": "140581",
}
PREFECTURES = {
    "Taiyuan": ("太原市", "140100", "晋A"),
    "Datong": ("大同市", "140200", "晋B"),
    "Yangquan": ("阳泉市", "140300", "晋C"),
    "Changzhi": ("长治市", "140400", "晋D"),
    "Jincheng": ("晋城市", "140500", "晋E"),
    "Shuozhou": ("朔州市", "140600", "晋F"),
    "Jinzhong": ("晋中市", "140700", "晋K"),
    "Yuncheng": ("运城市", "140800", "晋M"),
    "Xinzhou": ("忻州市", "140900", "晋H"),
    "Linfen": ("临汾市", "141000", "晋L"),
    "Lüliang": ("吕梁市", "141100", "晋J"),
}
TOWNS = {
    "城区": ["北石店镇", "钟家庄街道", "西上庄街道"],
    "泽州县": [
        "巴公镇",
        "北义城镇",
        "高都镇",
        "南村镇",
        "大阳镇",
        "川底乡",
        "金村镇",
        "周村镇",
        "犁川镇",
        "晋庙铺镇",
        "下村镇",
        "山河镇",
    ],
    "高平市": ["寺庄镇", "马村镇", "野川镇", "河西镇", "陈区镇", "北诗镇", "三甲镇", "米山镇"],
    "阳城县": ["凤城镇", "北留镇", "润城镇", "町店镇", "芹池镇", "次营镇", "横河镇", "东冶镇", "白桑乡", "寺头乡"],
    "陵川县": ["崇文镇", "礼义镇", "附城镇", "西河底镇", "平城镇", "杨村镇", "潞城镇", "夺火乡"],
    "沁水县": ["龙港镇", "中村镇", "郑庄镇", "端氏镇", "嘉峰镇", "郑村镇", "柿庄镇", "土沃乡", "张村乡"],
}
_WORDS = list("鑫宏兴昌福汇金永恒华润泰晟瑞通富晋宝隆德天鸿聚万长新广东盛源达旺丰顺和运升")
_VILLAGE_A = list("东西南北上下前后大小王李张刘陈杨赵郭马牛石黄")
_VILLAGE_B = list("庄沟河峪坡岭头窑底家湾坪")
_SURNAMES = list("王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁宋")
_GIVEN = list("建国军伟强明海平志红文华玉兰秀英")

# kind -> (id prefix, base count at scale 1 for Jincheng, minimum clean count)
KIND_PLAN = {
    "washery": ("XM", 10, 2),
    "coking_plant": ("JH", 4, 1),
    "yard": ("MC", 60, 4),
    "trader": ("MY", 30, 2),
    "power_plant": ("DC", 5, 2),
    "rail_station": ("JY", 4, 2),
}
KIND_ZH = {
    "mine": ("煤矿", "矿井"),
    "washery": ("洗煤厂", "选煤厂"),
    "coking_plant": ("焦化厂", "焦化"),
    "yard": ("煤场", "储煤场"),
    "power_plant": ("电厂", "发电厂"),
    "trader": ("贸易公司", "贸易商"),
    "rail_station": ("集运站", "发运站"),
    "other": ("其他", "其它"),
}


@dataclass
class World:
    province: bool
    scale: float
    n_cases: int
    fac: pl.DataFrame  # one row per facility, index = position
    licences: pl.DataFrame
    cap_factor: float
    # The size of one planted case, in tonnes: a small share of the clean output.
    v0: float
    closed_registry: pl.DataFrame
    roles: dict[str, list[int]] = field(default_factory=dict)

    def role(self, name: str) -> list[int]:
        return self.roles.get(name, [])

    def col(self, name: str) -> np.ndarray:
        return self.fac[name].to_numpy()


def cases_per_kind(scale: float, province: bool) -> int:
    """How many instances of each planted case: one at test scale, a few at full scale."""
    return max(1, round(2 * math.sqrt(scale * (10 if province else 1))))


def load_registry(province: bool) -> pl.DataFrame:
    mines = pl.read_csv(shipped("mines"), infer_schema_length=0)
    if not province:
        mines = mines.filter(pl.col("prefecture") == "Jincheng")
    county_re = "(" + "|".join(JINCHENG_COUNTIES) + ")"
    pref = pl.col("prefecture").replace_strict({k: v[0] for k, v in PREFECTURES.items()}, default=pl.col("prefecture"))
    county = (
        pl.col("location_zh").str.extract(county_re)
        if not province
        else pl.col("location_zh").str.extract(r"市(.{1,5}?[县区市])")
    )
    return (
        mines.with_columns(
            pl.col("lat").cast(pl.Float64),
            pl.col("lon").cast(pl.Float64),
            pl.col("capacity_mtpa").cast(pl.Float64).fill_null(0.9),
            pl.coalesce("name_zh", "name_en").alias("name"),
            pref.alias("prefecture_zh"),
            county.alias("county"),
        )
        # Mines whose address names no county take the county of their nearest neighbour below.
        .sort("gem_mine_id")
    )


def _fill_counties(reg: pl.DataFrame, province: bool) -> pl.DataFrame:
    lat, lon = reg["lat"].to_numpy(), reg["lon"].to_numpy()
    county = reg["county"].to_numpy().astype(object)
    known = np.array([c is not None for c in county])
    if province:
        # Province files are split by prefecture; a missing county falls back to it.
        fallback = reg["prefecture_zh"].to_numpy()
        county = np.where(known, county, fallback)
    else:
        d = (lat[:, None] - lat[None, known]) ** 2 + (lon[:, None] - lon[None, known]) ** 2
        county = np.where(known, county, county[known][d.argmin(axis=1)])
    return reg.with_columns(pl.Series("county", county.astype(str)))


def build_world(rng: np.random.Generator, scale: float, province: bool) -> World:
    n_cases = cases_per_kind(scale, province)
    reg = _fill_counties(load_registry(province), province)
    growth = math.sqrt(scale) * (10 if province else 1)

    op = reg.filter(pl.col("status") == "Operating")
    op = op[rng.permutation(op.height)]
    n_op_total = op.height
    proposed = reg.filter(pl.col("status") == "Proposed")
    proposed = proposed[rng.permutation(proposed.height)]
    mothballed = reg.filter(pl.col("status") == "Mothballed")
    closed_reg = reg.filter(pl.col("status") == "Closed")

    rows: list[dict[str, Any]] = []
    roles: dict[str, list[int]] = {}
    op_used = 0

    def take_operating() -> dict[str, Any]:
        nonlocal op_used
        row = op.row(op_used, named=True)
        op_used += 1
        return row

    def add(role: str, row: dict[str, Any]) -> None:
        roles.setdefault(role, []).append(len(rows))
        rows.append({**row, "role": role})

    def mine_row(r: dict[str, Any]) -> dict[str, Any]:
        return {
            "kind": "mine",
            "name": r["name"],
            "county": r["county"],
            "region": r["prefecture_zh"],
            "lat": r["lat"],
            "lon": r["lon"],
            "registry_cap_tpa": r["capacity_mtpa"] * 1e6,
            "gem_mine_id": r["gem_mine_id"],
        }

    # Planted mines first, so the clean set is whatever is left.
    for i in range(n_cases):
        add("c01_unlicensed", mine_row(proposed.row(i, named=True) if i < proposed.height else take_operating()))
    for _ in range(n_cases):
        add("c02_expired", mine_row(take_operating()))
    for i in range(n_cases):
        add("c03_closed", mine_row(mothballed.row(i, named=True) if i < mothballed.height else take_operating()))
    smallest = op[op_used:].sort("capacity_mtpa", maintain_order=True).head(n_cases)["gem_mine_id"].to_list()
    for gid in smallest:
        add("c04_overcap", mine_row(op.filter(pl.col("gem_mine_id") == gid).row(0, named=True)))
    op = pl.concat([op[:op_used], op[op_used:].filter(~pl.col("gem_mine_id").is_in(smallest))])
    for _ in range(n_cases):
        add("c19_closed_power", mine_row(take_operating()))
    for _ in range(n_cases):
        add("c21_lowkwh", mine_row(take_operating()))
    for i in range(n_cases, mothballed.height):
        add("suspended", mine_row(mothballed.row(i, named=True)))
    # Clean mines: the registry's operating mines, fewer at small scale.
    target = round(n_op_total * math.sqrt(min(scale, 1.0)))
    n_clean = min(max(6, target - op_used - len(smallest)), op.height - op_used)
    for _ in range(n_clean):
        add("clean", mine_row(take_operating()))
    # Licence capacities are the registry's, scaled so that a month at SCALE fits
    # them: at scale 1 with every mine present the factor is exactly 1.
    cap_factor = scale * n_op_total / (op_used + len(smallest))

    # Other facilities sit near mines, weighted by capacity, in the mine's county.
    anchor_w = reg["capacity_mtpa"].to_numpy()
    anchor_w = anchor_w / anchor_w.sum()

    def placed(kind: str, role: str, count: int) -> None:
        idx = rng.choice(reg.height, size=count, p=anchor_w)
        lat, lon = offset(
            reg["lat"].to_numpy()[idx],
            reg["lon"].to_numpy()[idx],
            rng.uniform(2, 12, count),
            rng.uniform(0, 2 * np.pi, count),
        )
        for j, a in enumerate(idx):
            add(
                role,
                {
                    "kind": kind,
                    "name": None,
                    "county": reg["county"][int(a)],
                    "region": reg["prefecture_zh"][int(a)],
                    "lat": float(lat[j]),
                    "lon": float(lon[j]),
                    "registry_cap_tpa": None,
                    "gem_mine_id": None,
                },
            )

    for kind, (_, base, minimum) in KIND_PLAN.items():
        placed(kind, "clean", max(minimum, round(base * growth)))
    placed("washery", "c05_washery", n_cases)
    placed("coking_plant", "c06_coking", n_cases)
    for i in range(n_cases):
        placed("yard" if i % 2 == 0 else "other", "c07_village", 1)
    placed("trader", "c08_trader_a", n_cases)
    placed("trader", "c08_trader_b", n_cases)
    placed("yard", "c09_yard", n_cases)
    placed("yard", "c10_yard", n_cases)

    fac = pl.DataFrame(rows, infer_schema_length=None)
    fac = _name_and_code(rng, fac, province)
    fac, licences = _status_and_licences(rng, fac, cap_factor, roles)
    # Producing mines run at 72-90% of capacity, so the clean part stays inside 70-95%.
    is_mine = fac["kind"] == "mine"
    util = np.where(is_mine.to_numpy(), rng.uniform(0.72, 0.90, fac.height), 0.0)
    fac = fac.with_columns(pl.Series("util", util))
    producing = [*[i for i in roles.get("clean", []) if fac["kind"][i] == "mine"], *roles["c21_lowkwh"]]
    month_cap = fac["cap_tpa"].to_numpy()[producing] * DAYS / 365
    v0 = 0.004 * float((month_cap * util[producing]).sum()) / n_cases
    # Over-capacity mines are small on paper: a capacity of two case units a month.
    over = roles["c04_overcap"]
    cap_over = round(2 * v0 * 365 / DAYS / 100) * 100
    fac = fac.with_columns(
        pl.when(pl.int_range(pl.len()).is_in(over))
        .then(pl.lit(float(cap_over)))
        .otherwise(pl.col("cap_tpa"))
        .alias("cap_tpa")
    )
    over_ids = fac["facility_id"].to_numpy()[over].tolist()
    licences = licences.with_columns(
        pl.when(pl.col("facility_id").is_in(over_ids) & (pl.col("valid_to") > MONTH_START))
        .then(pl.lit(float(cap_over)))
        .otherwise(pl.col("capacity_tpa"))
        .alias("capacity_tpa")
    )
    # Registry mines that were closed become zones, not facilities.
    return World(
        province=province,
        scale=scale,
        n_cases=n_cases,
        fac=fac,
        licences=licences,
        cap_factor=cap_factor,
        v0=v0,
        closed_registry=closed_reg,
        roles=roles,
    )


def _division(county: str, region: str, province: bool) -> str:
    if province:
        for zh, code, _ in PREFECTURES.values():
            if zh == region:
                return code
    return JINCHENG_COUNTIES.get(county, "140500")


def _short(county: str) -> str:
    return "晋城" if county == "城区" else county.rstrip("县市区") if len(county) > 2 else county


def _name_and_code(rng: np.random.Generator, fac: pl.DataFrame, province: bool) -> pl.DataFrame:
    ids, names, usccs = [], [], []
    seq: dict[tuple[str, str], int] = {}
    seen: set[str] = set()
    for r in fac.iter_rows(named=True):
        kind, county, region = r["kind"], r["county"], r["region"]
        div = _division(county, region, province)
        prefix = "MK" if kind == "mine" else "QT" if kind == "other" else KIND_PLAN[kind][0]
        n = seq[(div, prefix)] = seq.get((div, prefix), 0) + 1
        ids.append(f"{div}{prefix}{n:04d}")
        w = "".join(rng.choice(_WORDS, 2, replace=False))
        short = _short(county)
        town = rng.choice(TOWNS.get(county, [f"{short}镇"]))
        village = rng.choice(_VILLAGE_A) + rng.choice(_VILLAGE_B) + "村"
        name = {
            "mine": r["name"],
            "washery": f"{'晋城市' if county == '城区' else ''}{county}{w}洗煤有限公司",
            "coking_plant": f"山西{short}{w}焦化有限公司",
            "yard": f"{short}{w}煤炭储运有限公司",
            "trader": f"山西{w}煤炭贸易有限公司",
            "power_plant": f"{short}{w}发电有限责任公司",
            "rail_station": f"{str(town).rstrip('镇乡')}铁路集运站",
            "other": f"{town}{village}储煤点",
        }[kind]
        if r["role"] == "c07_village":
            name = f"{town}{village}储煤点"
        while name in seen:
            name = name.replace("有限", f"{rng.choice(_WORDS)}有限", 1) if "有限" in name else name + "二"
        seen.add(name)
        names.append(name)
        usccs.append(None if r["role"] == "c07_village" else uscc(rng, div, individual=kind == "other"))
    return fac.with_columns(
        pl.Series("facility_id", ids), pl.Series("name", names), pl.Series("uscc", usccs, dtype=pl.String)
    )


def _day(y: int, m: int, d: int) -> date:
    return date(y, m, min(d, 28))


def _status_and_licences(
    rng: np.random.Generator, fac: pl.DataFrame, cap_factor: float, roles: dict[str, list[int]]
) -> tuple[pl.DataFrame, pl.DataFrame]:
    n = fac.height
    status = ["active"] * n
    since: list[date] = [
        _day(int(rng.integers(2006, 2021)), int(rng.integers(1, 13)), int(rng.integers(1, 29))) for _ in range(n)
    ]
    cap: list[float] = [0.0] * n
    lic: list[dict[str, Any]] = []
    kinds = fac["kind"].to_list()
    reg_cap = fac["registry_cap_tpa"].to_list()
    role = fac["role"].to_list()
    for i in range(n):
        if kinds[i] == "mine":
            cap[i] = round(reg_cap[i] * cap_factor / 100) * 100 or 10_000
    for k, i in enumerate(roles.get("c03_closed", [])):
        status[i] = "closed" if k % 2 == 0 else "revoked"
        since[i] = _day(2021, int(rng.integers(6, 11)), int(rng.integers(1, 29)))
    for i in roles.get("c19_closed_power", []):
        status[i] = "closed"
        since[i] = _day(int(rng.integers(2017, 2021)), int(rng.integers(1, 13)), 30)
    for i in roles.get("suspended", []):
        status[i] = "suspended"
        since[i] = _day(2020, int(rng.integers(1, 13)), 15)
    # Clean mines sometimes carry their expired previous licence too: a rule must
    # accept any licence valid on the day, not the first one it finds.
    for i in range(n):
        if kinds[i] == "mine" and role[i] != "c01_unlicensed":
            year = int(rng.integers(2006, 2019))
            month = int(rng.integers(1, 13))
            start = _day(year, month, int(rng.integers(1, 29)))
            if role[i] == "c02_expired":
                end = _day(2021, int(rng.integers(8, 12)), int(rng.integers(1, 29)))
                start = _day(2011, month, 1)
            elif role[i] == "c19_closed_power":
                end = _day(since[i].year, since[i].month, since[i].day)
            else:
                end = _day(int(rng.integers(2023, 2036)), month, start.day)
                if rng.random() < 0.25:
                    old_start = _day(year - 10, month, start.day)
                    lic.append(
                        {
                            "licence_id": mining_licence(rng, old_start.year, old_start.month),
                            "facility": i,
                            "licence_type": "mining",
                            "mineral": "煤",
                            "valid_from": old_start,
                            "valid_to": _day(year, month, start.day),
                            "capacity_tpa": cap[i] * 0.6,
                        }
                    )
            lic.append(
                {
                    "licence_id": mining_licence(rng, start.year, start.month),
                    "facility": i,
                    "licence_type": "mining",
                    "mineral": str(rng.choice(["煤", "煤炭", "无烟煤"])),
                    "valid_from": start,
                    "valid_to": end,
                    "capacity_tpa": cap[i],
                }
            )
            if status[i] == "active":
                since[i] = start
        elif kinds[i] in ("yard", "trader", "washery", "coking_plant") and role[i] != "c07_village":
            year = int(rng.integers(2014, 2021))
            lic.append(
                {
                    "licence_id": f"JMJ{year}{i:05d}",
                    "facility": i,
                    "licence_type": "business",
                    "mineral": "煤炭经营",
                    "valid_from": _day(year, int(rng.integers(1, 13)), 1),
                    "valid_to": _day(year + 10, 12, 28),
                    "capacity_tpa": None,
                }
            )
    ids = fac["facility_id"].to_list()
    licences = pl.DataFrame(
        [{**r, "facility_id": ids[r.pop("facility")]} for r in lic],
        schema={
            "licence_id": pl.String,
            "licence_type": pl.String,
            "mineral": pl.String,
            "valid_from": pl.Date,
            "valid_to": pl.Date,
            "capacity_tpa": pl.Float64,
            "facility_id": pl.String,
        },
    ).unique("licence_id", keep="first", maintain_order=True)
    fac = fac.with_columns(
        pl.Series("status", status),
        pl.Series("status_since", since, dtype=pl.Date),
        pl.Series("cap_tpa", [c if k == "mine" else None for c, k in zip(cap, kinds, strict=True)], dtype=pl.Float64),
    )
    # One clean yard's credit code was mistyped at registration.
    bad = _first_clean(fac, "yard")
    fac = fac.with_columns(
        pl.when(pl.int_range(pl.len()) == bad)
        .then(pl.col("uscc").map_elements(broken_uscc, return_dtype=pl.String))
        .otherwise(pl.col("uscc"))
        .alias("uscc")
    )
    roles["c22_bad_uscc"] = [bad]
    # One clean washery was closed in the autumn and trades on as if nothing happened.
    shut = _first_clean(fac, "washery")
    fac = fac.with_columns(
        pl.when(pl.int_range(pl.len()) == shut).then(pl.lit("closed")).otherwise(pl.col("status")).alias("status"),
        pl.when(pl.int_range(pl.len()) == shut)
        .then(pl.lit(date(2021, 10, 31)))
        .otherwise(pl.col("status_since"))
        .alias("status_since"),
    )
    roles["c23_closed_washery"] = [shut]
    return fac, licences


def _first_clean(fac: pl.DataFrame, kind: str) -> int:
    hit = fac.with_row_index("i").filter((pl.col("kind") == kind) & (pl.col("role") == "clean"))
    return int(hit["i"][-1])
