"""The sample month: deterministic, in the formats offices send, with clean flows that
obey mass balance and a ground truth that the simple rules, recomputed here, agree with."""

from __future__ import annotations

import io
import time
import unicodedata
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from openpyxl import load_workbook
from typer.testing import CliRunner

import coaltrace.cli
from coaltrace.sample import write_sample
from coaltrace.sample.geo import haversine_km

RULES = {
    "mine_unlicensed_sales",
    "mine_closed_shipping",
    "mine_over_capacity",
    "facility_closed_shipping",
    "facility_unsourced_output",
    "facility_ships_before_receipt",
    "facility_low_licensed_share",
    "intake_unregistered_supplier",
    "intake_no_waybill",
    "intake_without_trip_or_sale",
    "trip_heavier_on_arrival",
    "trip_without_sale",
    "trip_too_fast",
    "plate_cloned",
    "trip_starts_in_zone",
    "trip_remote_road_night",
    "power_at_closed_mine",
    "power_residential_industrial",
    "mine_low_kwh_per_tonne",
    "dq_invalid_uscc",
    "dq_impossible_times",
    "dq_negative_tonnes",
    "dq_invalid_plate",
    "intake_unlicensed_supplier",
    "flow_carries_unsourced",
}
SALE_COLUMNS = ["sale_id", "sold_at", "seller_id", "buyer_id", "product", "tonnes", "waybill_no", "invoice_no"]


@pytest.fixture(scope="module")
def sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sample")
    started = time.perf_counter()
    write_sample(out, seed=7, scale=0.02)
    assert time.perf_counter() - started < 3
    return out


def _text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def _sales(root: Path) -> pl.DataFrame:
    frames = []
    for f in sorted((root / "data" / "sales").glob("*.csv")):
        df = pl.read_csv(io.StringIO(_text(f)), infer_schema_length=0)
        df.columns = SALE_COLUMNS
        frames.append(df)
    df = pl.concat(frames)
    amount = df["tonnes"].map_elements(
        lambda s: unicodedata.normalize("NFKC", s).replace(",", ""), return_dtype=pl.String
    )
    return df.with_columns(amount.cast(pl.Float64, strict=False).alias("tonnes")).filter(
        pl.col("tonnes").is_not_null() & pl.col("sale_id").is_not_null()
    )


def _trips(root: Path) -> pl.DataFrame:
    frames = []
    for f in sorted((root / "data" / "transports").glob("*.parquet")):
        df = pl.read_parquet(f)
        if df.schema["departed_at"] == pl.String:
            df = df.filter(pl.col("trip_id") != "YS2112JUNK0001").with_columns(
                pl.col("departed_at", "arrived_at").str.to_datetime("%Y-%m-%d %H:%M:%S", time_unit="us")
            )
        frames.append(df)
    return pl.concat(frames).unique("trip_id").sort("trip_id")


def _facilities(root: Path) -> pl.DataFrame:
    df = pl.read_excel(root / "data" / "facilities.xlsx", sheet_name="单位名录", infer_schema_length=0)
    return df.rename(
        {"单位编码": "facility_id", "单位类型": "kind", "纬度": "lat", "经度": "lon", "状态": "status"}
    ).with_columns(pl.col("lat", "lon").cast(pl.Float64))


def _truth(root: Path, rule: str) -> set[str]:
    t = pl.read_csv(root / "truth.csv", infer_schema_length=0)
    return set(t.filter(pl.col("rule_id") == rule)["entity_id"].to_list())


def test_same_seed_same_bytes_other_seed_other_bytes(tmp_path: Path) -> None:
    for name, seed in (("a", 3), ("b", 3), ("c", 4)):
        write_sample(tmp_path / name, seed=seed, scale=0.01)
    for rel in ("data/licences.csv", "data/power.csv", "truth.csv", "data/sales/sales_沁水县.csv"):
        assert (tmp_path / "a" / rel).read_bytes() == (tmp_path / "b" / rel).read_bytes(), rel
    assert (tmp_path / "a" / "data" / "power.csv").read_bytes() != (tmp_path / "c" / "data" / "power.csv").read_bytes()


