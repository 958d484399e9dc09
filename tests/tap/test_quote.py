"""UWS 1.1 quote of async jobs: an estimated completion time from the query
plan's cost (nil only when unknown), bounded by the execution duration, the
end time once the job is final; valid UWS documents; pyvo reads it."""

from __future__ import annotations

import datetime as dt
import io
import time

import httpx
import pytest
import pyvo
from astropy.table import Table
from lxml import etree

from tests.conftest import LiveServer
from tests.tap.conftest import tap_settings
from tests.tap.xsd import validation_errors
from vo_server.tap.estimate import completion_quote
from vo_server.tap.jobs import Job

UWS = "{http://www.ivoa.net/xml/UWS/v1.0}"
XSI_NIL = "{http://www.w3.org/2001/XMLSchema-instance}nil"
SMALL = "SELECT TOP 5 source_id FROM gaia.dr3_bright"
LARGE = "SELECT COUNT(*) FROM gaia.dr3_bright AS a, gaia.dr3_bright AS b"


def create(tap_url: str, **params) -> str:
    response = httpx.post(tap_url + "/async", data={"LANG": "ADQL", **params}, timeout=30)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def parse_time(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


def quote(job: str) -> dt.datetime | None:
    text = httpx.get(job + "/quote").text
    doc = etree.fromstring(httpx.get(job).content)
    element = doc.find(UWS + "quote")
    if not text:
        assert element.get(XSI_NIL) == "true"
        return None
    # a job not started yet is quoted as if run now: the two readings differ by the time between them
    assert abs(parse_time(element.text) - parse_time(text)) < dt.timedelta(seconds=2)
    return parse_time(text)


def wait_final(job: str) -> str:
    deadline = time.monotonic() + 60
    while (phase := httpx.get(job + "/phase").text) not in ("COMPLETED", "ERROR", "ABORTED"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    return phase


def wait_phase(job: str, phase: str) -> None:
    deadline = time.monotonic() + 30
    while httpx.get(job + "/phase").text != phase:
        assert time.monotonic() < deadline, f"{job} never reached {phase}"
        time.sleep(0.05)


def test_queued_job_quote_counts_the_jobs_ahead(demo_target, tmp_path_factory):
    """One job slot: a QUEUED job's quote adds what remains of the executing
    job and the estimates of the jobs queued before it."""
    with LiveServer(tap_settings(tmp_path_factory, tap_async_workers=1), demo_target) as server:
        url = server.url + "/tap"
        running = create(url, QUERY=LARGE, EXECUTIONDURATION="20", PHASE="RUN")
        wait_phase(running, "EXECUTING")
        ahead = create(url, QUERY=LARGE, EXECUTIONDURATION="20", PHASE="RUN")
        last = create(url, QUERY=SMALL, PHASE="RUN")
        pending = create(url, QUERY=SMALL)  # not queued: nothing ahead of it
        try:
            assert httpx.get(ahead + "/phase").text == httpx.get(last + "/phase").text == "QUEUED"
            now = dt.datetime.now(dt.UTC)
            # ahead: its own 20 s (capped) after the running job's remaining <= 20 s
            assert now + dt.timedelta(seconds=20) < quote(ahead) <= now + dt.timedelta(seconds=42)
            # last: both large jobs ahead of it (> 30 s while the running one started < 10 s ago), then its own
            assert now + dt.timedelta(seconds=30) < quote(last) <= now + dt.timedelta(seconds=45)
            assert quote(pending) < dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
            assert validation_errors(httpx.get(last).content) == []
        finally:
            for job in (running, ahead, last, pending):
                httpx.post(job + "/phase", data={"PHASE": "ABORT"})
                httpx.delete(job)


def test_pending_job_has_a_quote(tap_url):
    before = dt.datetime.now(dt.UTC)
    small = create(tap_url, QUERY=SMALL)
    large = create(tap_url, QUERY=LARGE)
    small_quote, large_quote = quote(small), quote(large)
    assert before < small_quote < dt.datetime.now(dt.UTC) + dt.timedelta(seconds=5)
    # a cross join of 482k x 482k rows costs far more: its quote is much later (and within its duration)
    assert large_quote - small_quote > dt.timedelta(seconds=30)
    assert large_quote <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=3600)
    assert validation_errors(httpx.get(small).content) == []
    for job in (small, large):
        httpx.delete(job)


def test_quote_is_bounded_by_the_execution_duration(tap_url):
    job = create(tap_url, QUERY=LARGE, EXECUTIONDURATION="20")
    assert quote(job) <= dt.datetime.now(dt.UTC) + dt.timedelta(seconds=20)
    httpx.delete(job)


def test_quote_follows_parameter_changes(tap_url):
    job = create(tap_url, QUERY=SMALL)
    first = quote(job)
    httpx.post(job + "/parameters", data={"QUERY": LARGE})
    assert quote(job) - first > dt.timedelta(seconds=30)
    httpx.delete(job)


def test_unknown_quote_is_nil(tap_url):
    job = create(tap_url, QUERY="SELECT nosuchcolumn FROM gaia.dr3_bright")
    assert quote(job) is None
    assert validation_errors(httpx.get(job).content) == []
    httpx.delete(job)


def test_upload_job_quote_known_once_it_runs(tap_url):
    targets = Table({"ra": [45.0, 46.0], "dec": [0.2, 0.3]})
    buffer = io.BytesIO()
    targets.write(buffer, format="votable")
    response = httpx.post(tap_url + "/async", data={
        "LANG": "ADQL", "UPLOAD": "t,param:t", "QUERY": "SELECT COUNT(*) FROM TAP_UPLOAD.t"},
        files={"t": ("t.vot", buffer.getvalue(), "application/x-votable+xml")}, timeout=30)
    job = response.headers["location"]
    assert quote(job) is None  # its tables exist only when it runs
    httpx.post(job + "/phase", data={"PHASE": "RUN"})
    assert wait_final(job) == "COMPLETED"
    doc = etree.fromstring(httpx.get(job).content)
    assert quote(job) == parse_time(doc.find(UWS + "endTime").text)
    assert validation_errors(httpx.get(job).content) == []
    httpx.delete(job)


def test_pyvo_reads_the_quote(tap_url):
    service = pyvo.dal.TAPService(tap_url)
    job = service.submit_job(SMALL)
    try:
        quoted = job.quote  # an astropy Time
        assert abs(quoted.to_datetime(timezone=dt.UTC) - dt.datetime.now(dt.UTC)) < dt.timedelta(seconds=10)
        job.run().wait(timeout=60)
        assert job.phase == "COMPLETED"
        assert len(job.fetch_result().to_table()) == 5
        assert job.quote is not None
    finally:
        job.delete()


@pytest.mark.parametrize("phase", ["PENDING", "COMPLETED"])
def test_job_document_with_quote_is_valid_uws(tap_url, phase):
    job = create(tap_url, QUERY=SMALL, **({"PHASE": "RUN"} if phase == "COMPLETED" else {}))
    if phase == "COMPLETED":
        assert wait_final(job) == "COMPLETED"
    assert validation_errors(httpx.get(job).content) == []
    httpx.delete(job)


def job_in(phase: str, now: dt.datetime, **values) -> Job:
    fields = dict(job_id="j", run_id=None, owner_id=None, phase=phase, parameters={}, upload_parts={},
                  creation_time=now, queued_time=None, start_time=None, end_time=None, execution_duration=60,
                  destruction=now, error_message=None, error_timeout=False, result_path=None, result_mime=None,
                  result_rows=None, result_overflow=None, worker=None, version=0, estimated_seconds=10.0)
    return Job(**{**fields, **values})


def test_completion_quote_rules():
    now = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    second = dt.timedelta(seconds=1)
    assert completion_quote(job_in("PENDING", now), now) == now + 10 * second  # as if run now
    assert completion_quote(job_in("QUEUED", now, estimated_seconds=1e6), now) == now + 60 * second  # duration
    queued = job_in("QUEUED", now, queue_wait_seconds=25.0)
    assert completion_quote(queued, now) == now + 35 * second  # after the jobs ahead
    assert completion_quote(job_in("PENDING", now, queue_wait_seconds=25.0), now) == now + 10 * second
    running = job_in("EXECUTING", now, start_time=now - 3 * second)
    assert completion_quote(running, now) == now + 7 * second  # counted from the start
    late = job_in("EXECUTING", now, start_time=now - 30 * second)
    assert completion_quote(late, now) == now  # past its estimate, still running: any moment now
    assert completion_quote(job_in("COMPLETED", now, end_time=now - second), now) == now - second
    assert completion_quote(job_in("ERROR", now, end_time=None), now) is None
    assert completion_quote(job_in("PENDING", now, estimated_seconds=None), now) is None
