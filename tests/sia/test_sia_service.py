"""SIA 2.0 over real HTTP against the demo images: pyvo, stilts, raw
parameters, errors, VOSI."""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings

import astropy.units as u
import httpx
import numpy as np
import pytest
from astropy.coordinates import SkyCoord
from astropy.io import fits
from astropy.io.votable import parse_single_table
from astropy.time import Time
from astropy.wcs import WCS, FITSFixedWarning

from tests.conftest import LiveServer, free_port
from tests.sia.images import IMAGE_HDUS, demo_files
from vo_server.config import Settings
from vo_server.sia.ingest import ImageIngestRequest, ingest_images

pytestmark = pytest.mark.filterwarnings("ignore::astropy.utils.exceptions.AstropyWarning",
                                        "ignore::pyvo.dal.exceptions.DALOverflowWarning")


@pytest.fixture(scope="module")
def server(db_target, tmp_path_factory):
    settings = Settings(host="127.0.0.1", port=free_port(), data_dir=tmp_path_factory.mktemp("sia-data"),
                        authority="ivo://test.example")
    report = ingest_images(db_target, settings, ImageIngestRequest(paths=demo_files(), collection="demo"))
    assert report.rows == len(IMAGE_HDUS)
    with LiveServer(settings, db_target) as live:
        yield live


def query(server, params, method="GET") -> httpx.Response:
    if method == "POST":
        return httpx.post(f"{server.url}/sia/query", data=params, timeout=30)
    return httpx.get(f"{server.url}/sia/query", params=params, timeout=30)


def table_of(response: httpx.Response):
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/x-votable+xml")
    return parse_single_table(io.BytesIO(response.content)).to_table()


def obs_ids(response: httpx.Response) -> set[str]:
    return {str(v) for v in table_of(response)["obs_id"]}


