"""Real clients over real HTTP: pyvo, astroquery and STILTS tapquery (TOPCAT's
TAP client code), including uploads, overflow and error reporting; and every
/examples query run as published."""

from __future__ import annotations

import io
import subprocess
import warnings

import httpx
import numpy as np
import pytest
import pyvo
from astropy.io.votable import parse_single_table
from astropy.table import Table
from lxml import etree

from vo_server.tap.examples import EXAMPLES

TARGETS = Table({"ra": [83.8221, 56.75, 279.2347], "dec": [-5.3911, 24.1167, 38.7837],
                 "name": ["orion", "pleiades", "vega"]})
XMATCH = next(e for e in EXAMPLES if e.upload == "targets").query


@pytest.fixture(scope="module")
def service(tap_url) -> pyvo.dal.TAPService:
    return pyvo.dal.TAPService(tap_url)


def test_pyvo_sync_and_search(service):
    result = service.search("SELECT TOP 7 source_id, ra FROM gaia.dr3_bright")
    assert len(result) == 7 and list(result.fieldnames) == ["source_id", "ra"]
    assert len(service.run_sync("SELECT TOP 3 ra FROM gaia.dr3_bright")) == 3


def test_pyvo_async(service):
    assert len(service.run_async("SELECT TOP 4 ra FROM gaia.dr3_bright")) == 4
    job = service.submit_job("SELECT TOP 6 ra, dec FROM gaia.dr3_bright")
    job.run()
    job.wait(phases=["COMPLETED", "ERROR", "ABORTED"], timeout=60)
    assert job.phase == "COMPLETED"
    assert len(job.fetch_result()) == 6
    url = job.url
    job.delete()
    assert httpx.get(url).status_code == 404


def test_pyvo_upload_crossmatch(service):
    result = service.run_sync(XMATCH, uploads={"targets": TARGETS}).to_table()
    assert len(result) >= 2  # Vega and a star near the Orion Nebula's centre; none within 10" of the Pleiades centre
    assert np.all(result["dist"] <= 10 / 3600 + 1e-12)
    result = service.run_async(XMATCH, uploads={"targets": TARGETS}).to_table()
    assert len(result) >= 2


def test_pyvo_overflow_and_error(service):
    result = service.run_sync("SELECT ra FROM gaia.dr3_bright", maxrec=11)
    assert len(result) == 11 and result._status[0] == "OVERFLOW"  # pyvo warns only when truncation is unexpected
    with pytest.warns(pyvo.dal.exceptions.DALOverflowWarning, match="truncated"):
        result = service.run_sync("SELECT ra FROM gaia.dr3_bright")  # server default MAXREC (20000 here)
    assert len(result) == 20000
    with pytest.raises(pyvo.dal.DALQueryError, match="no_such_column"):
        service.run_sync("SELECT no_such_column FROM gaia.dr3_bright")


def test_astroquery(tap_url):
    from astroquery.utils.tap.core import TapPlus

    tap = TapPlus(url=tap_url, verbose=False)
    sync_job = tap.launch_job("SELECT TOP 5 source_id, ra FROM gaia.dr3_bright")
    assert len(sync_job.get_results()) == 5
    async_job = tap.launch_job_async("SELECT TOP 8 source_id FROM gaia.dr3_bright")
    assert len(async_job.get_results()) == 8


def test_stilts_tapquery_sync_and_async_with_upload(tap_url, tmp_path):
    targets = tmp_path / "targets.vot"
    TARGETS.write(targets, format="votable")
    for sync in ("true", "false"):
        out = tmp_path / f"out_{sync}.vot"
        run = subprocess.run(["stilts", "tapquery", f"tapurl={tap_url}", f"adql={XMATCH}", f"sync={sync}",
                              "nupload=1", f"upload1={targets}", "upname1=targets", f"out={out}", "ofmt=votable"],
                             capture_output=True, text=True, timeout=180)
        assert run.returncode == 0, run.stderr
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            assert len(parse_single_table(str(out)).array) >= 2


