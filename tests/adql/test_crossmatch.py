"""Index-assisted crossmatch joins (adql/crossmatch.py with the HEALPix
``join_lookup``): which shapes are rewritten, which fall back, that both
forms return identical rows on awkward positions, and that PostgreSQL
really probes the hpx btree."""

from __future__ import annotations

import json
import math
from collections.abc import Iterator

import numpy as np
import psycopg
import pytest

from adql import PlainSpatialCompiler, translate
from adql.catalog import ColumnInfo, SimpleCatalog, TableInfo
from tests.adql.support import CATALOG, depth29, random_points
from vo_server.sky.spatial_compiler import HealpixSpatialCompiler, join_depth

C = ColumnInfo
XCOLUMNS = (C("id", "int"), C("ra", "double", unit="deg"), C("dec", "double", unit="deg"), C("hpx", "long"),
            C("mag", "double"))
XCATALOG = SimpleCatalog.of([
    *CATALOG.tables(),
    TableInfo("xm", "a", XCOLUMNS, position=("ra", "dec"), hpx_column="hpx"),
    TableInfo("xm", "b", XCOLUMNS, position=("ra", "dec"), hpx_column="hpx"),
    TableInfo("xm", "big", XCOLUMNS, position=("ra", "dec"), hpx_column="hpx"),
    TableInfo("xm", "plain", XCOLUMNS[:3]),  # a position without an index
    TableInfo("TAP_UPLOAD", "mine", XCOLUMNS, position=("ra", "dec"), hpx_column="hpx"),
])
HEALPIX = HealpixSpatialCompiler()
P, OTHER = "adqltest.points", "adqltest.other"


def sql_of(adql: str, spatial=HEALPIX) -> str:
    return translate(adql, XCATALOG, spatial).sql


# ----------------------------------------------------------------- translation
JOIN = f"SELECT p.id, o.id FROM {P} AS p JOIN {OTHER} AS o ON "
COMMA = f"SELECT p.id, o.id FROM {P} AS p, {OTHER} AS o WHERE "
PC, OC = "POINT(p.ra, p.dec)", "POINT(o.ra, o.dec)"


