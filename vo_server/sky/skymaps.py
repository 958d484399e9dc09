"""Storing, listing and dropping GW sky maps (``vo_sky.skymaps`` and
``vo_sky.skymap_tiles``); one transaction per ingest, so a failed or
interrupted load stores nothing."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import astropy.units as u
import cdshealpix.nested as healpix
import numpy as np
import psycopg

from vo_server.db.target import DatabaseTarget
from vo_server.sky.skymap_files import SkymapError, SkymapTiles, check_name, read_skymap


@dataclass
class SkymapReport:
    name: str
    tiles: int
    area_50: float
    area_90: float
    has_distance: bool
    seconds: float
    warnings: list[str]


def _max_position(tiles: SkymapTiles) -> tuple[float, float]:
    order, ipix = int(tiles.order[0]), np.array([tiles.ipix[0]], dtype=np.uint64)
    lon, lat = healpix.healpix_to_lonlat(ipix, order)
    return float(lon.to_value(u.deg)[0]), float(lat.to_value(u.deg)[0])


def _copy_tiles(conn: psycopg.Connection, skymap_id: int, tiles: SkymapTiles) -> None:
    lo, hi = tiles.ranges
    cum_prob, cum_area = tiles.cum_prob, tiles.cum_area_deg2
    n = len(tiles.uniq)

    def layer(values: np.ndarray | None) -> list[float | None]:
        if values is None:
            return [None] * n
        return [float(v) if np.isfinite(v) else None for v in values]

    mu, sigma, norm = layer(tiles.distmu), layer(tiles.distsigma), layer(tiles.distnorm)
    with conn.cursor() as cur, cur.copy(
            "COPY vo_sky.skymap_tiles (skymap_id, rank, uniq, lo, hi, probdensity, distmu, distsigma, distnorm, "
            "cum_prob, cum_area) FROM STDIN") as copy:
        for i in range(n):
            copy.write_row((skymap_id, i, int(tiles.uniq[i]), int(lo[i]), int(hi[i]), float(tiles.probdensity[i]),
                            mu[i], sigma[i], norm[i], float(cum_prob[i]), float(cum_area[i])))


def ingest_skymap(target: DatabaseTarget, path: Path, name: str, replace: bool = False) -> SkymapReport:
    """Read ``path`` and store it as sky map ``name``; all or nothing."""
    check_name(name)
    started = time.perf_counter()
    tiles = read_skymap(path)
    max_ra, max_dec = _max_position(tiles)
    with psycopg.connect(target.owner_dsn) as conn:
        taken = conn.execute("SELECT skymap_id FROM vo_sky.skymaps WHERE name = %s FOR UPDATE", (name,)).fetchone()
        if taken and not replace:
            raise SkymapError(f"a sky map named {name!r} already exists: choose another name, "
                              f"or `vo-server skymap drop {name}` first (or use --replace)")
        if taken:
            conn.execute("DELETE FROM vo_sky.skymaps WHERE skymap_id = %s", (taken[0],))
        meta = tiles.meta
        skymap_id = conn.execute(
            "INSERT INTO vo_sky.skymaps (name, object, date_obs, instruments, distmean, diststd, has_distance, "
            "max_order, tile_count, area_50, area_90, max_ra, max_dec, source, header, warnings) "
            "VALUES (%s, %s, %s::timestamp AT TIME ZONE 'UTC', %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) "
            "RETURNING skymap_id",
            (name, meta.get("object"), meta.get("date_obs"), meta.get("instruments"), meta.get("distmean"),
             meta.get("diststd"), tiles.has_distance, int(tiles.order.max()), len(tiles.uniq),
             tiles.credible_area(0.5), tiles.credible_area(0.9), max_ra, max_dec, path.name,
             json.dumps({k: v for k, v in meta.items() if v is not None}), tiles.warnings)).fetchone()[0]
        _copy_tiles(conn, skymap_id, tiles)
        conn.execute("ANALYZE vo_sky.skymap_tiles")
        conn.commit()
    return SkymapReport(name, len(tiles.uniq), tiles.credible_area(0.5), tiles.credible_area(0.9),
                        tiles.has_distance, time.perf_counter() - started, tiles.warnings)


def list_skymaps(target: DatabaseTarget) -> list[dict]:
    with psycopg.connect(target.owner_dsn) as conn:
        cur = conn.execute(
            "SELECT name, object, date_obs, instruments, area_50, area_90, has_distance, tile_count, "
            "ingested_at FROM vo_sky.skymaps ORDER BY date_obs DESC NULLS LAST, name")
        keys = [c.name for c in cur.description]
        return [dict(zip(keys, row, strict=True)) for row in cur.fetchall()]


def drop_skymap(target: DatabaseTarget, name: str) -> None:
    with psycopg.connect(target.owner_dsn) as conn:
        if not conn.execute("DELETE FROM vo_sky.skymaps WHERE name = %s", (name,)).rowcount:
            raise SkymapError(f"no sky map named {name!r}; `vo-server skymap list` shows them")
        conn.commit()
