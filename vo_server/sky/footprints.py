"""Image footprints on the sky: the region an image covers (from its WCS) and
the depth-29 HEALPix ranges that index it.

Most footprints are polygons in ICRS degrees whose edges are great-circle
arcs.  The polygon follows the outer edges of the pixel grid (half a pixel
outside the corner pixels' centres); edges are subdivided until the chord
between two vertices stays within a tenth of a pixel of the true image edge,
so projections whose edges are not great circles (SIN, ZPN, SIP distortion,
plate solutions) are still enclosed.  Vertices are ordered counter-clockwise
in the (east, north) tangent plane (interior on the left, as ADQL's polygons).

An image whose outline is not such a polygon -- an all-sky CAR/AIT map, a
CAR grid whose top row is a pole, anything larger than a hemisphere, pixels
outside the projection's valid region -- gets a *cap* footprint instead: the
smallest circle (about the central pixel, the mean direction or a pole) that
contains every sample of the pixel grid, padded by the sampling step.  A cap
of radius 180 is the whole sky.

The index of a footprint is its MOC as depth-29 ranges
(``vo_server.sky.regions``: ``polygon_footprint_ranges``, ``cap_footprint_ranges``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from astropy.coordinates import ICRS, SkyCoord
from astropy.wcs import WCS

from adql.errors import AdqlError
from adql.geometry import normalize_polygon
from vo_server.sky.regions import cap_footprint_ranges, polygon_footprint_ranges

MAX_EDGE_SUBDIVISION = 5  # up to 32 segments per image edge
GRID_SAMPLES = 513  # at most this many samples per image axis for a cap footprint
COORD_DECIMALS = 9  # footprint numbers are rounded to 1e-9 deg (3.6 microarcsec)


class FootprintError(ValueError):
    """The WCS does not map the image to a usable sky region (reason in the message)."""


class OutlineError(FootprintError):
    """The image outline is not a simple polygon within a hemisphere (a cap footprint may still work)."""


def _rounded(value: float) -> float:
    """Rounded to COORD_DECIMALS (and -0.0 made 0.0, so the STC-S text never says -0.0)."""
    return round(float(value), COORD_DECIMALS) + 0.0


@dataclass(frozen=True)
class Footprint:
    """Sky coverage of one image: polygon vertices (ra, dec in degrees, ICRS),
    or ``cap`` (ra, dec, radius in degrees) for a circular footprint (then
    ``ra``/``dec`` are empty); the centre (the sky position of the central
    pixel) and the diameter of the smallest circle about the centre enclosing
    the footprint."""

    ra: np.ndarray
    dec: np.ndarray
    center_ra: float
    center_dec: float
    fov: float
    cap: tuple[float, float, float] | None = None

    @property
    def dali(self) -> list[float]:
        """DALI form of the region: [ra, dec, radius] for a cap, [ra1, dec1, ra2, dec2, ...] for a polygon."""
        if self.cap is not None:
            return [_rounded(v) for v in self.cap]
        return [_rounded(v) for pair in zip(self.ra, self.dec, strict=True) for v in pair]

    @property
    def stcs(self) -> str:
        """STC-S form (ObsCore 1.1 adql:REGION): ``Polygon ICRS ra1 dec1 ...`` or ``Circle ICRS ra dec r``,
        the same numbers as ``dali``."""
        shape = "Circle" if self.cap is not None else "Polygon"
        return f"{shape} ICRS " + " ".join(repr(v) for v in self.dali)


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
        raise OutlineError("some image pixels have no sky position (the projection does not cover the image)")
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
    """Footprint of an ``nx`` x ``ny`` image whose celestial WCS is ``wcs``:
    its outline polygon, or a cap when the outline is not a usable polygon."""
    if nx < 1 or ny < 1:
        raise FootprintError(f"image has no pixels ({nx} x {ny})")
    wcs = wcs.celestial
    if wcs.naxis != 2:
        raise FootprintError("the WCS has no celestial axes")
    matrix = wcs.pixel_scale_matrix
    if not np.all(np.isfinite(matrix)) or abs(np.linalg.det(matrix)) < 1e-30:
        raise FootprintError("the WCS linear transformation matrix is singular")
    try:
        return _polygon_footprint(wcs, nx, ny, math.sqrt(abs(np.linalg.det(matrix))))
    except OutlineError as outline:
        try:
            return cap_footprint(wcs, nx, ny)
        except FootprintError as exc:
            raise FootprintError(f"{outline}; {exc}") from exc


def _polygon_footprint(wcs: WCS, nx: int, ny: int, scale: float) -> Footprint:
    """``scale``: degrees per pixel at the reference point."""
    center_ra, center_dec = _pixels_to_icrs(wcs, np.array([(nx - 1) / 2]), np.array([(ny - 1) / 2]))
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
        raise OutlineError("the WCS maps the image outline to a degenerate or self-crossing region")
    rounded = list(zip(np.round(ra % 360.0, COORD_DECIMALS).tolist(), np.round(dec, COORD_DECIMALS).tolist(),
                       strict=True))
    try:  # the ADQL functions evaluate s_region: it must be a valid ADQL polygon too (and counter-clockwise)
        vertices = normalize_polygon(rounded)
    except AdqlError as exc:
        raise OutlineError(f"the image outline is not a valid polygon: {exc.message}") from exc
    ra = np.array([v[0] for v in vertices])
    dec = np.array([v[1] for v in vertices])
    fov = 2 * float(np.max(angular_distance(center_ra[0], center_dec[0], ra, dec)))
    return Footprint(ra, dec, float(center_ra[0] % 360.0), float(center_dec[0]), fov)


def _grid_icrs(wcs: WCS, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ICRS positions of pixel positions; NaN where the projection has none."""
    world = wcs.pixel_to_world(x, y)
    if not isinstance(world, SkyCoord):
        raise FootprintError("the WCS has no celestial axes")
    icrs = world.transform_to(ICRS())
    return np.asarray(icrs.ra.deg, dtype=float), np.asarray(icrs.dec.deg, dtype=float)


