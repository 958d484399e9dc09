"""TAP latency benchmark (issue 4): p50/p95 of a small cone query (TOP 100,
1 arcmin) through HTTP sync with 1 and 16 concurrent clients, against the
same SQL through psycopg directly (target: p50 overhead < 3 ms).

A one-process server and a ``--workers`` server run side by side on the same
database and are measured in alternation in the same run, so a busy shared
machine affects both alike.  So is an "HTTP floor" (bench/http_floor.py): the
same HTTP stack with the ``--workers`` process count answering with fixed
bytes and doing nothing else, i.e. what the clients and HTTP alone cost on this
machine; with 16 clients on few cores that floor is most of the budget.

Clients are separate processes (each with its own connection), as real clients are.

    .venv/bin/python bench/tap_latency.py [--rows 1000000] [--queries 400] [--workers 0] [--rounds 3]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psycopg
from tap_common import TABLE, ServerProcess, database, free_port, wait_until_serving

from vo_server.config import Settings
from vo_server.serving import worker_count

RADIUS = 1 / 60


def cones(n: int) -> list[tuple[float, float]]:
    rng = random.Random(3)
    return [(rng.uniform(0, 360), rng.uniform(-80, 80)) for _ in range(n)]


def adql(ra: float, dec: float) -> str:
    return (f"SELECT TOP 100 source_id, ra, dec, mag_g FROM {TABLE} WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), "
            f"CIRCLE('ICRS', {ra}, {dec}, {RADIUS}))")


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(0.95 * (len(ordered) - 1))] * 1000


def _http_client(task: tuple[str, list[tuple[float, float]]]) -> list[float]:
    url, positions = task
    times = []
    with httpx.Client(timeout=60) as client:
        for pos in positions:
            start = time.perf_counter()
            response = client.post(url + "/sync", data={"LANG": "ADQL", "QUERY": adql(*pos)})
            response.raise_for_status()
            times.append(time.perf_counter() - start)
    return times


def _sql_client(task: tuple[str, list[str]]) -> list[float]:
    dsn, statements = task
    times = []
    with psycopg.connect(dsn, autocommit=True) as conn:
        for statement in statements:
            start = time.perf_counter()
            conn.execute(statement).fetchall()
            times.append(time.perf_counter() - start)
    return times


def concurrently(client, tasks: list) -> list[float]:  # noqa: ANN001
    """Each task in its own client process, all at once: concurrent clients are separate programs
    (threads of one Python process would also queue on its GIL and inflate every latency)."""
    if len(tasks) == 1:
        return client(tasks[0])
    with multiprocessing.get_context("fork").Pool(len(tasks)) as pool:
        return [t for times in pool.map(client, tasks) for t in times]


def http_latencies(url: str, positions: list[tuple[float, float]], clients: int) -> list[float]:
    return concurrently(_http_client, [(url, positions[i::clients]) for i in range(clients)])


def sql_latencies(target, positions: list[tuple[float, float]], clients: int) -> list[float]:  # noqa: ANN001
    """The SQL the server runs (translated by the server's own translator, via /sync's plan) through psycopg."""
    from adql import translate
    from vo_server.app import create_app
    from vo_server.catalog import load_catalog

    spatial = create_app(Settings(), target).state.spatial  # the compiler the server uses
    _, catalog = load_catalog(target.owner_dsn)
    statements = [translate(adql(*p), catalog, spatial=spatial, max_rows=100).sql for p in positions]
    return concurrently(_sql_client, [(target.query_dsn, statements[i::clients]) for i in range(clients)])


class FloorServer:
    """bench/http_floor.py in a child process, answering with ``body``."""

    def __init__(self, body: bytes, workers: int):
        self.body_file = tempfile.NamedTemporaryFile(suffix=".xml", delete=False)  # noqa: SIM115 - removed in stop
        self.body_file.write(body)
        self.body_file.close()
        port = free_port()
        self.process = subprocess.Popen([sys.executable, str(Path(__file__).parent / "http_floor.py"), str(port),
                                         str(workers), self.body_file.name])
        self.url = f"http://127.0.0.1:{port}/tap"
        wait_until_serving(self.process, self.url + "/sync")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
        os.unlink(self.body_file.name)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--workers", type=int, default=0,
                        help="processes of the multi-process server (0: the server's default, one per core)")
    parser.add_argument("--rounds", type=int, default=3, help="alternating measurement rounds")
    args = parser.parse_args()
    target, work = database(args.rows)
    servers = {"1 process": ServerProcess(target, work, workers="1"),
               "--workers": ServerProcess(target, work, workers=str(args.workers))}
    try:
        positions = cones(args.queries)
        response = httpx.post(servers["--workers"].url + "/sync", data={"LANG": "ADQL", "QUERY": adql(*positions[0])})
        servers["HTTP floor"] = FloorServer(response.content, worker_count(Settings(workers=args.workers)))
        for server in servers.values():
            http_latencies(server.url, positions[:20], 1)
        for clients in (1, 16):
            # rounds alternate psycopg and the two servers, so load from others on a shared machine hits all alike
            samples: dict[str, list[float]] = {"psycopg": [], **{label: [] for label in servers}}
            for _ in range(args.rounds):
                samples["psycopg"] += sql_latencies(target, positions, clients)
                for label, server in servers.items():
                    samples[label] += http_latencies(server.url, positions, clients)
            s50, s95 = percentiles(samples["psycopg"])
            print(f"{clients:2d} client(s): psycopg p50 {s50:.2f} ms p95 {s95:.2f} ms")
            for label in servers:
                h50, h95 = percentiles(samples[label])
                print(f"    HTTP {label:<10} p50 {h50:.2f} ms p95 {h95:.2f} ms | p50 overhead {h50 - s50:.2f} ms "
                      f"(target < 3 ms), ratio {h50 / s50:.1f}")
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    main()
