"""A SiaQuery -> the SQL over ivoa.obscore (psycopg.sql composition, client
values as parameters only) and the QueryPlan the shared execution path runs.

Spatial constraints use the footprint index: the query shape becomes
depth-29 HEALPix ranges (``vo_server.sky.regions``), joined by btree range
scan to ivoa.obscore_footprint (candidates, a superset;
``ranges_sql.footprint_overlap_sql``, the same SQL the ADQL translator gets),
then the exact spherical test on the geometry of s_region (the unpublished
``s_region_dali``, vo_sky.region_overlaps_*) keeps only true overlaps.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from psycopg import sql

from vo_server.formats.fields import Field
from vo_server.metadata.model import TableMeta
from vo_server.query.run import QueryPlan
from vo_server.sia.params import (
    RANGE_INTERVAL_PARAMETERS,
    STRING_PARAMETERS,
    VALUE_INTERVAL_PARAMETERS,
    Circle,
    Interval,
    Polygon,
    RaDecRange,
    Shape,
    SiaQuery,
)
from vo_server.sky.footprint_index import OBSCORE_FOOTPRINT
from vo_server.sky.ranges_sql import footprint_overlap_sql
from vo_server.sky.regions import cone_ranges, polygon_ranges, zone_ranges


class SqlBuilder:
    """Collects parameters in order while conditions are composed."""

    def __init__(self) -> None:
        self.params: list[Any] = []

    def value(self, value: Any) -> sql.Composable:
        self.params.append(value)
        return sql.Placeholder()


def shape_ranges(shape: Shape) -> np.ndarray:
    if isinstance(shape, Circle):
        return cone_ranges(shape.ra, shape.dec, shape.radius).ranges
    if isinstance(shape, Polygon):
        return polygon_ranges(tuple(zip(shape.ra, shape.dec, strict=True))).ranges
    return zone_ranges(shape.ra_min, shape.ra_max, shape.dec_min, shape.dec_max).ranges


def candidates(shapes: list[Shape]) -> sql.Composable:
    """Observations whose footprint index overlaps one of the shapes (a superset
    of the answer).  The SQL holds only numbers we computed, never client text."""
    ranges = np.concatenate([shape_ranges(s) for s in shapes])
    return sql.SQL(footprint_overlap_sql(f"o.{OBSCORE_FOOTPRINT.key_column}", OBSCORE_FOOTPRINT.table,
                                         OBSCORE_FOOTPRINT.key_column, ranges))


def exact_test(b: SqlBuilder, shape: Shape) -> sql.Composable:
    if isinstance(shape, Circle):
        return sql.SQL("vo_sky.region_overlaps_circle(o.s_region_dali, {}, {}, {})").format(
            b.value(shape.ra), b.value(shape.dec), b.value(shape.radius))
    if isinstance(shape, Polygon):
        return sql.SQL("vo_sky.region_overlaps_polygon(o.s_region_dali, {}::float8[])").format(b.value(shape.dali))
    assert isinstance(shape, RaDecRange)
    return sql.SQL("vo_sky.region_overlaps_range(o.s_region_dali, {}, {}, {}, {})").format(
        b.value(shape.ra_min), b.value(shape.ra_max), b.value(shape.dec_min), b.value(shape.dec_max))


def is_whole_sky(shape: Shape) -> bool:
    return (isinstance(shape, RaDecRange) and shape.ra_max - shape.ra_min >= 360 and shape.dec_min <= -90
            and shape.dec_max >= 90) or (isinstance(shape, Circle) and shape.radius >= 180)


def _any(parts: list[sql.Composable]) -> sql.Composable:
    return sql.SQL("({})").format(sql.SQL(" OR ").join(parts))


def overlap_condition(b: SqlBuilder, low: str, high: str, interval: Interval) -> sql.Composable:
    """[low, high] columns overlap the interval (open ends impose nothing but a known value)."""
    terms = [sql.SQL("{} IS NOT NULL AND {} IS NOT NULL").format(sql.Identifier("o", low), sql.Identifier("o", high))]
    if not math.isinf(interval.hi):
        terms.append(sql.SQL("{} <= {}").format(sql.Identifier("o", low), b.value(interval.hi)))
    if not math.isinf(interval.lo):
        terms.append(sql.SQL("{} >= {}").format(sql.Identifier("o", high), b.value(interval.lo)))
    return sql.SQL("({})").format(sql.SQL(" AND ").join(terms))


def within_condition(b: SqlBuilder, column: str, interval: Interval) -> sql.Composable:
    terms = [sql.SQL("{} IS NOT NULL").format(sql.Identifier("o", column))]
    if not math.isinf(interval.lo):
        terms.append(sql.SQL("{} >= {}").format(sql.Identifier("o", column), b.value(interval.lo)))
    if not math.isinf(interval.hi):
        terms.append(sql.SQL("{} <= {}").format(sql.Identifier("o", column), b.value(interval.hi)))
    return sql.SQL("({})").format(sql.SQL(" AND ").join(terms))


def where_clause(b: SqlBuilder, query: SiaQuery) -> sql.Composable:
    groups: list[sql.Composable] = []
    if query.shapes and any(is_whole_sky(s) for s in query.shapes):
        groups.append(sql.SQL("o.s_region IS NOT NULL"))
    elif query.shapes:
        groups.append(candidates(query.shapes))
    for name, intervals in query.ranges.items():
        low, high = RANGE_INTERVAL_PARAMETERS[name]
        groups.append(_any([overlap_condition(b, low, high, i) for i in intervals]))
    for name, intervals in query.values.items():
        groups.append(_any([within_condition(b, VALUE_INTERVAL_PARAMETERS[name], i) for i in intervals]))
    for name, values in query.strings.items():
        column = sql.Identifier("o", STRING_PARAMETERS[name])
        if name == "TARGET":  # object names: case does not matter
            groups.append(sql.SQL("lower({}) = ANY({}::text[])").format(column, b.value([v.lower() for v in values])))
        else:
            groups.append(sql.SQL("{} = ANY({}::text[])").format(column, b.value(values)))
    if query.pol:
        groups.append(sql.SQL("({})").format(sql.SQL(" OR ").join(
            sql.SQL("strpos(o.pol_states, {}) > 0").format(b.value(f"/{p}/")) for p in query.pol)))
    if query.calib:
        groups.append(sql.SQL("o.calib_level = ANY({}::int[])").format(b.value(query.calib)))
    if not groups:
        return sql.SQL("true")
    return sql.SQL(" AND ").join(groups)


def obscore_fields(table: TableMeta) -> list[Field]:
    return [Field.of(c) for c in table.columns]


def sia_plan(query: SiaQuery, table: TableMeta) -> QueryPlan:
    """The inner query applies the cheap conditions (the footprint index among
    them); the exact spherical tests run in the outer query, behind the
    OFFSET 0 fence, on the inner query's rows only."""
    b = SqlBuilder()
    fields = obscore_fields(table)
    columns = sql.SQL(", ").join(sql.Identifier("o", f.name) for f in fields)
    where = where_clause(b, query)
    exact: sql.Composable = sql.SQL("true")
    if query.shapes and not any(is_whole_sky(s) for s in query.shapes):
        exact = _any([exact_test(b, s) for s in query.shapes])
    limit = query.maxrec + 1 if query.maxrec > 0 else 0
    statement = sql.SQL(
        "SELECT {} FROM (SELECT * FROM ivoa.obscore o WHERE {} OFFSET 0) AS o WHERE {} "
        "ORDER BY o.obs_publisher_did LIMIT {}").format(columns, where, exact, sql.Literal(limit))
    return QueryPlan(statement, fields, b.params, max_rows=query.maxrec if query.maxrec > 0 else None,
                     infos=[("standardID", "ivo://ivoa.net/std/SIA#query-2.0")])
