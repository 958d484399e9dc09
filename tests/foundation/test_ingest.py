"""Ingest of every supported format, the modes, drop and listing, on the real database."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
from mocpy import MOC

from tests.foundation.files import star_table, write
from vo_server.ingest.loader import IngestRequest, drop_table, ingest, list_tables
from vo_server.sky.hpx import coverage_moc, hpx_index


def fetch(dsn: str, query: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(query).fetchall()


@pytest.mark.parametrize("suffix", [".fits", ".vot", ".csv", ".ecsv", ".parquet"])
def test_every_format_loads_the_same_rows(db_target, tmp_path, suffix: str) -> None:
    source = star_table(200, seed=3)
    path = write(source, tmp_path / f"stars{suffix}")
    table = f"formats.stars_{suffix[1:]}"
    report = ingest(db_target, IngestRequest(path=path, table=table))
    assert report.rows == 200 and report.ra_column == "ra" and report.dec_column == "dec"
    rows = fetch(db_target.query_dsn, f"SELECT id, ra, dec, mag_g, name, flag, hpx FROM {table} ORDER BY id")
    assert [r[0] for r in rows] == list(range(1, 201))
    np.testing.assert_allclose([r[1] for r in rows], source["RA"], rtol=0, atol=1e-12)
    np.testing.assert_allclose([r[2] for r in rows], source["DEC"], rtol=0, atol=1e-12)
    np.testing.assert_allclose([r[3] for r in rows], source["mag_g"], rtol=1e-6)
    assert [r[4] for r in rows] == list(source["name"])
    assert [r[5] for r in rows] == list(source["flag"])
    expected_hpx, _ = hpx_index(np.asarray(source["RA"]), np.asarray(source["DEC"]))
    assert [r[6] for r in rows] == expected_hpx.tolist()


def test_coverage_moc_is_stored(db_target, tmp_path) -> None:
    source = star_table(300, seed=4)
    ingest(db_target, IngestRequest(path=write(source, tmp_path / "s.parquet"), table="cov.stars", coverage_order=7))
    ((moc_text, order, fraction),) = fetch(db_target.owner_dsn, "SELECT coverage_moc, coverage_order, sky_fraction "
                                                                "FROM vo_internal.published_tables WHERE schema_name = 'cov'")
    expected = coverage_moc(hpx_index(np.asarray(source["RA"]), np.asarray(source["DEC"]))[0], 7)
    stored = MOC.from_string(moc_text, format="ascii")
    assert order == 7 and stored == expected and fraction == pytest.approx(expected.sky_fraction)


def test_table_without_position_has_no_hpx(db_target, tmp_path) -> None:
    table = star_table(20)
    table.remove_columns(["RA", "DEC"])
    report = ingest(db_target, IngestRequest(path=write(table, tmp_path / "nopos.ecsv"), table="plain.things"))
    assert report.ra_column is None
    columns = [r[0] for r in fetch(db_target.query_dsn, "SELECT column_name FROM tap_schema.columns "
                                                        "WHERE table_name = 'plain.things' ORDER BY column_index")]
    assert columns == ["id", "mag_g", "name", "flag"]
    assert fetch(db_target.owner_dsn, "SELECT hpx_column, coverage_moc FROM vo_internal.published_tables "
                                      "WHERE schema_name = 'plain'") == [(None, None)]


def test_explicit_ra_dec_columns_case_insensitive(db_target, tmp_path) -> None:
    table = star_table(20)
    table.rename_column("RA", "RAJ2000")
    table.rename_column("DEC", "DEJ2000")
    for name in ("RAJ2000", "DEJ2000"):
        table[name].meta.pop("ucd")
    path = write(table, tmp_path / "j2000.vot")
    report = ingest(db_target, IngestRequest(path=path, table="pos.j2000", ra="raj2000", dec="DEJ2000"))
    assert (report.ra_column, report.dec_column) == ("raj2000", "dej2000")
    ucds = dict(fetch(db_target.query_dsn, "SELECT column_name, ucd FROM tap_schema.columns "
                                           "WHERE table_name = 'pos.j2000'"))
    assert ucds["raj2000"] == "pos.eq.ra;meta.main" and ucds["dej2000"] == "pos.eq.dec;meta.main"


def test_replace_append_and_drop(db_target, tmp_path) -> None:
    first = write(star_table(50, seed=5), tmp_path / "a.parquet")
    second = write(star_table(70, seed=6), tmp_path / "b.parquet")
    ingest(db_target, IngestRequest(path=first, table="modes.stars"))
    report = ingest(db_target, IngestRequest(path=second, table="modes.stars", mode="replace"))
    assert report.mode == "replace"
    assert fetch(db_target.query_dsn, "SELECT count(*) FROM modes.stars") == [(70,)]
    before = fetch(db_target.owner_dsn, "SELECT updated_at FROM vo_internal.published_tables WHERE schema_name='modes'")
    report = ingest(db_target, IngestRequest(path=first, table="modes.stars", mode="append"))
    assert report.rows == 120
    assert fetch(db_target.query_dsn, "SELECT count(*), count(hpx) FROM modes.stars") == [(120, 120)]
    hpx = [r[0] for r in fetch(db_target.owner_dsn, "SELECT hpx FROM modes.stars ORDER BY ctid")]
    assert hpx == sorted(hpx)  # re-clustered after the append
    after = fetch(db_target.owner_dsn, "SELECT updated_at, row_count FROM vo_internal.published_tables "
                                       "WHERE schema_name='modes'")
    assert after[0][0] > before[0][0] and after[0][1] == 120
    assert [t["table"] for t in list_tables(db_target)].count("modes.stars") == 1
    drop_table(db_target, "modes.stars")
    assert fetch(db_target.owner_dsn, "SELECT to_regclass('modes.stars'), to_regnamespace('modes')") == [(None, None)]
    assert fetch(db_target.query_dsn, "SELECT count(*) FROM tap_schema.columns WHERE table_name = 'modes.stars'") == [(0,)]
    assert fetch(db_target.query_dsn, "SELECT count(*) FROM tap_schema.schemas WHERE schema_name = 'modes'") == [(0,)]


def test_query_role_can_read_new_tables_immediately(db_target, tmp_path) -> None:
    ingest(db_target, IngestRequest(path=write(star_table(5), tmp_path / "n.csv"), table="fresh.stars"))
    assert fetch(db_target.query_dsn, "SELECT count(*) FROM fresh.stars") == [(5,)]


def test_array_and_timestamp_columns(db_target, tmp_path) -> None:
    from astropy.table import Table
    from astropy.time import Time
    table = Table()
    table["id"] = [1, 2]
    table["vec"] = np.array([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    table["obs_time"] = Time(["2020-01-01T00:00:00", "2021-06-15T12:30:00"])
    ingest(db_target, IngestRequest(path=write(table, tmp_path / "arr.ecsv"), table="types.arrays"))
    meta = fetch(db_target.query_dsn, "SELECT column_name, datatype, arraysize, xtype FROM tap_schema.columns "
                                      "WHERE table_name = 'types.arrays' ORDER BY column_index")
    assert meta == [("id", "long", None, None), ("vec", "double", "3", None), ("obs_time", "char", "*", "timestamp")]
    rows = fetch(db_target.query_dsn, "SELECT vec, obs_time::text FROM types.arrays ORDER BY id")
    assert rows == [([1.0, 2.0, 3.0], "2020-01-01 00:00:00"), ([4.0, 5.0, 6.0], "2021-06-15 12:30:00")]


def test_nulls_of_every_type_survive_binary_copy(db_target, tmp_path) -> None:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.parquet as pq
    path = tmp_path / "nulls.parquet"
    pq.write_table(pa.table({
        "i16": pa.array([1, None, -3], type=pa.int16()),
        "i32": pa.array([None, 2, 3], type=pa.int32()),
        "i64": pa.array([2**40, None, -1], type=pa.int64()),
        "u8": pa.array([255, None, 0], type=pa.uint8()),
        "f32": pa.array([1.5, None, float("nan")], type=pa.float32()),
        "f64": pa.array([None, float("inf"), -0.25], type=pa.float64()),
        "s": pa.array(["ä€", None, ""], type=pa.string()),
        "b": pa.array([True, None, False]),
        "ts": pa.array([dt.datetime(1999, 12, 31, 23, 59, 59, 123456), None, dt.datetime(2030, 1, 1)]),
        "vec": pa.array([[1.0, None], None, [3.0, 4.0]], type=pa.list_(pa.float64(), 2)),
        "cat": pa.array(["a", "b", None]).dictionary_encode(),
    }), path)
    ingest(db_target, IngestRequest(path=path, table="types.nulls"))
    rows = fetch(db_target.query_dsn, "SELECT i16, i32, i64, u8, f32, f64, s, b, ts, vec, cat FROM types.nulls")
    assert rows[0] == (1, None, 2**40, 255, 1.5, None, "ä€", True, dt.datetime(1999, 12, 31, 23, 59, 59, 123456),
                       [1.0, None], "a")
    assert rows[1] == (None, 2, None, None, None, float("inf"), None, None, None, None, "b")
    assert rows[2][:5] == (-3, 3, -1, 0, rows[2][4]) and rows[2][4] != rows[2][4]  # NaN stays NaN
    assert rows[2][5:] == (-0.25, "", False, dt.datetime(2030, 1, 1), [3.0, 4.0], None)
    meta = fetch(db_target.query_dsn, "SELECT column_name, datatype FROM tap_schema.columns "
                                      "WHERE table_name = 'types.nulls' ORDER BY column_index")
    assert dict(meta) == {"i16": "short", "i32": "int", "i64": "long", "u8": "short", "f32": "float",
                          "f64": "double", "s": "unicodeChar", "b": "boolean", "ts": "char", "vec": "double",
                          "cat": "char"}
