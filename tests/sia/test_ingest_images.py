"""Image ingest on real FITS files: ObsCore values, footprints enclosing the
corner pixels (computed independently with astropy), re-ingest, bad input."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import psycopg
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.time import Time
from astropy.wcs import WCS, FITSFixedWarning

from tests.sia.images import IMAGE_HDUS, demo_files, tan_header, write_image
from vo_server.config import Settings
from vo_server.sia.ingest import ImageIngestRequest, ingest_images

warnings.simplefilter("ignore", FITSFixedWarning)
pytestmark = pytest.mark.filterwarnings("ignore::astropy.utils.exceptions.AstropyWarning")


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(data_dir=tmp_path_factory.mktemp("data"), authority="ivo://test.example")


@pytest.fixture(scope="module")
def loaded(db_target, settings):
    return ingest_images(db_target, settings, ImageIngestRequest(paths=demo_files(), collection="demo"))


def rows(dsn: str, sql: str, params=()) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute(sql, params).fetchall()


def corner_pixels(name: str) -> SkyCoord:
    """Sky positions of the four corner pixels' centres, straight from astropy."""
    with fits.open(Path(demo_files()[0]).parent / name) as hdul:
        hdu = hdul[IMAGE_HDUS[name]]
        wcs = WCS(hdu.header, hdul).celestial
        nx, ny = hdu.header["NAXIS1"], hdu.header["NAXIS2"]
        return wcs.pixel_to_world(np.array([0, nx - 1, nx - 1, 0]), np.array([0, 0, ny - 1, ny - 1])).icrs


def test_every_demo_image_loads(loaded, db_dsn):
    assert loaded.skipped == []
    assert loaded.rows == len(IMAGE_HDUS)
    obs = dict(rows(db_dsn, "SELECT obs_id, obs_publisher_did FROM ivoa.obscore"))
    assert set(obs) == {name + (f"[{hdu}]" if hdu else "") for name, hdu in IMAGE_HDUS.items()}
    assert all(did.startswith("ivo://test.example/obscore?demo/") for did in obs.values())


@pytest.mark.parametrize("name", sorted(IMAGE_HDUS))
def test_region_contains_corner_pixels(loaded, db_dsn, name):
    obs_id = name + (f"[{IMAGE_HDUS[name]}]" if IMAGE_HDUS[name] else "")
    stcs, region = rows(db_dsn, "SELECT s_region, s_region_dali FROM ivoa.obscore WHERE obs_id = %s", (obs_id,))[0]
    # the published STC-S text and the geometry used for computation are the same polygon
    assert stcs.startswith("Polygon ICRS ")
    assert [float(w) for w in stcs.split()[2:]] == region
    corners = corner_pixels(name)
    for c in corners:
        inside = rows(db_dsn, "SELECT adql_region_within('point', ARRAY[%s, %s], 'polygon', %s)",
                      (float(c.ra.deg), float(c.dec.deg), region))[0][0]
        assert inside, f"{name}: corner {c.ra.deg}, {c.dec.deg} outside {region}"
    # and not a point well outside: 1 degree beyond the farthest corner from the centre
    centre = SkyCoord(*rows(db_dsn, "SELECT s_ra, s_dec FROM ivoa.obscore WHERE obs_id = %s", (obs_id,))[0],
                      unit="deg")
    far = centre.directional_offset_by(0, centre.separation(corners).max() + 1 * centre.separation(corners).unit)
    assert not rows(db_dsn, "SELECT adql_region_within('point', ARRAY[%s, %s], 'polygon', %s)",
                    (float(far.ra.deg), float(far.dec.deg), region))[0][0]


