"""Shared set-up of the TAP benchmarks: a private embedded PostgreSQL, a
generated catalogue ingested with `vo-server ingest`, and the real server in
its own process (so its memory can be measured)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vo_server.db.scratch import scratch_database  # noqa: E402
from vo_server.db.target import DatabaseTarget  # noqa: E402
from vo_server.ingest.loader import IngestRequest, ingest  # noqa: E402

TABLE = "bench.stars"


def make_table(rows: int) -> pa.Table:
    rng = np.random.default_rng(7)
    return pa.table({
        "source_id": np.arange(rows, dtype=np.int64),
        "ra": rng.uniform(0, 360, rows),
        "dec": np.degrees(np.arcsin(rng.uniform(-1, 1, rows))),
        "mag_g": rng.uniform(5, 21, rows).astype(np.float32),
        "parallax": rng.normal(1, 0.5, rows),
    })


def database(rows: int) -> tuple[DatabaseTarget, Path]:
    target, work = scratch_database("vo-tap-bench-", "vo")
    path = work / "stars.parquet"
    pq.write_table(make_table(rows), path)
    ingest(target, IngestRequest(path=path, table=TABLE))
    return target, work


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_serving(process: subprocess.Popen, url: str, timeout: float = 60) -> None:
    """Until ``url`` answers 200; RuntimeError if ``process`` exits or time runs out."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline or process.poll() is not None:
            raise RuntimeError(f"the server did not start ({url})")
        time.sleep(0.2)


class ServerProcess:
    """`vo-server serve` in a child process on the benchmark database."""

    def __init__(self, target: DatabaseTarget, work: Path, **settings: str):
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("VO_SERVER_")}
        env.update(VO_SERVER_DSN=target.owner_dsn, VO_SERVER_QUERY_DSN=target.query_dsn,
                   VO_SERVER_DATA_DIR=str(work / "data"), VO_SERVER_PORT=str(self.port),
                   VO_SERVER_LOG_LEVEL="warning", VO_SERVER_TAP_MAX_REC_LIMIT="100000000",
                   VO_SERVER_STATEMENT_TIMEOUT="600", PYTHONPATH=str(ROOT))
        env.update({f"VO_SERVER_{k.upper()}": v for k, v in settings.items()})
        self.process = subprocess.Popen([sys.executable, "-c", "from vo_server.cli import main; main()", "serve"],
                                        env=env, cwd=ROOT)
        self.url = f"http://127.0.0.1:{self.port}/tap"
        wait_until_serving(self.process, self.url + "/availability")

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)
