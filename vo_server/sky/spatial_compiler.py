"""The HEALPix implementation of ``adql.spatial.SpatialCompiler``: the
translator's geometric predicates get an index prefilter on the stored
depth-29 ``hpx`` column (see ``regions`` and ``ranges_sql``).

Crossmatch joins get ``join_lookup``: the distinct cells of the outer
row's 3x3 HEALPix neighbourhood at ``join_depth(r)`` as a LATERAL item, each
probing the btree once (``join_prefilter`` stays None: no boolean form is
planned on the index).

GW credible regions (``gw_region('NAME', level)``) are resolved when the
query is translated: their depth-29 ranges are read from the database
(``SkymapRegions``) and embedded as an OR of BETWEENs, which is *exact* for
tile membership.  Measured: the alternative, a correlated
``EXISTS (SELECT ... FROM vo_sky.gw_region_ranges(...))``, is planned as a
semi-join over a sequential scan of the whole table (seconds on 1e7 rows).
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable

import numpy as np
import psycopg

from adql.spatial import IndexedFootprint, IndexedPosition, JoinLookup, NamedRegion, Region
from vo_server.sky.footprint_index import FOOTPRINT_INDEXES
from vo_server.sky.hpx import INDEX_DEPTH
from vo_server.sky.ranges_sql import footprint_overlap_sql, range_filter_sql, region_filter_sql
from vo_server.sky.regions import DEFAULT_ROWS, RegionError, cell_size_deg, merge_ranges, region_ranges
from vo_server.sky.skymap_files import NAME_PATTERN

GW_REGION = "gw_region"
# Above this many ranges a credible region is coarsened (depth-29 ranges
# widened to order-10 cells) and the exact tile test is added.
MAX_GW_RANGES = 4000

SkymapRegionLookup = Callable[[str, float], "np.ndarray | None"]


class SkymapRegions:
    """Depth-29 ranges of stored credible regions, cached per (map, level)
    and invalidated when the map is re-ingested; one shared connection."""

    def __init__(self, dsn: str, cache_size: int = 64):
        self.dsn = dsn
        self.cache_size = cache_size
        self._cache: dict[tuple[str, float], tuple[object, np.ndarray]] = {}
        self._lock = threading.Lock()
        self._conn: psycopg.Connection | None = None

    def _connection(self) -> psycopg.Connection:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.dsn, autocommit=True)
        return self._conn

    def __call__(self, name: str, level: float) -> np.ndarray | None:
        with self._lock:
            for attempt in (0, 1):
                try:
                    return self._lookup(name, level)
                except psycopg.OperationalError:
                    self._conn = None
                    if attempt:
                        raise
        return None

    def _lookup(self, name: str, level: float) -> np.ndarray | None:
        conn = self._connection()
        found = conn.execute("SELECT skymap_id, ingested_at FROM vo_sky.skymaps WHERE name = %s", (name,)).fetchone()
        if found is None:
            return None
        key = (name, level)
        cached = self._cache.get(key)
        if cached is not None and cached[0] == found:
            return cached[1]
        rows = conn.execute("SELECT lo, hi FROM vo_sky.gw_region_ranges(%s, %s)", (name, level)).fetchall()
        ranges = np.array(rows, dtype=np.int64).reshape(-1, 2)
        if len(self._cache) >= self.cache_size:
            self._cache.pop(next(iter(self._cache)))
        self._cache[key] = (found, ranges)
        return ranges

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()


class HealpixSpatialCompiler:
    """Prefilters from HEALPix index ranges.

    ``typical_rows`` feeds the depth choice (see ``regions``) when the
    translator cannot say which table is searched.
    """

    def __init__(self, typical_rows: float = DEFAULT_ROWS, skymap_regions: SkymapRegionLookup | None = None):
        self.typical_rows = typical_rows
        self.skymap_regions = skymap_regions

    def region_prefilter(self, position: IndexedPosition, region: Region) -> str | None:
        if isinstance(region, NamedRegion):
            return self._named_region(position, region)
        try:
            ranges = region_ranges(region, self.typical_rows)
        except RegionError:
            return None  # the exact predicate reports (or handles) the bad region
        return region_filter_sql(position.hpx_sql, ranges)

    def footprint_prefilter(self, footprint: IndexedFootprint, region: Region) -> str | None:
        """Rows whose stored footprint ranges overlap the region's ranges: the
        same candidate query as SIA's (``ranges_sql.footprint_overlap_sql``)."""
        index = FOOTPRINT_INDEXES.get(footprint.index)
        if index is None or isinstance(region, NamedRegion):
            return None
        try:
            ranges = region_ranges(region, self.typical_rows)
        except RegionError:
            return None  # the exact predicate reports (or handles) the bad region
        if ranges.everything:
            return None
        return footprint_overlap_sql(footprint.key_sql, index.table, index.key_column, ranges.ranges)

    def join_prefilter(self, position: IndexedPosition, other: IndexedPosition, radius: float) -> str | None:
        """None: crossmatches use ``join_lookup``; no boolean form alone makes
        PostgreSQL probe the btree once per outer row (docs/sky.md)."""
        return None

    def join_lookup(self, indexed: IndexedPosition, outer: IndexedPosition, radius: float,
                    alias: str) -> JoinLookup | None:
        """The outer row's cell at ``join_depth(radius)`` and its neighbours,
        distinct (corner cells can repeat, missing ones are -1), as depth-29
        ranges; the indexed table is probed once per range.  Every position
        within ``radius`` of the outer one lies in exactly one of these
        disjoint cells.  None above ``MAX_JOIN_RADIUS``."""
        if not 0 <= radius <= MAX_JOIN_RADIUS:
            return None
        return JoinLookup(join_cells_sql(outer.hpx_sql, join_depth(radius), alias),
                          f"{indexed.hpx_sql} BETWEEN {alias}.lo AND {alias}.hi")

    def _named_region(self, position: IndexedPosition, region: NamedRegion) -> str | None:
        if region.function.lower() != GW_REGION or len(region.arguments) != 2:
            return None
        name, level = region.arguments
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            return None
        if not isinstance(level, int | float) or not 0 <= float(level) <= 1:
            return None
        if self.skymap_regions is None:
            return None
        ranges = self.skymap_regions(name, float(level))
        if ranges is None:
            return "FALSE"  # no such map: its region is empty
        return gw_region_filter_sql(position.hpx_sql, name, float(level), ranges)


