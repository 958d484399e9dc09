"""A crossmatch of an uploaded table against the Gaia demo table through
/tap/sync (pyvo, real HTTP) returns exactly astropy's brute-force pairs, and
is translated to the index-probing join (adql/crossmatch.py)."""

from __future__ import annotations

import numpy as np
import psycopg
import pytest
import pyvo
from astropy import units as u
from astropy.coordinates import SkyCoord
from astropy.table import Table

from adql import translate
from adql.catalog import ColumnInfo, TableInfo
from vo_server.catalog import load_catalog, with_tables
from vo_server.sky.spatial_compiler import HealpixSpatialCompiler

RADIUS_ARCSEC = 5.0
QUERY = ("SELECT u.id, g.source_id FROM TAP_UPLOAD.targets AS u JOIN gaia.dr3_bright AS g "
         f"ON 1 = CONTAINS(POINT(g.ra, g.dec), CIRCLE(u.ra, u.dec, {RADIUS_ARCSEC}/3600.))")


@pytest.fixture(scope="module")
def gaia(demo_target) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    with psycopg.connect(demo_target.owner_dsn) as conn:
        rows = conn.execute("SELECT source_id, ra, dec FROM gaia.dr3_bright").fetchall()
    source_id, ra, dec = zip(*rows, strict=True)
    return np.array(source_id, dtype=np.int64), np.array(ra), np.array(dec)


def targets(gaia) -> Table:
    """1500 positions: 500 near Gaia stars (0-8 arcsec away), the rest random."""
    source_id, ra, dec = gaia
    rng = np.random.default_rng(5)
    stars = rng.choice(len(ra), 500, replace=False)
    near = SkyCoord(ra[stars] * u.deg, dec[stars] * u.deg).directional_offset_by(
        rng.uniform(0, 2 * np.pi, 500) * u.rad, rng.uniform(0, 8, 500) * u.arcsec)
    t_ra = np.concatenate([near.ra.deg % 360, rng.uniform(0, 360, 1000)])
    t_dec = np.concatenate([near.dec.deg, np.degrees(np.arcsin(rng.uniform(-1, 1, 1000)))])
    return Table({"id": np.arange(1500), "ra": t_ra, "dec": t_dec})


def test_upload_crossmatch_matches_astropy(tap_url, gaia, demo_target) -> None:
    table = targets(gaia)
    result = pyvo.dal.TAPService(tap_url).run_sync(QUERY, uploads={"targets": table}, maxrec=100_000).to_table()
    got = {(int(i), int(s)) for i, s in zip(result["id"], result["source_id"], strict=True)}
    assert len(got) == len(result), "a pair appears twice"

    source_id, ra, dec = gaia
    mine = SkyCoord(table["ra"] * u.deg, table["dec"] * u.deg)
    stars = SkyCoord(ra * u.deg, dec * u.deg)
    in_stars, in_mine, sep, _ = mine.search_around_sky(stars, (RADIUS_ARCSEC + 1e-3) * u.arcsec)
    found = list(zip(in_mine.tolist(), source_id[in_stars].tolist(), sep.arcsec, strict=True))
    expected = {(i, s) for i, s, d in found if d <= RADIUS_ARCSEC - 1e-5}
    borderline = {(i, s) for i, s, d in found if abs(d - RADIUS_ARCSEC) < 1e-5}
    assert got - borderline == expected and len(expected) > 250

    # the server's translation of this query probes the Gaia table's index
    _, catalog = load_catalog(demo_target.owner_dsn)
    columns = (ColumnInfo("id", "long"), ColumnInfo("ra", "double"), ColumnInfo("dec", "double"),
               ColumnInfo("hpx", "long"))
    upload = TableInfo("TAP_UPLOAD", "targets", columns, position=("ra", "dec"), hpx_column="hpx")
    sql = translate(QUERY, with_tables(catalog, [upload]), HealpixSpatialCompiler()).sql
    assert "LATERAL" in sql and '"t2"."hpx" BETWEEN' in sql and 'neighbourhood("t1"."hpx"' in sql
