"""SIA benchmark (issue 6): median latency of a POS=CIRCLE query over an
ivoa.obscore of 1e5 synthetic footprints, through the footprint index (the
SQL /sia/query runs: HEALPix ranges of the cone joined to
ivoa.obscore_footprint, then the exact test), against the same query as a
sequential scan with the exact polygon test alone; and the ADQL query
``1 = INTERSECTS(s_region, CIRCLE(...))`` translated with the HEALPix spatial
compiler (footprint prefilter; the time includes the translation).  All must
return the same rows; the report prints medians per radius and the ratio.

    .venv/bin/python bench/sia.py [--footprints 100000] [--queries 50]
"""

from __future__ import annotations

import argparse
import io
import math
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import psycopg
from psycopg import sql

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from adql import translate  # noqa: E402
from adql.geometry import normalize_polygon  # noqa: E402
from vo_server.catalog import load_catalog  # noqa: E402
from vo_server.config import load_settings  # noqa: E402
from vo_server.db.scratch import scratch_database  # noqa: E402
from vo_server.sia.params import SiaQuery, parse_pos  # noqa: E402
from vo_server.sia.query import sia_plan  # noqa: E402
from vo_server.sia.service import obscore_table  # noqa: E402
from vo_server.sky.footprints import Footprint, footprint_ranges  # noqa: E402
from vo_server.sky.spatial_compiler import HealpixSpatialCompiler  # noqa: E402


def synthetic_footprints(n: int, seed: int = 7) -> list[Footprint]:
    """Rotated squares of 0.05-0.5 deg, centres uniform on the sphere (gnomonic offsets)."""
    rng = np.random.default_rng(seed)
    ra0 = rng.uniform(0, 360, n)
    dec0 = np.degrees(np.arcsin(rng.uniform(-0.999, 0.999, n)))
    side = rng.uniform(0.05, 0.5, n)
    angle = rng.uniform(0, 2 * math.pi, n)
    result = []
    corners = np.array([[-0.5, -0.5], [0.5, -0.5], [0.5, 0.5], [-0.5, 0.5]])
    for i in range(n):
        c, s = math.cos(angle[i]), math.sin(angle[i])
        xy = np.radians(side[i]) * corners @ np.array([[c, s], [-s, c]])
        x, y = xy[:, 0], xy[:, 1]
        d0, r0 = math.radians(dec0[i]), math.radians(ra0[i])
        rho = np.hypot(x, y)
        cang = np.arctan(rho)
        dec = np.arcsin(np.cos(cang) * math.sin(d0) + np.where(rho > 0, y * np.sin(cang) * math.cos(d0) / rho, 0))
        ra = r0 + np.arctan2(x * np.sin(cang), rho * math.cos(d0) * np.cos(cang) - y * math.sin(d0) * np.sin(cang))
        result.append(Footprint(np.degrees(ra) % 360, np.degrees(dec), float(ra0[i]), float(dec0[i]),
                                float(side[i] * math.sqrt(2))))
    return result


def load(dsn: str, footprints: list[Footprint]) -> float:
    start = time.perf_counter()
    obscore = io.StringIO()
    ranges = io.StringIO()
    for i, fp in enumerate(footprints):
        did = f"ivo://bench/obscore?synthetic/{i}"
        vertices = normalize_polygon(list(zip(fp.ra.tolist(), fp.dec.tolist(), strict=True)))  # counter-clockwise
        fp = Footprint(np.array([v[0] for v in vertices]), np.array([v[1] for v in vertices]), fp.center_ra,
                       fp.center_dec, fp.fov)
        region = "{" + ",".join(repr(v) for v in fp.dali) + "}"
        obscore.write(f"image\t2\tsynthetic\t{i}\t{did}\t{fp.center_ra!r}\t{fp.center_dec!r}\t{fp.fov!r}\t"
                      f"{fp.stcs}\t{region}\n")
        for lo, hi in footprint_ranges(fp):
            ranges.write(f"{did}\t{int(lo)}\t{int(hi)}\n")
    with psycopg.connect(dsn) as conn:
        with conn.cursor() as cur:
            with cur.copy("COPY ivoa.obscore (dataproduct_type, calib_level, obs_collection, obs_id, "
                          "obs_publisher_did, s_ra, s_dec, s_fov, s_region, s_region_dali) FROM STDIN") as copy:
                copy.write(obscore.getvalue())
            with cur.copy("COPY ivoa.obscore_footprint (obs_publisher_did, lo, hi) FROM STDIN") as copy:
                copy.write(ranges.getvalue())
        conn.commit()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE ivoa.obscore")
        conn.execute("VACUUM ANALYZE ivoa.obscore_footprint")
        count = conn.execute("SELECT count(*) FROM ivoa.obscore_footprint").fetchone()[0]
    print(f"loaded {len(footprints)} footprints, {count} index ranges ({count / len(footprints):.1f} per footprint) "
          f"in {time.perf_counter() - start:.1f} s")
    return time.perf_counter() - start