def test_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    (tmp_path / "keep.txt").write_text("mine")
    with pytest.raises(Exception, match="not empty"):
        write_sample(tmp_path, scale=0.01)
    write_sample(tmp_path, scale=0.01, force=True)
    assert (tmp_path / "keep.txt").read_text() == "mine"
    assert (tmp_path / "truth.csv").exists()


def test_files_come_in_the_messy_formats(sample: Path) -> None:
    licences = (sample / "data" / "licences.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        licences.decode("utf-8")
    assert "核定生产能力（万吨/年）" in licences.decode("gb18030")
    sales = sorted((sample / "data" / "sales").glob("*.csv"))
    assert any(f.read_bytes().startswith(b"\xef\xbb\xbf") for f in sales)
    assert any(_failing_utf8(f) for f in sales)
    text = "".join(_text(f) for f in sales)
    assert "2021/12/" in text and "2021年12月" in text and ",2021120" in text
    assert any(c in text for c in "０１２３４５６７８９")
    wb = load_workbook(sample / "data" / "facilities.xlsx", read_only=True)
    assert wb.sheetnames == ["单位名录", "填表说明"]
    assert "法定代表人" in next(wb["单位名录"].iter_rows(max_row=1, values_only=True))
    intake_files = sorted((sample / "data" / "intakes").iterdir())
    assert any(f.suffix == ".xlsx" for f in intake_files)
    assert any("净重（千克）" in _text(f) for f in intake_files if f.suffix == ".csv")
    assert "2021年12月" in (sample / "data" / "power.csv").read_bytes().decode("gb18030")
    week2 = pl.read_parquet(sample / "data" / "transports" / "trips_week2.parquet")["trip_id"]
    resend = pl.read_parquet(sample / "data" / "transports" / "trips_week2_resend.parquet")["trip_id"]
    assert resend.is_in(week2.implode()).any()
    q = pl.read_csv(sample / "quarantine_expected.csv")
    assert set(q["reason"]) >= {"not_a_number", "not_a_date", "unknown_value", "missing_value", "not_a_month"}
    assert "Global Energy Monitor, Global Coal Mine Tracker" in (sample / "README.md").read_text(encoding="utf-8")


def _failing_utf8(path: Path) -> bool:
    try:
        path.read_bytes().decode("utf-8")
    except UnicodeDecodeError:
        return True
    return False


def test_one_excel_file_stores_serial_dates(sample: Path) -> None:
    serials = []
    for f in (sample / "data" / "intakes").glob("*.xlsx"):
        row = next(load_workbook(f, read_only=True).active.iter_rows(min_row=2, max_row=2, values_only=True))
        serials.append(isinstance(row[2], float) and 44531 <= row[2] < 44562)
    assert any(serials)


def test_every_rule_has_a_planted_case(sample: Path) -> None:
    t = pl.read_csv(sample / "truth.csv", infer_schema_length=0)
    assert set(t["rule_id"]) == RULES
    assert t.columns == ["case_id", "rule_id", "entity_kind", "entity_id", "facility_id", "tonnes", "period", "note"]
    assert t.select("rule_id", "entity_id").is_duplicated().sum() == 0
    assert set(t["period"]) == {"2021-12"}


def test_clean_sales_add_up_to_their_trips(sample: Path) -> None:
    sales, trips = _sales(sample), _trips(sample)
    per = trips.group_by("waybill_no").agg(
        pl.col("tonnes_loaded").sum(), pl.col("origin_id").first(), pl.col("destination_id").first()
    )
    joined = sales.filter(pl.col("tonnes") > 0).join(per, on="waybill_no", how="left")
    assert joined["tonnes_loaded"].null_count() == 0, "every positive sale is carried by trips"
    rel = (joined["tonnes"] - joined["tonnes_loaded"]).abs() / joined["tonnes"]
    assert rel.max() <= 0.005
    assert (joined["seller_id"] == joined["origin_id"]).all() and (joined["buyer_id"] == joined["destination_id"]).all()
    assert trips["tonnes_loaded"].is_between(30, 40).all()


def test_clean_mines_stay_within_capacity(sample: Path) -> None:
    sales = _sales(sample)
    lic = pl.read_csv(
        io.StringIO((sample / "data" / "licences.csv").read_bytes().decode("gb18030")), infer_schema_length=0
    )
    cap = (
        lic.filter(pl.col("有效期止").str.contains("202[3-9]|203"))
        .select(
            pl.col("单位编码").alias("seller_id"),
            (pl.col("核定生产能力（万吨/年）").cast(pl.Float64) * 10_000 * 31 / 365).alias("cap"),
        )
        .drop_nulls()
    )
    flagged = _truth(sample, "mine_over_capacity") | _truth(sample, "mine_closed_shipping")
    use = (
        sales.group_by("seller_id")
        .agg(pl.col("tonnes").sum())
        .join(cap, on="seller_id")
        .with_columns((pl.col("tonnes") / pl.col("cap")).alias("u"))
    )
    clean = use.filter(~pl.col("seller_id").is_in(list(flagged)))
    assert clean.height >= 6
    assert clean["u"].max() <= 0.95
    over = set(use.filter(pl.col("u") > 1.0)["seller_id"])
    assert over == _truth(sample, "mine_over_capacity")


def test_washeries_yield_at_most_085_unless_planted(sample: Path) -> None:
    sales, fac = _sales(sample), _facilities(sample)
    washeries = fac.filter(pl.col("kind") == "洗煤厂")["facility_id"]
    out = sales.group_by("seller_id").agg(pl.col("tonnes").sum().alias("out")).rename({"seller_id": "f"})
    inn = sales.group_by("buyer_id").agg(pl.col("tonnes").sum().alias("in")).rename({"buyer_id": "f"})
    y = (
        out.join(inn, on="f")
        .filter(pl.col("f").is_in(washeries.implode()))
        .with_columns((pl.col("out") / pl.col("in")).alias("y"))
    )
    planted = _truth(sample, "facility_unsourced_output")
    assert y.filter(~pl.col("f").is_in(list(planted)))["y"].max() <= 0.85
    assert y.filter(pl.col("f").is_in(list(planted)))["y"].min() > 0.9


def test_resellers_never_ship_before_receipt_unless_planted(sample: Path) -> None:
    sales, fac = _sales(sample), _facilities(sample)
    day = pl.col("sold_at").str.extract(r"(\d{1,2})日$").cast(pl.Int32, strict=False)
    sales = sales.with_columns(
        pl.coalesce(
            day,
            pl.col("sold_at").str.extract(r"^2021/12/(\d{1,2})").cast(pl.Int32, strict=False),
            pl.col("sold_at").str.extract(r"^202112(\d\d)$").cast(pl.Int32, strict=False),
            pl.col("sold_at").str.extract(r"^2021-12-(\d\d)").cast(pl.Int32, strict=False),
        ).alias("day")
    )
    assert sales["day"].null_count() == 0
    stock = (
        pl.read_csv(sample / "data" / "stocks.csv", infer_schema_length=0)
        .filter(pl.col("盘点日期") == "2021-12-01")
        .select(pl.col("单位编码").alias("f"), pl.col("期初库存（吨）").cast(pl.Float64).alias("stock"))
    )
    resellers = fac.filter(pl.col("kind").is_in(["储煤场", "贸易公司"]))["facility_id"]
    moves = pl.concat(
        [
            sales.select(pl.col("buyer_id").alias("f"), "day", pl.col("tonnes")),
            sales.select(pl.col("seller_id").alias("f"), "day", -pl.col("tonnes")),
        ]
    ).filter(pl.col("f").is_in(resellers.implode()))
    running = (
        moves.group_by("f", "day")
        .agg(pl.col("tonnes").sum())
        .sort("f", "day")
        .join(stock, on="f", how="left")
        .with_columns((pl.col("stock").fill_null(0) + pl.col("tonnes").cum_sum().over("f")).alias("run"))
    )
    negative = set(running.filter(pl.col("run") < -0.01)["f"])
    unbalanced = _truth(sample, "facility_unsourced_output")
    assert negative - unbalanced == _truth(sample, "facility_ships_before_receipt")


def test_simple_trip_rules_find_exactly_the_planted_trips(sample: Path) -> None:
    trips, fac, sales = _trips(sample), _facilities(sample), _sales(sample)
    pos = fac.select("facility_id", "lat", "lon")
    t = trips.join(pos.rename({"facility_id": "origin_id", "lat": "lat0", "lon": "lon0"}), on="origin_id").join(
        pos.rename({"facility_id": "destination_id", "lat": "lat1", "lon": "lon1"}), on="destination_id"
    )
    km = haversine_km(t["lat0"].to_numpy(), t["lon0"].to_numpy(), t["lat1"].to_numpy(), t["lon1"].to_numpy())
    hours = (t["arrived_at"] - t["departed_at"]).dt.total_seconds().to_numpy() / 3600
    with np.errstate(divide="ignore"):
        fast = set(t["trip_id"].to_numpy()[(hours > 0) & (km / np.where(hours > 0, hours, 1) > 100)])
    assert fast == _truth(sample, "trip_too_fast")
    assert set(t.filter(pl.col("arrived_at") < pl.col("departed_at"))["trip_id"]) == _truth(
        sample, "dq_impossible_times"
    )
    heavy = t.filter(pl.col("tonnes_unloaded") > pl.col("tonnes_loaded") * 1.01)["trip_id"]
    assert set(heavy) == _truth(sample, "trip_heavier_on_arrival")
    orphan = t.filter(~pl.col("waybill_no").is_in(sales["waybill_no"].drop_nulls().implode()))["trip_id"]
    assert set(orphan) == _truth(sample, "trip_without_sale")
    bad_plate = t.filter(~pl.col("plate").str.contains(r"^[\p{Han}][A-Z][A-Z0-9]{5}$"))["plate"]
    assert set(bad_plate) == _truth(sample, "dq_invalid_plate")
    # Night trips must be planted ones: the clean fleet works 05:30-22:00.
    hour = t.filter(pl.col("departed_at").dt.hour().is_in([22, 23, 0, 1, 2, 3, 4]))["trip_id"]
    assert set(hour) == _truth(sample, "trip_remote_road_night")


def test_only_the_cloned_plate_is_in_two_places_at_once(sample: Path) -> None:
    trips = _trips(sample).filter(pl.col("arrived_at") >= pl.col("departed_at")).sort("plate", "departed_at")
    overlap = trips.with_columns(pl.col("arrived_at").shift(1).over("plate").alias("prev_arr")).filter(
        pl.col("departed_at") < pl.col("prev_arr")
    )
    assert set(overlap["plate"]) == _truth(sample, "plate_cloned")


def test_power_cases_and_only_them(sample: Path) -> None:
    power = pl.read_csv(
        io.StringIO((sample / "data" / "power.csv").read_bytes().decode("gb18030")), infer_schema_length=0
    ).with_columns(pl.col("用电量（千瓦时）").cast(pl.Float64, strict=False).alias("kwh"))
    heavy_homes = power.filter((pl.col("用电类别") == "居民") & (pl.col("kwh") > 5000))["户号"]
    assert set(heavy_homes) == _truth(sample, "power_residential_industrial")
    fac = _facilities(sample)
    # The closed washery of case 23 trades, and draws power, as if open: the power rule is about mines.
    closed = fac.filter(pl.col("status").is_in(["关闭", "吊销"]) & (pl.col("kind") == "煤矿"))["facility_id"]
    at_closed = power.filter(pl.col("单位编码").is_in(closed.implode()) & (pl.col("kwh") > 1000))["户号"]
    assert set(at_closed) == _truth(sample, "power_at_closed_mine")


def test_cli_writes_the_sample_and_refuses_to_overwrite(tmp_path: Path) -> None:
    runner = CliRunner()
    out = tmp_path / "month"
    result = runner.invoke(coaltrace.cli.app, ["--lang", "en", "sample", str(out), "--scale", "0.01", "--seed", "5"])
    assert result.exit_code == 0, result.output
    assert "planted" in result.stderr and "Global Coal Mine Tracker" in result.stderr
    assert result.stdout == ""
    assert (out / "truth.csv").exists()
    again = runner.invoke(coaltrace.cli.app, ["--lang", "zh", "sample", str(out), "--scale", "0.01"])
    assert again.exit_code == 2
    assert "不是空文件夹" in again.stderr
    forced = runner.invoke(coaltrace.cli.app, ["--lang", "zh", "sample", str(out), "--scale", "0.01", "--force"])
    assert forced.exit_code == 0 and "已植入" in forced.stderr
