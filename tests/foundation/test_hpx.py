"""The stored HEALPix index agrees with healpy, in memory and in the database."""

from __future__ import annotations

import healpy
import numpy as np
import psycopg
import pytest

from tests.foundation.files import parquet_positions, random_positions
from vo_server.ingest.loader import IngestRequest, ingest
from vo_server.sky.hpx import INDEX_DEPTH, coverage_moc, hpx_index

NSIDE = 2**INDEX_DEPTH


def healpy_index(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    return healpy.ang2pix(NSIDE, ra % 360.0, dec, nest=True, lonlat=True).astype(np.int64)


def assert_agrees_with_healpy(ra: np.ndarray, dec: np.ndarray, index: np.ndarray) -> None:
    expected = healpy_index(ra, dec)
    mismatch = np.flatnonzero(index != expected)
    # Points exactly on a cell boundary (e.g. ra=180, dec=0, a base-cell corner) belong to
    # either side by convention; anywhere else the two libraries must agree.
    assert len(mismatch) <= 2
    for i in mismatch:
        eps = 1e-10  # a thousandth of a depth-29 cell
        nearby = {int(healpy_index(np.array([ra[i] + dr]), np.array([dec[i] + dd]))[0])
                  for dr in (-eps, 0, eps) for dd in (-eps, 0, eps)}
        assert int(index[i]) in nearby, (ra[i], dec[i])


def test_hpx_matches_healpy_on_10k_points_with_poles_and_ra_wrap() -> None:
    ra, dec = random_positions(10_000)
    index, valid = hpx_index(ra, dec)
    assert valid.all()
    assert_agrees_with_healpy(ra, dec, index)


def test_ra_360_equals_ra_0() -> None:
    index, _ = hpx_index(np.array([0.0, 360.0]), np.array([12.5, 12.5]))
    assert index[0] == index[1]


@pytest.mark.parametrize("ra, dec", [(np.nan, 0.0), (0.0, np.nan), (np.inf, 0.0), (-0.001, 0.0),
                                     (360.001, 0.0), (10.0, 90.0001), (10.0, -91.0)])
def test_invalid_positions_are_masked(ra: float, dec: float) -> None:
    _, valid = hpx_index(np.array([ra]), np.array([dec]))
    assert not valid[0]


def test_coverage_moc_contains_every_point() -> None:
    ra, dec = random_positions(2000)
    index, _ = hpx_index(ra, dec)
    moc = coverage_moc(index, 6)
    import astropy.units as u
    assert moc.contains_lonlat(ra * u.deg, dec * u.deg).all()


def test_hpx_in_database_matches_healpy(db_target, tmp_path) -> None:
    path = parquet_positions(tmp_path / "points.parquet", 10_000)
    report = ingest(db_target, IngestRequest(path=path, table="hpxtest.points"))
    assert report.bad_positions == 0
    with psycopg.connect(db_target.owner_dsn) as conn:
        rows = conn.execute("SELECT ra, dec, hpx FROM hpxtest.points").fetchall()
    ra, dec, hpx = (np.array(c) for c in zip(*rows, strict=True))
    assert len(hpx) == 10_000
    assert_agrees_with_healpy(ra.astype(float), dec.astype(float), hpx.astype(np.int64))


def test_table_is_physically_ordered_by_hpx(db_target, tmp_path) -> None:
    path = parquet_positions(tmp_path / "order.parquet", 5000, seed=7)
    ingest(db_target, IngestRequest(path=path, table="hpxtest.ordered"))
    with psycopg.connect(db_target.owner_dsn) as conn:
        hpx = [r[0] for r in conn.execute("SELECT hpx FROM hpxtest.ordered ORDER BY ctid")]
        correlation = conn.execute("SELECT correlation FROM pg_stats WHERE schemaname = 'hpxtest' "
                                   "AND tablename = 'ordered' AND attname = 'hpx'").fetchone()[0]
        clustered = conn.execute("SELECT indisclustered FROM pg_index WHERE indexrelid = "
                                 "'hpxtest.ordered_hpx_idx'::regclass").fetchone()[0]
    assert hpx == sorted(hpx)
    assert correlation > 0.999
    assert clustered
