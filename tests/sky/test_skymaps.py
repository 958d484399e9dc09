"""GW sky maps: ingest (multi-order and flat), credible areas against the
reference numbers, per-source values against ligo.skymap's crossmatch,
bad input, CLI, and the /gw and /moc/skymaps endpoints."""

from __future__ import annotations

import functools
import io
import math
import subprocess
import sys
from pathlib import Path

import astropy.units as u
import httpx
import numpy as np
import psycopg
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.io.votable import parse_single_table
from astropy.table import Table
from mocpy import MOC

from vo_server.ingest.loader import IngestRequest, ingest
from vo_server.sky.skymap_files import SkymapError, read_skymap
from vo_server.sky.skymaps import drop_skymap, ingest_skymap, list_skymaps

DATA = Path(__file__).resolve().parent.parent / "data"
MULTIORDER = DATA / "gw" / "S200129m_G361581_bayestar.multiorder.fits"
FLAT_SIM = DATA / "gw" / "simulated_F2Y_bayestar_nside512.fits.gz"
GW170817 = Path(__file__).resolve().parents[2] / "vo_server" / "demo" / "data" / "GW170817_skymap.fits.gz"
AT2017GFO = (197.450374, -23.381495)


@pytest.fixture(scope="module")
def maps(db_target):
    reports = {
        "S200129m": ingest_skymap(db_target, MULTIORDER, "S200129m"),
        "GW170817": ingest_skymap(db_target, GW170817, "GW170817"),
        "F2Y": ingest_skymap(db_target, FLAT_SIM, "F2Y"),
    }
    return reports


@pytest.fixture(scope="module")
def catalogue(db_target, maps, tmp_path_factory):
    """Random sources around both real events (plus AT2017gfo), with distances."""
    rng = np.random.default_rng(5)
    ra = np.concatenate([rng.normal(196.5, 3, 3000), rng.normal(318.3, 4, 3000), rng.uniform(0, 360, 2000),
                         [AT2017GFO[0]]])
    dec = np.concatenate([rng.normal(-22, 3, 3000), rng.normal(4.5, 4, 3000),
                          np.degrees(np.arcsin(rng.uniform(-1, 1, 2000))), [AT2017GFO[1]]])
    dec = np.clip(dec, -89.9, 89.9)
    ra = ra % 360
    dist = rng.uniform(10, 1500, len(ra))
    dist[-1] = 40.0
    table = Table({"name": [f"src{i}" for i in range(len(ra))], "ra": ra, "dec": dec, "dist": dist})
    table["dist"].unit = "Mpc"
    path = tmp_path_factory.mktemp("cat") / "sources.fits"
    table.write(path)
    ingest(db_target, IngestRequest(path=path, table="gwtest.sources", mode="create"))
    return table


def test_credible_areas_match_reference_numbers(maps):
    assert maps["GW170817"].area_90 == pytest.approx(16.17, abs=0.1)
    assert maps["GW170817"].area_50 == pytest.approx(5.00, abs=0.1)
    assert maps["S200129m"].area_90 == pytest.approx(53.09, abs=0.1)
    assert maps["S200129m"].area_50 == pytest.approx(10.17, abs=0.1)
    assert maps["GW170817"].has_distance and not maps["F2Y"].has_distance


def test_ingest_of_multiorder_map_is_fast(maps):
    assert maps["S200129m"].seconds < 1.0


def test_list_and_summary(db_target, maps, live_server):
    names = {m["name"] for m in list_skymaps(db_target)}
    assert {"S200129m", "GW170817", "F2Y"} <= names
    summary = httpx.get(f"{live_server.url}/gw/GW170817").json()
    assert summary["object"] == "GW170817"
    assert summary["date_obs"].startswith("2017-08-17T12:41:04")
    assert summary["distmean"] == pytest.approx(38.03, abs=0.01)
    assert summary["area_90"] == pytest.approx(16.17, abs=0.1)
    assert summary["max_ra"] == pytest.approx(196.304, abs=0.05)
    assert summary["max_dec"] == pytest.approx(-21.302, abs=0.05)
    s2 = httpx.get(f"{live_server.url}/gw/S200129m").json()
    assert s2["instruments"] == "H1,L1,V1"
    assert (s2["max_ra"], s2["max_dec"]) == pytest.approx((318.340, 4.574), abs=0.05)
    listing = httpx.get(f"{live_server.url}/gw/").json()
    assert {m["name"] for m in listing["skymaps"]} >= {"GW170817", "S200129m"}
    assert httpx.get(f"{live_server.url}/gw/nope").status_code == 404


def _sources(live_server, name: str, **params) -> Table:
    response = httpx.get(f"{live_server.url}/gw/{name}/sources", params=params, timeout=60)
    assert response.status_code == 200, response.text
    return parse_single_table(io.BytesIO(response.content)).to_table()


