"""Crossmatch through the index vs the exact predicate alone.

A private embedded PostgreSQL with a generated uniform-sky table (default
2e6 rows, ``vo-server`` ingest: hpx btree, clustered) and outer tables of N
random positions (half of them within a few arcsec of a catalogue star, so
there are matches), both published.  The ADQL query

    SELECT o.id, s.source_id FROM bench.outer_N AS o JOIN bench.stars AS s
    ON 1 = CONTAINS(POINT(s.ra, s.dec), CIRCLE(o.ra, o.dec, r))

is translated twice: with the HEALPix spatial compiler (the LATERAL
neighbourhood join, adql/crossmatch.py) and with ``PlainSpatialCompiler``
(the exact test alone).  The exact form scans the whole table once per
outer row, so it is timed on the first ``--fallback-rows`` outer rows only
and extrapolated linearly (its cost is exactly proportional to the outer
rows); both forms are run on that subset and must return the same pairs.

    python bench/xmatch.py [--rows 2000000] [--outer 10000 100000] [--radius 5 60]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import psycopg
import pyarrow as pa
import pyarrow.parquet as pq
from tap_common import TABLE, database  # noqa: E402  (puts the repository on sys.path)

from adql import PlainSpatialCompiler, translate
from vo_server.catalog import load_catalog
from vo_server.ingest.loader import IngestRequest, ingest
from vo_server.sky.spatial_compiler import HealpixSpatialCompiler


def outer_table(stars: pa.Table, n: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    near = rng.choice(stars.num_rows, n // 2, replace=False)
    ra0 = stars.column("ra").to_numpy()[near]
    dec0 = stars.column("dec").to_numpy()[near]
    # within 0-10 arcsec of a star (small-angle offsets; exactness is not needed here)
    offset = rng.uniform(0, 10, n // 2) / 3600
    angle = rng.uniform(0, 2 * np.pi, n // 2)
    dec = np.clip(dec0 + offset * np.cos(angle), -90, 90)
    ra = (ra0 + offset * np.sin(angle) / np.maximum(np.cos(np.radians(dec0)), 1e-6)) % 360
    ra = np.concatenate([ra, rng.uniform(0, 360, n - n // 2)])
    dec = np.concatenate([dec, np.degrees(np.arcsin(rng.uniform(-1, 1, n - n // 2)))])
    return pa.table({"id": np.arange(n, dtype=np.int64), "ra": ra, "dec": dec})


def timed(conn: psycopg.Connection, sql: str, repeat: int) -> tuple[float, set]:
    times, rows = [], set()
    for _ in range(repeat):
        start = time.perf_counter()
        rows = set(conn.execute(sql).fetchall())
        times.append(time.perf_counter() - start)
    return statistics.median(times), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=2_000_000, help="rows of the searched table")
    parser.add_argument("--outer", type=int, nargs="+", default=[10_000, 100_000], help="outer table sizes")
    parser.add_argument("--radius", type=float, nargs="+", default=[5.0, 60.0], help="radii, arcsec")
    parser.add_argument("--fallback-rows", type=int, default=20, help="outer rows the exact form is timed on")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    t0 = time.perf_counter()
    target, work = database(args.rows)
    print(f"table {TABLE}: {args.rows:,} rows ingested in {time.perf_counter() - t0:.1f} s")
    with psycopg.connect(target.owner_dsn) as conn:
        stars = pa.Table.from_pylist([{"ra": r, "dec": d} for r, d in conn.execute(f"SELECT ra, dec FROM {TABLE}")])
    for n in args.outer:
        path = work / f"outer_{n}.parquet"
        pq.write_table(outer_table(stars, n, n), path)
        ingest(target, IngestRequest(path=path, table=f"bench.outer_{n}"))
    _, catalog = load_catalog(target.owner_dsn)
    healpix, plain = HealpixSpatialCompiler(typical_rows=args.rows), PlainSpatialCompiler()

    print(f"\n{'N':>7} {'r':>5} {'pairs':>7} {'indexed s':>10} {'per outer row':>14} "
          f"{'exact-only s (extrap.)':>23} {'per outer row':>14} {'speed-up':>9}")
    with psycopg.connect(target.owner_dsn, autocommit=True) as conn:
        conn.execute("SET statement_timeout = 0")
        for n in args.outer:
            for radius in args.radius:
                adql = (f"SELECT o.id, s.source_id FROM bench.outer_{n} AS o JOIN {TABLE} AS s "
                        f"ON 1 = CONTAINS(POINT(s.ra, s.dec), CIRCLE(o.ra, o.dec, {radius}/3600.))")
                indexed_sql = translate(adql, catalog, healpix).sql
                assert "LATERAL" in indexed_sql
                indexed_s, pairs = timed(conn, indexed_sql, args.repeat)
                subset = adql + f" WHERE o.id < {args.fallback_rows}"
                exact_s, exact_pairs = timed(conn, translate(subset, catalog, plain).sql, 1)
                _, check = timed(conn, translate(subset, catalog, healpix).sql, 1)
                assert check == exact_pairs, "indexed and exact forms differ"
                assert {p for p in pairs if p[0] < args.fallback_rows} == exact_pairs
                per_exact = exact_s / args.fallback_rows
                print(f"{n:>7} {radius:>4g}\" {len(pairs):>7} {indexed_s:>10.3f} {indexed_s / n * 1e6:>11.1f} µs "
                      f"{per_exact * n:>23.0f} {per_exact * 1e3:>11.1f} ms {per_exact * n / indexed_s:>8.0f}×")
    print(f"\n(work directory {work}; the embedded server stops with this process)")


if __name__ == "__main__":
    main()
