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
from functools import lru_cache

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
# cdshealpix cone_search's depth_delta: how much finer than the returned
# cells it tests which of them the cone touches.  Measured on 1 deg: delta 2
# drops 2 of 54 depth-8 cells but costs 42 µs instead of 7 µs.
CONE_DEPTH_DELTA = 0
DEFAULT_ROWS = 10_000_000
# Above this many ranges a filter is coarsened (its superset grows, its SQL stays small).
MAX_RANGES = 200


class RegionError(ValueError):
    """A region that cannot be searched (bad coordinates or radius)."""


# Not frozen: a frozen dataclass costs 0.8 µs to build, a tenth of a small
# cone's range computation; nothing changes one after it is made.
@dataclass(slots=True)
class RegionRanges:
    """Depth-29 ranges covering a region, as sorted, merged, half-open
    ``(lo, hi)`` pairs of Python ints (small regions are the common case and
    numpy costs more than it saves below ~100 ranges): ``boundary`` ranges
    hold rows the exact test must check, ``interior`` ranges only rows
    certainly inside (cones only; empty for other regions); ``depth`` is the
    cell depth used; ``everything`` when the region is the whole sky."""

    boundary: tuple[tuple[int, int], ...]
    interior: tuple[tuple[int, int], ...] = ()
    depth: int = 0
    everything: bool = False
    # rows of the searched table expected inside (cones; for the choice of SQL shape)
    expected_rows: float = 0.0

    @property
    def ranges(self) -> np.ndarray:
        """All the ranges (boundary and interior, merged), shape (n, 2) int64."""
        if not self.interior:
            return np.array(self.boundary, dtype=np.int64).reshape(-1, 2)
        return np.array(merge_pairs(sorted(self.boundary + self.interior)), dtype=np.int64).reshape(-1, 2)

    @property
    def count(self) -> int:
        return len(self.boundary) + len(self.interior)


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


