"""Benchmark: a full OAI-PMH ListRecords harvest of 10,000 generated resources.

Generates N table resources in TAP_SCHEMA + vo_internal.published_tables of a
private embedded PostgreSQL (metadata only: the registry never reads
catalogue rows), runs the real server (``vo-server serve``) in its own
process, and harvests over HTTP in each metadata format, following the
resumption tokens.  Prints the one-off record build time, records/s per
format, and the server's resident memory (VmRSS/VmHWM from /proc) so that
memory staying flat while the harvest streams page by page is visible.

    python bench/oai_harvest.py [--resources 10000] [--page-size 100]
"""

from __future__ import annotations

import argparse
import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psycopg

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vo_server.db.scratch import scratch_database  # noqa: E402

COLUMNS = (("id", "long", None, "meta.id;meta.main"), ("ra", "double", "deg", "pos.eq.ra;meta.main"),
           ("dec", "double", "deg", "pos.eq.dec;meta.main"), ("mag", "float", "mag", "phot.mag"),
           ("name", "char", None, "meta.id"), ("hpx", "long", None, "pos.healpix"))
TOKEN = re.compile(rb"<resumptionToken[^>]*>([^<]*)</resumptionToken>")


def generate(dsn: str, n: int) -> None:
    """N tables' metadata, the way ingest would have recorded them."""
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO tap_schema.schemas (schema_name, description) VALUES ('bench', 'Generated')")
        conn.execute(
            "INSERT INTO tap_schema.tables (schema_name, table_name, table_type, description, table_index) "
            "SELECT 'bench', 'bench.t' || lpad(i::text, 6, '0'), 'table', "
            "'Generated catalogue ' || i || '. Positions and magnitudes of generated sources.', i "
            "FROM generate_series(1, %s) i", (n,))
        for index, (name, datatype, unit, ucd) in enumerate(COLUMNS, start=1):
            conn.execute(
                "INSERT INTO tap_schema.columns (table_name, column_name, datatype, arraysize, unit, ucd, "
                "description, indexed, principal, std, column_index) "
                "SELECT 'bench.t' || lpad(i::text, 6, '0'), %s, %s, %s, %s, %s, %s, 0, 1, 0, %s "
                "FROM generate_series(1, %s) i",
                (name, datatype, "*" if datatype == "char" else None, unit, ucd, f"Column {name}", index, n))
        conn.execute(
            "INSERT INTO vo_internal.published_tables (schema_name, table_name, ra_column, dec_column, hpx_column, "
            "row_count, coverage_order, coverage_moc, sky_fraction, extra) "
            "SELECT 'bench', 't' || lpad(i::text, 6, '0'), 'ra', 'dec', 'hpx', 1000 + i, 8, "
            "'6/' || (i %% 49152) || ' 8/' || (i * 7 %% 786432), 0.0001, "
            "jsonb_build_object('license', 'CC BY 4.0', 'citation', 'Generated ' || i) "
            "FROM generate_series(1, %s) i", (n,))
        conn.commit()


def memory_kib(pid: int) -> dict[str, int]:
    status = Path(f"/proc/{pid}/status").read_text()
    return {k: int(re.search(rf"{k}:\s+(\d+)", status).group(1)) for k in ("VmRSS", "VmHWM")}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def harvest(client: httpx.Client, url: str, prefix: str) -> tuple[int, int, float]:
    """(records, bytes, seconds) of a whole ListRecords harvest, streamed page by page."""
    started = time.perf_counter()
    records = size = 0
    params: dict[str, str] = {"verb": "ListRecords", "metadataPrefix": prefix}
    while True:
        body = client.get(url, params=params).content
        size += len(body)
        records += body.count(b"<record>")
        match = TOKEN.search(body)
        if not match or not match.group(1):
            return records, size, time.perf_counter() - started
        params = {"verb": "ListRecords", "resumptionToken": match.group(1).decode()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--resources", type=int, default=10_000)
    parser.add_argument("--page-size", type=int, default=100)
    args = parser.parse_args()
    target, root = scratch_database("vo-bench-oai-")
    started = time.perf_counter()
    generate(target.owner_dsn, args.resources)
    print(f"generated {args.resources} table resources in {time.perf_counter() - started:.1f} s")
    port = free_port()
    env = {**os.environ, "VO_SERVER_DSN": target.owner_dsn, "VO_SERVER_QUERY_DSN": target.query_dsn,
           "VO_SERVER_DATA_DIR": str(root / "data"), "VO_SERVER_PORT": str(port),
           "VO_SERVER_OAI_PAGE_SIZE": str(args.page_size), "VO_SERVER_LOG_LEVEL": "warning"}
    server = subprocess.Popen([sys.executable, "-m", "vo_server.cli", "serve"], env=env,
                              cwd=Path(__file__).resolve().parent.parent)
    url = f"http://127.0.0.1:{port}/oai"
    try:
        with httpx.Client(timeout=600) as client:
            for _ in range(300):
                try:
                    client.get(f"http://127.0.0.1:{port}/health")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            idle = memory_kib(server.pid)
            started = time.perf_counter()
            client.get(url, params={"verb": "Identify"})  # the first request builds every record
            build = time.perf_counter() - started
            after_build = memory_kib(server.pid)
            print(f"server idle: RSS {idle['VmRSS'] / 1024:.0f} MiB; record build ({args.resources + 2} records, "
                  f"3 formats): {build:.1f} s, {(args.resources + 2) / build:.0f} records/s, "
                  f"RSS after {after_build['VmRSS'] / 1024:.0f} MiB (peak {after_build['VmHWM'] / 1024:.0f} MiB)")
            started = time.perf_counter()
            client.get(url, params={"verb": "Identify"})  # later requests only compare the metadata fingerprint
            print(f"a request that starts a harvest (fingerprint check, nothing changed): "
                  f"{1000 * (time.perf_counter() - started):.0f} ms")
            print(f"{'format':<14}{'records':>9}{'MB':>8}{'seconds':>9}{'records/s':>11}"
                  f"{'RSS MiB':>9}{'peak MiB':>10}")
            for prefix in ("ivo_vor", "oai_dc", "oai_datacite"):
                records, size, seconds = harvest(client, url, prefix)
                mem = memory_kib(server.pid)
                assert records == args.resources + 2, (prefix, records)
                print(f"{prefix:<14}{records:>9}{size / 1e6:>8.1f}{seconds:>9.2f}{records / seconds:>11.0f}"
                      f"{mem['VmRSS'] / 1024:>9.0f}{mem['VmHWM'] / 1024:>10.0f}")
    finally:
        server.terminate()
        server.wait(timeout=30)
    return 0


if __name__ == "__main__":
    sys.exit(main())