def test_header_values_and_nulls(loaded, db_dsn):
    by_id = {r[0]: r[1:] for r in rows(
        db_dsn, "SELECT obs_id, t_min, t_max, t_exptime, em_min, em_max, facility_name, instrument_name, "
                "target_name, pol_states, s_xel1, s_xel2, dataproduct_type, access_format FROM ivoa.obscore")}
    cfht = by_id["cfht_megaprime_g_sa110.fits"]
    assert cfht[0] == pytest.approx(53582.4133168)
    assert cfht[1] == pytest.approx(53582.4133168 + 2.046 / 86400)
    assert cfht[2] == pytest.approx(2.046)
    assert cfht[5:8] == ("CFHT 3.6m", "MegaPrime", "SA 110")
    assert cfht[9:11] == (101, 101)
    # DSS: old dd/mm/yy date with UT, exposure in minutes
    dss = by_id["dss_14.29.56-62.41.05.fits.gz"]
    assert dss[0] == pytest.approx(Time("1976-03-11T17:38:00", scale="utc").mjd, abs=1e-6)
    assert dss[2] == pytest.approx(70 * 60)
    assert by_id["dss_14.29.56-62.41.05.fits.gz"][12] == "application/gzip"
    # UKIDSS: image in HDU 1, date keywords in the primary header, DATE-END given
    ukidss = by_id["ukidss_m1_zpn.fits[1]"]
    assert ukidss[0] == pytest.approx(Time("2007-10-11T13:12:05.560", scale="utc").mjd, abs=1e-8)
    assert (ukidss[1] - ukidss[0]) * 86400 == pytest.approx(11.152, abs=0.01)
    # FIRST: 1.4 GHz from the degenerate FREQ axis, Stokes I
    first = by_id["vla_first_J105007+304037.fits"]
    c = 299792458.0
    assert first[3] == pytest.approx(c / (1364900000.0 + 21875000.0 / 2))
    assert first[4] == pytest.approx(c / (1364900000.0 - 21875000.0 / 2))
    assert first[8] == "/I/"
    # IRSA dust map: no date, no telescope keywords -> NULL, not invented
    dust = by_id["irsa_dust_m51.fits"]
    assert dust[0] is None and dust[1] is None and dust[2] is None and dust[5] is None
    assert dust[3] is None and dust[4] is None


def test_footprint_index_rows(loaded, db_dsn):
    counts = dict(rows(db_dsn, "SELECT o.obs_id, count(f.*) FROM ivoa.obscore o "
                               "LEFT JOIN ivoa.obscore_footprint f USING (obs_publisher_did) GROUP BY 1"))
    assert all(n > 0 for n in counts.values())


def test_reingest_updates_rows(loaded, db_target, db_dsn, settings, tmp_path):
    before = rows(db_dsn, "SELECT count(*) FROM ivoa.obscore")[0][0]
    report = ingest_images(db_target, settings, ImageIngestRequest(
        paths=[demo_files()[1]], collection="demo", facility="CFHT", calib_level=2))
    assert report.rows == 1
    assert rows(db_dsn, "SELECT count(*) FROM ivoa.obscore")[0][0] == before
    assert rows(db_dsn, "SELECT facility_name, calib_level FROM ivoa.obscore WHERE obs_id = %s",
                ("cfht_megaprime_g_sa110.fits",)) == [("CFHT", 2)]


def test_galactic_wcs_converted_to_icrs(db_target, db_dsn, settings, tmp_path):
    path = write_image(tmp_path / "gal.fits", tan_header(("GLON-TAN", "GLAT-TAN"), crval=(0.0, 0.0)))
    report = ingest_images(db_target, settings, ImageIngestRequest(paths=[path], collection="gal"))
    assert report.rows == 1
    ra, dec = rows(db_dsn, "SELECT s_ra, s_dec FROM ivoa.obscore WHERE obs_collection = 'gal'")[0]
    gc = SkyCoord(0, 0, unit="deg", frame="galactic").icrs
    assert ra == pytest.approx(gc.ra.deg, abs=1e-6) and dec == pytest.approx(gc.dec.deg, abs=1e-6)