@functools.lru_cache(maxsize=4)
def _ligo_map(path: Path):
    from ligo.skymap.io import read_sky_map

    return read_sky_map(str(path), moc=True)


def _crossmatch(path: Path, table: Table, with_distance: bool = False):
    from ligo.skymap.postprocess.crossmatch import crossmatch

    sky_map = _ligo_map(path)
    if not with_distance:  # 2D quantities only: skip crossmatch's costly 3D grid
        sky_map = sky_map[["UNIQ", "PROBDENSITY"]]
    if with_distance:
        coords = SkyCoord(np.asarray(table["ra"]) * u.deg, np.asarray(table["dec"]) * u.deg, distance=np.asarray(table["dist"]) * u.Mpc)
    else:
        coords = SkyCoord(np.asarray(table["ra"]) * u.deg, np.asarray(table["dec"]) * u.deg)
    return crossmatch(sky_map, coords)


@pytest.mark.parametrize("name,path", [("S200129m", MULTIORDER), ("GW170817", GW170817)])
def test_sources_match_ligo_skymap_crossmatch(live_server, catalogue, name, path):
    found = _sources(live_server, name, table="gwtest.sources", credible="0.9")
    assert len(found) > 10
    assert np.all(np.diff(np.asarray(found["gw_probdensity"])) <= 0)  # ranked
    result = _crossmatch(path, found)
    np.testing.assert_allclose(found["gw_credible_level"], result.searched_prob, rtol=1e-6)
    np.testing.assert_allclose(found["gw_probdensity"], result.probdensity, rtol=1e-6)
    # every catalogue source whose searched probability is below the level is returned, and no other
    everything = _crossmatch(path, catalogue)
    inside = set(np.asarray(catalogue["name"])[everything.searched_prob < 0.9 - 1e-9])
    returned = set(np.asarray(found["name"]))
    assert inside <= returned
    assert np.all(np.asarray(found["gw_credible_level"]) < 0.9 + 0.02)


def test_at2017gfo_in_gw170817(live_server, catalogue):
    found = _sources(live_server, "GW170817", table="gwtest.sources", credible="0.5", distance_column="dist")
    row = found[found["name"] == f"src{len(catalogue) - 1}"]
    assert len(row) == 1
    assert row["gw_credible_level"][0] == pytest.approx(0.3826, abs=5e-5)
    # 3D density: sky density x conditional distance density / r^2 (ligo.skymap.distance)
    from ligo.skymap.distance import conditional_pdf

    sky_map = _ligo_map(GW170817)  # ligo.skymap's own reading of the map
    from ligo.skymap import moc

    order, ipix = moc.uniq2nest(sky_map["UNIQ"])
    from vo_server.sky.hpx import hpx_index

    h = hpx_index(np.array([AT2017GFO[0]]), np.array([AT2017GFO[1]]))[0][0]
    i = int(np.nonzero((h >> (2 * (29 - order))) == ipix)[0][0])
    pixel = sky_map[i]
    expected = pixel["PROBDENSITY"] * conditional_pdf(40.0, pixel["DISTMU"], pixel["DISTSIGMA"],
                                                      pixel["DISTNORM"]) / 40.0 ** 2
    assert row["gw_probdensity_vol"][0] == pytest.approx(expected, rel=1e-6)
    vol = np.asarray(found["gw_probdensity_vol"])
    assert np.all(np.diff(vol[np.isfinite(vol)]) <= 0)


def test_sources_errors(live_server, catalogue):
    base = f"{live_server.url}/gw"
    for params, status, text in [
        ({"table": "gwtest.sources", "credible": "abc"}, 400, "credible"),
        ({"table": "gwtest.sources", "credible": "1.5"}, 400, "credible"),
        ({"table": "nope.nope"}, 400, "not a published table"),
        ({}, 400, "table=SCHEMA.TABLE is required"),
        ({"table": "gwtest.sources", "distance_column": "zzz"}, 400, "not a column"),
    ]:
        r = httpx.get(f"{base}/GW170817/sources", params=params)
        assert r.status_code == status and text in r.text and "QUERY_STATUS" in r.text
    r = httpx.get(f"{base}/F2Y/sources", params={"table": "gwtest.sources", "distance_column": "dist"})
    assert r.status_code == 400 and "no distance layers" in r.text


def test_skymap_moc(live_server, maps):
    r = httpx.get(f"{live_server.url}/moc/skymaps/S200129m", params={"credible": "0.9", "format": "ascii"})
    assert r.status_code == 200
    moc = MOC.from_string(r.text, format="ascii")
    area = moc.sky_fraction * 4 * math.pi * (180 / math.pi) ** 2
    # the region is the fewest tiles reaching 0.9: a little above the interpolated 90% area
    assert 53.0 < area < 54.5
    fits_moc = MOC.from_fits(io.BytesIO(httpx.get(f"{live_server.url}/moc/skymaps/S200129m").content))
    assert fits_moc == moc
    assert httpx.get(f"{live_server.url}/moc/skymaps/nope").status_code == 404


