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

from adql.spatial import IndexedPosition, NamedRegion  # noqa: E402
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


def timed(conn: psycopg.Connection, query: str, params: tuple, repeat: int) -> tuple[float, int]:
    conn.execute(query, params).fetchall()  # warm
    times, n = [], 0
    for _ in range(repeat):
        t0 = time.perf_counter()
        n = len(conn.execute(query, params).fetchall())
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
    ours_sql = ("SELECT s.source_id, s.ra, s.dec, t.probdensity, t.cum_prob FROM vo_sky.skymap_tiles t "
                "CROSS JOIN LATERAL (SELECT source_id, ra, dec FROM bench.sources c "
                "WHERE c.hpx >= t.lo AND c.hpx < t.hi OFFSET 0) s "
                "WHERE t.skymap_id = (SELECT skymap_id FROM vo_sky.skymaps WHERE name = %s) "
                "AND t.rank <= vo_sky.gw_region_last_rank(%s, 0.9) ORDER BY t.probdensity DESC")
    compiler = HealpixSpatialCompiler(skymap_regions=SkymapRegions(sky_db.DSN))
    position = IndexedPosition("ra", "dec", "hpx")
    sphere_sql = ("SELECT s.source_id, s.ra, s.dec FROM tile_polys p JOIN bench.sources s "
                  "ON spoint(radians(s.ra), radians(s.dec)) <@ p.poly")
    with psycopg.connect(sky_db.DSN, autocommit=True) as conn:
        rows = conn.execute("SELECT count(*) FROM bench.sources").fetchone()[0]
        print(f"{rows:,} rows; median of {args.repeat} warm runs, ms")
        for name in [*MAPS, "bench_S200129m"]:
            ours_ms, ours_n = timed(conn, ours_sql, (name, name), args.repeat)
            t0 = time.perf_counter()
            prefilter = compiler.region_prefilter(position, NamedRegion("gw_region", (name, 0.9)))
            resolve_ms = (time.perf_counter() - t0) * 1000
            adql_ms, adql_n = timed(conn, f"SELECT source_id, ra, dec FROM bench.sources WHERE {prefilter}", (),
                                    args.repeat)
            line = (f"{name:<16} ours (/gw query) {ours_ms:9.1f} ms {ours_n:>8} rows | "
                    f"ADQL gw_region prefilter {adql_ms:9.1f} ms (+{resolve_ms:.1f} ms to resolve) {adql_n:>8} rows")
            if extensions.get("pg_sphere") is None:
                polys = pgsphere_polygons(conn, name)
                sphere_ms, sphere_n = timed(conn, sphere_sql, (), max(1, min(args.repeat, 3)))
                line += (f" | pgSphere ({polys} polygons) {sphere_ms:9.1f} ms {sphere_n:>8} rows"
                         f" | speed-up {sphere_ms / ours_ms:6.1f}x")
            else:
                line += f" | pgSphere unavailable: {extensions['pg_sphere']}"
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
