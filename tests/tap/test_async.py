"""TAP async (UWS 1.1) over real HTTP: lifecycle, child resources, WAIT,
filters, abort cancelling the running statement, destruction, bad input,
and jobs surviving a server restart."""

from __future__ import annotations

import datetime as dt
import io
import time
import warnings

import httpx
import pytest
from astropy.io.votable import parse_single_table
from lxml import etree

from tests.conftest import LiveServer
from tests.tap.conftest import tap_settings

UWS = "{http://www.ivoa.net/xml/UWS/v1.0}"
SLOW = "SELECT COUNT(*) FROM gaia.dr3_bright AS a, gaia.dr3_bright AS b"


def create(tap_url: str, **params) -> httpx.Response:
    return httpx.post(tap_url + "/async", data={"LANG": "ADQL", **params}, timeout=30)


def job_url(response: httpx.Response) -> str:
    assert response.status_code == 303, response.text
    return response.headers["location"]


def phase(url: str) -> str:
    return httpx.get(url + "/phase").text


def wait_final(url: str, limit: float = 60) -> str:
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        doc = etree.fromstring(httpx.get(url, params={"WAIT": "5"}, timeout=30).content)
        current = doc.find(UWS + "phase").text
        if current in ("COMPLETED", "ERROR", "ABORTED"):
            return current
    raise AssertionError(f"job {url} did not finish")


def test_lifecycle_and_child_resources(tap_url):
    url = job_url(create(tap_url, QUERY="SELECT TOP 5 source_id FROM gaia.dr3_bright", RUNID="r1"))
    assert phase(url) == "PENDING"
    doc = etree.fromstring(httpx.get(url).content)
    assert doc.find(UWS + "runId").text == "r1"
    params = {p.get("id"): p.text for p in doc.find(UWS + "parameters")}
    assert params["query"].startswith("SELECT TOP 5")
    assert int(httpx.get(url + "/executionduration").text) > 0
    assert httpx.get(url + "/destruction").text.endswith("Z")
    assert httpx.get(url + "/owner").status_code == 200
    assert httpx.get(url + "/quote").status_code == 200
    assert httpx.get(url + "/results").status_code == 200
    response = httpx.post(url + "/phase", data={"PHASE": "RUN"})
    assert response.status_code == 303 and response.headers["location"] == url
    assert wait_final(url) == "COMPLETED"
    results = etree.fromstring(httpx.get(url + "/results").content)
    href = results[0].get("{http://www.w3.org/1999/xlink}href")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = parse_single_table(io.BytesIO(httpx.get(href).content))
    assert len(table.array) == 5
    listing = etree.fromstring(httpx.get(tap_url + "/async", params={"PHASE": "COMPLETED"}).content)
    assert url.rsplit("/", 1)[1] in [ref.get("id") for ref in listing]
    response = httpx.delete(url)
    assert response.status_code == 303 and response.headers["location"].endswith("/tap/async")
    assert httpx.get(url).status_code == 404
    assert httpx.delete(url).status_code == 404  # DELETE twice


def test_phase_run_on_creation_and_action_delete(tap_url):
    url = job_url(create(tap_url, QUERY="SELECT TOP 1 ra FROM gaia.dr3_bright", PHASE="RUN"))
    assert wait_final(url) == "COMPLETED"
    response = httpx.post(url, data={"ACTION": "DELETE"})
    assert response.status_code == 303
    assert httpx.get(url + "/phase").status_code == 404


def test_error_job_has_error_document(tap_url):
    url = job_url(create(tap_url, QUERY="SELECT nope FROM gaia.dr3_bright", PHASE="RUN"))
    assert wait_final(url) == "ERROR"
    doc = etree.fromstring(httpx.get(url).content)
    assert "nope" in doc.find(UWS + "errorSummary").find(UWS + "message").text
    error = httpx.get(url + "/error")
    assert b'QUERY_STATUS" value="ERROR"' in error.content and b"nope" in error.content


def test_wait_blocks_until_phase_changes(tap_url):
    url = job_url(create(tap_url, QUERY=SLOW))
    started = time.monotonic()
    doc = etree.fromstring(httpx.get(url, params={"WAIT": "1"}, timeout=30).content)
    assert doc.find(UWS + "phase").text == "PENDING" and time.monotonic() - started >= 0.9
    httpx.delete(url)


def test_abort_cancels_running_statement(tap_url, demo_target):
    import psycopg

    url = job_url(create(tap_url, QUERY=SLOW, PHASE="RUN"))
    deadline = time.monotonic() + 20
    while phase(url) != "EXECUTING" and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.5)
    assert httpx.post(url + "/phase", data={"PHASE": "ABORT"}).status_code == 303
    assert phase(url) == "ABORTED"
    deadline = time.monotonic() + 10
    with psycopg.connect(demo_target.owner_dsn, autocommit=True) as conn:
        while time.monotonic() < deadline:
            running = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE query LIKE %s AND state = 'active'",
                                   ("%dr3_bright%dr3_bright%",)).fetchone()[0]
            if running == 0:
                break
            time.sleep(0.1)
    assert running == 0
    httpx.delete(url)


