"""Sky regions -> sorted disjoint depth-29 index ranges.

A region becomes the HEALPix cells (from cdshealpix) that cover it, at a
depth chosen from its size and from how dense the searched table is: finer
cells cut fewer rows that the exact test must reject but need more index
ranges (each a btree descent, and each an OR arm the planner must plan);
``search_depth`` balances the two (constants measured, see docs/sky.md).
Cells are marked *interior* (fully inside: no exact test needed) or
*boundary*.  Ranges are half-open ``[lo, hi)`` at depth 29, sorted and
disjoint, as ``np.int64`` arrays of shape (n, 2).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import astropy.units as u
import cdshealpix.nested as healpix
import numpy as np
from astropy.coordinates import Latitude, Longitude, SkyCoord
from cdshealpix.nested.healpix import cdshealpix as _core
from mocpy import MOC

from adql.spatial import Box, Circle, Moc, Polygon, Region
from vo_server.sky.hpx import INDEX_DEPTH

SKY_DEG2 = 4 * math.pi * (180 / math.pi) ** 2
CELLS_29 = 12 * 4 ** INDEX_DEPTH
# Cost model (microseconds), measured on a clustered 1e7-row table with
# EXPLAIN ANALYZE (see docs/sky.md): one OR-ed BETWEEN arm (planning +
# bitmap index scan) against one row fetched and rejected by the exact test.
RANGE_COST_US = 40.0
ROW_COST_US = 3.0
# Measured with cdshealpix cone_search(depth, depth_delta=2): ranges ~ 3.7 radius / cell,
# rows in boundary cells outside the cone ~ 4.2 radius * cell * density.
RANGES_PER_RADIUS_CELL = 3.7
SHAPE_RATIO = 3.7 / 4.2
TARGET_RANGES = 32
REFINE_DEPTH = 2
DEFAULT_ROWS = 10_000_000
# Above this many ranges a filter is coarsened (its superset grows, its SQL stays small).
MAX_RANGES = 200


class RegionError(ValueError):
    """A region that cannot be searched (bad coordinates or radius)."""


@dataclass(frozen=True)
class RegionRanges:
    """Depth-29 ranges covering a region: ``ranges`` (all, merged) and
    ``interior`` (those made of cells fully inside the region); ``depth``
    the cell depth used; ``everything`` when the region is the whole sky."""

    ranges: np.ndarray
    interior: np.ndarray
    depth: int
    everything: bool = False

    @property
    def count(self) -> int:
        return int(self.ranges.shape[0])


def cell_size_deg(depth: int) -> float:
    return math.sqrt(SKY_DEG2 / (12 * 4 ** depth))


def merge_ranges(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Sorted, disjoint, coalesced [lo, hi) ranges."""
    if len(lo) == 0:
        return np.zeros((0, 2), dtype=np.int64)
    order = np.argsort(lo, kind="stable")
    lo, hi = np.asarray(lo, np.int64)[order], np.asarray(hi, np.int64)[order]
    run_hi = np.maximum.accumulate(hi)
    starts = np.concatenate(([True], lo[1:] > run_hi[:-1]))
    idx = np.nonzero(starts)[0]
    ends = np.concatenate((idx[1:] - 1, [len(lo) - 1]))
    return np.stack((lo[idx], run_hi[ends]), axis=1)


