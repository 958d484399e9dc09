"""SIA 2.0 query parameters (IVOA SIA 2.0 section 2, DALI 1.1 for the value
syntax) -> validated constraints.

Names are case-insensitive; unknown parameters are ignored (DALI).  Repeated
values of one parameter are OR'ed, different parameters AND'ed.  Intervals
are "lo hi" with -Inf/+Inf for an open side (a single number means lo = hi).
Every malformed value raises ``SiaUsageError`` with a message for the client.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from adql.spatial import Circle  # the same cone the ADQL translator hands the spatial core
from vo_server.sky.footprints import is_simple_small_polygon

DEFAULT_MAXREC = 1000
MAX_MAXREC = 100_000
VOTABLE_FORMATS = {
    "votable": "binary2",
    "application/x-votable+xml": "binary2",
    "text/xml": "binary2",
    "application/x-votable+xml;serialization=binary2": "binary2",
    "application/x-votable+xml;serialization=tabledata": "tabledata",
    "application/x-votable+xml;serialization=td": "tabledata",
}

# parameter -> ObsCore column compared by equality (string values)
STRING_PARAMETERS = {
    "ID": "obs_publisher_did",
    "COLLECTION": "obs_collection",
    "FACILITY": "facility_name",
    "INSTRUMENT": "instrument_name",
    "DPTYPE": "dataproduct_type",
    "TARGET": "target_name",
    "FORMAT": "access_format",
}
# parameter -> ObsCore column whose value must lie in the interval
VALUE_INTERVAL_PARAMETERS = {
    "FOV": "s_fov",
    "SPATRES": "s_resolution",
    "EXPTIME": "t_exptime",
    "TIMERES": "t_resolution",
    "SPECRP": "em_res_power",
}
# parameter -> (min column, max column) whose range must overlap the interval
RANGE_INTERVAL_PARAMETERS = {
    "BAND": ("em_min", "em_max"),
    "TIME": ("t_min", "t_max"),
}
POL_STATES = frozenset({"I", "Q", "U", "V", "RR", "LL", "RL", "LR", "XX", "YY", "XY", "YX", "POLI", "POLA"})
DPTYPES = frozenset({"image", "cube", "spectrum", "sed", "timeseries", "visibility", "event", "measurements"})


class SiaUsageError(ValueError):
    """A parameter value the service cannot use; the message is for the client."""


@dataclass(frozen=True)
class RaDecRange:
    ra_min: float
    ra_max: float
    dec_min: float
    dec_max: float


@dataclass(frozen=True)
class Polygon:
    ra: tuple[float, ...]
    dec: tuple[float, ...]

    @property
    def dali(self) -> list[float]:
        return [v for pair in zip(self.ra, self.dec, strict=True) for v in pair]


Shape = Circle | RaDecRange | Polygon


@dataclass(frozen=True)
class Interval:
    lo: float  # -inf for open
    hi: float  # +inf for open


@dataclass
class SiaQuery:
    """What a request asks for: each list is OR'ed inside, all are AND'ed."""

    shapes: list[Shape] = field(default_factory=list)
    ranges: dict[str, list[Interval]] = field(default_factory=dict)     # BAND, TIME
    values: dict[str, list[Interval]] = field(default_factory=dict)     # FOV, SPATRES, ...
    strings: dict[str, list[str]] = field(default_factory=dict)         # ID, COLLECTION, ...
    pol: list[str] = field(default_factory=list)
    calib: list[int] = field(default_factory=list)
    maxrec: int = DEFAULT_MAXREC
    serialization: str = "binary2"


def _number(text: str, what: str, allow_infinite: bool = False) -> float:
    word = text.strip()
    lowered = word.lower()
    if lowered in ("-inf", "+inf", "inf"):
        if not allow_infinite:
            raise SiaUsageError(f"{what}: {word} is not allowed here (a finite number is needed)")
        return -math.inf if lowered == "-inf" else math.inf
    try:
        value = float(word)
    except ValueError:
        raise SiaUsageError(f"{what}: {word!r} is not a number") from None
    if not math.isfinite(value):
        raise SiaUsageError(f"{what}: {word!r} is not a finite number")
    return value


def parse_interval(value: str, name: str, unit_hint: str) -> Interval:
    words = value.split()
    if len(words) not in (1, 2):
        raise SiaUsageError(f"{name}={value!r}: expected an interval 'min max' ({unit_hint}; -Inf/+Inf for an "
                            "open end) or a single value")
    numbers = [_number(w, name, allow_infinite=True) for w in words]
    lo, hi = numbers[0], numbers[-1]
    if len(words) == 1 and math.isinf(lo):
        raise SiaUsageError(f"{name}={value!r}: a single value must be finite")
    if lo > hi:
        raise SiaUsageError(f"{name}={value!r}: the minimum is larger than the maximum")
    return Interval(lo, hi)


def _check_position(ra: float, dec: float, what: str) -> None:
    if not 0 <= ra <= 360:
        raise SiaUsageError(f"{what}: right ascension {ra} is outside [0, 360] degrees")
    if not -90 <= dec <= 90:
        raise SiaUsageError(f"{what}: declination {dec} is outside [-90, 90] degrees")


def parse_pos(value: str) -> Shape:
    words = value.split()
    if not words:
        raise SiaUsageError("POS is empty: use CIRCLE ra dec radius, RANGE ra1 ra2 dec1 dec2 or POLYGON ra1 dec1 ...")
    kind, rest = words[0].upper(), words[1:]
    what = f"POS={value!r}"
    if kind == "CIRCLE":
        if len(rest) != 3:
            raise SiaUsageError(f"{what}: CIRCLE needs 3 numbers (ra dec radius, degrees), got {len(rest)}")
        ra, dec, radius = (_number(w, what) for w in rest)
        _check_position(ra, dec, what)
        if not 0 < radius <= 180:
            raise SiaUsageError(f"{what}: the radius must be in (0, 180] degrees")
        return Circle(ra, dec, radius)
    if kind == "RANGE":
        if len(rest) != 4:
            raise SiaUsageError(f"{what}: RANGE needs 4 numbers (ra1 ra2 dec1 dec2, degrees), got {len(rest)}")
        ra1, ra2, dec1, dec2 = (_number(w, what, allow_infinite=True) for w in rest)
        ra1, ra2 = (0.0 if math.isinf(ra1) else ra1), (360.0 if math.isinf(ra2) else ra2)
        dec1, dec2 = (-90.0 if math.isinf(dec1) else dec1), (90.0 if math.isinf(dec2) else dec2)
        _check_position(ra1, dec1, what)
        _check_position(ra2, dec2, what)
        if ra1 > ra2 or dec1 > dec2:
            raise SiaUsageError(f"{what}: each range must be given as minimum then maximum")
        return RaDecRange(ra1, ra2, dec1, dec2)
    if kind == "POLYGON":
        if len(rest) % 2 or len(rest) < 6:
            raise SiaUsageError(f"{what}: POLYGON needs at least 3 vertices (ra dec pairs, degrees), "
                                f"got {len(rest)} numbers")
        numbers = [_number(w, what) for w in rest]
        ra, dec = tuple(numbers[0::2]), tuple(numbers[1::2])
        for r, d in zip(ra, dec, strict=True):
            _check_position(r, d, what)
        if not is_simple_small_polygon(np.array(ra), np.array(dec)):
            raise SiaUsageError(f"{what}: the polygon is degenerate, crosses itself or does not fit in a hemisphere")
        return Polygon(ra, dec)
    raise SiaUsageError(f"POS={value!r}: the shape must be CIRCLE, RANGE or POLYGON")


def parse_sia_query(items: Iterable[tuple[str, str]]) -> SiaQuery:
    """A SiaQuery from the request's (name, value) pairs, in order."""
    query = SiaQuery()
    for raw_name, value in items:
        name = raw_name.upper()
        if name == "POS":
            query.shapes.append(parse_pos(value))
        elif name in RANGE_INTERVAL_PARAMETERS:
            hint = "metres, vacuum wavelength" if name == "BAND" else "MJD"
            query.ranges.setdefault(name, []).append(parse_interval(value, name, hint))
        elif name in VALUE_INTERVAL_PARAMETERS:
            query.values.setdefault(name, []).append(parse_interval(value, name, "numbers"))
        elif name in STRING_PARAMETERS:
            if not value.strip():
                raise SiaUsageError(f"{name} is empty")
            if name == "DPTYPE" and value not in DPTYPES:
                raise SiaUsageError(f"DPTYPE={value!r}: expected one of {', '.join(sorted(DPTYPES))}")
            query.strings.setdefault(name, []).append(value)
        elif name == "POL":
            if value not in POL_STATES:
                raise SiaUsageError(f"POL={value!r}: expected one of {', '.join(sorted(POL_STATES))}")
            query.pol.append(value)
        elif name == "CALIB":
            try:
                level = int(value)
            except ValueError:
                raise SiaUsageError(f"CALIB={value!r}: expected an integer 0-4") from None
            if not 0 <= level <= 4:
                raise SiaUsageError(f"CALIB={value!r}: expected an integer 0-4")
            query.calib.append(level)
        elif name == "MAXREC":
            try:
                maxrec = int(value)
            except ValueError:
                raise SiaUsageError(f"MAXREC={value!r}: expected a non-negative integer") from None
            if maxrec < 0:
                raise SiaUsageError(f"MAXREC={value!r}: expected a non-negative integer")
            query.maxrec = min(maxrec, MAX_MAXREC)
        elif name == "RESPONSEFORMAT":
            key = value.replace(" ", "").lower()
            if key not in VOTABLE_FORMATS:
                raise SiaUsageError(f"RESPONSEFORMAT={value!r} is not supported: this service returns VOTable "
                                    "(application/x-votable+xml, optionally ;serialization=tabledata)")
            query.serialization = VOTABLE_FORMATS[key]
        # anything else: ignored, as DALI requires of unknown parameters
    return query