def test_execution_duration_cancels(tap_url):
    url = job_url(create(tap_url, QUERY=SLOW, EXECUTIONDURATION="1", PHASE="RUN"))
    assert wait_final(url, 30) == "ERROR"
    assert "execution duration" in httpx.get(url + "/error").text
    httpx.delete(url)


def test_destruction_removes_job(tap_url):
    url = job_url(create(tap_url, QUERY="SELECT TOP 1 ra FROM gaia.dr3_bright", PHASE="RUN"))
    assert wait_final(url) == "COMPLETED"
    soon = (dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    assert httpx.post(url + "/destruction", data={"DESTRUCTION": soon}).status_code == 303
    deadline = time.monotonic() + 20
    while httpx.get(url + "/phase").status_code != 404:
        assert time.monotonic() < deadline, "job not destroyed"
        time.sleep(0.5)


def test_filters(tap_url):
    before = dt.datetime.now(dt.UTC).isoformat()
    urls = [job_url(create(tap_url, QUERY="SELECT TOP 1 ra FROM gaia.dr3_bright")) for _ in range(3)]
    after = etree.fromstring(httpx.get(tap_url + "/async", params={"AFTER": before}).content)
    assert {r.get("id") for r in after} == {u.rsplit("/", 1)[1] for u in urls}
    last = etree.fromstring(httpx.get(tap_url + "/async", params={"LAST": "2"}).content)
    assert [r.get("id") for r in last] == [urls[2].rsplit("/", 1)[1], urls[1].rsplit("/", 1)[1]]
    for u in urls:
        httpx.delete(u)


@pytest.mark.parametrize("method, path, data, status", [
    ("get", "/async/nosuchjob", None, 404),
    ("post", "/async/{job}/phase", {"PHASE": "bogus"}, 400),
    ("get", "/async/{job}?WAIT=-5", None, 400),
    ("post", "/async/{job}/destruction", {"DESTRUCTION": "2000-01-01T00:00:00Z"}, 400),
    ("post", "/async/{job}/destruction", {"DESTRUCTION": "next tuesday"}, 400),
    ("post", "/async/{job}/executionduration", {"EXECUTIONDURATION": "-3"}, 400),
    ("get", "/async?PHASE=bogus", None, 400),
    ("get", "/async?LAST=0", None, 400),
    ("post", "/async", {"LANG": "ADQL", "QUERY": "SELECT 1", "UPLOAD": "t,param:absent"}, 400),
])
def test_bad_uws_input(tap_url, method, path, data, status):
    url = job_url(create(tap_url, QUERY="SELECT TOP 1 ra FROM gaia.dr3_bright"))
    job = url.rsplit("/", 1)[1]
    response = getattr(httpx, method)(tap_url + path.format(job=job), **({"data": data} if data else {}))
    assert response.status_code == status
    assert b'QUERY_STATUS" value="ERROR"' in response.content
    assert phase(url) == "PENDING"  # nothing changed
    httpx.delete(url)


def test_jobs_survive_restart(demo_target, tmp_path_factory):
    settings = tap_settings(tmp_path_factory)
    with LiveServer(settings, demo_target) as server:
        base = server.url + "/tap"
        done = job_url(create(base, QUERY="SELECT TOP 3 ra FROM gaia.dr3_bright", PHASE="RUN"))
        assert wait_final(done) == "COMPLETED"
        pending = job_url(create(base, QUERY="SELECT TOP 3 ra FROM gaia.dr3_bright"))
        running = job_url(create(base, QUERY=SLOW, PHASE="RUN"))
        deadline = time.monotonic() + 20
        while phase(running) != "EXECUTING" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert phase(running) == "EXECUTING"
    # the server stopped gracefully: the running job went back to the queue (a crash: test_shutdown.py)
    with LiveServer(settings, demo_target):
        assert phase(done) == "COMPLETED"
        assert len(httpx.get(done + "/results/result").content) > 0
        assert phase(pending) == "PENDING"
        deadline = time.monotonic() + 20
        while phase(running) != "EXECUTING" and time.monotonic() < deadline:  # run again by the new server
            time.sleep(0.05)
        assert phase(running) == "EXECUTING"
        httpx.post(running + "/phase", data={"PHASE": "ABORT"})
        assert wait_final(running, 30) == "ABORTED"
        httpx.post(pending + "/phase", data={"PHASE": "RUN"})
        assert wait_final(pending) == "COMPLETED"