def cap_footprint(wcs: WCS, nx: int, ny: int) -> Footprint:
    """The smallest cap (about the central pixel, the mean direction of the
    pixel grid or a pole) containing every sample of the pixel grid (pixel
    edges included; pixels the projection leaves without a sky position are
    ignored), padded by the largest step between neighbouring samples so the
    pixels between samples are inside too."""
    mx, my = min(4 * nx + 1, GRID_SAMPLES), min(4 * ny + 1, GRID_SAMPLES)
    gx, gy = np.meshgrid(np.linspace(-0.5, nx - 0.5, mx), np.linspace(-0.5, ny - 0.5, my))
    ra, dec = _grid_icrs(wcs, gx.ravel(), gy.ravel())
    valid = np.isfinite(ra) & np.isfinite(dec)
    if not valid.any():
        raise FootprintError("no pixel of the image has a sky position")
    vec = unit_vectors(np.where(valid, ra, 0.0), np.where(valid, dec, 0.0)).reshape(my, mx, 3)
    ok = valid.reshape(my, mx)
    steps = [0.0]
    for a, b, both in ((vec[:, 1:], vec[:, :-1], ok[:, 1:] & ok[:, :-1]), (vec[1:], vec[:-1], ok[1:] & ok[:-1])):
        if both.any():
            cosines = np.clip(np.sum(a * b, axis=-1)[both], -1, 1)
            steps.append(float(np.degrees(np.arccos(cosines.min()))))
    margin = max(steps)
    points = vec[ok]
    cra, cdec = _grid_icrs(wcs, np.array([(nx - 1) / 2]), np.array([(ny - 1) / 2]))
    candidates = [np.array([0.0, 0.0, 1.0]), np.array([0.0, 0.0, -1.0])]
    mean = points.sum(axis=0)
    if np.linalg.norm(mean) > 1e-6 * len(points):
        candidates.append(mean / np.linalg.norm(mean))
    if np.isfinite(cra[0]) and np.isfinite(cdec[0]):
        candidates.append(unit_vectors(cra, cdec)[0])
    best = None
    for centre in candidates:
        radius = float(np.degrees(np.arccos(np.clip((points @ centre).min(), -1, 1)))) + margin
        if best is None or radius < best[1]:
            best = (centre, radius)
    assert best is not None
    centre, radius = best
    radius = min(180.0, radius)
    cap_ra = math.degrees(math.atan2(centre[1], centre[0])) % 360.0
    cap_dec = math.degrees(math.asin(float(np.clip(centre[2], -1, 1))))
    if radius >= 180.0:
        cap_ra, cap_dec = 0.0, 90.0  # the whole sky: say it plainly
    if not (np.isfinite(cra[0]) and np.isfinite(cdec[0])):
        cra, cdec = np.array([cap_ra]), np.array([cap_dec])
    centre_ra, centre_dec = float(cra[0] % 360.0), float(cdec[0])
    reach = float(np.max(angular_distance(centre_ra, centre_dec, np.degrees(np.arctan2(points[:, 1], points[:, 0])),
                                          np.degrees(np.arcsin(np.clip(points[:, 2], -1, 1))))))
    fov = min(360.0, 2 * (reach + margin))
    cap = (round(cap_ra, COORD_DECIMALS) % 360.0, round(cap_dec, COORD_DECIMALS), round(radius, COORD_DECIMALS))
    return Footprint(np.zeros(0), np.zeros(0), centre_ra, centre_dec, fov, cap=cap)


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


def footprint_ranges(footprint: Footprint) -> np.ndarray:
    """Depth-29 [lo, hi) ranges of the cells overlapping the footprint (stored index)."""
    if footprint.cap is not None:
        return cap_footprint_ranges(*footprint.cap)
    return polygon_footprint_ranges(tuple(zip(footprint.ra.tolist(), footprint.dec.tolist(), strict=True)),
                                    footprint.fov)
