"""The one place that turns depth-29 ranges and cones into SQL text.

Shape chosen by measurement on a clustered 1e7-row table (docs/sky.md):
``(hpx BETWEEN a AND b OR hpx BETWEEN c AND d ...)`` plans as a BitmapOr of
btree range scans, each one descent, and stays on the index for any number
of arms up to ``regions.MAX_RANGES``.  A join against ``unnest(lo, hi)``
makes PostgreSQL choose a parallel sequential scan; ``hpx = ANY`` cannot
express ranges.  Every value is a number we generate (``int``/``repr(float)``),
never client text, so the output can be embedded in other SQL.
"""

from __future__ import annotations

import math

import numpy as np

from vo_server.sky.regions import MAX_RANGE_LENGTH, RegionRanges


def range_filter_sql(hpx_sql: str, ranges: np.ndarray) -> str:
    """Boolean SQL: ``hpx_sql`` lies in one of the half-open ``[lo, hi)`` ranges."""
    if len(ranges) == 0:
        return "FALSE"
    arms = [f"{hpx_sql} BETWEEN {int(lo)} AND {int(hi) - 1}" for lo, hi in ranges]
    return "(" + " OR ".join(arms) + ")"


def region_filter_sql(hpx_sql: str, region: RegionRanges) -> str | None:
    """The index filter of a region; None for the whole sky (no filter helps)."""
    if region.everything:
        return None
    return range_filter_sql(hpx_sql, region.ranges)


def _num(value: float) -> str:
    """A float literal; negative ones parenthesised so ``x - -1`` never becomes a ``--`` comment."""
    text = repr(float(value))
    return f"({text})" if text.startswith("-") else text


def haversine_sql(ra_sql: str, dec_sql: str, ra: float, dec: float) -> str:
    """SQL for hav(distance) between the column position and (ra, dec):
    accurate at every separation from 1 mas to 180 deg (unlike the cosine
    form).  Plain sin/cos of pre-scaled arguments: measured ~30% faster per
    query than sind/cosd with power()."""
    half = math.pi / 360
    cos_dec = math.cos(math.radians(dec))
    return (f"(sin(({dec_sql} - {_num(dec)}) * {_num(half)}) ^ 2 + "
            f"cos({dec_sql} * {_num(2 * half)}) * {_num(cos_dec)} * sin(({ra_sql} - {_num(ra)}) * {_num(half)}) ^ 2)")


def cone_exact_sql(ra_sql: str, dec_sql: str, ra: float, dec: float, radius: float) -> str:
    """Boolean SQL: the position is within ``radius`` degrees of (ra, dec)."""
    if radius >= 180:
        return "TRUE"
    limit = math.sin(math.radians(radius) / 2) ** 2
    return f"{haversine_sql(ra_sql, dec_sql, ra, dec)} <= {_num(limit)}"


def distance_sql(ra_sql: str, dec_sql: str, ra: float, dec: float) -> str:
    """SQL for the angular distance in degrees to (ra, dec)."""
    return f"degrees(2 * asin(least(1.0, sqrt({haversine_sql(ra_sql, dec_sql, ra, dec)}))))"


def cone_filter_sql(hpx_sql: str, ra_sql: str, dec_sql: str, ra: float, dec: float, radius: float,
                    region: RegionRanges) -> str:
    """Index filter AND exact test.  (Skipping the exact test for rows in
    interior cells, with ``interior OR exact``, measured slower: the OR list
    is then evaluated per row, which costs more than the trigonometry.)"""
    exact = cone_exact_sql(ra_sql, dec_sql, ra, dec, radius)
    index = region_filter_sql(hpx_sql, region)
    return exact if index is None else f"({index} AND {exact})"


def _padded(ranges: np.ndarray) -> np.ndarray:
    """Ranges padded (repeating the last) to a power-of-two count, so statements
    with parameters take few distinct shapes and prepared plans are reused."""
    n = len(ranges)
    size = 1 << max(0, (n - 1).bit_length())
    return np.concatenate([ranges, np.repeat(ranges[-1:], size - n, axis=0)]) if size > n else ranges


def cone_filter_params(hpx_sql: str, ra_sql: str, dec_sql: str, ra: float, dec: float, radius: float,
                       region: RegionRanges) -> tuple[str, list[float | int]]:
    """``cone_filter_sql`` with the numbers as ``%s`` parameters (for our own
    queries: the statement text depends only on the padded range count, so
    PostgreSQL's prepared plans are reused)."""
    half = math.pi / 360
    exact = (f"sin(({dec_sql} - %s) * {half!r}) ^ 2 + cos({dec_sql} * {2 * half!r}) * %s * "
             f"sin(({ra_sql} - %s) * {half!r}) ^ 2 <= %s")
    params: list[float | int] = [float(dec), math.cos(math.radians(dec)), float(ra),
                                 math.sin(math.radians(radius) / 2) ** 2]
    if radius >= 180:
        return "TRUE", []
    if region.everything or len(region.ranges) == 0:
        return exact, params
    ranges = _padded(region.ranges)
    arms = " OR ".join([f"{hpx_sql} BETWEEN %s AND %s"] * len(ranges))
    bounds = [int(v) for lo, hi in ranges for v in (lo, hi - 1)]
    return f"(({arms}) AND {exact})", bounds + params


def footprint_overlap_sql(key_sql: str, table: str, key_column: str, ranges: np.ndarray) -> str:
    """Boolean SQL: the row whose key is ``key_sql`` has a stored footprint
    range (in ``table``, keyed by ``key_column``; stored as
    ``regions.split_ranges`` does) overlapping one of the query ``ranges``.

    One btree arm per query range with constant bounds (the planner estimates
    each from the statistics and plans a BitmapOr), plus one arm for the few
    wide ranges stored whole (the stored column ``wide``: hi - lo >
    MAX_RANGE_LENGTH), answered by a partial index on them; the planner's
    estimate for that arm comes from the statistics of ``wide``.  ``table``/``key_column`` are names we
    define, never client text."""


    ranges = np.asarray(ranges, dtype=np.int64).reshape(-1, 2)
    if len(ranges) == 0:
        return "FALSE"
    arms = [f"(f.lo > {int(lo) - MAX_RANGE_LENGTH} AND f.lo < {int(hi)} AND f.hi > {int(lo)})" for lo, hi in ranges]
    arms.append(f"(f.wide AND f.lo < {int(ranges[:, 1].max())} "
                f"AND f.hi > {int(ranges[:, 0].min())})")
    return f"{key_sql} IN (SELECT f.{key_column} FROM {table} f WHERE {' OR '.join(arms)})"
