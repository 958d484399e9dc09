"""A Debian PostgreSQL 15 cluster with the extensions the sky benchmarks
compare against (q3c, pgSphere), and a 1e7-row uniform-sky table indexed
three ways: our ``hpx`` btree (table clustered by it), ``q3c_ang2ipix`` and
a pgSphere ``spoint`` GiST.  Built once under ``var/bench-pg15`` and reused.

Needs ``apt-get install -y postgresql-15 postgresql-15-q3c postgresql-15-pgsphere``.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vo_server.sky.hpx import hpx_index  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")
DATA_DIR = ROOT / "var" / "bench-pg15"
PORT = int(os.environ.get("BENCH_PG_PORT", "54415"))
DSN = f"host=127.0.0.1 port={PORT} user=postgres dbname=bench"
ROWS = int(os.environ.get("BENCH_ROWS", "10000000"))
TABLE = "cat.sources"


def _as_postgres(cmd: list[str]) -> list[str]:
    """initdb/pg_ctl refuse to run as root: run them as the postgres user."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def start_cluster() -> None:
    if not (DATA_DIR / "PG_VERSION").exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        if os.geteuid() == 0:
            subprocess.run(["chown", "-R", "postgres", str(DATA_DIR)], check=True)
        subprocess.run(_as_postgres([str(PG_BIN / "initdb"), "-D", str(DATA_DIR), "-U", "postgres",
                                     "--auth=trust", "-E", "UTF8"]), check=True, stdout=subprocess.DEVNULL)
        with open(DATA_DIR / "postgresql.conf", "a") as conf:
            conf.write(f"\nport = {PORT}\nlisten_addresses = '127.0.0.1'\nshared_buffers = 2GB\n"
                       "work_mem = 64MB\nmaintenance_work_mem = 1GB\nmax_wal_size = 4GB\n"
                       "unix_socket_directories = ''\njit = off\n")
    status = subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(DATA_DIR), "status"]),
                            capture_output=True)
    if status.returncode != 0:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(DATA_DIR), "-l",
                                     str(DATA_DIR / "server.log"), "-w", "start"]), check=True)
    with psycopg.connect(f"host=127.0.0.1 port={PORT} user=postgres dbname=postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'bench'").fetchone():
            conn.execute("CREATE DATABASE bench")


def stop_cluster() -> None:
    subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(DATA_DIR), "-m", "fast", "stop"]), check=False)


def enable_extensions(conn: psycopg.Connection) -> dict[str, str | None]:
    """Create q3c and pg_sphere; the error text for each that fails."""
    errors: dict[str, str | None] = {}
    for ext in ("q3c", "pg_sphere"):
        try:
            conn.execute(f"CREATE EXTENSION IF NOT EXISTS {ext}")
            errors[ext] = None
        except psycopg.Error as exc:
            errors[ext] = str(exc).strip().splitlines()[0]
    return errors


def build_table(conn: psycopg.Connection, extensions: dict[str, str | None]) -> None:
    exists = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,)).fetchone()[0]
    if exists and conn.execute(f"SELECT count(*) FROM {TABLE}").fetchone()[0] == ROWS:
        return
    t0 = time.perf_counter()
    rng = np.random.default_rng(20170817)
    ra = rng.uniform(0, 360, ROWS)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, ROWS)))
    hpx, _valid = hpx_index(ra, dec)
    order = np.argsort(hpx, kind="stable")
    ra, dec, hpx = ra[order], dec[order], hpx[order]
    conn.execute("CREATE SCHEMA IF NOT EXISTS cat")
    conn.execute(f"DROP TABLE IF EXISTS {TABLE}")
    conn.execute(f"CREATE TABLE {TABLE} (id bigint, ra double precision, dec double precision, "
                 "mag real, hpx bigint)")
    mag = rng.uniform(10, 21, ROWS).astype(np.float32)
    chunk = 1_000_000
    with conn.cursor() as cur, cur.copy(f"COPY {TABLE} FROM STDIN") as copy:
        for start in range(0, ROWS, chunk):
            end = min(start + chunk, ROWS)
            buf = io.StringIO()
            block = np.empty(end - start, dtype=[("i", "i8"), ("ra", "f8"), ("dec", "f8"), ("mag", "f4"),
                                                 ("hpx", "i8")])
            block["i"], block["ra"], block["dec"] = np.arange(start, end), ra[start:end], dec[start:end]
            block["mag"], block["hpx"] = mag[start:end], hpx[start:end]
            np.savetxt(buf, block, fmt=["%d", "%.17g", "%.17g", "%.9g", "%d"], delimiter="\t")
            copy.write(buf.getvalue())
    print(f"loaded {ROWS} rows in {time.perf_counter() - t0:.0f} s", flush=True)
    conn.execute(f"CREATE INDEX sources_hpx ON {TABLE} (hpx)")
    conn.execute(f"ALTER TABLE {TABLE} CLUSTER ON sources_hpx")
    if extensions.get("q3c") is None:
        conn.execute(f"CREATE INDEX sources_q3c ON {TABLE} (q3c_ang2ipix(ra, dec))")
    if extensions.get("pg_sphere") is None:
        conn.execute(f"CREATE INDEX sources_spoint ON {TABLE} USING gist "
                     "(spoint(radians(ra), radians(dec)))")
    conn.execute(f"VACUUM ANALYZE {TABLE}")
    print(f"table ready in {time.perf_counter() - t0:.0f} s", flush=True)


def prepare() -> dict[str, str | None]:
    start_cluster()
    with psycopg.connect(DSN, autocommit=True) as conn:
        extensions = enable_extensions(conn)
        build_table(conn, extensions)
    return extensions


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "stop":
        stop_cluster()
    else:
        print(prepare())