def merge_pairs(pairs: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    """Coalesce sorted half-open (lo, hi) pairs (pure Python: µs for the few
    dozen ranges of a cone, where numpy's per-call overhead dominates)."""
    out: list[tuple[int, int]] = []
    for lo, hi in pairs:
        if out and lo <= out[-1][1]:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return tuple(out)


def array_pairs(ranges: np.ndarray) -> tuple[tuple[int, int], ...]:
    return tuple((int(lo), int(hi)) for lo, hi in np.asarray(ranges, dtype=np.int64).reshape(-1, 2))


def cells_to_ranges(ipix: np.ndarray, depth: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
    shift = 2 * (INDEX_DEPTH - np.asarray(depth, dtype=np.int64))
    ipix = np.asarray(ipix, dtype=np.int64)
    return ipix << shift, (ipix + 1) << shift


def max_pixrad(depth: int) -> float:
    """Largest distance (rad) from a depth-``depth`` cell's centre to its corners
    (HEALPix C++ ``T_Healpix_Base::max_pixrad``)."""
    nside = 1 << depth
    phi_a, z_a = math.pi / (4 * nside), 2 / 3
    t1 = (1 - 1 / nside) ** 2
    z_b = 1 - t1 / 3
    a = (math.sqrt(1 - z_a * z_a) * math.cos(phi_a), math.sqrt(1 - z_a * z_a) * math.sin(phi_a), z_a)
    b = (math.sqrt(1 - z_b * z_b), 0.0, z_b)
    cross = (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])
    return math.atan2(math.sqrt(sum(c * c for c in cross)), sum(x * y for x, y in zip(a, b, strict=True)))


# A cell is *interior* to a cone when its centre is within radius - PIXRAD_MARGIN
# * max_pixrad: HEALPix bounds a cell by its corners; the margin covers edges
# bulging between corners (tests/sky samples cell edges densely: the largest
# centre-to-edge distance found is below max_pixrad).
PIXRAD_MARGIN = 1.5
_PIXRAD_MARGINS = np.array([PIXRAD_MARGIN * max_pixrad(d) for d in range(INDEX_DEPTH + 1)])
# Interior cells are only looked for when the cone holds this many rows or more:
# finding them costs ~35 µs (cell centres from cdshealpix), the exact test they
# spare ~0.15 µs a row (measured: 1e7 rows, 5 deg cone 9.9 -> 7.1 ms; 1 deg: no gain).
INTERIOR_MIN_ROWS = 2000
# Runs of boundary cells separated by a gap holding at most this many rows (on
# average) become one range: scanning the gap's rows through the exact test is
# cheaper than another btree descent (measured, 1e7 rows, depth 9 = 3.2 rows a
# cell, ranges walked: gaps of <= 2 cells took 10' 0.062 -> 0.058 ms and 1 deg
# 0.582 -> 0.570 ms, ranges 6.3 -> 3.9 and 30 -> 17; 4 and 8 cells no better).
MERGE_GAP_ROWS = 6.5


_JRLL = np.array([2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4], dtype=np.int64)
_JPLL = np.array([1, 3, 5, 7, 0, 2, 4, 6, 1, 3, 5, 7], dtype=np.int64)


def _compact_bits(v: np.ndarray) -> np.ndarray:
    """The even bits of ``v``, packed (de-interleaving a nested index)."""
    v = v & 0x5555555555555555
    v = (v | (v >> 1)) & 0x3333333333333333
    v = (v | (v >> 2)) & 0x0F0F0F0F0F0F0F0F
    v = (v | (v >> 4)) & 0x00FF00FF00FF00FF
    v = (v | (v >> 8)) & 0x0000FFFF0000FFFF
    return (v | (v >> 16)) & 0x00000000FFFFFFFF


def cell_centres(ipix: np.ndarray, depth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres (lon, lat in radians) of nested cells (HEALPix C++ nest2xyf +
    xyf2loc).  Plain numpy: cdshealpix's ``healpix_to_lonlat`` dispatches to a
    thread pool, which costs milliseconds on a loaded machine."""
    ipix, depth = np.asarray(ipix, dtype=np.int64), np.asarray(depth, dtype=np.int64)
    nside = np.left_shift(1, depth)
    face = ipix >> (2 * depth)
    local = ipix & (nside * nside - 1)
    ix, iy = _compact_bits(local), _compact_bits(local >> 1)
    jr = _JRLL[face] * nside - ix - iy - 1
    north, south = jr < nside, jr > 3 * nside
    nr = np.where(north, jr, np.where(south, 4 * nside - jr, nside))
    polar_z = 1 - nr * nr * (1 / (3.0 * nside * nside))
    z = np.where(north, polar_z, np.where(south, -polar_z, (2 * nside - jr) * (2 / (3.0 * nside))))
    kshift = np.where(north | south, 0, (jr - nside) & 1)
    jp = (_JPLL[face] * nr + ix - iy + 1 + kshift) // 2
    jp = np.where(jp > 4 * nside, jp - 4 * nside, np.where(jp < 1, jp + 4 * nside, jp))
    return (jp - (kshift + 1) * 0.5) * (math.pi / 2 / nr), np.arcsin(np.clip(z, -1, 1))


def _runs(ipix: list[int], depth: int, max_gap: int = 0) -> tuple[tuple[int, int], ...]:
    """Merged depth-29 ranges of sorted same-depth cells (runs of consecutive
    indexes, bridging gaps of up to ``max_gap`` cells).  Plain Python: 4 µs
    for the 81 cells of a 1 deg cone, numpy 9 µs."""
    shift = 2 * (INDEX_DEPTH - depth)
    out: list[tuple[int, int]] = []
    start = prev = -2 - max_gap
    for p in ipix:
        if p > prev + 1 + max_gap:
            if start >= 0:
                out.append((start << shift, (prev + 1) << shift))
            start = p
        prev = p
    if start >= 0:
        out.append((start << shift, (prev + 1) << shift))
    return tuple(out)


def _cone_cells(ipix: np.ndarray, full: np.ndarray, ra: float, dec: float, radius: float, depth: int,
                expected: float, max_gap: int) -> RegionRanges:
    """Interior and boundary ranges from cdshealpix's cells (all at ``depth``;
    all boundary for cones holding fewer than INTERIOR_MIN_ROWS rows, their
    runs then merged across gaps of ``max_gap`` cells; never with interior
    ranges, whose cells a bridged gap could hold: rows read twice)."""
    if expected < INTERIOR_MIN_ROWS or not full.any():
        return RegionRanges(_runs(sorted(ipix.tolist()), depth, max_gap), (), depth, expected_rows=expected)
    ipix = np.sort(ipix.astype(np.int64))
    lon, lat = cell_centres(ipix, np.full(len(ipix), depth))
    r0, d0 = math.radians(ra), math.radians(dec)
    hav = np.sin((lat - d0) / 2) ** 2 + np.cos(lat) * math.cos(d0) * np.sin((lon - r0) / 2) ** 2
    inside = 2 * np.arcsin(np.sqrt(np.clip(hav, 0, 1))) + _PIXRAD_MARGINS[depth] <= math.radians(radius)
    return RegionRanges(_runs(ipix[~inside].tolist(), depth), _runs(ipix[inside].tolist(), depth), depth,
                        expected_rows=expected)


@lru_cache(maxsize=4096)
def _cone_plan(radius: float, rows: float | None, range_cost_us: float | None) -> tuple[int, float, int]:
    """Cell depth, rows expected inside and the gap (cells) boundary runs may
    bridge (MERGE_GAP_ROWS), for a cone of ``radius`` on a table of ``rows``.
    Pure arithmetic, cached: clients repeat radii, and between two queries
    (caches cold) it took ~5 of a 10' search's ~25 µs of Python."""
    depth = search_depth(radius, rows, range_cost_us=range_cost_us)
    table_rows = rows if rows is not None else DEFAULT_ROWS
    expected = (1 - math.cos(math.radians(radius))) / 2 * table_rows
    return depth, expected, int(MERGE_GAP_ROWS * 12 * 4 ** depth / max(table_rows, 1))


def search_depth(size_deg: float, rows: float | None, offset: int = 0, range_cost_us: float | None = None) -> int:
    """The cell depth for a region of ``size_deg`` (radius) on a table of ``rows``.

    Boundary cells cost rows the exact test rejects (~ size * cell * density)
    and each range costs an index descent and an OR arm (~ size / cell), so
    the best cell size balances them and does not depend on the region's
    size: sqrt(RANGE_COST / ROW_COST * SHAPE / density).  Large regions get
    coarser cells so the filter keeps at most ~TARGET_RANGES ranges (scaled
    up when ranges are cheaper than OR arms: ``range_cost_us``)."""
    range_cost = RANGE_COST_US if range_cost_us is None else range_cost_us
    cell = max(_best_cell(rows, range_cost),
               RANGES_PER_RADIUS_CELL * size_deg / (TARGET_RANGES * RANGE_COST_US / range_cost))
    depth = int(math.floor(math.log2(cell_size_deg(0) / cell))) + offset
    return max(0, min(depth, INDEX_DEPTH - REFINE_DEPTH))


@lru_cache(maxsize=1024)
def _best_cell(rows: float | None, range_cost: float) -> float:
    density = float(rows if rows is not None else DEFAULT_ROWS) / SKY_DEG2
    return math.sqrt(range_cost / ROW_COST_US * SHAPE_RATIO / max(density, 1e-9))


def _check_position(ra: float, dec: float) -> None:
    if not (math.isfinite(ra) and math.isfinite(dec)):
        raise RegionError("the position must be finite numbers")
    if not -90 <= dec <= 90:
        raise RegionError(f"declination {dec} is outside [-90, 90]")


def whole_sky() -> RegionRanges:
    return RegionRanges((), ((0, CELLS_29),), 0, everything=True)


def cone_ranges(ra: float, dec: float, radius: float, rows: float | None = None,
                range_cost_us: float | None = None) -> RegionRanges:
    """Ranges covering the cone of ``radius`` degrees around (ra, dec);
    ``range_cost_us`` is what one range costs in the SQL shape that will use
    them (default: an OR-ed BETWEEN arm, see ``search_depth``)."""
    _check_position(ra, dec)
    if not math.isfinite(radius) or radius < 0:
        raise RegionError(f"the radius must be a non-negative number of degrees, not {radius}")
    if radius >= 180:
        return whole_sky()
    depth, expected, max_gap = _cone_plan(radius, rows, range_cost_us)
    ra %= 360
    # cdshealpix's compiled core directly (plain ints: np.uint8 costs 0.6 µs): the astropy wrappers
    # cost more than the search; flat: every cell at ``depth`` (sorted runs merge cheaply)
    ipix, _, full = _core.cone_search(depth, CONE_DEPTH_DELTA, math.radians(ra), math.radians(dec),
                                      math.radians(max(radius, 1e-10)), True)
    return _cone_cells(ipix, full, ra, dec, radius, depth, expected, max_gap)


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
    ipix, depths, _ = healpix.polygon_search(lon, lat, depth + REFINE_DEPTH)
    return RegionRanges(array_pairs(merge_ranges(*cells_to_ranges(ipix, depths))), (), depth)


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
    order = int(moc.max_order)
    while len(ranges) > max_ranges and order > 0:
        order -= 1
        ranges = np.asarray(moc.degrade_to_order(order).to_depth29_ranges, dtype=np.int64).reshape(-1, 2)
    return RegionRanges(array_pairs(ranges), (), order)


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
    return RegionRanges(array_pairs(ranges), (), depth)
