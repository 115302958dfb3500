"""Whether the stored provenance is current is a comparison of stamps, not of data: every load
that keeps or revises a row writes a new stamp, the build records the stamp it was made from, and
the provenance is rebuilt exactly when the data changed."""

from __future__ import annotations

from pathlib import Path

from coaltrace.ingest.loader import load_paths
from coaltrace.period import Period
from coaltrace.provenance.current import data_fingerprint, ensure_current, is_current
from coaltrace.store import Store
from coaltrace.store.schema import data_version
from tests.conftest import write_csv
from tests.provenance_helpers import facility, mine

DEC = Period.parse("2021-12")
SALES = ["销售单号", "销售日期", "销售单位编码", "购买单位编码", "数量"]


def _registered(s: Store) -> None:
    mine(s, "M")
    facility(s, "Y", "yard")


def test_a_load_that_keeps_rows_changes_the_stamp_and_the_provenance_follows(tmp_path: Path) -> None:
    with Store(tmp_path / "a.duckdb") as s:
        _registered(s)
        first = write_csv(tmp_path / "s1.csv", SALES, [["S1", "2021-12-02", "M", "Y", "100"]])
        load_paths(s, [first])
        stamp = data_version(s.engine)
        assert stamp is not None
        assert ensure_current(s, DEC) is True
        [(recorded,)] = s.engine.rows("SELECT data_fingerprint FROM provenance_runs WHERE period = '2021-12'")
        assert recorded == data_fingerprint(s, DEC)  # the build records the stamp it was made from

        # The same file again, and the same rows in another file (GB18030, so other bytes): nothing new.
        load_paths(s, [first])
        same = write_csv(tmp_path / "s1-again.csv", SALES, [["S1", "2021-12-02", "M", "Y", "100"]], encoding="gb18030")
        report = load_paths(s, [same])
        assert [f.rows_loaded for f in report.files] == [0]
        assert data_version(s.engine) == stamp
        assert is_current(s, DEC) is True
        assert ensure_current(s, DEC) is False

        # A new sale: a new stamp, the build is stale, and the rebuild counts it.
        load_paths(s, [write_csv(tmp_path / "s2.csv", SALES, [["S2", "2021-12-03", "M", "Y", "40"]])])
        assert data_version(s.engine) not in (None, stamp)
        assert is_current(s, DEC) is False
        assert ensure_current(s, DEC) is True
        assert s.query("SELECT inflow_t FROM balances WHERE facility_id = 'Y'") == [{"inflow_t": 140.0}]
        assert ensure_current(s, DEC) is False


def test_a_database_from_before_the_stamp_is_rebuilt_once(tmp_path: Path) -> None:
    # An older coaltrace wrote no stamp and recorded a hash of every row: that build is not trusted,
    # it is rebuilt once, and from then on the build is current until a load writes a stamp.
    with Store(tmp_path / "old.duckdb") as s:
        _registered(s)
        load_paths(s, [write_csv(tmp_path / "s1.csv", SALES, [["S1", "2021-12-02", "M", "Y", "100"]])])
        assert ensure_current(s, DEC) is True
        s.engine.execute("DELETE FROM meta WHERE key = 'data_version'")
        s.engine.execute("UPDATE provenance_runs SET data_fingerprint = 'a hash of every row, as before'")
        assert data_version(s.engine) is None
        assert is_current(s, DEC) is False
        assert ensure_current(s, DEC) is True
        assert is_current(s, DEC) is True and ensure_current(s, DEC) is False
        load_paths(s, [write_csv(tmp_path / "s2.csv", SALES, [["S2", "2021-12-03", "M", "Y", "40"]])])
        assert data_version(s.engine) is not None
        assert is_current(s, DEC) is False


def test_the_check_reads_no_row_of_the_inputs(tmp_path: Path) -> None:
    # Rows written behind the loader's back with the same counts go unnoticed: the check compares the
    # stamp and the row counts, and never reads the rows themselves (that cost seconds on a province).
    with Store(tmp_path / "a.duckdb") as s:
        _registered(s)
        load_paths(s, [write_csv(tmp_path / "s1.csv", SALES, [["S1", "2021-12-02", "M", "Y", "100"]])])
        assert ensure_current(s, DEC) is True
        s.engine.execute("UPDATE sales SET tonnes = 999")
        assert is_current(s, DEC) is True
        s.engine.execute(
            "INSERT INTO sales (sale_id, sold_at, seller_id, buyer_id, tonnes) VALUES ('S9', '2021-12-09', 'M', 'Y', 1)"
        )
        assert is_current(s, DEC) is False  # a row count changed
