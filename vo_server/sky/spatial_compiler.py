"""The HEALPix implementation of ``adql.spatial.SpatialCompiler``: the
translator's geometric predicates get an index prefilter on the stored
depth-29 ``hpx`` column (see ``regions`` and ``ranges_sql``)."""

from __future__ import annotations

from adql.spatial import IndexedPosition, NamedRegion, Region
from vo_server.sky.ranges_sql import region_filter_sql
from vo_server.sky.regions import DEFAULT_ROWS, RegionError, region_ranges
from vo_server.sky.skymap_files import NAME_PATTERN

GW_REGION = "gw_region"


class HealpixSpatialCompiler:
    """Prefilters from HEALPix index ranges.

    ``typical_rows`` feeds the depth choice (see ``regions``) when the
    translator cannot say which table is searched.
    """

    def __init__(self, typical_rows: float = DEFAULT_ROWS):
        self.typical_rows = typical_rows

    def region_prefilter(self, position: IndexedPosition, region: Region) -> str | None:
        if isinstance(region, NamedRegion):
            return self._named_region(position, region)
        try:
            ranges = region_ranges(region, self.typical_rows)
        except RegionError:
            return None  # the exact predicate reports (or handles) the bad region
        return region_filter_sql(position.hpx_sql, ranges)

    def join_prefilter(self, position: IndexedPosition, other: IndexedPosition, radius: float) -> str | None:
        """Not yet: joins need HEALPix neighbours of the other row's cell in SQL."""
        return None

    def _named_region(self, position: IndexedPosition, region: NamedRegion) -> str | None:
        if region.function.lower() != GW_REGION or len(region.arguments) != 2:
            return None
        name, level = region.arguments
        if not isinstance(name, str) or not NAME_PATTERN.match(name):
            return None
        if not isinstance(level, int | float) or not 0 <= float(level) <= 1:
            return None
        return gw_region_filter_sql(position.hpx_sql, name, float(level))


def gw_region_filter_sql(hpx_sql: str, name: str, level: float) -> str:
    """Boolean SQL: the depth-29 index lies in the sky map's credible region.

    ``name`` must match ``NAME_PATTERN`` (no quote can occur in it)."""
    if not NAME_PATTERN.match(name):
        raise ValueError(f"invalid sky map name {name!r}")
    return (f"EXISTS (SELECT 1 FROM vo_sky.gw_region_ranges('{name}', {float(level)!r}) AS gw_r "
            f"WHERE {hpx_sql} >= gw_r.lo AND {hpx_sql} < gw_r.hi)")