@pytest.mark.parametrize(
    ("adql", "indexed"),
    [
        (JOIN + f"1 = CONTAINS({PC}, CIRCLE(o.ra, o.dec, 0.01))", "t1"),
        (JOIN + f"CONTAINS({PC}, CIRCLE(o.ra, o.dec, 1/3600.)) = 1", "t1"),
        (JOIN + f"1 = CONTAINS({PC}, CIRCLE('ICRS', {OC}, 2 * 0.005)) AND p.mag < 10", "t1"),
        (JOIN + f"(p.mag < 10 AND (1 = CONTAINS({OC}, CIRCLE(p.ra, p.dec, 0.01))))", "t2"),
        (JOIN + f"1 = INTERSECTS({PC}, CIRCLE(o.ra, o.dec, 0.01))", "t1"),
        (JOIN + f"1 = INTERSECTS(CIRCLE(o.ra, o.dec, 0.01), {PC})", "t1"),
        (JOIN + f"DISTANCE({PC}, {OC}) < 0.01", "t2"),  # DISTANCE: the table joined later is probed
        (JOIN + f"DISTANCE({OC}, {PC}) <= 0.01", "t2"),
        (JOIN + f"0.01 > DISTANCE({PC}, {OC})", "t2"),
        (JOIN + "0.01 >= DISTANCE(p.ra, p.dec, o.ra, o.dec)", "t2"),
        (COMMA + f"1 = CONTAINS({PC}, CIRCLE(o.ra, o.dec, 0.01)) AND o.mag > 3", "t1"),
        (COMMA + f"p.mag > 3 AND DISTANCE({PC}, {OC}) < 0.01", "t2"),
        (f"SELECT p.id FROM ({P} AS p JOIN {OTHER} AS o ON 1 = CONTAINS({PC}, CIRCLE(o.ra, o.dec, 0.01)))", "t1"),
        (f"SELECT p.id FROM {P} AS p JOIN {OTHER} AS o ON 1 = CONTAINS({PC}, CIRCLE(o.ra, o.dec, 0.01)) "
         "JOIN adqltest.Mixed AS m ON m.id = p.id", "t1"),
        (f"SELECT p.id FROM {P} AS p JOIN {OTHER} AS o ON p.id = o.id WHERE 1 = CONTAINS({PC}, "
         "CIRCLE(o.ra, o.dec, 0.01))", "t1"),
        (f"SELECT * FROM (SELECT p.id FROM {P} AS p, {OTHER} AS o WHERE 1 = CONTAINS({PC}, "
         "CIRCLE(o.ra, o.dec, 0.01))) AS q", "t1"),
        (f"WITH w AS (SELECT p.id FROM {P} AS p, {OTHER} AS o WHERE DISTANCE({PC}, {OC}) < 0.1) SELECT * FROM w",
         "t2"),
        # an upload is preferably the outer side, whatever the argument order
        ("SELECT u.id FROM TAP_UPLOAD.mine AS u JOIN xm.big AS g ON 1 = CONTAINS(POINT(u.ra, u.dec), "
         "CIRCLE(g.ra, g.dec, 0.001))", "t2"),
        ("SELECT u.id FROM xm.big AS g JOIN TAP_UPLOAD.mine AS u ON DISTANCE(POINT(g.ra, g.dec), "
         "POINT(u.ra, u.dec)) < 0.001", "t1"),
        (f"SELECT p.id FROM {P} AS p, {OTHER} AS o WHERE 1 = CONTAINS({PC}, CIRCLE(o.ra, o.dec, 10))", "t1"),
        (f"SELECT p.id FROM {P} AS p, {OTHER} AS o WHERE DISTANCE({PC}, {OC}) <= 0", "t2"),
    ],
)
def test_recognised_shapes(adql: str, indexed: str) -> None:
    sql = sql_of(adql)
    assert sql.count("LATERAL") == 1
    assert f'"{indexed}"."hpx" BETWEEN "x' in sql
    # the probe cells come from the other table's index
    outer = sql.split("vo_sky.hpx_neighbourhood(")[1].split(" >> ")[0]
    assert outer.endswith('."hpx"') and outer != f'"{indexed}"."hpx"'
    assert "LATERAL" not in sql_of(adql, PlainSpatialCompiler())


