"""GW overlap benchmark (issue 5): the sources of a 1e7-row table inside the
90% credible region of a ~30 deg² and a ~1000 deg² sky map, our way (the
/gw query: region tiles as an indexed prefix, each range-scanning the hpx
btree; and the ADQL prefilter shape) against pgSphere (one polygon per map
cell, GiST on the table) in the same run; the first pass ingests the maps,
and the ADQL shape is the compiler's gw_region prefilter (ranges resolved
at translation time, embedded as BETWEENs).  Also prints the ingest time of a
real multi-order map (S200129m, 19,200 tiles).  Target: >= 20x faster than
pgSphere; multi-order ingest < 1 s.

    .venv/bin/python bench/gw_overlap.py [--repeat 5]
"""

from __future__ import annotations

import argparse
import asyncio
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import astropy.units as u
import cdshealpix.nested as healpix
import numpy as np
import psycopg
from astropy.io import fits

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sky_db  # noqa: E402
from psycopg import sql  # noqa: E402

from adql.spatial import IndexedPosition, NamedRegion  # noqa: E402
from vo_server.gw.service import HARD_MAXREC, sources_plan  # noqa: E402
from vo_server.scs.service import result_columns  # noqa: E402
from vo_server.sky.positional_tables import PositionalTable, positional_tables  # noqa: E402
from vo_server.sky.skymaps import ingest_skymap  # noqa: E402
from vo_server.sky.spatial_compiler import HealpixSpatialCompiler, SkymapRegions  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MULTIORDER = ROOT / "tests" / "data" / "gw" / "S200129m_G361581_bayestar.multiorder.fits"
NSIDE = 512
MAPS = {"bench_30deg2": (30.0, 150.0, 20.0), "bench_1000deg2": (1000.0, 60.0, -30.0)}


def gaussian_map(path: Path, area_90: float, ra: float, dec: float) -> Path:
    """A flat NESTED map of a 2D Gaussian whose 90% region is ~area_90 deg²."""
    sigma = math.sqrt(area_90 / (2 * math.pi * math.log(10)))
    ipix = np.arange(12 * NSIDE * NSIDE, dtype=np.uint64)
    lon, lat = healpix.healpix_to_lonlat(ipix, int(math.log2(NSIDE)))
    lon, lat = lon.to_value(u.rad), lat.to_value(u.rad)
    r0, d0 = math.radians(ra), math.radians(dec)
    cos_d = np.sin(lat) * math.sin(d0) + np.cos(lat) * math.cos(d0) * np.cos(lon - r0)
    dist = np.degrees(np.arccos(np.clip(cos_d, -1, 1)))
    prob = np.exp(-0.5 * (dist / sigma) ** 2)
    prob /= prob.sum()
    hdu = fits.BinTableHDU.from_columns([fits.Column(name="PROB", format="D", array=prob)])
    hdu.header.update(PIXTYPE="HEALPIX", ORDERING="NESTED", NSIDE=NSIDE, OBJECT=path.stem)
    fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path, overwrite=True)
    return path


async def _bench_table() -> PositionalTable:
    async with await psycopg.AsyncConnection.connect(sky_db.DSN) as conn:
        return (await positional_tables(conn, "bench.sources"))[0]


def timed(conn: psycopg.Connection, query, params: tuple | dict, repeat: int, binary: bool) -> tuple[float, int]:
    with conn.cursor(binary=binary) as cur:
        cur.execute(query, params).fetchall()  # warm
        times, n = [], 0
        for _ in range(repeat):
            t0 = time.perf_counter()
            n = len(cur.execute(query, params).fetchall())
            times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000, n