def _write_flat(path: Path, prob: np.ndarray, ordering: str = "NESTED", nside: int | None = None,
                pixtype: str = "HEALPIX") -> Path:
    hdu = fits.BinTableHDU.from_columns([fits.Column(name="PROB", format="D", array=prob)])
    hdu.header["PIXTYPE"] = pixtype
    hdu.header["ORDERING"] = ordering
    hdu.header["NSIDE"] = nside or int(math.sqrt(len(prob) / 12))
    hdu.header["OBJECT"] = "TEST"
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    return path


def _gaussian_map(nside: int, ra: float, dec: float, sigma: float, nest: bool = True) -> np.ndarray:
    import healpy as hp

    theta, phi = hp.pix2ang(nside, np.arange(12 * nside * nside), nest=nest)
    d = hp.rotator.angdist((math.radians(90 - dec), math.radians(ra)), (theta, phi))
    p = np.exp(-0.5 * (np.degrees(d) / sigma) ** 2)
    return p / p.sum()


def test_ring_map_is_converted(tmp_path):
    nest = read_skymap(_write_flat(tmp_path / "n.fits", _gaussian_map(64, 40, 10, 3)))
    ring = read_skymap(_write_flat(tmp_path / "r.fits", _gaussian_map(64, 40, 10, 3, nest=False), "RING"))
    assert ring.credible_area(0.9) == pytest.approx(nest.credible_area(0.9), rel=1e-9)
    assert ring.has_distance is False


def test_unnormalised_map_is_normalised_with_a_warning(tmp_path):
    tiles = read_skymap(_write_flat(tmp_path / "u.fits", 3 * _gaussian_map(32, 40, 10, 5)))
    assert any("normalised" in w for w in tiles.warnings)
    assert tiles.cum_prob[-1] == pytest.approx(1.0)


@pytest.mark.parametrize("maker,message", [
    (lambda p: _write_flat(p, _gaussian_map(16, 0, 0, 5), pixtype="CAR"), "not HEALPIX"),
    (lambda p: _write_flat(p, np.full(12 * 3 * 3, 1 / 108), nside=3), "not a power of two"),
    (lambda p: _write_flat(p, np.where(np.arange(3072) == 5, np.nan, 1 / 3072)), "NaN"),
    (lambda p: _write_flat(p, np.full(3072, 1 / 3072), ordering="WEIRD"), "ORDERING"),
    (lambda p: _write_flat(p, np.zeros(3072)), "sum to 0"),
    (lambda p: (p.write_bytes(b"this is not FITS at all" * 200), p)[1], "not a readable FITS"),
    (lambda p: (fits.HDUList([fits.PrimaryHDU(np.zeros((4, 4)))]).writeto(p), p)[1], "no binary table"),
])
def test_bad_maps_are_refused_and_nothing_is_stored(db_target, tmp_path, maker, message):
    path = maker(tmp_path / "bad.fits")
    before = len(list_skymaps(db_target))
    with pytest.raises(SkymapError, match=message):
        ingest_skymap(db_target, path, "BadMap")
    assert len(list_skymaps(db_target)) == before
    with psycopg.connect(db_target.owner_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM vo_sky.skymaps WHERE name = 'BadMap'").fetchone()[0] == 0


def test_name_taken_and_bad_names(db_target, maps):
    with pytest.raises(SkymapError, match="already exists"):
        ingest_skymap(db_target, MULTIORDER, "S200129m")
    with pytest.raises(SkymapError, match="must be"):
        ingest_skymap(db_target, MULTIORDER, "bad'name")
    with pytest.raises(SkymapError, match="no sky map"):
        drop_skymap(db_target, "never-ingested")


def test_cli_ingest_list_drop(cli_env, db_target, maps):
    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "vo_server.cli", "skymap", *args], env=cli_env,
                              capture_output=True, text=True, timeout=120,
                              cwd=Path(__file__).resolve().parents[2])

    done = run("ingest", str(MULTIORDER), "--name", "cli-map")
    assert done.returncode == 0, done.stderr
    assert "90% area 53.0" in done.stdout
    assert "cli-map" in run("list").stdout
    again = run("ingest", str(MULTIORDER), "--name", "cli-map")
    assert again.returncode == 2 and "already exists" in again.stderr
    dropped = run("drop", "cli-map")
    assert dropped.returncode == 0 and "cli-map" not in {m["name"] for m in list_skymaps(db_target)}


def test_html_listing_links_overlaps(live_server, catalogue):
    page = httpx.get(f"{live_server.url}/gw/", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "/gw/GW170817/sources?table=gwtest.sources&amp;credible=0.9" in page.text
    link = f"{live_server.url}/gw/GW170817/sources?table=gwtest.sources&credible=0.9"
    assert parse_single_table(io.BytesIO(httpx.get(link).content)).to_table()["gw_credible_level"].max() < 0.95
