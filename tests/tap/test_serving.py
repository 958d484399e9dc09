"""`vo-server serve --workers N`: several processes behind one port, sharing
the catalog, the async job queue and the database; small responses are not
delayed by Nagle's algorithm; SIGTERM stops every process."""

from __future__ import annotations

import io
import statistics
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest
from astropy.io.votable import parse_single_table

from tests.tap.server_process import ServeProcess
from vo_server.config import ConfigError, Settings, load_settings
from vo_server.db.target import DatabaseTarget
from vo_server.serving import WORKER_STATE_VARIABLE, decode_state, encode_state, worker_count

CONE = ("SELECT TOP 100 source_id, ra, dec FROM gaia.dr3_bright "
        "WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', {ra}, {dec}, 0.5))")


@pytest.fixture(scope="module")
def two_workers(demo_target, cli_env):
    with ServeProcess(cli_env, workers=2) as server:
        yield server


def sync(url: str, query: str, client: httpx.Client | None = None) -> httpx.Response:
    return (client or httpx).post(url + "/tap/sync", data={"LANG": "ADQL", "QUERY": query}, timeout=60)


def test_settings_travel_to_the_workers_unchanged():
    settings = Settings(port=1234, data_dir=Path("/tmp/x"), workers=3, statement_timeout=7.5, publisher="P")
    target = DatabaseTarget("postgresql:///a", "postgresql:///b", "vo_query", set_role=True, embedded=False)
    assert decode_state(encode_state(settings, target)) == (settings, target)
    assert worker_count(settings) == 3
    assert 1 <= worker_count(Settings(workers=0)) <= 4
    assert load_settings({"VO_SERVER_WORKERS": "5"}).workers == 5
    with pytest.raises(ConfigError):
        load_settings({"VO_SERVER_WORKERS": "-1"})


def test_two_processes_serve_concurrent_queries(two_workers):
    workers = two_workers.server_processes()
    assert len(workers) == 2 and len({w.pid for w in workers}) == 2
    positions = [(10.0 * i % 360, -60 + 7.0 * i % 120) for i in range(64)]
    with ThreadPoolExecutor(16) as pool:  # cold caches in both processes, all at once
        responses = list(pool.map(lambda p: sync(two_workers.url, CONE.format(ra=p[0], dec=p[1])), positions))
    assert [r.status_code for r in responses] == [200] * len(positions), \
        next(r.text for r in responses if r.status_code != 200)
    # both processes did work (each has its own pool of query connections)
    assert all(w.cpu_times().user + w.cpu_times().system > 0 for w in workers)


def test_small_responses_are_not_delayed(two_workers):
    """TCP_NODELAY on the shared socket: without it each small response waits ~40 ms for a delayed ACK."""
    with httpx.Client() as client:
        sync(two_workers.url, CONE.format(ra=1, dec=1), client)
        times = []
        for i in range(15):
            start = time.perf_counter()
            assert sync(two_workers.url, CONE.format(ra=5 * i, dec=10), client).status_code == 200
            times.append(time.perf_counter() - start)
    assert statistics.median(times) < 0.030, times


def test_async_jobs_run_once_across_processes(two_workers, db_dsn):
    base = two_workers.url + "/tap/async"
    jobs = []
    for i in range(6):
        r = httpx.post(base, data={"LANG": "ADQL", "PHASE": "RUN",
                                   "QUERY": f"SELECT TOP {i + 1} source_id FROM gaia.dr3_bright"})
        assert r.status_code == 303
        jobs.append(r.headers["location"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        phases = [httpx.get(j + "/phase").text for j in jobs]
        if all(p == "COMPLETED" for p in phases):
            break
        time.sleep(0.2)
    assert phases == ["COMPLETED"] * len(jobs)
    with psycopg.connect(db_dsn) as conn:  # each claimed once (version: created 0, EXECUTING 1, COMPLETED 2)
        rows = conn.execute("SELECT version, worker FROM vo_internal.uws_jobs WHERE job_id = ANY(%s)",
                            ([j.rsplit("/", 1)[1] for j in jobs],)).fetchall()
    assert len(rows) == len(jobs) and all(version == 2 and worker for version, worker in rows), rows
    for i, job in enumerate(jobs):
        table = parse_single_table(io.BytesIO(httpx.get(job + "/results/result").content))
        assert len(table.array) == i + 1
        httpx.delete(job)


def test_sigterm_stops_every_process(demo_target, cli_env):
    server = ServeProcess(cli_env, workers=2)
    with server:
        workers = server.server_processes()
        assert sync(server.url, CONE.format(ra=0, dec=0)).status_code == 200
        assert server.stop() == 0
    for w in workers:
        assert not w.is_running() or w.status() == "zombie"


def test_processes_share_the_query_connection_budget(demo_target):
    """With N processes each query pool holds 16/N connections (at least 4): PostgreSQL's connection
    count stays about the same whatever the number of processes."""
    from vo_server.db.pools import Database

    assert Database(demo_target, Settings(workers=0)).query.max_size == 16  # one in-process server
    assert Database(demo_target, Settings(workers=2)).query.max_size == 8
    assert Database(demo_target, Settings(workers=8)).query_sync.max_size == 4


def test_workers_see_the_actual_process_count(demo_target, cli_env):
    expected = worker_count(Settings())
    with ServeProcess(cli_env, workers=0) as server:  # 0: one per core (at most 4)
        deadline = time.monotonic() + 60
        while expected > 1 and len(server.server_processes()) < expected and time.monotonic() < deadline:
            time.sleep(0.2)
        processes = server.server_processes() if expected > 1 else []
        assert len(processes) == (expected if expected > 1 else 0)
        for process in processes:
            settings, _ = decode_state(process.environ()[WORKER_STATE_VARIABLE])
            assert settings.workers == worker_count(Settings()) == len(processes)
