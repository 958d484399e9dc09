"""A Debian PostgreSQL 15 cluster with the extensions the sky benchmarks
compare against (q3c, pgSphere), and a 1e7-row uniform-sky table published
by vo-server's own ingest (``hpx`` btree, clustered, coverage MOC) and also
indexed with ``q3c_ang2ipix`` and a pgSphere ``spoint`` GiST, so every
method reads the same rows.  Built once under ``var/bench-pg15`` and reused.

Needs ``apt-get install -y postgresql-15 postgresql-15-q3c postgresql-15-pgsphere``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vo_server.db.migrations import upgrade  # noqa: E402
from vo_server.db.target import DatabaseTarget  # noqa: E402
from vo_server.ingest.loader import IngestRequest, ingest  # noqa: E402

PG_BIN = Path("/usr/lib/postgresql/15/bin")
DATA_DIR = ROOT / "var" / "bench-pg15"
PORT = int(os.environ.get("BENCH_PG_PORT", "54415"))
DSN = f"host=127.0.0.1 port={PORT} user=postgres dbname=vo_bench"
QUERY_DSN = f"host=127.0.0.1 port={PORT} user=vo_query dbname=vo_bench"
ROWS = int(os.environ.get("BENCH_ROWS", "10000000"))
TABLE = "bench.sources"


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
                       "work_mem = 64MB\nmaintenance_work_mem = 1GB\nmax_wal_size = 1GB\n"
                       "unix_socket_directories = ''\njit = off\n")
    status = subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(DATA_DIR), "status"]),
                            capture_output=True)
    if status.returncode != 0:
        subprocess.run(_as_postgres([str(PG_BIN / "pg_ctl"), "-D", str(DATA_DIR), "-l",
                                     str(DATA_DIR / "server.log"), "-w", "start"]), check=True)
    with psycopg.connect(f"host=127.0.0.1 port={PORT} user=postgres dbname=postgres", autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'vo_bench'").fetchone():
            conn.execute("CREATE DATABASE vo_bench")
        conn.execute("DROP DATABASE IF EXISTS bench")  # the older layout of this script
        if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'vo_query'").fetchone():
            conn.execute("CREATE ROLE vo_query LOGIN")


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


def target() -> DatabaseTarget:
    """The benchmark database as vo-server sees it: owner postgres, queries as
    the vo_query login role (created here: the foundation's SET ROLE check,
    ``pg_has_role(..., 'SET')``, needs PostgreSQL 16)."""
    return DatabaseTarget(DSN, QUERY_DSN, "vo_query", set_role=False, embedded=False)


def build_table(extensions: dict[str, str | None]) -> None:
    """Publish bench.sources through vo-server's own ingest (hpx, clustering,
    coverage MOC), then add the q3c and pgSphere indexes on the same rows."""
    with psycopg.connect(DSN, autocommit=True) as conn:
        published = conn.execute("SELECT row_count FROM vo_internal.published_tables "
                                 "WHERE schema_name = 'bench' AND table_name = 'sources'").fetchone()
    if not published or published[0] != ROWS:
        t0 = time.perf_counter()
        rng = np.random.default_rng(20170817)
        table = pa.table({
            "source_id": np.arange(ROWS, dtype=np.int64),
            "ra": rng.uniform(0, 360, ROWS),
            "dec": np.degrees(np.arcsin(rng.uniform(-1, 1, ROWS))),
            "mag": rng.uniform(10, 21, ROWS).astype(np.float32),
            "dist": rng.uniform(5, 2000, ROWS),
        })
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "sources.parquet"
            pq.write_table(table, path)
            del table
            ingest(target(), IngestRequest(path=path, table=TABLE, ra="ra", dec="dec", mode="replace"))
        print(f"ingested {ROWS} rows in {time.perf_counter() - t0:.0f} s", flush=True)
    with psycopg.connect(DSN, autocommit=True) as conn:
        if extensions.get("q3c") is None:
            conn.execute(f"CREATE INDEX IF NOT EXISTS sources_q3c ON {TABLE} (q3c_ang2ipix(ra, dec))")
        if extensions.get("pg_sphere") is None:
            conn.execute(f"CREATE INDEX IF NOT EXISTS sources_spoint ON {TABLE} USING gist "
                         "(spoint(radians(ra), radians(dec)))")
        conn.execute(f"VACUUM ANALYZE {TABLE}")


def _reset_changed_sky_migration() -> None:
    """While the sky migration is being developed, re-apply it on the bench
    database when its file changed (it only holds sky maps, re-ingested here)."""
    from vo_server.db.migrations import available_migrations

    current = {m.version: m.checksum for m in available_migrations()}.get("0004_skymaps")
    with psycopg.connect(DSN, autocommit=True) as conn:
        if conn.execute("SELECT to_regclass('vo_internal.schema_migrations') IS NULL").fetchone()[0]:
            return
        row = conn.execute("SELECT checksum FROM vo_internal.schema_migrations WHERE version = '0004_skymaps'"
                           ).fetchone()
        if row and row[0] != current:
            conn.execute("DROP SCHEMA vo_sky CASCADE")
            conn.execute("DELETE FROM vo_internal.schema_migrations WHERE version = '0004_skymaps'")


def prepare() -> dict[str, str | None]:
    start_cluster()
    _reset_changed_sky_migration()
    upgrade(target())
    with psycopg.connect(DSN, autocommit=True) as conn:
        extensions = enable_extensions(conn)
    build_table(extensions)
    return extensions


def server_env() -> dict[str, str]:
    """Environment for ``vo-server serve`` on the benchmark database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VO_SERVER_")}
    env.update(VO_SERVER_DSN=DSN, VO_SERVER_QUERY_DSN=QUERY_DSN, VO_SERVER_LOG_LEVEL="warning", VO_SERVER_DATA_DIR=str(ROOT / "var" / "bench"))
    return env


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "stop":
        stop_cluster()
    else:
        print(prepare())