def cells_to_ranges(ipix: np.ndarray, depth: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    shift = 2 * (INDEX_DEPTH - np.asarray(depth, dtype=np.int64))
    ipix = np.asarray(ipix, dtype=np.int64)
    return ipix << shift, (ipix + 1) << shift


def _from_cells(ipix: np.ndarray, depth: np.ndarray, full: np.ndarray, search_depth: int) -> RegionRanges:
    lo, hi = cells_to_ranges(ipix, depth)
    full = np.asarray(full, dtype=bool)
    return RegionRanges(merge_ranges(lo, hi), merge_ranges(lo[full], hi[full]), search_depth)


def search_depth(size_deg: float, rows: float | None, offset: int = 0) -> int:
    """The cell depth for a region of ``size_deg`` (radius) on a table of ``rows``.

    Boundary cells cost rows the exact test rejects (~ size * cell * density)
    and each range costs an index descent and an OR arm (~ size / cell), so
    the best cell size balances them and does not depend on the region's
    size: sqrt(RANGE_COST / ROW_COST * SHAPE / density).  Large regions get
    coarser cells so the filter keeps at most ~TARGET_RANGES ranges."""
    density = float(rows if rows is not None else DEFAULT_ROWS) / SKY_DEG2
    best = math.sqrt(RANGE_COST_US / ROW_COST_US * SHAPE_RATIO / max(density, 1e-9))
    cell = max(best, RANGES_PER_RADIUS_CELL * size_deg / TARGET_RANGES)
    depth = int(math.floor(math.log2(cell_size_deg(0) / cell))) + offset
    return max(0, min(depth, INDEX_DEPTH - REFINE_DEPTH))


def _check_position(ra: float, dec: float) -> None:
    if not (math.isfinite(ra) and math.isfinite(dec)):
        raise RegionError("the position must be finite numbers")
    if not -90 <= dec <= 90:
        raise RegionError(f"declination {dec} is outside [-90, 90]")


def whole_sky() -> RegionRanges:
    everything = np.array([[0, CELLS_29]], dtype=np.int64)
    return RegionRanges(everything, everything, 0, everything=True)


def cone_ranges(ra: float, dec: float, radius: float, rows: float | None = None) -> RegionRanges:
    """Ranges covering the cone of ``radius`` degrees around (ra, dec)."""
    _check_position(ra, dec)
    if not math.isfinite(radius) or radius < 0:
        raise RegionError(f"the radius must be a non-negative number of degrees, not {radius}")
    if radius >= 180:
        return whole_sky()
    depth = search_depth(radius, rows)
    # cdshealpix's compiled core directly: the astropy wrappers cost more than the search
    ipix, depths, full = _core.cone_search(np.uint8(depth), np.uint8(REFINE_DEPTH), math.radians(ra % 360),
                                           math.radians(dec), math.radians(max(radius, 1e-10)), False)
    return _from_cells(ipix, depths, full, depth)


def polygon_ranges(vertices: tuple[tuple[float, float], ...], rows: float | None = None) -> RegionRanges:
    """Ranges covering a polygon with great-circle edges."""
    if len(vertices) < 3:
        raise RegionError("a polygon needs at least 3 vertices")
    for ra, dec in vertices:
        _check_position(ra, dec)
    lon = Longitude([v[0] % 360 for v in vertices] * u.deg)
    lat = Latitude([v[1] for v in vertices] * u.deg)
    centre = _mean_direction(vertices)
    size = max(_distance(centre, v) for v in vertices)

    depth = search_depth(size, rows)
    return _from_cells(*healpix.polygon_search(lon, lat, depth + REFINE_DEPTH), depth + REFINE_DEPTH)


def box_ranges(box: Box, rows: float | None = None) -> RegionRanges:
    """Ranges covering an ADQL BOX, through the cone that circumscribes it
    under either reading of its edges (great circles or parallels), so the
    filter is a superset whatever the exact test decides."""
    _check_position(box.ra, box.dec)
    if box.width < 0 or box.height < 0:
        raise RegionError("a box needs non-negative width and height")
    half_w, half_h = box.width / 2, box.height / 2
    if half_w >= 90 or box.dec + half_h > 90 or box.dec - half_h < -90:
        return cone_ranges(box.ra, box.dec, 180)
    t = np.linspace(-1, 1, 33)
    edges = [(box.ra + half_w * t, np.full_like(t, box.dec + s * half_h)) for s in (-1, 1)]
    edges += [(np.full_like(t, box.ra + s * half_w), box.dec + half_h * t) for s in (-1, 1)]
    points = [(float(a), float(b)) for ras, decs in edges for a, b in zip(ras, decs, strict=True)]
    radius = max(_distance((box.ra, box.dec), p) for p in points)
    # Great-circle edges between corners bulge at most by the arc sagitta; pad generously.
    radius = min(radius * 1.05 + 1e-6, 180.0)
    return cone_ranges(box.ra, box.dec, radius, rows)


def moc_ranges(moc: MOC, max_ranges: int = MAX_RANGES) -> RegionRanges:
    """Ranges of a MOC, coarsened until there are at most ``max_ranges``."""
    ranges = np.asarray(moc.to_depth29_ranges, dtype=np.int64).reshape(-1, 2)
    interior = ranges
    order = int(moc.max_order)
    while len(ranges) > max_ranges and order > 0:
        order -= 1
        ranges = np.asarray(moc.degrade_to_order(order).to_depth29_ranges, dtype=np.int64).reshape(-1, 2)
        interior = np.zeros((0, 2), dtype=np.int64)
    return RegionRanges(ranges, interior, order)


def region_ranges(region: Region, rows: float | None = None) -> RegionRanges:
    """Ranges for any region of the ``adql.spatial`` model except named ones."""
    if isinstance(region, Circle):
        return cone_ranges(region.ra, region.dec, region.radius, rows)
    if isinstance(region, Box):
        return box_ranges(region, rows)
    if isinstance(region, Polygon):
        return polygon_ranges(region.vertices, rows)
    if isinstance(region, Moc):
        try:
            moc = MOC.from_string(region.ascii, format="ascii")
        except Exception as exc:  # mocpy raises plain exceptions on syntax errors
            raise RegionError(f"not a MOC 2.0 ASCII serialisation: {region.ascii[:60]!r}") from exc
        return moc_ranges(moc)
    raise RegionError(f"no index ranges for {type(region).__name__}")


def _unit(ra: float, dec: float) -> np.ndarray:
    r, d = math.radians(ra), math.radians(dec)
    return np.array([math.cos(d) * math.cos(r), math.cos(d) * math.sin(r), math.sin(d)])


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    """Angular distance in degrees (atan2 form: accurate at all separations)."""
    va, vb = _unit(*a), _unit(*b)
    return math.degrees(math.atan2(float(np.linalg.norm(np.cross(va, vb))), float(np.dot(va, vb))))


def _mean_direction(vertices: tuple[tuple[float, float], ...]) -> tuple[float, float]:
    v = np.sum([_unit(*p) for p in vertices], axis=0)
    norm = float(np.linalg.norm(v))
    if norm == 0:
        return vertices[0]
    v /= norm
    return math.degrees(math.atan2(v[1], v[0])) % 360, math.degrees(math.asin(max(-1.0, min(1.0, v[2]))))


# --------------------------------------------------------------------------
# Regions stored per row (image footprints, ObsCore s_region): their index.
#
# A footprint is indexed by the depth-29 ranges of its MOC, one table row per
# range.  Ranges are cut at multiples of MAX_RANGE_LENGTH (one depth-7 cell),
# so a stored range [lo, hi) overlaps a query range [qlo, qhi) iff
# ``lo > qlo - MAX_RANGE_LENGTH AND lo < qhi AND hi > qlo`` (a btree scan on
# lo).  Ranges of WIDE_RANGE_LENGTH (a depth-3 cell, 54 deg^2) or more are
# kept whole instead: cutting an all-sky footprint would store 196,608 rows.
# They are flagged by the stored column ``wide`` (hi - lo > MAX_RANGE_LENGTH)
# and found through a partial index on it
# (see ``vo_server.sky.ranges_sql.footprint_overlap_sql``).

RANGE_SPLIT_DEPTH = 7
MAX_RANGE_LENGTH = 4 ** (INDEX_DEPTH - RANGE_SPLIT_DEPTH)
WIDE_RANGE_DEPTH = 3
WIDE_RANGE_LENGTH = 4 ** (INDEX_DEPTH - WIDE_RANGE_DEPTH)
MIN_FOOTPRINT_DEPTH = 3
MAX_FOOTPRINT_DEPTH = 18


def footprint_depth(size_deg: float, cells_across: float = 4.0) -> int:
    """HEALPix depth whose cells are about ``size/cells_across`` wide."""
    target = max(size_deg, 1e-9) / cells_across
    depth = int(math.floor(math.log2(cell_size_deg(0) / target)))
    return min(MAX_FOOTPRINT_DEPTH, max(MIN_FOOTPRINT_DEPTH, depth))


def split_ranges(ranges: np.ndarray) -> np.ndarray:
    """Stored form of a footprint's ranges: cut at multiples of
    MAX_RANGE_LENGTH, except wide ranges (WIDE_RANGE_LENGTH or longer),
    which stay whole."""
    out: list[tuple[int, int]] = []
    for lo, hi in np.asarray(ranges, dtype=np.int64).reshape(-1, 2).tolist():
        if hi - lo >= WIDE_RANGE_LENGTH:
            out.append((lo, hi))
            continue
        while hi - lo > MAX_RANGE_LENGTH:
            cut = (lo // MAX_RANGE_LENGTH + 1) * MAX_RANGE_LENGTH
            out.append((lo, cut))
            lo = cut
        out.append((lo, hi))
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def _moc_ranges(moc: MOC) -> np.ndarray:
    return np.asarray(moc.to_depth29_ranges, dtype=np.int64).reshape(-1, 2)


def polygon_footprint_ranges(vertices: tuple[tuple[float, float], ...], size_deg: float) -> np.ndarray:
    """Stored index ranges of a polygon footprint ``size_deg`` across."""
    lon = Longitude([v[0] % 360 for v in vertices] * u.deg)
    lat = Latitude([v[1] for v in vertices] * u.deg)
    moc = MOC.from_polygon(lon=lon, lat=lat, max_depth=footprint_depth(size_deg))
    return split_ranges(_moc_ranges(moc))


def cap_footprint_ranges(ra: float, dec: float, radius: float) -> np.ndarray:
    """Stored index ranges of a circular footprint (a cap, up to the whole sky)."""
    _check_position(ra, dec)
    if radius >= 180:
        return split_ranges(whole_sky().ranges)
    moc = MOC.from_cone(lon=Longitude(ra * u.deg), lat=Latitude(dec * u.deg), radius=radius * u.deg,
                        max_depth=footprint_depth(2 * radius), delta_depth=2)
    return split_ranges(_moc_ranges(moc))


def zone_ranges(ra_min: float, ra_max: float, dec_min: float, dec_max: float) -> RegionRanges:
    """Ranges covering ra in [ra_min, ra_max] (wrapping through 0 when
    ra_min > ra_max; the whole circle when ra_max - ra_min >= 360) and dec in
    [dec_min, dec_max], degrees: the SIA 2.0 RANGE shape."""
    full = ra_max - ra_min >= 360.0
    width = 360.0 if full else (ra_max - ra_min) % 360.0
    widest_dec = 0.0 if dec_min * dec_max <= 0 else min(abs(dec_min), abs(dec_max))
    size = max(width * math.cos(math.radians(widest_dec)), dec_max - dec_min)
    depth = footprint_depth(size, cells_across=8.0)

    def zone(lo: float, hi: float) -> MOC:
        return MOC.from_zone(SkyCoord([[lo, dec_min], [hi, dec_max]], unit="deg"), max_depth=depth)

    if full:
        moc = zone(0.0, 360 - 1e-9)
    elif ra_min <= ra_max:
        moc = zone(ra_min, ra_max)
    else:
        moc = zone(ra_min, 360 - 1e-9).union(zone(0.0, ra_max))
    ranges = _moc_ranges(moc)
    return RegionRanges(ranges, np.zeros((0, 2), dtype=np.int64), depth)
