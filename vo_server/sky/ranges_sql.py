"""The one place that turns depth-29 ranges and cones into SQL text.

Two shapes, chosen by measurement on a clustered 1e7-row table (docs/sky.md):

* a boolean filter, ``(hpx BETWEEN a AND b OR hpx BETWEEN c AND d ...)``,
  for SQL we do not write whole (the ADQL prefilter): PostgreSQL plans it as
  an index scan or a BitmapOr of btree range scans, but plans every arm anew
  for every query (~3 µs an arm, more than the scan of a small cone);
* for the queries we write whole (cone search, the benchmark), a FROM item
  that walks the ranges, given as two ``int8multirange`` parameters
  (boundary and interior cells), with one btree range scan each
  (``CROSS JOIN LATERAL (... OFFSET 0)``); rows of interior cells skip the
  exact test.  ``unnest(int8multirange)`` has no row estimate of its own, so
  PostgreSQL's plan is the same whatever the values: the statement text
  never changes, psycopg prepares it, and PostgreSQL switches to one generic
  plan, so a cone costs no planning at all.

A join against ``unnest(lo, hi)`` without the ``OFFSET 0`` fence makes
PostgreSQL choose a parallel sequential scan; ``hpx = ANY`` cannot express
ranges.  Every value is a number we generate (``int``/``repr(float)``),
never client text, so the output can be embedded in other SQL.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np

from vo_server.sky.regions import MAX_RANGE_LENGTH, RegionRanges

# What one range costs in the multirange walk, for the depth choice
# (``regions.search_depth``): a btree descent (no planning), plus the cells
# cdshealpix returns and Python merges.  Set from a scan of depths at each
# radius, client-side timing with pgSphere interleaved (docs/sky.md): it gives
# the fastest depth at 1', 10', 1 deg and 5 deg on 1e7 rows.
WALK_RANGE_COST_US = 10.0


def range_filter_sql(hpx_sql: str, ranges: np.ndarray | tuple[tuple[int, int], ...]) -> str:
    """Boolean SQL: ``hpx_sql`` lies in one of the half-open ``[lo, hi)`` ranges."""
    pairs = ranges.tolist() if isinstance(ranges, np.ndarray) else ranges
    if len(pairs) == 0:
        return "FALSE"
    return "(" + " OR ".join([f"{hpx_sql} BETWEEN {int(lo)} AND {int(hi) - 1}" for lo, hi in pairs]) + ")"


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


def multirange_text(pairs: tuple[tuple[int, int], ...]) -> str:
    """An ``int8multirange`` literal of half-open ranges."""
    return "{" + ",".join([f"[{lo},{hi})" for lo, hi in pairs]) + "}"


def _exact_params_sql(ra_sql: str, dec_sql: str) -> str:
    """hav(distance) with the centre as parameters: dec, cos(dec), ra (in that order)."""
    half = math.pi / 360
    return (f"sin(({dec_sql} - %s) * {half!r}) ^ 2 + cos({dec_sql} * {2 * half!r}) * %s * "
            f"sin(({ra_sql} - %s) * {half!r}) ^ 2")


def _cosine_exact_params_sql(ra_sql: str, dec_sql: str) -> str:
    """2 hav(distance) = 1 - cos(distance) in the cosine form, same parameters
    as ``_exact_params_sql``: three cosines where haversine takes two sines
    and two powers (see COSINE_FORM_MIN_RADIUS)."""
    rad = math.pi / 180
    return (f"1 - cos(({dec_sql} - %s) * {rad!r}) + cos({dec_sql} * {rad!r}) * %s * "
            f"(1 - cos(({ra_sql} - %s) * {rad!r}))")


def _centre_params(ra: float, dec: float) -> list[float]:
    return [float(dec), math.cos(math.radians(dec)), float(ra)]


def distance_params_sql(ra_sql: str, dec_sql: str, ra: float, dec: float) -> tuple[str, list[float]]:
    """``distance_sql`` with the centre as parameters (statement text independent of the cone)."""
    return f"degrees(2 * asin(least(1.0, sqrt({_exact_params_sql(ra_sql, dec_sql)}))))", _centre_params(ra, dec)


# Cones at least this large (degrees) test membership in the cosine form
# (``_cosine_exact_params_sql``) in the walked statement: measured on 1e7 rows,
# ranges precomputed, 500 cones interleaved with pgSphere: 10' 0.071 -> 0.067 ms,
# 1 deg (without the bound) 0.682 -> 0.630 ms; 1' the same.  1 - cos x is
# quantised in steps of 1.1e-16, an uncertainty of ~2.2e-16 / sin(r) rad on the
# radius: ~1 µas at 10", less beyond; smaller cones keep haversine, exact at
# every scale.
COSINE_FORM_MIN_RADIUS = 10 / 3600

# Below this many rows expected in the cone the bound costs more (a longer
# filter to set up: 1', 10' on 1e7 rows, 4-5 µs) than it spares.
BOUND_MIN_ROWS = 100


def _inside_bound_params(ra: float, dec: float, radius: float) -> list[float]:
    """Parameters of a trigonometry-free test that only accepts points inside
    the cone: ``(dec - d0)^2 + k (ra - a0)^2 <= c`` (degrees).  From
    sin^2 t <= t^2 and cos(dec) <= cmax (the largest cosine in the cone's
    declination band; a point outside the band fails the test since
    (dec - d0)^2 > r^2 >= c), hav(distance) <= (pi/180)^2/4 * lhs, and c is
    4 hav(r) (180/pi)^2 shrunk by 1e-9 to cover rounding.  Rows it accepts
    skip the exact test (measured 1e7 rows, 1 deg: 0.605 -> 0.53 ms);
    across ra = 0/360 it accepts nothing and the exact test decides."""
    low, high = max(-90.0, dec - radius), min(90.0, dec + radius)
    cmax = 1.0 if low <= 0 <= high else math.cos(math.radians(min(abs(low), abs(high))))
    k = cmax * math.cos(math.radians(dec)) * (1 + 1e-12)
    c = 4 * math.sin(math.radians(radius) / 2) ** 2 * (180 / math.pi) ** 2 * (1 - 1e-9)
    return [float(dec), float(dec), k, float(ra), float(ra), c]


@lru_cache(maxsize=256)
def _cone_rows_text(table_sql: str, columns_sql: tuple[str, ...], hpx_sql: str, ra_sql: str, dec_sql: str,
                    interior: bool, bound: bool, cosine: bool) -> str:
    cols = ", ".join(columns_sql)
    exact = _cosine_exact_params_sql if cosine else _exact_params_sql
    inside = f"{exact(ra_sql, dec_sql)} <= %s"
    if bound:
        inside = f"({dec_sql} - %s) * ({dec_sql} - %s) + %s * ({ra_sql} - %s) * ({ra_sql} - %s) <= %s OR " + inside
    if not interior:
        return (f"(SELECT cone_rows.* FROM unnest(%s::int8multirange) cone_ranges (span) "
                f"CROSS JOIN LATERAL (SELECT {cols} FROM {table_sql} "
                f"WHERE {hpx_sql} >= lower(cone_ranges.span) AND {hpx_sql} < upper(cone_ranges.span) "
                f"AND ({inside}) OFFSET 0) cone_rows)")
    return (f"(SELECT cone_rows.* FROM (SELECT r, false FROM unnest(%s::int8multirange) r "
            f"UNION ALL SELECT r, true FROM unnest(%s::int8multirange) r) cone_ranges (span, inside) "
            f"CROSS JOIN LATERAL (SELECT {cols} FROM {table_sql} "
            f"WHERE {hpx_sql} >= lower(cone_ranges.span) AND {hpx_sql} < upper(cone_ranges.span) "
            f"AND (cone_ranges.inside OR {inside}) OFFSET 0) cone_rows)")


def cone_rows_sql(table_sql: str, columns_sql: list[str], hpx_sql: str, ra_sql: str, dec_sql: str,
                  ra: float, dec: float, radius: float, region: RegionRanges) -> tuple[str, list[float | str]]:
    """A parenthesised subquery (a FROM item) giving ``columns_sql`` of the
    rows of ``table_sql`` within ``radius`` degrees of (ra, dec), and its
    ``%s`` parameters.  A few texts per table and column list (with or
    without interior ranges, the trigonometry-free bound, the cosine form),
    each prepared and given a generic plan."""
    if region.everything or radius >= 180:
        return f"(SELECT {', '.join(columns_sql)} FROM {table_sql})", []
    rad = math.radians(dec)
    params: list[float | str] = [multirange_text(region.boundary)]
    if region.interior:
        params.append(multirange_text(region.interior))
    bound = region.expected_rows >= BOUND_MIN_ROWS
    if bound:
        params += _inside_bound_params(ra, dec, radius)
    cosine = radius >= COSINE_FORM_MIN_RADIUS
    hav = math.sin(math.radians(radius) / 2) ** 2
    params += [float(dec), math.cos(rad), float(ra), 2 * hav if cosine else hav]
    return _cone_rows_text(table_sql, tuple(columns_sql), hpx_sql, ra_sql, dec_sql, bool(region.interior), bound,
                           cosine), params


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