def test_bad_files_skipped_with_reasons_rest_loads(db_target, db_dsn, settings, tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    write_image(batch / "good.fits", tan_header(crval=(10.0, 10.0)))
    nowcs = fits.Header()
    write_image(batch / "nowcs.fits", nowcs)
    write_image(batch / "singular.fits", tan_header(crval=(20.0, 20.0), cards={"PC1_1": 1.0, "PC1_2": 1.0, "PC2_1": 1.0, "PC2_2": 1.0}))
    good = (batch / "good.fits").read_bytes()
    (batch / "corrupt.fits").write_bytes(good[:2880] + b"\x00garbage" * 10)
    (batch / "truncated_header.fits").write_bytes(good[:1000])
    (batch / "notes.txt").write_text("not fits")
    report = ingest_images(db_target, settings, ImageIngestRequest(paths=[batch], collection="batch"))
    reasons = dict((Path(p).name, r) for p, r in report.skipped)
    assert report.rows == 1 and [Path(p).name for p in report.files_loaded] == ["good.fits"]
    assert "celestial" in reasons["nowcs.fits"]
    assert "singular" in reasons["singular.fits"]
    assert reasons["notes.txt"] == "not a FITS file"
    assert "corrupt.fits" in reasons and "truncated_header.fits" in reasons
    assert rows(db_dsn, "SELECT obs_id FROM ivoa.obscore WHERE obs_collection = 'batch'") == [("good.fits",)]
    # nothing half-written: every obscore row has its footprint and file record
    assert rows(db_dsn, "SELECT count(*) FROM ivoa.obscore o WHERE NOT EXISTS (SELECT 1 FROM "
                        "ivoa.obscore_footprint f WHERE f.obs_publisher_did = o.obs_publisher_did) OR NOT EXISTS "
                        "(SELECT 1 FROM vo_internal.image_hdus h WHERE h.obs_publisher_did = o.obs_publisher_did)")[0][0] == 0


def test_many_non_fits_files_are_skipped_quickly(db_target, settings, tmp_path):
    junk = tmp_path / "junk"
    junk.mkdir()
    for i in range(10_000):
        (junk / f"f{i:05d}.dat").write_bytes(b"x" * 16)
    report = ingest_images(db_target, settings, ImageIngestRequest(paths=[junk], collection="junk"))
    assert report.rows == 0 and len(report.skipped) == 10_000
    assert {r for _, r in report.skipped} == {"not a FITS file"}


def test_cli_ingest_images(cli_env, db_dsn, tmp_path):
    path = write_image(tmp_path / "cli.fits", tan_header(crval=(300.0, -30.0), cards={"OBJECT": "cli-target"}))
    (tmp_path / "readme.txt").write_text("x")
    env = {**cli_env, "VO_SERVER_AUTHORITY": "ivo://test.example"}
    done = subprocess.run([sys.executable, "-m", "vo_server.cli", "ingest-images", str(tmp_path),
                           "--collection", "cli", "--instrument", "CAM", "--calib-level", "2"],
                          env=env, capture_output=True, text=True, timeout=120, cwd=os.getcwd())
    assert done.returncode == 0, done.stderr
    assert "1 file(s), 1 row(s)" in done.stdout
    assert "readme.txt: not a FITS file" in done.stderr
    assert rows(db_dsn, "SELECT target_name, instrument_name, calib_level FROM ivoa.obscore "
                        "WHERE obs_collection = 'cli'") == [("cli-target", "CAM", 2)]
    assert path.exists()
    bad = subprocess.run([sys.executable, "-m", "vo_server.cli", "ingest-images", str(tmp_path / "missing"),
                          "--collection", "cli"], env=env, capture_output=True, text=True, timeout=120)
    assert bad.returncode == 2 and "no such file" in bad.stderr


def sky_map(path: Path, projection: str, nx: int, ny: int, crpix: tuple[float, float]) -> Path:
    """A synthetic all-sky-style map: 1 deg pixels, RA---XXX/DEC--XXX with CRVAL (180, 0)."""
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = [f"RA---{projection}", f"DEC--{projection}"]
    wcs.wcs.crval = [180.0, 0.0]
    wcs.wcs.crpix = list(crpix)
    wcs.wcs.cdelt = [-1.0, 1.0]
    fits.PrimaryHDU(np.zeros((ny, nx), dtype=np.float32), header=wcs.to_header()).writeto(path)
    return path


def test_all_sky_and_polar_images_get_cap_footprints(db_target, db_dsn, settings, tmp_path):
    from vo_server.sia.params import parse_sia_query
    from vo_server.sia.query import sia_plan
    from vo_server.sia.service import obscore_table

    maps = tmp_path / "maps"
    maps.mkdir()
    sky_map(maps / "allsky_car.fits", "CAR", 360, 180, (180.5, 90.5))       # the whole sky
    sky_map(maps / "allsky_ait.fits", "AIT", 360, 180, (180.5, 90.5))       # corners off the projection
    sky_map(maps / "north_cap.fits", "CAR", 360, 30, (180.5, -59.5))        # dec 60..90, top row on the pole
    sky_map(maps / "off_sky.fits", "AIT", 20, 20, (5000.5, 10.5))           # no pixel on the sky
    report = ingest_images(db_target, settings, ImageIngestRequest(paths=[maps], collection="maps"))
    assert sorted(Path(p).name for p in report.files_loaded) == ["allsky_ait.fits", "allsky_car.fits",
                                                                 "north_cap.fits"]
    reasons = dict((Path(p).name, r) for p, r in report.skipped)
    assert list(reasons) == ["off_sky.fits"] and "no pixel of the image has a sky position" in reasons["off_sky.fits"]
    found = {r[0]: r[1:] for r in rows(db_dsn, "SELECT obs_id, s_region, s_region_dali, s_fov, (SELECT count(*) "
                                               "FROM ivoa.obscore_footprint f WHERE f.obs_publisher_did = "
                                               "o.obs_publisher_did) FROM ivoa.obscore o WHERE obs_collection = 'maps'")}
    for name in ("allsky_car.fits", "allsky_ait.fits"):
        assert found[name][:3] == ("Circle ICRS 0.0 90.0 180.0", [0.0, 90.0, 180.0], 360.0)
        assert found[name][3] == 1  # one wide index range, not 196,608
    text, (cap_ra, cap_dec, radius), fov, index_rows = found["north_cap.fits"]
    assert text == f"Circle ICRS {cap_ra!r} {cap_dec!r} {radius!r}" and cap_dec == 90.0
    assert 30 < radius < 31  # the cap down to dec 60, padded by the sampling step
    # every pixel centre (astropy, independently) lies in the cap
    with fits.open(maps / "north_cap.fits") as hdul:
        y, x = np.mgrid[0:30, 0:360]
        world = WCS(hdul[0].header).pixel_to_world(x.ravel(), y.ravel())
    assert float(world.dec.deg.min()) == pytest.approx(60.5)
    assert (90 - world.dec.deg).max() <= radius
    assert index_rows < 200

    def sia(*pos: str) -> set[str]:
        plan = sia_plan(parse_sia_query([("POS", p) for p in pos] + [("COLLECTION", "maps")]), obscore_table(settings))
        with psycopg.connect(db_target.query_dsn) as conn:
            names = [f.name for f in plan.fields]
            return {row[names.index("obs_id")] for row in conn.execute(plan.sql, plan.params)}

    everywhere = {"allsky_car.fits", "allsky_ait.fits"}
    assert sia("CIRCLE 10 80 1") == everywhere | {"north_cap.fits"}
    assert sia("CIRCLE 10 50 1") == everywhere
    assert sia("CIRCLE 200 -89 0.5") == everywhere
    assert sia("RANGE 0 360 85 90") == everywhere | {"north_cap.fits"}
    assert sia("RANGE 10 20 40 55") == everywhere
    assert sia("RANGE 0 10 58 62") == everywhere | {"north_cap.fits"}
    assert sia("POLYGON 0 50 120 50 240 50") == everywhere | {"north_cap.fits"}  # around the pole
    assert sia("POLYGON 10 40 20 40 15 45") == everywhere