def test_upload_formats_and_limits(tap_url, tmp_path):
    query = "SELECT COUNT(*) AS n FROM TAP_UPLOAD.t"
    for fmt, name in (("votable", "t.vot"), ("csv", "t.csv"), ("fits", "t.fits"), ("parquet", "t.parquet")):
        path = tmp_path / name
        TARGETS.write(path, format=fmt) if fmt != "parquet" else TARGETS.write(path, format="parquet")
        response = httpx.post(tap_url + "/sync", data={"LANG": "ADQL", "QUERY": query, "UPLOAD": "t,param:f",
                                                       "RESPONSEFORMAT": "csv"},
                              files={"f": (name, path.read_bytes())}, timeout=60)
        assert response.status_code == 200, (fmt, response.text)
        assert response.text.splitlines()[1] == "3"
    both = httpx.post(tap_url + "/sync", data={
        "LANG": "ADQL", "QUERY": "SELECT COUNT(*) FROM TAP_UPLOAD.a AS a JOIN TAP_UPLOAD.b AS b ON a.name = b.name",
        "UPLOAD": "a,param:x;b,param:y", "RESPONSEFORMAT": "csv"},
        files={"x": ("x.csv", (tmp_path / "t.csv").read_bytes()), "y": ("y.csv", (tmp_path / "t.csv").read_bytes())})
    assert both.status_code == 200 and both.text.splitlines()[1] == "3"


def test_hostile_uploads_leave_nothing(tap_url, demo_target):
    import psycopg

    laughs = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
              b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
              b"<VOTABLE><RESOURCE><TABLE><FIELD name='a' datatype='char' arraysize='*'/><DATA><TABLEDATA>"
              b"<TR><TD>&lol2;</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>")
    cases = [(laughs, "DOCTYPE"), (b"<VOTABLE><RESOURCE><TABLE><FIELD", "t"), (b"x" * 60_000_001, "limit")]
    for content, fragment in cases:
        response = httpx.post(tap_url + "/sync", data={"LANG": "ADQL", "QUERY": "SELECT * FROM TAP_UPLOAD.t",
                                                       "UPLOAD": "t,param:f"}, files={"f": ("t.vot", content)},
                              timeout=120)
        assert response.status_code in (400, 413), response.text
        assert b'QUERY_STATUS" value="ERROR"' in response.content
        assert fragment in response.text
    with psycopg.connect(demo_target.owner_dsn) as conn:
        left = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname LIKE 'tap_upload_%'").fetchone()[0]
    assert left == 0


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.id for e in EXAMPLES])
def test_examples_run(tap_url, service, example):
    document = etree.fromstring(httpx.get(tap_url + "/examples").content)
    published = document.xpath(f"//*[@id='{example.id}']//*[@property='query']")[0].text
    assert published == example.query
    uploads = {"targets": TARGETS} if example.upload else None
    result = service.run_sync(published, uploads=uploads).to_table()
    assert len(result) > 0, example.id


def test_tables_endpoints(tap_url):
    full = etree.fromstring(httpx.get(tap_url + "/tables").content)
    names = full.xpath("//table/name/text()")
    assert "gaia.dr3_bright" in names and "tap_schema.columns" in names
    assert '"size"' in full.xpath("//table[name='tap_schema.columns']/column/name/text()")
    minimal = etree.fromstring(httpx.get(tap_url + "/tables", params={"detail": "min"}).content)
    assert minimal.xpath("//column") == []
    one = httpx.get(tap_url + "/tables/gaia.dr3_bright")
    assert one.status_code == 200 and b"phot_g_mean_mag" in one.content
    assert httpx.get(tap_url + "/tables/nope.nothing").status_code == 404


def test_ingest_while_serving_shows_up(tap_url, demo_target, tmp_path):
    from vo_server.ingest.loader import IngestRequest, ingest

    path = tmp_path / "extra.csv"
    TARGETS.write(path, format="csv")
    ingest(demo_target, IngestRequest(path=path, table="live.extra"))
    response = httpx.post(tap_url + "/sync", data={"LANG": "ADQL", "QUERY": "SELECT name FROM live.extra",
                                                   "RESPONSEFORMAT": "csv"})
    assert response.status_code == 200 and "vega" in response.text
    assert b"live.extra" in httpx.get(tap_url + "/tables").content
    with io.BytesIO(httpx.get(tap_url + "/capabilities").content) as f:
        assert b"ivo://ivoa.net/std/TAP" in f.read()
