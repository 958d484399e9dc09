"""Sky regions -> sorted disjoint depth-29 index ranges.

A region becomes the HEALPix cells (from cdshealpix) that cover it, at a
depth chosen from its size and from how dense the searched table is: finer
cells cut fewer rows that the exact test must reject but need more index
ranges (each a btree descent, and each an OR arm the planner must plan), so
the depth minimising ``ranges * RANGE_COST + excess_rows * ROW_COST`` wins.
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
from astropy.coordinates import Latitude, Longitude
from mocpy import MOC

from adql.spatial import Box, Circle, Moc, Polygon, Region
from vo_server.sky.hpx import INDEX_DEPTH

SKY_DEG2 = 4 * math.pi * (180 / math.pi) ** 2
CELLS_29 = 12 * 4 ** INDEX_DEPTH
# Cost model (microseconds), measured on a clustered 1e7-row table with
# EXPLAIN ANALYZE (see docs/sky.md): one OR-ed BETWEEN arm (planning +
# bitmap index scan) against one row fetched and rejected by the exact test.
RANGE_COST_US = 12.0
ROW_COST_US = 0.4
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


def _excess_rows(cells: tuple[np.ndarray, np.ndarray, np.ndarray], rows: float) -> float:
    """Expected rows in boundary cells but outside the region (half the boundary area)."""
    _ipix, depth, full = cells
    boundary = np.asarray(depth, dtype=np.int64)[~np.asarray(full, dtype=bool)]
    fraction = float(np.sum(4.0 ** (INDEX_DEPTH - boundary))) / CELLS_29
    return 0.5 * fraction * rows


def _cost(cells: tuple[np.ndarray, np.ndarray, np.ndarray], rows: float) -> float:
    lo, hi = cells_to_ranges(cells[0], cells[1])
    return len(merge_ranges(lo, hi)) * RANGE_COST_US + _excess_rows(cells, rows) * ROW_COST_US


def _adaptive(search, size_deg: float, rows: float | None) -> RegionRanges:
    """Run ``search(depth) -> (ipix, depth, fully_covered)`` at candidate
    depths around the one whose cells match the region size; keep the cheapest."""
    rows = float(rows if rows is not None else DEFAULT_ROWS)
    base = 0
    while base < INDEX_DEPTH and cell_size_deg(base + 1) > size_deg:
        base += 1
    best: tuple[float, int, tuple] | None = None
    for depth in range(max(base - 1, 0), min(base + 4, INDEX_DEPTH) + 1):
        cells = search(depth)
        cost = _cost(cells, rows)
        if best is None or cost < best[0]:
            best = (cost, depth, cells)
        elif cost > 2 * best[0]:
            break
    assert best is not None
    return _from_cells(*best[2], best[1])


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
    lon, lat = Longitude(ra % 360 * u.deg), Latitude(dec * u.deg)
    radius_q = max(radius, 1e-10) * u.deg

    def search(depth: int):
        return healpix.cone_search(lon, lat, radius_q, depth, depth_delta=2)

    return _adaptive(search, radius, rows)


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

    def search(depth: int):
        return healpix.polygon_search(lon, lat, depth)

    return _adaptive(search, size, rows)


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