@pytest.mark.parametrize(
    "adql",
    [
        f"SELECT p.id FROM {P} AS p LEFT JOIN {OTHER} AS o ON 1 = CONTAINS({PC}, CIRCLE(o.ra, o.dec, 0.01))",
        f"SELECT p.id FROM {P} AS p RIGHT OUTER JOIN {OTHER} AS o ON DISTANCE({PC}, {OC}) < 0.01",
        # an outer join anywhere in the FROM clause
        f"SELECT p.id FROM {P} AS p JOIN {OTHER} AS o ON 1 = CONTAINS({PC}, CIRCLE(o.ra, o.dec, 0.01)) "
        "LEFT JOIN adqltest.Mixed AS m ON m.id = p.id",
        f"SELECT p.id FROM ({P} AS p LEFT JOIN adqltest.Mixed AS m ON m.id = p.id), {OTHER} AS o "
        f"WHERE DISTANCE({PC}, {OC}) < 0.01",
        f"SELECT p.id FROM {P} AS p JOIN {OTHER} AS o USING (id) WHERE DISTANCE({PC}, {OC}) < 0.01",
        f"SELECT p.id FROM {P} AS p NATURAL JOIN {OTHER} AS o WHERE DISTANCE({PC}, {OC}) < 0.01",
        # not a top-level AND term
        COMMA + f"1 = CONTAINS({PC}, CIRCLE(o.ra, o.dec, 0.01)) OR p.mag < 5",
        COMMA + f"NOT (1 = CONTAINS({PC}, CIRCLE(o.ra, o.dec, 0.01)))",
        COMMA + f"0 = CONTAINS({PC}, CIRCLE(o.ra, o.dec, 0.01))",
        COMMA + f"DISTANCE({PC}, {OC}) > 0.01",
        COMMA + f"CASE WHEN DISTANCE({PC}, {OC}) < 0.01 THEN 1 ELSE 0 END = 1",
        f"SELECT p.id, CONTAINS({PC}, CIRCLE(o.ra, o.dec, 0.01)) FROM {P} AS p, {OTHER} AS o",
        f"SELECT p.id FROM {P} AS p, {OTHER} AS o GROUP BY p.id HAVING MAX(DISTANCE({PC}, {OC})) < 0.01",
        # radius from columns, or too large
        COMMA + f"1 = CONTAINS({PC}, CIRCLE(o.ra, o.dec, o.plx / 1000))",
        COMMA + f"DISTANCE({PC}, {OC}) < o.plx",
        COMMA + f"1 = CONTAINS({PC}, CIRCLE(o.ra, o.dec, 10.5))",
        COMMA + f"DISTANCE({PC}, {OC}) < 30",
        COMMA + f"DISTANCE({PC}, {OC}) < -1",
        # positions that are not the indexed columns, or tables without an index
        COMMA + "1 = CONTAINS(POINT(p.ra + 0, p.dec), CIRCLE(o.ra, o.dec, 0.01))",
        COMMA + "DISTANCE(POINT(p.dec, p.ra), POINT(o.ra, o.dec)) < 0.01",
        f"SELECT p.id FROM {P} AS p, xm.plain AS o WHERE 1 = CONTAINS({PC}, CIRCLE(o.ra, o.dec, 0.01))",
        f"SELECT p.id FROM {P} AS p, (SELECT ra, dec FROM {OTHER}) AS o WHERE DISTANCE({PC}, {OC}) < 0.01",
        # the same table on both sides; a correlated subquery (the outer table is not in this FROM)
        f"SELECT p.id FROM {P} AS p WHERE DISTANCE({PC}, POINT(p.ra, p.dec)) < 0.01",
        f"SELECT o.id FROM {OTHER} AS o WHERE EXISTS (SELECT 1 FROM {P} AS p WHERE 1 = CONTAINS({PC}, "
        "CIRCLE(o.ra, o.dec, 0.01)))",
    ],
)
def test_fallback_shapes(adql: str) -> None:
    assert "LATERAL" not in sql_of(adql)


def test_join_prefilter_still_used_by_compilers_without_lookup() -> None:
    from tests.adql.support import RangeTestCompiler

    compiler = RangeTestCompiler()
    sql = sql_of(JOIN + f"1 = CONTAINS({PC}, CIRCLE(o.ra, o.dec, 0.5))", compiler)
    assert compiler.join_calls == [0.5] and "LATERAL" not in sql


def test_two_crossmatches_in_one_query() -> None:
    sql = sql_of(f"SELECT p.id FROM {P} AS p, {OTHER} AS o, xm.a AS a WHERE DISTANCE({PC}, {OC}) < 0.01 "
                 "AND 1 = CONTAINS(POINT(a.ra, a.dec), CIRCLE(o.ra, o.dec, 0.5))")
    assert sql.count("LATERAL") == 2 and join_depth(0.5) != join_depth(0.01)


# ------------------------------------------------------------------ execution
def offsets(ra: np.ndarray, dec: np.ndarray, distance: np.ndarray, angle: np.ndarray) -> tuple[np.ndarray, ...]:
    """Positions at ``distance`` degrees from (ra, dec) towards position angle ``angle``."""
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    moved = SkyCoord(ra * u.deg, dec * u.deg).directional_offset_by(angle * u.rad, distance * u.deg)
    return moved.ra.deg % 360.0, moved.dec.deg