def image_geometry(name: str) -> tuple[SkyCoord, SkyCoord]:
    """(centre pixel, corner pixels) on the sky, computed directly with astropy."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        path = demo_files()[0].parent / name
        with fits.open(path) as hdul:
            hdu = hdul[IMAGE_HDUS[name]]
            wcs = WCS(hdu.header, hdul).celestial
            nx, ny = hdu.header["NAXIS1"], hdu.header["NAXIS2"]
            centre = wcs.pixel_to_world((nx - 1) / 2, (ny - 1) / 2).icrs
            corners = wcs.pixel_to_world(np.array([0, nx - 1, nx - 1, 0]), np.array([0, 0, ny - 1, ny - 1])).icrs
    return centre, corners


def obs_id_of(name: str) -> str:
    return name + (f"[{IMAGE_HDUS[name]}]" if IMAGE_HDUS[name] else "")


@pytest.mark.parametrize("name", sorted(IMAGE_HDUS))
def test_cone_at_centre_finds_image_and_cone_beyond_does_not(server, name):
    centre, corners = image_geometry(name)
    found = obs_ids(query(server, {"POS": f"CIRCLE {centre.ra.deg} {centre.dec.deg} 0.001"}))
    assert obs_id_of(name) in found
    # a cone of 0.1 deg whose edge is 1 deg beyond the farthest corner, in four directions
    reach = centre.separation(corners).max().deg + 1.0 + 0.1
    for angle in (0, 90, 180, 270):
        away = centre.directional_offset_by(angle * u.deg, reach * u.deg)
        far = obs_ids(query(server, {"POS": f"CIRCLE {away.ra.deg % 360} {away.dec.deg} 0.1"}))
        assert obs_id_of(name) not in far, (angle, away)


def test_pyvo_sia2_search(server):
    from pyvo.dal import SIA2Service

    service = SIA2Service(f"{server.url}/sia")
    centre, _ = image_geometry("cfht_megaprime_g_sa110.fits")
    results = service.search(pos=(centre.ra.deg, centre.dec.deg, 0.01), collection="demo", maxrec=10)
    table = results.to_table()
    assert "cfht_megaprime_g_sa110.fits" in set(table["obs_id"])
    row = table[list(table["obs_id"]).index("cfht_megaprime_g_sa110.fits")]
    assert row["access_url"].endswith("/sia/files/demo/cfht_megaprime_g_sa110.fits")
    words = str(row["s_region"]).split()  # ObsCore 1.1 adql:REGION: STC-S text
    assert words[:2] == ["Polygon", "ICRS"] and len(words) == 2 + 8
    assert results.fieldname_with_ucd("pos.outline;obs.field") == "s_region"
    assert results.getrecord(0).s_region == str(table[0]["s_region"])
    # time window around the CFHT exposure (MJD 53582.41), as astropy Times
    t0 = Time(53582.41, format="mjd")
    hits = service.search(pos=(centre.ra.deg, centre.dec.deg, 0.01),
                          time=(t0, Time(53582.42, format="mjd")), maxrec=10).to_table()
    assert list(hits["obs_id"]) == ["cfht_megaprime_g_sa110.fits"]
    misses = service.search(pos=(centre.ra.deg, centre.dec.deg, 0.01),
                            time=(Time(50000, format="mjd"), Time(50001, format="mjd"))).to_table()
    assert len(misses) == 0
    # band: FIRST at 21 cm
    first_centre, _ = image_geometry("vla_first_J105007+304037.fits")
    radio = service.search(pos=(first_centre.ra.deg, first_centre.dec.deg, 0.01), band=(0.2, 0.25)).to_table()
    assert list(radio["obs_id"]) == ["vla_first_J105007+304037.fits"]
    optical = service.search(pos=(first_centre.ra.deg, first_centre.dec.deg, 0.01), band=(4e-7, 7e-7)).to_table()
    assert len(optical) == 0
    # maxrec: overflow flagged, rows limited
    everything = service.search(pos=(0, 360, -90, 90), maxrec=3)
    assert len(everything) == 3


@pytest.mark.skipif(shutil.which("stilts") is None, reason="needs the Debian package stilts")
def test_stilts_cone_sia2(server, tmp_path):
    centre, _ = image_geometry("dss_horsehead.fits")
    out = tmp_path / "out.vot"
    done = subprocess.run(["stilts", "cone", "servicetype=sia2", f"serviceurl={server.url}/sia/query",
                           f"lon={centre.ra.deg}", f"lat={centre.dec.deg}", "radius=0.01", f"out={out}",
                           "ofmt=votable"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    table = parse_single_table(str(out)).to_table()
    assert list(table["obs_id"]) == ["dss_horsehead.fits"]


def test_range_and_polygon_and_or_semantics(server):
    horse, _ = image_geometry("dss_horsehead.fits")
    m51, _ = image_geometry("irsa_dust_m51.fits")
    box = f"RANGE {horse.ra.deg - 0.05} {horse.ra.deg + 0.05} {horse.dec.deg - 0.05} {horse.dec.deg + 0.05}"
    assert obs_ids(query(server, {"POS": box})) == {"dss_horsehead.fits"}
    r, d = m51.ra.deg, m51.dec.deg
    poly = f"POLYGON {r - 0.1} {d - 0.1} {r + 0.1} {d - 0.1} {r + 0.1} {d + 0.1} {r - 0.1} {d + 0.1}"
    assert obs_ids(query(server, {"POS": poly})) == {"irsa_dust_m51.fits"}
    # clockwise vertex order means the same (small) region
    poly_cw = f"POLYGON {r - 0.1} {d - 0.1} {r - 0.1} {d + 0.1} {r + 0.1} {d + 0.1} {r + 0.1} {d - 0.1}"
    assert obs_ids(query(server, {"POS": poly_cw})) == {"irsa_dust_m51.fits"}
    # repeated POS: OR; adding COLLECTION: AND
    both = query(server, [("POS", box), ("POS", poly)])
    assert obs_ids(both) == {"dss_horsehead.fits", "irsa_dust_m51.fits"}
    assert obs_ids(query(server, [("POS", box), ("POS", poly), ("COLLECTION", "other")])) == set()
    assert obs_ids(query(server, [("pos", box), ("collection", "demo"), ("INSTRUMENT", "Photographic Plate")])) \
        == {"dss_horsehead.fits"}
    # the whole sky with RANGE and infinite bounds
    assert len(obs_ids(query(server, {"POS": "RANGE -Inf +Inf -Inf +Inf"}))) == len(IMAGE_HDUS)
    # POST works like GET
    assert obs_ids(query(server, {"POS": box}, method="POST")) == {"dss_horsehead.fits"}


def test_interval_and_string_parameters(server):
    all_ids = {obs_id_of(n) for n in IMAGE_HDUS}
    # exposure: DSS plates 65 and 70 minutes
    assert obs_ids(query(server, {"EXPTIME": "3000 +Inf"})) == {"dss_horsehead.fits", "dss_14.29.56-62.41.05.fits.gz"}
    assert obs_ids(query(server, {"TIME": "-Inf 45000"})) == {"dss_14.29.56-62.41.05.fits.gz"}
    assert obs_ids(query(server, {"FOV": "5 10"})) == {"irsa_dust_m51.fits"}
    assert obs_ids(query(server, {"POL": "I"})) == {"vla_first_J105007+304037.fits"}
    assert obs_ids(query(server, {"DPTYPE": "image"})) == all_ids
    assert obs_ids(query(server, {"CALIB": "1"})) == all_ids
    assert obs_ids(query(server, {"CALIB": "3"})) == set()
    assert obs_ids(query(server, {"TARGET": "sa 110"})) == {"cfht_megaprime_g_sa110.fits"}
    assert obs_ids(query(server, {"FACILITY": "UKIRT"})) == {"ukidss_m1_zpn.fits[1]"}
    assert obs_ids(query(server, {"FORMAT": "application/gzip"})) == {"dss_14.29.56-62.41.05.fits.gz"}
    did = table_of(query(server, {"TARGET": "SA 110"}))["obs_publisher_did"][0]
    assert obs_ids(query(server, {"ID": str(did)})) == {"cfht_megaprime_g_sa110.fits"}
    assert obs_ids(query(server, {"SPATRES": "0 10"})) == {"vla_first_J105007+304037.fits"}
    assert obs_ids(query(server, {"TIMERES": "0 1"})) == set()
    assert obs_ids(query(server, {"SPECRP": "0 +Inf"})) == set()
    assert obs_ids(query(server, {"BAND": "0.22"})) == {"vla_first_J105007+304037.fits"}


def test_unknown_parameters_ignored_and_maxrec(server):
    assert len(obs_ids(query(server, {"NOSUCHPARAM": "x", "Foo": "bar"}))) == len(IMAGE_HDUS)
    response = query(server, {"MAXREC": "2"})
    assert len(table_of(response)) == 2
    assert b'name="QUERY_STATUS" value="OVERFLOW"' in response.content
    empty = query(server, {"MAXREC": "0"})
    table = table_of(empty)
    assert len(table) == 0 and "s_region" in table.colnames
    tabledata = query(server, {"RESPONSEFORMAT": "application/x-votable+xml;serialization=TABLEDATA"})
    assert b"<TABLEDATA>" in tabledata.content and len(table_of(tabledata)) == len(IMAGE_HDUS)


@pytest.mark.parametrize("params, message", [
    ({"POS": "CIRCLE 1 2"}, "CIRCLE needs 3 numbers"),
    ({"POS": "POLYGON 1 2 3 4"}, "at least 3 vertices"),
    ({"POS": "POLYGON 1 2 3 4 5"}, "at least 3 vertices"),
    ({"POS": "POLYGON 10 10 11 11 10 11 11 10"}, "crosses itself"),
    ({"POS": "CIRCLE 10 95 1"}, "declination"),
    ({"POS": "CIRCLE 10 10 -1"}, "radius"),
    ({"POS": "CIRCLE a b c"}, "not a number"),
    ({"POS": "BOX 1 2 3 4"}, "CIRCLE, RANGE or POLYGON"),
    ({"POS": "RANGE 20 10 0 1"}, "minimum then maximum"),
    ({"BAND": "7e-7 4e-7"}, "minimum is larger"),
    ({"BAND": "1 2 3"}, "interval"),
    ({"TIME": "2005-07-31 2005-08-01"}, "not a number"),
    ({"TIME": "NaN 1"}, "not a finite number"),
    ({"CALIB": "high"}, "integer 0-4"),
    ({"MAXREC": "-1"}, "non-negative"),
    ({"POL": "Z"}, "POL"),
    ({"DPTYPE": "picture"}, "DPTYPE"),
    ({"RESPONSEFORMAT": "text/csv"}, "not supported"),
])
def test_bad_parameters_give_dali_errors(server, params, message):
    response = query(server, params)
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/x-votable+xml")
    assert b'name="QUERY_STATUS" value="ERROR"' in response.content
    assert message.encode() in response.content, response.text


def test_post_with_a_file_gives_a_dali_error(server):
    response = httpx.post(f"{server.url}/sia/query", data={"POS": "CIRCLE 1 2 3"},
                          files={"upload": ("x.txt", b"data")}, timeout=10)
    assert response.status_code == 400
    assert b'name="QUERY_STATUS" value="ERROR"' in response.content


def test_vosi_capabilities_and_availability(server):
    caps = httpx.get(f"{server.url}/sia/capabilities", timeout=10)
    assert caps.status_code == 200 and b'standardID="ivo://ivoa.net/std/SIA#query-2.0"' in caps.content
    assert f"{server.url}/sia/query".encode() in caps.content
    avail = httpx.get(f"{server.url}/sia/availability", timeout=10)
    assert avail.status_code == 200 and b"<vosi:available>true</vosi:available>" in avail.content


def test_landing_page_lists_sia(server):
    page = httpx.get(server.url + "/", timeout=10)
    assert page.status_code == 200 and "/sia/query" in page.text
