"""Ingest benchmark (issue 2): a 1e6-row Parquet file with ra/dec, loaded end
to end by `vo-server ingest` (read, HEALPix index, COPY, btree, clustering,
ANALYZE, TAP_SCHEMA, coverage MOC), against a plain COPY of the same rows as
CSV through psycopg into a bare table, in the same run on the same embedded
PostgreSQL.  Target: ratio (our rows/s / plain COPY rows/s) >= 0.5.

    .venv/bin/python bench/ingest.py [--rows 1000000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vo_server.db.scratch import scratch_database  # noqa: E402
from vo_server.ingest.loader import IngestRequest, ingest  # noqa: E402


def make_table(rows: int) -> pa.Table:
    rng = np.random.default_rng(42)
    return pa.table({
        "source_id": np.arange(rows, dtype=np.int64),
        "ra": rng.uniform(0, 360, rows),
        "dec": np.degrees(np.arcsin(rng.uniform(-1, 1, rows))),
        "mag_g": rng.uniform(5, 21, rows).astype(np.float32),
        "mag_bp": rng.uniform(5, 21, rows).astype(np.float32),
        "parallax": rng.normal(1, 0.5, rows),
    })


def plain_copy(dsn: str, csv_bytes: bytes) -> float:
    with psycopg.connect(dsn) as conn:
        conn.execute("DROP TABLE IF EXISTS public.bare")
        conn.execute("CREATE TABLE public.bare (source_id bigint, ra double precision, dec double precision, "
                     "mag_g real, mag_bp real, parallax double precision)")
        conn.commit()
        start = time.perf_counter()
        with conn.cursor() as cur, cur.copy("COPY public.bare FROM STDIN (FORMAT csv)") as copy:
            view = memoryview(csv_bytes)
            for offset in range(0, len(view), 1 << 20):
                copy.write(view[offset:offset + (1 << 20)])
        conn.commit()
        return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    target, workdir = scratch_database("vo-bench-ingest-")

    table = make_table(args.rows)
    parquet = workdir / "stars.parquet"
    pq.write_table(table, parquet)
    buffer = io.BytesIO()
    pacsv.write_csv(table, buffer, pacsv.WriteOptions(include_header=False))
    csv_bytes = buffer.getvalue()

    ours, reference = [], []
    for i in range(args.repeat):
        reference.append(plain_copy(target.owner_dsn, csv_bytes))
        start = time.perf_counter()
        report = ingest(target, IngestRequest(path=parquet, table="bench.stars", mode="replace"))
        ours.append(time.perf_counter() - start)
        stages = ", ".join(f"{k} {v:.2f}" for k, v in report.timings.items())
        print(f"run {i + 1}: vo-server ingest {ours[-1]:.2f} s ({stages}), plain COPY {reference[-1]:.2f} s",
              flush=True)

    ours_s, ref_s = statistics.median(ours), statistics.median(reference)
    print(f"\nrows: {args.rows:,} (Parquet {parquet.stat().st_size / 1e6:.1f} MB, CSV {len(csv_bytes) / 1e6:.1f} MB)")
    print(f"vo-server ingest (end to end): {ours_s:.2f} s median = {args.rows / ours_s:,.0f} rows/s")
    print(f"plain COPY of CSV (reference): {ref_s:.2f} s median = {args.rows / ref_s:,.0f} rows/s")
    print(f"ratio (ours / reference rows/s): {ref_s / ours_s:.2f}  (target >= 0.5)")


if __name__ == "__main__":
    main()