def timed(conn: psycopg.Connection, statement, params, id_column: int) -> tuple[float, set[str]]:
    start = time.perf_counter()
    rows = conn.execute(statement, params).fetchall()
    return time.perf_counter() - start, {r[id_column] for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--footprints", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=20)
    parser.add_argument("--explain", action="store_true", help="print the plan of one indexed query per radius")
    args = parser.parse_args()
    target, workdir = scratch_database("vo-bench-sia-")
    load(target.owner_dsn, synthetic_footprints(args.footprints))
    table = obscore_table(load_settings())
    obs_id_column = [c.name for c in table.columns].index("obs_id")
    rng = np.random.default_rng(11)
    catalog = load_catalog(target.owner_dsn)[1]
    spatial = HealpixSpatialCompiler()
    print(f"{'radius':>8} {'indexed ms':>11} {'ADQL ms':>8} {'scan ms':>9} {'ratio':>7} {'rows':>6}   "
          f"(median of {args.queries} cones; indexed includes computing the cone's ranges, ADQL the translation)")
    with psycopg.connect(target.query_dsn) as conn:
        for radius in (0.05, 0.5, 2.0):
            indexed, adql, scanned, found = [], [], [], []
            for _ in range(args.queries):
                ra, dec = rng.uniform(0, 360), math.degrees(math.asin(rng.uniform(-0.999, 0.999)))
                start = time.perf_counter()
                plan = sia_plan(SiaQuery(shapes=[parse_pos(f"CIRCLE {ra} {dec} {radius}")], maxrec=100_000), table)
                plan_time = time.perf_counter() - start
                if args.explain and not indexed:
                    explain = sql.SQL("EXPLAIN (ANALYZE, BUFFERS) ") + sql.Composed([plan.sql])
                    print("\n".join(r[0] for r in conn.execute(explain, plan.params)))
                t_index, rows_index = timed(conn, plan.sql, plan.params, obs_id_column)
                scan = sql.SQL("SELECT o.obs_id FROM ivoa.obscore o WHERE "
                               "vo_sky.region_overlaps_circle(o.s_region_dali, %s, %s, %s) ORDER BY o.obs_publisher_did")
                t_scan, rows_scan = timed(conn, scan, (ra, dec, radius), 0)
                assert rows_index == rows_scan, (ra, dec, radius, rows_index ^ rows_scan)
                start = time.perf_counter()
                translation = translate(f"SELECT obs_id FROM ivoa.obscore WHERE 1 = INTERSECTS(s_region, "
                                        f"CIRCLE({ra!r}, {dec!r}, {radius!r}))", catalog, spatial)
                if args.explain and not indexed:
                    print("\n".join(r[0] for r in conn.execute("EXPLAIN (ANALYZE, BUFFERS) " + translation.sql)))
                t_adql, rows_adql = timed(conn, translation.sql, None, 0)
                assert rows_adql == rows_scan, (ra, dec, radius, rows_adql ^ rows_scan)
                adql.append(time.perf_counter() - start)
                indexed.append(plan_time + t_index)
                scanned.append(t_scan)
                found.append(len(rows_index))
            mi, ms = statistics.median(indexed) * 1e3, statistics.median(scanned) * 1e3
            ma = statistics.median(adql) * 1e3
            print(f"{radius:>8} {mi:>11.2f} {ma:>8.2f} {ms:>9.1f} {ms / mi:>6.0f}x {statistics.median(found):>6.0f}")
            conn.rollback()


if __name__ == "__main__":
    main()
