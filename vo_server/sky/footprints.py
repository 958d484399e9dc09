"""Image footprints on the sky: the polygon an image covers (from its WCS) and
the depth-29 HEALPix ranges that index it.

A footprint is a DALI polygon in ICRS degrees whose edges are great-circle
arcs.  It follows the outer edges of the pixel grid (half a pixel outside the
corner pixels' centres); edges are subdivided until the chord between two
vertices stays within a tenth of a pixel of the true image edge, so
projections whose edges are not great circles (SIN, ZPN, SIP distortion,
plate solutions) are still enclosed.  Vertices are ordered counter-clockwise
in the (east, north) tangent plane, i.e. with the interior on the left when
walking the edges in a plot of increasing right ascension to the right.

The index of a footprint is its MOC (cells overlapping the polygon at a depth
chosen from its size) as depth-29 ranges, split so that no stored range is
longer than one cell of ``RANGE_SPLIT_DEPTH``: a query can then find every
range overlapping [lo, hi) with the btree condition
``f.lo > lo - MAX_RANGE_LENGTH AND f.lo < hi AND f.hi > lo``.

(The region -> ranges code for query shapes here is deliberately small; the
sky core's general region -> ranges can replace ``cone_ranges`` et al. when
the two are folded together.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import astropy.units as u
import numpy as np
from astropy.coordinates import ICRS, SkyCoord
from astropy.wcs import WCS
from mocpy import MOC

from vo_server.sky.hpx import INDEX_DEPTH

RANGE_SPLIT_DEPTH = 7
MAX_RANGE_LENGTH = 4 ** (INDEX_DEPTH - RANGE_SPLIT_DEPTH)
MAX_EDGE_SUBDIVISION = 5  # up to 32 segments per image edge
MIN_MOC_DEPTH = 3
MAX_MOC_DEPTH = 18


class FootprintError(ValueError):
    """The WCS does not map the image to a usable sky region (reason in the message)."""


@dataclass(frozen=True)
class Footprint:
    """Sky coverage of one image: polygon vertices (ra, dec in degrees, ICRS),
    the centre (the sky position of the central pixel) and the diameter of
    the smallest circle about the centre enclosing every vertex."""

    ra: np.ndarray
    dec: np.ndarray
    center_ra: float
    center_dec: float
    fov: float

    @property
    def dali_polygon(self) -> list[float]:
        """ra1, dec1, ra2, dec2, ... as a DALI polygon stores it."""
        return [float(v) for pair in zip(self.ra, self.dec, strict=True) for v in pair]


def unit_vectors(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    ra_r, dec_r = np.radians(ra), np.radians(dec)
    return np.stack([np.cos(dec_r) * np.cos(ra_r), np.cos(dec_r) * np.sin(ra_r), np.sin(dec_r)], axis=-1)


def angular_distance(ra1: float, dec1: float, ra2: np.ndarray, dec2: np.ndarray) -> np.ndarray:
    """Great-circle distance in degrees (haversine, accurate at small angles)."""
    r1, d1, r2, d2 = map(np.radians, (ra1, dec1, ra2, dec2))
    a = np.sin((d2 - d1) / 2) ** 2 + np.cos(d1) * np.cos(d2) * np.sin((r2 - r1) / 2) ** 2
    return np.degrees(2 * np.arcsin(np.sqrt(np.clip(a, 0, 1))))


def _pixels_to_icrs(wcs: WCS, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    world = wcs.pixel_to_world(x, y)
    if not isinstance(world, SkyCoord):
        raise FootprintError("the WCS has no celestial axes")
    icrs = world.transform_to(ICRS())
    ra = np.asarray(icrs.ra.deg, dtype=float)
    dec = np.asarray(icrs.dec.deg, dtype=float)
    if not (np.all(np.isfinite(ra)) and np.all(np.isfinite(dec))):
        raise FootprintError("some image pixels have no sky position (the projection does not cover the image)")
    return ra, dec


def _chord_deviation(v0: np.ndarray, v1: np.ndarray, mid: np.ndarray) -> float:
    """Angle (degrees) between ``mid`` and the great circle through v0, v1."""
    normal = np.cross(v0, v1)
    norm = np.linalg.norm(normal)
    if norm == 0:
        return 0.0
    return math.degrees(abs(math.asin(float(np.clip(np.dot(mid, normal) / norm, -1, 1)))))


def _edge_parameters(wcs: WCS, start: tuple[float, float], end: tuple[float, float],
                     tolerance: float) -> list[float]:
    """Fractions along one image edge at which to put vertices (0 included, 1 excluded)."""
    fractions = [0.0, 1.0]
    for _ in range(MAX_EDGE_SUBDIVISION):
        mids = [(a + b) / 2 for a, b in zip(fractions[:-1], fractions[1:], strict=True)]
        points = np.array(fractions + mids)
        x = start[0] + points * (end[0] - start[0])
        y = start[1] + points * (end[1] - start[1])
        vec = unit_vectors(*_pixels_to_icrs(wcs, x, y))
        n = len(fractions)
        worst = max(_chord_deviation(vec[i], vec[i + 1], vec[n + i]) for i in range(n - 1))
        if worst <= tolerance:
            break
        fractions = sorted(fractions + mids)
    return fractions[:-1]


def image_footprint(wcs: WCS, nx: int, ny: int) -> Footprint:
    """Footprint of an ``nx`` x ``ny`` image whose celestial WCS is ``wcs``."""
    if nx < 1 or ny < 1:
        raise FootprintError(f"image has no pixels ({nx} x {ny})")
    wcs = wcs.celestial
    if wcs.naxis != 2:
        raise FootprintError("the WCS has no celestial axes")
    matrix = wcs.pixel_scale_matrix
    if not np.all(np.isfinite(matrix)) or abs(np.linalg.det(matrix)) < 1e-30:
        raise FootprintError("the WCS linear transformation matrix is singular")
    center_ra, center_dec = _pixels_to_icrs(wcs, np.array([(nx - 1) / 2]), np.array([(ny - 1) / 2]))
    scale = math.sqrt(abs(np.linalg.det(matrix)))  # degrees per pixel at the reference point
    corners = [(-0.5, -0.5), (nx - 0.5, -0.5), (nx - 0.5, ny - 0.5), (-0.5, ny - 0.5)]
    xs: list[float] = []
    ys: list[float] = []
    for start, end in zip(corners, corners[1:] + corners[:1], strict=True):
        for t in _edge_parameters(wcs, start, end, tolerance=0.1 * scale):
            xs.append(start[0] + t * (end[0] - start[0]))
            ys.append(start[1] + t * (end[1] - start[1]))
    ra, dec = _pixels_to_icrs(wcs, np.array(xs), np.array(ys))
    ra, dec = counter_clockwise(ra, dec)
    if not is_simple_small_polygon(ra, dec):
        raise FootprintError("the WCS maps the image outline to a degenerate or self-crossing region")
    fov = 2 * float(np.max(angular_distance(center_ra[0], center_dec[0], ra, dec)))
    return Footprint(ra % 360.0, dec, float(center_ra[0] % 360.0), float(center_dec[0]), fov)


def _tangent_plane(ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """Gnomonic (x east, y north) coordinates about the vertices' mean direction,
    or None if some vertex is 90 degrees or more from it."""
    vec = unit_vectors(ra, dec)
    centre = vec.sum(axis=0)
    norm = np.linalg.norm(centre)
    if norm < 1e-12:
        return None
    centre /= norm
    east = np.cross([0.0, 0.0, 1.0], centre)
    if np.linalg.norm(east) < 1e-12:
        east = np.array([0.0, 1.0, 0.0])
    east /= np.linalg.norm(east)
    north = np.cross(centre, east)
    along = vec @ centre
    if np.any(along <= 1e-9):
        return None
    return (vec @ east) / along, (vec @ north) / along


def signed_area(x: np.ndarray, y: np.ndarray) -> float:
    return 0.5 * float(np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y))


def counter_clockwise(ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    plane = _tangent_plane(ra, dec)
    if plane is not None and signed_area(*plane) < 0:
        return ra[::-1].copy(), dec[::-1].copy()
    return ra, dec


def _segments_cross(p1, p2, q1, q2) -> bool:
    def orient(a, b, c) -> float:
        return (b[0] - a[0]) * (c[1] - a[1]) - (b[1] - a[1]) * (c[0] - a[0])
    d1, d2 = orient(q1, q2, p1), orient(q1, q2, p2)
    d3, d4 = orient(p1, p2, q1), orient(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


def is_simple_small_polygon(ra: np.ndarray, dec: np.ndarray) -> bool:
    """At least three vertices, within a hemisphere, non-zero area, no two
    non-adjacent edges crossing (great-circle edges are straight lines in
    the gnomonic plane, so the planar test is exact)."""
    if len(ra) < 3:
        return False
    plane = _tangent_plane(np.asarray(ra, float), np.asarray(dec, float))
    if plane is None:
        return False
    x, y = plane
    if abs(signed_area(x, y)) < 1e-20:
        return False
    n = len(x)
    pts = list(zip(x, y, strict=True))
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            if _segments_cross(pts[i], pts[(i + 1) % n], pts[j], pts[(j + 1) % n]):
                return False
    return True


def moc_depth_for_size(size_deg: float, cells_across: float = 4.0) -> int:
    """HEALPix depth whose cells are about ``size/cells_across`` wide."""
    target = max(size_deg, 1e-9) / cells_across
    depth = int(math.floor(math.log2(58.6 / target)))  # depth-0 cells are ~58.6 deg wide
    return min(MAX_MOC_DEPTH, max(MIN_MOC_DEPTH, depth))


def split_ranges(ranges: np.ndarray) -> np.ndarray:
    """Cut [lo, hi) ranges at multiples of MAX_RANGE_LENGTH so none is longer."""
    out: list[tuple[int, int]] = []
    for lo, hi in np.asarray(ranges, dtype=np.uint64).tolist():
        while hi - lo > MAX_RANGE_LENGTH:
            cut = (lo // MAX_RANGE_LENGTH + 1) * MAX_RANGE_LENGTH
            out.append((lo, cut))
            lo = cut
        out.append((lo, hi))
    return np.array(out, dtype=np.int64).reshape(-1, 2)


def moc_ranges(moc: MOC) -> np.ndarray:
    return np.asarray(moc.to_depth29_ranges, dtype=np.int64).reshape(-1, 2)


def polygon_moc(ra: np.ndarray, dec: np.ndarray, depth: int) -> MOC:
    return MOC.from_polygon_skycoord(SkyCoord(np.asarray(ra) * u.deg, np.asarray(dec) * u.deg, frame="icrs"),
                                     max_depth=depth)


def footprint_ranges(footprint: Footprint) -> np.ndarray:
    """Depth-29 [lo, hi) ranges of the cells overlapping the footprint (stored index)."""
    moc = polygon_moc(footprint.ra, footprint.dec, moc_depth_for_size(footprint.fov))
    return split_ranges(moc_ranges(moc))


def cone_ranges(ra: float, dec: float, radius: float) -> np.ndarray:
    """Depth-29 ranges of a MOC covering the cone (a superset)."""
    depth = moc_depth_for_size(2 * radius, cells_across=8.0)
    moc = MOC.from_cone(lon=ra * u.deg, lat=dec * u.deg, radius=radius * u.deg, max_depth=depth, delta_depth=2)
    return moc_ranges(moc)


def polygon_ranges(ra: np.ndarray, dec: np.ndarray) -> np.ndarray:
    ra, dec = np.asarray(ra, float), np.asarray(dec, float)
    size = 2 * float(np.max(angular_distance(float(np.mean(ra)), float(np.mean(dec)), ra, dec)))
    return moc_ranges(polygon_moc(ra, dec, moc_depth_for_size(size, cells_across=8.0)))


def range_box_ranges(ra_min: float, ra_max: float, dec_min: float, dec_max: float) -> np.ndarray:
    """Ranges covering ra in [ra_min, ra_max], dec in [dec_min, dec_max] (degrees;
    ra_min > ra_max wraps through 0)."""
    width = (ra_max - ra_min) % 360.0 if ra_max != ra_min + 360.0 else 360.0
    size = max(width * math.cos(math.radians(max(abs(dec_min), abs(dec_max)) if dec_min * dec_max > 0 else 0.0)),
               dec_max - dec_min)
    depth = moc_depth_for_size(size, cells_across=8.0)
    if width >= 360.0 or ra_max - ra_min >= 360.0:
        moc = MOC.from_zone(SkyCoord([[0, dec_min], [360 - 1e-9, dec_max]], unit="deg"), max_depth=depth)
    elif ra_min <= ra_max:
        moc = MOC.from_zone(SkyCoord([[ra_min, dec_min], [ra_max, dec_max]], unit="deg"), max_depth=depth)
    else:
        moc = MOC.from_zone(SkyCoord([[ra_min, dec_min], [360 - 1e-9, dec_max]], unit="deg"), max_depth=depth).union(
            MOC.from_zone(SkyCoord([[0, dec_min], [ra_max, dec_max]], unit="deg"), max_depth=depth))
    return moc_ranges(moc)