def write_table(conn: psycopg.Connection, name: str, ra: np.ndarray, dec: np.ndarray) -> None:
    hpx = depth29(ra, dec)
    conn.execute(f"CREATE TABLE xm.{name} (id integer PRIMARY KEY, ra double precision, dec double precision, "
                 "hpx bigint, mag double precision)")
    with conn.cursor().copy(f"COPY xm.{name} FROM STDIN") as copy:
        for i in range(len(ra)):
            copy.write_row((i, float(ra[i]), float(dec[i]), int(hpx[i]), float(i % 20)))
    conn.execute(f"CREATE INDEX ON xm.{name} (hpx)")
    conn.execute(f"ANALYZE xm.{name}")


RADII = [1 / 3600, 30 / 3600, 0.3, 2.0, 6.0]


@pytest.fixture(scope="module")
def xm(db_dsn: str) -> Iterator[dict]:
    """xm.a: 3000 points (uniform, poles, ra = 0/360, clusters); xm.b: 300
    points, most at distances around each test radius from points of a;
    xm.big: 2e5 uniform points."""
    rng = np.random.default_rng(42)
    a_ra, a_dec = random_points(3000, 7)
    picks = rng.integers(0, 3000, 300)
    picks[:11] = np.arange(11)  # the poles, ra = 0/360 and the equator of random_points
    scale = np.array(RADII)[rng.integers(0, len(RADII), 300)]
    b_ra, b_dec = offsets(a_ra[picks], a_dec[picks], scale * rng.uniform(0, 1.5, 300),
                          rng.uniform(0, 2 * np.pi, 300))
    b_ra[-3:], b_dec[-3:] = (0.0, 359.99999, 180.0), (-90.0, 89.9999, 0.0)
    big_ra = rng.uniform(0, 360, 200_000)
    big_dec = np.degrees(np.arcsin(rng.uniform(-1, 1, 200_000)))
    with psycopg.connect(db_dsn, autocommit=True) as conn:
        conn.execute("DROP SCHEMA IF EXISTS xm CASCADE")
        conn.execute("CREATE SCHEMA xm")
        write_table(conn, "a", a_ra, a_dec)
        write_table(conn, "b", b_ra, b_dec)
        write_table(conn, "big", big_ra, big_dec)
        conn.execute("GRANT USAGE ON SCHEMA xm TO vo_query")
        conn.execute("GRANT SELECT ON ALL TABLES IN SCHEMA xm TO vo_query")
    yield {"a": (a_ra, a_dec), "b": (b_ra, b_dec)}


def pairs(dsn: str, sql: str) -> set[tuple[int, int]]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(sql).fetchall()
    assert len(rows) == len(set(rows)), "a pair appears more than once"
    return set(rows)


@pytest.mark.parametrize("radius", RADII, ids=["1arcsec", "30arcsec", "0.3deg", "2deg", "6deg"])
@pytest.mark.parametrize("form", ["contains-a-in-b", "contains-b-in-a", "distance-lt", "distance-le-comma"])
def test_indexed_and_fallback_rows_identical(form: str, radius: float, xm, query_dsn) -> None:
    r = repr(radius)
    adql = {
        "contains-a-in-b": f"SELECT a.id, b.id FROM xm.a AS a JOIN xm.b AS b ON "
                           f"1 = CONTAINS(POINT(a.ra, a.dec), CIRCLE(b.ra, b.dec, {r}))",
        "contains-b-in-a": f"SELECT a.id, b.id FROM xm.b AS b JOIN xm.a AS a ON "
                           f"CONTAINS(POINT(b.ra, b.dec), CIRCLE(a.ra, a.dec, {r})) = 1",
        "distance-lt": f"SELECT a.id, b.id FROM xm.b AS b JOIN xm.a AS a ON "
                       f"DISTANCE(POINT(a.ra, a.dec), POINT(b.ra, b.dec)) < {r}",
        "distance-le-comma": f"SELECT a.id, b.id FROM xm.a AS a, xm.b AS b WHERE a.mag >= 0 AND "
                             f"{r} >= DISTANCE(POINT(b.ra, b.dec), POINT(a.ra, a.dec))",
    }[form]
    indexed_sql = sql_of(adql)
    assert "LATERAL" in indexed_sql
    indexed = pairs(query_dsn, indexed_sql)
    fallback = pairs(query_dsn, sql_of(adql, PlainSpatialCompiler()))
    assert indexed == fallback
    assert len(fallback) >= 10


