"""TAP streaming benchmark (issue 4): a 1e6-row sync query in VOTable
BINARY2 over HTTP, rows/s against `COPY (same SQL) TO STDOUT` through psycopg
in the same run (target ratio >= 0.5), and the server's peak RSS while
streaming a 5e6-row result (target < 300 MB).

    .venv/bin/python bench/tap_stream.py [--rows 1000000] [--big-rows 5000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import time

import httpx
import psycopg
from tap_common import TABLE, ServerProcess, database

ADQL = f"SELECT source_id, ra, dec, mag_g, parallax FROM {TABLE}"
SQL = f"SELECT source_id, ra, dec, mag_g, parallax FROM {TABLE}"


def http_query(url: str, rows: int, fmt: str = "votable") -> tuple[float, int]:
    start = time.perf_counter()
    size = 0
    with httpx.stream("POST", url + "/sync", data={"LANG": "ADQL", "QUERY": ADQL, "MAXREC": str(rows),
                                                  "RESPONSEFORMAT": fmt}, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_raw(1 << 20):
            size += len(chunk)
    return time.perf_counter() - start, size


def copy_query(dsn: str, rows: int) -> tuple[float, int]:
    start = time.perf_counter()
    size = 0
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(f"COPY ({SQL} LIMIT {rows}) TO STDOUT") as copy:
            for chunk in copy:
                size += len(chunk)
    return time.perf_counter() - start, size


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--big-rows", type=int, default=5_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    target, work = database(max(args.rows, args.big_rows))
    server = ServerProcess(target, work, workers="1")  # one process: its peak RSS is the server's
    try:
        http_query(server.url, 1000)
        http_times = [http_query(server.url, args.rows)[0] for _ in range(args.repeat)]
        copy_times = [copy_query(target.query_dsn, args.rows)[0] for _ in range(args.repeat)]
        http_t, copy_t = statistics.median(http_times), statistics.median(copy_times)
        print(f"sync BINARY2 over HTTP: {args.rows / http_t:,.0f} rows/s ({http_t:.2f} s for {args.rows:,} rows)")
        print(f"COPY TO STDOUT (psycopg): {args.rows / copy_t:,.0f} rows/s ({copy_t:.2f} s)")
        print(f"ratio (HTTP / COPY rows/s): {copy_t / http_t:.2f}  (target >= 0.5)")
        before = server.peak_rss_mb()
        big_t, big_size = http_query(server.url, args.big_rows)
        print(f"{args.big_rows:,}-row result: {big_size / 1e6:,.0f} MB in {big_t:.1f} s; server peak RSS "
              f"{server.peak_rss_mb():.0f} MB (before: {before:.0f} MB; target < 300 MB)")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
