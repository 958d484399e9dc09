"""Stopping the server: SIGTERM and Ctrl-C put running async jobs back in the
queue for the next server; a crashed process leaves them in ERROR with a
message.  Real `vo-server serve` processes, real signals."""

from __future__ import annotations

import signal
import time

import httpx
import psycopg
import pytest
from lxml import etree
from psycopg.conninfo import make_conninfo

from tests.tap.server_process import ServeProcess

UWS = "{http://www.ivoa.net/xml/UWS/v1.0}"
SLOW = "SELECT COUNT(*) FROM gaia.dr3_bright AS a, gaia.dr3_bright AS b"
QUICK = "SELECT TOP 3 source_id FROM gaia.dr3_bright ORDER BY source_id"


@pytest.fixture
def no_runaway_statements(pg_server, demo_target):
    """A killed server cannot cancel its statements: end them, not to burn a shared CPU (no server
    runs on this module's database between tests, so every other session there is a leftover)."""
    yield
    with psycopg.connect(make_conninfo(pg_server, dbname=demo_target.database), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = current_database() "
                     "AND pid <> pg_backend_pid() AND backend_type = 'client backend'")


def submit(base: str, query: str) -> str:
    response = httpx.post(base + "/tap/async", data={"LANG": "ADQL", "QUERY": query, "PHASE": "RUN"}, timeout=30)
    assert response.status_code == 303, response.text
    return response.headers["location"]


def phase(job: str) -> str:
    return httpx.get(job + "/phase", timeout=10).text


def wait_phase(job: str, wanted: set[str], limit: float = 30) -> str:
    deadline = time.monotonic() + limit
    while (current := phase(job)) not in wanted and time.monotonic() < deadline:
        time.sleep(0.05)
    return current


def stored_state(dsn: str, job: str) -> tuple:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT phase, start_time, worker FROM vo_internal.uws_jobs WHERE job_id = %s",
                            (job.rsplit("/", 1)[1],)).fetchone()


def job_document(job: str) -> etree._Element:
    return etree.fromstring(httpx.get(job, timeout=10).content)


@pytest.mark.parametrize("sig, workers, group", [(signal.SIGTERM, 2, False), (signal.SIGINT, 1, False),
                                                 (signal.SIGINT, 2, True)])  # the last: Ctrl-C in a terminal
def test_stop_requeues_running_jobs(demo_target, db_dsn, cli_env, no_runaway_statements, sig, workers, group):
    with ServeProcess(cli_env, workers=workers) as server:
        running = submit(server.url, SLOW)
        assert wait_phase(running, {"EXECUTING"}) == "EXECUTING"
        assert server.stop(sig, group=group) == 0
    assert stored_state(db_dsn, running) == ("QUEUED", None, None)
    with ServeProcess(cli_env, workers=1) as server:
        running = running.replace(running.split("/tap/")[0], server.url)
        # back in the queue, without start time or partial result, and run again by the next server
        assert wait_phase(running, {"EXECUTING"}) == "EXECUTING"
        doc = job_document(running)
        assert doc.find(UWS + "errorSummary") is None
        assert httpx.get(running + "/error").status_code == 404
        httpx.post(running + "/phase", data={"PHASE": "ABORT"})
        assert wait_phase(running, {"ABORTED"}) == "ABORTED"
        quick = submit(server.url, QUICK)
        assert wait_phase(quick, {"COMPLETED", "ERROR"}) == "COMPLETED"


def test_crashed_process_leaves_error(demo_target, db_dsn, cli_env, no_runaway_statements):
    with ServeProcess(cli_env, workers=1) as server:
        running = submit(server.url, SLOW)
        assert wait_phase(running, {"EXECUTING"}) == "EXECUTING"
        server.kill()
    assert stored_state(db_dsn, running)[0] == "EXECUTING"  # nobody could requeue it
    with ServeProcess(cli_env, workers=1) as server:
        running = running.replace(running.split("/tap/")[0], server.url)
        assert wait_phase(running, {"ERROR"}) == "ERROR"
        assert "stopped" in httpx.get(running + "/error").text
