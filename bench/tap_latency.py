"""TAP latency benchmark (issue 4): p50/p95 of a small cone query (TOP 100,
1 arcmin) through HTTP sync with 1 and 16 concurrent clients, against the
same SQL through psycopg directly (target: p50 overhead < 3 ms).

A one-process server and a ``--workers`` server run side by side on the same
database and are measured in alternation in the same run, so a busy shared
machine affects both alike.

    .venv/bin/python bench/tap_latency.py [--rows 1000000] [--queries 400] [--workers 0]
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import psycopg
from tap_common import TABLE, ServerProcess, database

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


def http_latencies(url: str, positions: list[tuple[float, float]], clients: int) -> list[float]:
    def one(client: httpx.Client, pos: tuple[float, float]) -> float:
        start = time.perf_counter()
        response = client.post(url + "/sync", data={"LANG": "ADQL", "QUERY": adql(*pos)})
        response.raise_for_status()
        return time.perf_counter() - start

    pools = [httpx.Client(timeout=60) for _ in range(clients)]
    try:
        with ThreadPoolExecutor(clients) as executor:
            return list(executor.map(lambda i: one(pools[i % clients], positions[i]), range(len(positions))))
    finally:
        for c in pools:
            c.close()


def sql_latencies(target, positions: list[tuple[float, float]], clients: int) -> list[float]:  # noqa: ANN001
    """The SQL the server runs (translated by the server's own translator, via /sync's plan) through psycopg."""
    import sys
    from pathlib import Path
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from adql import translate
    from vo_server.app import create_app
    from vo_server.catalog import load_catalog
    from vo_server.config import Settings

    spatial = create_app(Settings(), target).state.spatial  # the compiler the server uses
    _, catalog = load_catalog(target.owner_dsn)
    statements = [translate(adql(*p), catalog, spatial=spatial, max_rows=100).sql for p in positions]
    dsn = target.query_dsn
    conns = [psycopg.connect(dsn, autocommit=True) for _ in range(clients)]

    def one(i: int) -> float:
        start = time.perf_counter()
        conns[i % clients].execute(statements[i]).fetchall()
        return time.perf_counter() - start

    try:
        with ThreadPoolExecutor(clients) as executor:
            return list(executor.map(one, range(len(statements))))
    finally:
        for c in conns:
            c.close()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--workers", type=int, default=0,
                        help="processes of the multi-process server (0: the server's default, one per core)")
    args = parser.parse_args()
    target, work = database(args.rows)
    servers = {"1 process": ServerProcess(target, work, workers="1"),
               "--workers": ServerProcess(target, work, workers=str(args.workers))}
    try:
        positions = cones(args.queries)
        for server in servers.values():
            http_latencies(server.url, positions[:20], 1)
        for clients in (1, 16):
            s50, s95 = percentiles(sql_latencies(target, positions, clients))
            print(f"{clients:2d} client(s): psycopg p50 {s50:.2f} ms p95 {s95:.2f} ms")
            for label, server in servers.items():
                h50, h95 = percentiles(http_latencies(server.url, positions, clients))
                print(f"    HTTP {label:<10} p50 {h50:.2f} ms p95 {h95:.2f} ms | p50 overhead {h50 - s50:.2f} ms "
                      f"(target < 3 ms), ratio {h50 / s50:.1f}")
    finally:
        for server in servers.values():
            server.stop()


if __name__ == "__main__":
    main()
