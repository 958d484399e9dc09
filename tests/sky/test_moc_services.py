"""MOC serialisations (against the MOC 2.0 worked examples and mocpy), the
/moc endpoints, MOC discovery, and the SQL HEALPix function."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from astropy.io import fits
from mocpy import MOC

from vo_server.ingest.loader import IngestRequest, ingest
from vo_server.sky.hpx import hpx_index
from vo_server.sky.moc_formats import MocFormatError, choose_format, serialise
from vo_server.sky.skymaps import ingest_skymap

DATA = Path(__file__).resolve().parent.parent / "data"


def test_serialisations_match_the_moc2_examples():
    reference = MOC.from_fits(DATA / "moc" / "SMOC.fits")
    ascii_text = (DATA / "moc" / "smoc.ascii.txt").read_text().strip()
    assert serialise(reference, "ascii").decode().strip() == ascii_text
    ours = fits.open(io.BytesIO(serialise(reference, "fits")))
    header = ours[1].header
    assert (header["MOCVERS"], header["MOCDIM"], header["ORDERING"], header["MOCORDER"]) == \
        ("2.0", "SPACE", "NUNIQ", 29)
    example = fits.open(DATA / "moc" / "SMOC.fits")[1].data["UNIQ"]
    assert ours[1].data["UNIQ"].tolist() == example.tolist()
    assert MOC.from_fits(io.BytesIO(serialise(reference, "fits"))) == reference
    assert MOC.from_json(__import__("json").loads(serialise(reference, "json"))) == reference
    assert MOC.from_string(ascii_text, format="ascii") == reference


def test_format_choice():
    assert choose_format(None, None) == "fits"
    assert choose_format("ascii", "application/fits") == "ascii"
    assert choose_format(None, "text/html, application/json;q=0.9") == "json"
    with pytest.raises(MocFormatError):
        choose_format("png", None)


@pytest.fixture(scope="module")
def loaded(db_target, tmp_path_factory):
    rng = np.random.default_rng(11)
    ra, dec = rng.uniform(190, 200, 2000), rng.uniform(-30, -15, 2000)
    path = tmp_path_factory.mktemp("moc") / "field.parquet"
    pq.write_table(pa.table({"id": np.arange(2000), "ra": ra, "dec": dec}), path)
    ingest(db_target, IngestRequest(path=path, table="moctest.field", mode="create"))
    ingest_skymap(db_target, DATA / "gw" / "S200129m_G361581_bayestar.multiorder.fits", "S200129m")
    return ra, dec


def test_table_moc_in_every_format(live_server, loaded):
    url = f"{live_server.url}/moc/tables/moctest.field"
    fits_response = httpx.get(url)
    assert fits_response.headers["content-type"] == "application/fits"
    moc = MOC.from_fits(io.BytesIO(fits_response.content))
    ascii_moc = MOC.from_string(httpx.get(url, params={"format": "ascii"}).text, format="ascii")
    json_moc = MOC.from_json(httpx.get(url, headers={"Accept": "application/json"}).json())
    assert moc == ascii_moc == json_moc
    import astropy.units as u
    from astropy.coordinates import Latitude, Longitude

    assert moc.contains_lonlat(Longitude(loaded[0] * u.deg), Latitude(loaded[1] * u.deg)).all()
    listing = httpx.get(f"{live_server.url}/moc/tables").json()["tables"]
    assert [t["table"] for t in listing] == ["moctest.field"]
    assert httpx.get(url, params={"format": "png"}).status_code == 400
    assert httpx.get(f"{live_server.url}/moc/tables/nope.nope").status_code == 404


def test_discovery(live_server, loaded):
    inside = httpx.get(f"{live_server.url}/moc/search", params={"ra": 195, "dec": -20, "sr": 1}).json()
    assert [t["table"] for t in inside["tables"]] == ["moctest.field"]
    assert inside["skymaps"] == []
    gw = httpx.get(f"{live_server.url}/moc/search", params={"ra": 318.34, "dec": 4.57, "sr": 0.5}).json()
    assert [m["skymap"] for m in gw["skymaps"]] == ["S200129m"] and gw["tables"] == []
    by_moc = httpx.get(f"{live_server.url}/moc/search", params={"moc": "0/0-11"}).json()
    assert by_moc["tables"] and by_moc["skymaps"]
    assert httpx.get(f"{live_server.url}/moc/search", params={"moc": "garbage!"}).status_code == 400
    assert httpx.get(f"{live_server.url}/moc/search").status_code == 400


def test_sql_hpx29_matches_cdshealpix(db_target):
    rng = np.random.default_rng(12)
    ra = np.concatenate([rng.uniform(0, 360, 20000), [0, 360, 45, 90, 180, 270, 359.9999999]])
    dec = np.concatenate([np.degrees(np.arcsin(rng.uniform(-1, 1, 20000))), [90, -90, 41.8103, -41.8103, 0, 89.999, -89.999]])
    expected, _ = hpx_index(ra, dec)
    with psycopg.connect(db_target.query_dsn) as conn:
        got = np.array([r[0] for r in conn.execute(
            "SELECT vo_sky.hpx29(r, d) FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS u(r, d, n) ORDER BY n",
            (ra.tolist(), dec.tolist()))], dtype=np.int64)
        assert conn.execute("SELECT vo_sky.hpx29(1, 91)").fetchone()[0] is None
    same = got == expected
    # only positions within ~1e-7 of a depth-29 cell edge may differ (float rounding), and by one cell
    assert same.mean() > 0.9999
    assert np.all(np.abs((got[~same] >> 0) - expected[~same]) < 4 ** 29 * 12)


def test_sql_udf_functions(db_target, loaded):
    with psycopg.connect(db_target.query_dsn) as conn:
        density, level = conn.execute(
            "SELECT vo_sky.gw_probdensity('S200129m', 318.34, 4.574), "
            "vo_sky.gw_credible_level('S200129m', 318.34, 4.574)").fetchone()
        assert density > 0 and 0 < level < 0.01
        assert conn.execute("SELECT vo_sky.gw_probdensity('nope', 1, 1)").fetchone()[0] is None
        far = conn.execute("SELECT vo_sky.gw_credible_level('S200129m', 138.34, -4.574)").fetchone()[0]
        assert far > 0.99
        inside = conn.execute(
            "SELECT count(*) FROM moctest.field f WHERE EXISTS (SELECT 1 FROM vo_sky.gw_region_ranges('S200129m', 0.9) r "
            "WHERE f.hpx >= r.lo AND f.hpx < r.hi)").fetchone()[0]
        assert inside == 0


def test_sql_region_membership_agrees_with_ranges(db_target, loaded):
    rng = np.random.default_rng(13)
    ra, dec = rng.normal(318.3, 5, 400) % 360, np.clip(rng.normal(4.5, 5, 400), -90, 90)
    with psycopg.connect(db_target.query_dsn) as conn:
        rows = conn.execute(
            "SELECT vo_sky.gw_in_region('S200129m', 0.9, r, d), EXISTS (SELECT 1 FROM "
            "vo_sky.gw_region_ranges('S200129m', 0.9) g WHERE vo_sky.hpx29(r, d) >= g.lo AND vo_sky.hpx29(r, d) < g.hi), "
            "vo_sky.gw_credible_level_hpx('S200129m', vo_sky.hpx29(r, d)) = vo_sky.gw_credible_level('S200129m', r, d) "
            "FROM unnest(%s::float8[], %s::float8[]) u(r, d)", (ra.tolist(), dec.tolist())).fetchall()
    member = np.array([r[0] for r in rows])
    assert np.array_equal(member, np.array([r[1] for r in rows]))
    assert 0.05 < member.mean() < 0.9
    assert all(r[2] for r in rows)


def test_compiler_resolves_gw_regions_from_the_database(db_target, loaded):
    from adql.spatial import IndexedPosition, NamedRegion
    from vo_server.sky.spatial_compiler import HealpixSpatialCompiler, SkymapRegions, gw_region_filter_sql

    regions = SkymapRegions(db_target.owner_dsn)
    compiler = HealpixSpatialCompiler(skymap_regions=regions)
    position = IndexedPosition("ra", "dec", "hpx")
    rng = np.random.default_rng(14)
    ra, dec = rng.normal(318.3, 5, 3000) % 360, np.clip(rng.normal(4.5, 5, 3000), -90, 90)
    hpx, _ = hpx_index(ra, dec)
    prefilter = compiler.region_prefilter(position, NamedRegion("gw_region", ("S200129m", 0.9)))
    coarse = gw_region_filter_sql("hpx", "S200129m", 0.9, np.tile(regions("S200129m", 0.9), (30, 1)))
    assert "gw_in_region_hpx" in coarse
    with psycopg.connect(db_target.query_dsn) as conn:
        points = ("WITH pts AS (SELECT * FROM unnest(%s::float8[], %s::float8[], %s::int8[]) AS u(ra, dec, hpx)) "
                  "SELECT count(*) FROM pts WHERE ")
        values = (ra.tolist(), dec.tolist(), hpx.tolist())
        exact = conn.execute(points + "vo_sky.gw_in_region('S200129m', 0.9, ra, dec)", values).fetchone()[0]
        assert conn.execute(points + prefilter, values).fetchone()[0] == exact > 100
        assert conn.execute(points + coarse, values).fetchone()[0] == exact
    assert regions("S200129m", 0.9) is regions("S200129m", 0.9)  # cached
    assert regions("missing", 0.9) is None
    regions.close()


def test_sql_neighbourhood_matches_cdshealpix(db_target):
    import cdshealpix.nested as healpix

    rng = np.random.default_rng(15)
    with psycopg.connect(db_target.query_dsn) as conn:
        for depth in (0, 1, 3, 8, 13, 29):
            n = 12 * 4 ** depth
            pix = np.unique(np.concatenate([rng.integers(0, n, 200), np.arange(min(n, 64)), n - 1 - np.arange(min(n, 64))]))
            ours = conn.execute("SELECT vo_sky.hpx_neighbourhood(p, %s) FROM unnest(%s::int8[]) WITH ORDINALITY u(p, o) "
                                "ORDER BY o", (depth, pix.tolist())).fetchall()
            reference = healpix.neighbours(pix.astype(np.uint64), depth)
            for p, (got,), ref in zip(pix, ours, reference, strict=True):
                assert got[0] == p and set(got) - {-1} == set(ref.tolist()) - {-1}, (depth, p)