def pgsphere_polygons(conn: psycopg.Connection, name: str) -> int:
    """One spoly per HEALPix tile of the 90% region, in a temporary table."""
    tiles = conn.execute("SELECT uniq FROM vo_sky.skymap_tiles t JOIN vo_sky.skymaps m USING (skymap_id) "
                         "WHERE m.name = %s AND t.rank <= vo_sky.gw_region_last_rank(%s, 0.9)",
                         (name, name)).fetchall()
    uniq = np.array([t[0] for t in tiles], dtype=np.int64)
    order = (np.floor(np.log2(uniq / 4) / 2)).astype(np.int64)
    ipix = uniq - 4 * (np.int64(1) << (2 * order))
    conn.execute("DROP TABLE IF EXISTS pg_temp.tile_polys")
    conn.execute("CREATE TEMP TABLE tile_polys (poly spoly)")
    rows = []
    for depth in np.unique(order):
        sel = order == depth
        lon, lat = healpix.vertices(ipix[sel].astype(np.uint64), int(depth))
        lon, lat = lon.to_value(u.deg), lat.to_value(u.deg)
        for k in range(lon.shape[0]):
            rows.append("{" + ",".join(f"({float(lon[k, j])!r}d,{float(lat[k, j])!r}d)" for j in range(4)) + "}")
    with conn.cursor() as cur, cur.copy("COPY tile_polys (poly) FROM STDIN") as copy:
        for r in rows:
            copy.write_row((r,))
    conn.execute("ANALYZE tile_polys")
    return len(rows)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    extensions = sky_db.prepare()
    target = sky_db.target()
    with psycopg.connect(sky_db.DSN, autocommit=True) as conn:
        conn.execute("DELETE FROM vo_sky.skymaps WHERE name = 'bench_S200129m'")
    t0 = time.perf_counter()
    report = ingest_skymap(target, MULTIORDER, "bench_S200129m", replace=True)
    ingest_s = time.perf_counter() - t0
    print(f"ingest of a multi-order map (S200129m, {report.tiles} tiles): {ingest_s:.2f} s (target < 1 s)")
    with tempfile.TemporaryDirectory() as tmp:
        for name, (area, ra, dec) in MAPS.items():
            t0 = time.perf_counter()
            r = ingest_skymap(target, gaussian_map(Path(tmp) / f"{name}.fits", area, ra, dec), name, replace=True)
            print(f"{name}: 90% area {r.area_90:.1f} deg², {r.tiles} tiles (flat NSIDE {NSIDE} converted), "
                  f"ingest {time.perf_counter() - t0:.2f} s")
    table = asyncio.run(_bench_table())
    compiler = HealpixSpatialCompiler(skymap_regions=SkymapRegions(sky_db.DSN))
    position = IndexedPosition("ra", "dec", "hpx")
    # Every method fetches the same source columns: those /gw returns (the table's principal columns);
    # /gw adds the tile's density and credible level.
    columns = ", ".join(f"s.{sql.Identifier(c).as_string(None)}" for c, _ in result_columns(table, 2))
    sphere_sql = f"SELECT {columns} FROM tile_polys p JOIN bench.sources s ON spoint(radians(s.ra), radians(s.dec)) <@ p.poly"
    with psycopg.connect(sky_db.DSN, autocommit=True) as conn:
        rows = conn.execute("SELECT count(*) FROM bench.sources").fetchone()[0]
        print(f"{rows:,} rows; median of {args.repeat} warm runs (pgSphere: of {min(args.repeat, 3)}), ms; "
              f"every method fetches {columns}")
        for name in [*MAPS, "bench_S200129m"]:
            # the /gw/{name}/sources statement itself (as the service builds it after its two look-ups)
            skymap_id, last_rank = conn.execute(
                "SELECT skymap_id, least(vo_sky.gw_region_last_rank(name, 0.9), tile_count - 1) "
                "FROM vo_sky.skymaps WHERE name = %s", (name,)).fetchone()
            plan = sources_plan(name, 0.9, table, skymap_id, last_rank, HARD_MAXREC)
            t0 = time.perf_counter()
            prefilter = compiler.region_prefilter(position, NamedRegion("gw_region", (name, 0.9)))
            resolve_ms = (time.perf_counter() - t0) * 1000
            adql_sql = f"SELECT {columns} FROM bench.sources s WHERE {prefilter}"
            polys = pgsphere_polygons(conn, name) if extensions.get("pg_sphere") is None else 0
            for binary in (True, False):
                ours_ms, ours_n = timed(conn, plan.sql, plan.params, args.repeat, binary)
                adql_ms, adql_n = timed(conn, adql_sql, (), args.repeat, binary)
                line = (f"{name:<15} {'binary' if binary else 'text':<6} /gw query {ours_ms:8.1f} ms {ours_n:>7} rows | "
                        f"ADQL gw_region prefilter {adql_ms:8.1f} ms (+{resolve_ms:.1f} ms first resolution) "
                        f"{adql_n:>7} rows")
                if polys:
                    sphere_ms, sphere_n = timed(conn, sphere_sql, (), max(1, min(args.repeat, 3)), binary)
                    line += (f" | pgSphere ({polys} polygons) {sphere_ms:8.1f} ms {sphere_n:>7} rows"
                             f" | speed-up /gw {sphere_ms / ours_ms:5.1f}x, ADQL {sphere_ms / adql_ms:5.1f}x")
                else:
                    line += f" | pgSphere unavailable: {extensions['pg_sphere']}"
                print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
