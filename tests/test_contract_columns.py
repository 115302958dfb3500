"""The facility register keeps what an inspector needs: address, legal representative, phone."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from coaltrace.cli import app
from coaltrace.store import Store
from tests.conftest import write_csv

HEADER = ["单位编码", "单位名称", "单位类型", "所属县区", "单位地址", "法人", "联系电话"]


def columns(store: Store, table: str) -> list[str]:
    return [
        r[0]
        for r in store.engine.rows(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        )
    ]


def test_address_legal_rep_and_phone_load_under_their_chinese_headers(tmp_path: Path, db_path: Path) -> None:
    f = write_csv(
        tmp_path / "单位.csv",
        HEADER,
        [["Y1", "某某储煤场", "储煤场", "泽州县", "泽州县南村镇东沟村8号", "王某", "0356-1234567"]],
        encoding="gb18030",
    )
    res = CliRunner().invoke(app, ["load", str(f), "--db", str(db_path)])
    assert res.exit_code == 0, res.output
    with Store(db_path, read_only=True) as s:
        assert s.engine.rows("SELECT address, legal_rep, phone FROM facilities") == [
            ("泽州县南村镇东沟村8号", "王某", "0356-1234567")
        ]


def test_a_database_made_before_the_columns_gets_them_and_keeps_its_rows(tmp_path: Path, db_path: Path) -> None:
    with Store(db_path) as s:
        for table in ("facilities", "facilities_revisions"):
            for col in ("address", "legal_rep", "phone"):
                s.con.execute(f"ALTER TABLE {table} DROP COLUMN {col}")
        s.con.execute("INSERT INTO facilities (facility_id, name, kind, _line) VALUES ('M1', '老煤矿', 'mine', 2)")
    with Store(db_path) as s:
        names = columns(s, "facilities")
        assert names.index("phone") < names.index("_load_id")  # the loader inserts by position
        assert columns(s, "facilities_revisions")[-2:] == ["_revised_at", "_revised_by"]
        assert s.engine.rows("SELECT facility_id, name, address, _line FROM facilities") == [("M1", "老煤矿", None, 2)]
    f = write_csv(tmp_path / "f.csv", HEADER, [["M1", "老煤矿", "煤矿", "沁水县", "沁水县某村", "李某", None]])
    res = CliRunner().invoke(app, ["load", str(f), "--db", str(db_path)])
    assert res.exit_code == 0, res.output
    with Store(db_path, read_only=True) as s:
        assert s.engine.rows("SELECT legal_rep FROM facilities") == [("李某",)]
        assert s.engine.scalar("SELECT count(*) FROM facilities_revisions") == 1