# A point within r of P lies in P's cell or one of its 8 neighbours when the
# cells are at least JOIN_CELL_FACTOR * r across: 1.0 fails (1,899 of 1e6
# random pairs at the poles and face edges), 1.2 never failed; 2 for margin.
JOIN_CELL_FACTOR = 2.0


# Above this radius (degrees) a crossmatch is the exact test alone: the cells
# would be base pixels and the probes cover a large part of the table anyway.
MAX_JOIN_RADIUS = 10.0


def join_depth(radius: float) -> int:
    """Depth at which the 3x3 neighbourhood of a cell holds every point within ``radius``."""
    if radius <= 0:
        return INDEX_DEPTH
    return max(0, min(INDEX_DEPTH, int(math.floor(math.log2(cell_size_deg(0) / (JOIN_CELL_FACTOR * radius))))))


def join_cells_sql(hpx_sql: str, depth: int, alias: str) -> str:
    """LATERAL FROM item: the distinct cells of the neighbourhood of the
    depth-``depth`` cell holding ``hpx_sql`` as depth-29 ranges (lo, hi)
    inclusive; no rows when ``hpx_sql`` is NULL."""
    shift = 2 * (INDEX_DEPTH - depth)
    return (f"(SELECT DISTINCT (n.c << {shift}) AS lo, ((n.c + 1) << {shift}) - 1 AS hi "
            f"FROM unnest(vo_sky.hpx_neighbourhood({hpx_sql} >> {shift}, {depth})) AS n(c) "
            f"WHERE n.c >= 0) AS {alias}")


def gw_region_filter_sql(hpx_sql: str, name: str, level: float, ranges: np.ndarray) -> str:
    """Boolean SQL, exact: the depth-29 index lies in the credible region
    whose ranges are given.  Very fragmented regions are coarsened to keep
    the statement small, and then the tile test makes it exact again
    (``name`` must match ``NAME_PATTERN``: no quote can occur in it)."""
    if not NAME_PATTERN.match(name):
        raise ValueError(f"invalid sky map name {name!r}")
    if len(ranges) <= MAX_GW_RANGES:
        return range_filter_sql(hpx_sql, ranges)
    shift = 2 * (29 - 10)
    lo = (ranges[:, 0] >> shift) << shift
    hi = (((ranges[:, 1] - 1) >> shift) + 1) << shift
    coarse = merge_ranges(lo, hi)
    return (f"({range_filter_sql(hpx_sql, coarse)} AND "
            f"vo_sky.gw_in_region_hpx('{name}', {float(level)!r}, {hpx_sql}))")
