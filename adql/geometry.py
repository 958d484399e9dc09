"""Geometry with constant arguments, evaluated at translation time.

ADQL geometry uses degrees on the unit sphere with great-circle edges.  When a
region's arguments are constants the translator checks it here (a clear
error beats a wrong answer), normalises it (polygons counter-clockwise, the
interior the smaller side) and hands it to the spatial compiler for an index
prefilter.  The SQL functions in ``0003_adql_functions.sql`` implement the
same definitions for values only known at run time.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from adql.errors import AdqlError

Vector = tuple[float, float, float]
Vertex = tuple[float, float]

_EPS = 1e-12


def check_coordsys(text: str) -> None:
    """Only ICRS (or the empty, default system) is served."""
    words = text.strip().upper().split()
    if not words or words[0] == "ICRS":
        return
    raise AdqlError(f"coordinate system {text!r} is not supported; use 'ICRS' or ''")


def check_position(ra: float, dec: float, what: str = "position") -> None:
    if not (math.isfinite(ra) and math.isfinite(dec)):
        raise AdqlError(f"{what}: coordinates must be finite numbers")
    if not -90.0 <= dec <= 90.0:
        raise AdqlError(f"{what}: declination {dec:g} is outside [-90, 90]")


def check_radius(radius: float) -> None:
    if not math.isfinite(radius) or radius < 0 or radius > 180:
        raise AdqlError(f"circle radius {radius:g} must be between 0 and 180 degrees")


def to_vector(ra: float, dec: float) -> Vector:
    a, d = math.radians(ra), math.radians(dec)
    cd = math.cos(d)
    return (cd * math.cos(a), cd * math.sin(a), math.sin(d))


def to_radec(v: Vector) -> Vertex:
    x, y, z = v
    ra = math.degrees(math.atan2(y, x)) % 360.0
    dec = math.degrees(math.atan2(z, math.hypot(x, y)))
    return ra, dec


def _cross(a: Vector, b: Vector) -> Vector:
    return (a[1] * b[2] - a[2] * b[1], a[2] * b[0] - a[0] * b[2], a[0] * b[1] - a[1] * b[0])


def _dot(a: Vector, b: Vector) -> float:
    return a[0] * b[0] + a[1] * b[1] + a[2] * b[2]


def _normalize(v: Vector) -> Vector:
    n = math.sqrt(_dot(v, v))
    return (v[0] / n, v[1] / n, v[2] / n)


def signed_area(vertices: Sequence[Vertex]) -> float:
    """Signed area (steradians) seen from the vertices' mean direction;
    positive when the vertices run counter-clockwise around the interior."""
    vectors = [to_vector(ra, dec) for ra, dec in vertices]
    sx = sum(v[0] for v in vectors)
    sy = sum(v[1] for v in vectors)
    sz = sum(v[2] for v in vectors)
    if sx * sx + sy * sy + sz * sz < _EPS:
        raise AdqlError("polygon vertices surround no well-defined region (they are spread over the sky)")
    c = _normalize((sx, sy, sz))
    total = 0.0
    for a, b in zip(vectors, vectors[1:] + vectors[:1], strict=True):
        total += 2.0 * math.atan2(_dot(c, _cross(a, b)), 1.0 + _dot(c, a) + _dot(a, b) + _dot(b, c))
    return total


def _arcs_cross(a1: Vector, a2: Vector, b1: Vector, b2: Vector) -> bool:
    """Whether the minor arcs a1-a2 and b1-b2 properly intersect."""
    na = _cross(a1, a2)
    nb = _cross(b1, b2)
    s1, s2 = _dot(na, b1), _dot(na, b2)
    t1, t2 = _dot(nb, a1), _dot(nb, a2)
    if s1 * s2 >= 0 or t1 * t2 >= 0:
        return False
    # The two great circles meet at +-p; the arcs cross if the same one lies on both.
    p = _cross(na, nb)
    for candidate in (p, (-p[0], -p[1], -p[2])):
        on_a = _dot(_cross(a1, candidate), na) > 0 and _dot(_cross(candidate, a2), na) > 0
        on_b = _dot(_cross(b1, candidate), nb) > 0 and _dot(_cross(candidate, b2), nb) > 0
        if on_a and on_b:
            return True
    return False


def normalize_polygon(vertices: Sequence[Vertex]) -> tuple[Vertex, ...]:
    """Validated polygon, counter-clockwise around its (smaller) interior."""
    if len(vertices) < 3:
        raise AdqlError(f"a polygon needs at least 3 vertices, got {len(vertices)}")
    for index, (ra, dec) in enumerate(vertices, 1):
        check_position(ra, dec, f"polygon vertex {index}")
    vectors = [to_vector(ra, dec) for ra, dec in vertices]
    n = len(vectors)
    for i in range(n):
        a, b = vectors[i], vectors[(i + 1) % n]
        if _dot(a, b) > 1 - 1e-15:
            raise AdqlError(f"polygon vertices {i + 1} and {(i + 1) % n + 1} coincide")
        if _dot(a, b) < -1 + 1e-12:
            raise AdqlError(f"polygon vertices {i + 1} and {(i + 1) % n + 1} are antipodal: the edge is undefined")
    for i in range(n):
        for j in range(i + 2, n):
            if i == 0 and j == n - 1:
                continue
            if _arcs_cross(vectors[i], vectors[(i + 1) % n], vectors[j], vectors[(j + 1) % n]):
                raise AdqlError(f"polygon edges {i + 1} and {j + 1} cross: the polygon is self-intersecting")
    area = signed_area(vertices)
    if abs(area) < 1e-18:
        raise AdqlError("polygon has no area (its vertices lie on one great circle)")
    ordered = tuple((float(ra), float(dec)) for ra, dec in vertices)
    return ordered if area > 0 else ordered[::-1]


def box_vertices(ra: float, dec: float, width: float, height: float) -> tuple[Vertex, ...]:
    """Corners of an ADQL BOX, counter-clockwise.

    The BOX has great-circle sides.  ``width`` is the arc length through the
    centre perpendicular to the meridian and ``height`` the arc length along
    the meridian; the east/west sides are perpendicular to the centre's
    east-west great circle at its ends, the north/south sides perpendicular
    to the meridian at its ends (STC/ADQL definition).
    """
    check_position(ra, dec, "box centre")
    for name, size in (("width", width), ("height", height)):
        if not math.isfinite(size) or size <= 0 or size >= 180:
            raise AdqlError(f"box {name} {size:g} must be greater than 0 and less than 180 degrees")
    a, d = math.radians(ra), math.radians(dec)
    centre = to_vector(ra, dec)
    east = (-math.sin(a), math.cos(a), 0.0)
    north = (-math.sin(d) * math.cos(a), -math.sin(d) * math.sin(a), math.cos(d))
    hw, hh = math.radians(width) / 2, math.radians(height) / 2

    def combine(p: float, c: Vector, q: float, v: Vector) -> Vector:
        return (p * c[0] + q * v[0], p * c[1] + q * v[1], p * c[2] + q * v[2])

    # Poles (normals) of the four sides, pointing into the box.
    north_side = combine(math.sin(hh), centre, -math.cos(hh), north)
    south_side = combine(math.sin(hh), centre, math.cos(hh), north)
    east_side = combine(math.sin(hw), centre, -math.cos(hw), east)
    west_side = combine(math.sin(hw), centre, math.cos(hw), east)

    def corner(p: Vector, q: Vector) -> Vertex:
        v = _normalize(_cross(p, q))
        if _dot(v, centre) < 0:
            v = (-v[0], -v[1], -v[2])
        return to_radec(v)

    corners = (
        corner(south_side, west_side),
        corner(south_side, east_side),
        corner(north_side, east_side),
        corner(north_side, west_side),
    )
    return normalize_polygon(corners)


def moc_ranges(ascii_moc: str) -> tuple[str, list[tuple[int, int]]]:
    """Normalised ASCII form and depth-29 half-open ranges of a MOC."""
    from mocpy import MOC

    text = ascii_moc.strip()
    if not text:
        raise AdqlError("empty MOC")
    try:
        moc = MOC.from_string(text, format="ascii")
    except Exception as err:  # mocpy raises several types for malformed text
        raise AdqlError(f"malformed MOC {ascii_moc[:40]!r}: {str(err)[:100]}") from None
    ranges = [(int(lo), int(hi)) for lo, hi in moc.to_depth29_ranges]
    return moc.to_string(format="ascii"), ranges