def test_self_match_and_third_table(xm, query_dsn) -> None:
    adql = ("SELECT a1.id, a2.id FROM xm.a AS a1 JOIN xm.a AS a2 ON DISTANCE(POINT(a1.ra, a1.dec), "
            "POINT(a2.ra, a2.dec)) < 0.3 AND a1.id <> a2.id JOIN xm.b AS b ON b.id = a1.id "
            "WHERE a1.id < 1000")
    assert "LATERAL" in sql_of(adql)
    indexed = pairs(query_dsn, sql_of(adql))
    assert indexed == pairs(query_dsn, sql_of(adql, PlainSpatialCompiler())) and len(indexed) > 20


def test_rows_match_astropy(xm, query_dsn) -> None:
    from astropy import units as u
    from astropy.coordinates import SkyCoord

    radius = 0.3
    got = pairs(query_dsn, sql_of("SELECT a.id, b.id FROM xm.a AS a JOIN xm.b AS b ON "
                                  f"1 = CONTAINS(POINT(a.ra, a.dec), CIRCLE(b.ra, b.dec, {radius}))"))
    a, b = SkyCoord(*xm["a"], unit="deg"), SkyCoord(*xm["b"], unit="deg")
    in_b, in_a, sep, _ = a.search_around_sky(b, (radius + 1e-6) * u.deg)
    found = list(zip(in_a.tolist(), in_b.tolist(), sep.deg, strict=True))
    expected = {(i, j) for i, j, s in found if s <= radius - 1e-9}
    borderline = {(i, j) for i, j, s in found if abs(s - radius) < 1e-9}
    assert got - borderline == expected and len(expected) > 50


def test_grouped_and_counted_crossmatch_counts_each_pair_once(xm, query_dsn) -> None:
    adql = ("SELECT b.id, COUNT(*) AS n FROM xm.b AS b JOIN xm.a AS a ON "
            "DISTANCE(POINT(a.ra, a.dec), POINT(b.ra, b.dec)) < 2 GROUP BY b.id")
    with psycopg.connect(query_dsn) as conn:
        indexed = dict(conn.execute(sql_of(adql)).fetchall())
        plain = dict(conn.execute(sql_of(adql, PlainSpatialCompiler())).fetchall())
    assert indexed == plain and max(plain.values()) > 1


def _plan_nodes(plan: dict) -> Iterator[dict]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _plan_nodes(child)


@pytest.mark.parametrize(
    "condition",
    [
        "1 = CONTAINS(POINT(g.ra, g.dec), CIRCLE(b.ra, b.dec, 1/3600.))",
        "DISTANCE(POINT(b.ra, b.dec), POINT(g.ra, g.dec)) < 0.05",
        "1 = CONTAINS(POINT(g.ra, g.dec), CIRCLE(b.ra, b.dec, 1))",
    ],
)
def test_plan_probes_the_hpx_index(condition: str, xm, query_dsn) -> None:
    sql = sql_of(f"SELECT b.id, g.id FROM xm.b AS b JOIN xm.big AS g ON {condition}")
    with psycopg.connect(query_dsn) as conn:
        plan = conn.execute("EXPLAIN (FORMAT JSON) " + sql).fetchone()[0][0]["Plan"]
    nodes = list(_plan_nodes(plan))
    on_big = [n for n in nodes if n.get("Relation Name") == "big" or "big_hpx" in n.get("Index Name", "")]
    assert on_big, json.dumps(plan)[:2000]
    assert all(n["Node Type"] != "Seq Scan" for n in on_big), json.dumps(plan)[:3000]
    assert any(n["Node Type"] in ("Index Scan", "Index Only Scan", "Bitmap Index Scan")
               and n.get("Index Name", "").startswith("big_hpx") for n in on_big), json.dumps(plan)[:3000]
    assert math.isfinite(plan["Total Cost"])

