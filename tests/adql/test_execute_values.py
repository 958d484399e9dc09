"""Numeric, string and relational semantics, executed on PostgreSQL and
compared with values computed in Python."""

from __future__ import annotations

import math

import numpy as np
import pytest

from adql import translate
from tests.adql.support import CATALOG, run

P = "adqltest.points"


def scalar(dsn: str, expression: str):
    sql = translate(f"SELECT {expression} FROM {P} WHERE id = 5", CATALOG).sql
    rows = run(dsn, sql)
    assert len(rows) == 1
    return rows[0][0]


EXPRESSIONS = [
    ("7 / 2", 3),
    ("-7 / 2", -3),
    ("7.0 / 2", 3.5),
    ("7 / 2.0", 3.5),
    ("2 + 3 * 4", 14),
    ("(2 + 3) * 4", 20),
    ("10 - 2 - 3", 5),
    ("MOD(7, 3)", 1),
    ("MOD(-7, 3)", -1),
    ("MOD(7.5, 2)", 1.5),
    ("ROUND(2.5)", 3),
    ("ROUND(-2.5)", -3),
    ("ROUND(1.2345, 2)", 1.23),
    ("ROUND(1.2355, 3)", 1.236),
    ("ROUND(1234, -2)", 1200),
    ("ROUND(1250, -2)", 1300),
    ("TRUNCATE(2.7)", 2),
    ("TRUNCATE(-2.7)", -2),
    ("TRUNCATE(1.2399, 2)", 1.23),
    ("TRUNCATE(-1.2399, 2)", -1.23),
    ("TRUNCATE(1299, -2)", 1200),
    ("ABS(-3)", 3),
    ("ABS(-3.5)", 3.5),
    ("CEILING(1.2)", 2),
    ("CEILING(-1.2)", -1),
    ("FLOOR(1.8)", 1),
    ("FLOOR(-1.2)", -2),
    ("POWER(2, 10)", 1024),
    ("POWER(2.0, -1)", 0.5),
    ("SQRT(16)", 4),
    ("EXP(0)", 1),
    ("LOG(EXP(2))", 2),
    ("LOG10(1000)", 3),
    ("PI()", math.pi),
    ("DEGREES(PI())", 180),
    ("RADIANS(180)", math.pi),
    ("SIN(PI() / 2)", 1),
    ("COS(0)", 1),
    ("TAN(PI() / 4)", 1),
    ("COT(PI() / 4)", 1),
    ("ASIN(1)", math.pi / 2),
    ("ACOS(0)", math.pi / 2),
    ("ATAN(1)", math.pi / 4),
    ("ATAN2(1, 1)", math.pi / 4),
    ("ATAN2(1, -1)", 3 * math.pi / 4),
    ("0xFF", 255),
    ("0x7FFFFFFFFFFFFFFF", 2**63 - 1),
    ("0xFFFFFFFFFFFFFFFF", -1),
    ("12 & 10", 8),
    ("12 | 10", 14),
    ("12 ^ 10", 6),
    ("~0", -1),
    ("~5", -6),
    ("0xF0 | 0x0F", 255),
    ("1 + 2 & 3", 3),
    ("1e3", 1000),
    ("1.5E-3", 0.0015),
    (".5", 0.5),
    ("2.", 2),
    ("'it''s'", "it's"),
    ("'a' || 'b' || 'c'", "abc"),
    ("LOWER('MiXeD')", "mixed"),
    ("UPPER('MiXeD')", "MIXED"),
    ("COALESCE(NULL, 'x')", "x"),
    ("COALESCE(NULL, NULL, 3)", 3),
    ("CASE WHEN 1 = 1 THEN 'yes' ELSE 'no' END", "yes"),
    ("CASE WHEN 1 = 2 THEN 'yes' END", None),
    ("CASE 3 WHEN 1 THEN 'one' WHEN 3 THEN 'three' ELSE 'many' END", "three"),
    ("CAST(3.7 AS INTEGER)", 4),
    ("CAST(3.7 AS SMALLINT)", 4),
    ("CAST(3 AS DOUBLE PRECISION) / 2", 1.5),
    ("CAST(3 AS REAL)", 3.0),
    ("CAST(123 AS CHAR(5))", "123  "),
    ("CAST(123456 AS VARCHAR(3))", "123"),
    ("CAST('42' AS BIGINT)", 42),
    ("CAST(1.5 AS VARCHAR)", "1.5"),
    ("IN_UNIT(ra, 'arcsec') / ra", 3600),
    ("IN_UNIT(plx, 'arcsec') / plx", 0.001),
    ("IN_UNIT(ra, 'rad') / ra", math.pi / 180),
    ("ivo_hasword('the Alpha star', 'alpha')", 1),
    ("ivo_hasword('the Alphabet', 'alpha')", 0),
    ("ivo_hasword('a.b (c)', '(c)')", 1),
    ("ivo_nocasematch('Hello', 'h%O')", 1),
    ("ivo_nocasematch('Hello', 'x%')", 0),
    ("COORD1(POINT(10, 20))", 10),
    ("COORD2(POINT(10, 20))", 20),
    ("DISTANCE(0, 0, 0, 90)", 90),
    ("DISTANCE(0, 0, 180, 0)", 180),
    ("DISTANCE(POINT(10, 10), POINT(10, 10))", 0),
    ("ivo_healpix_index(0, 0, 90)", 0),
    ("ivo_healpix_index(0, 45, -60)", 8),
    ("COORD2(ivo_healpix_center(0, 0))", math.degrees(math.asin(2 / 3))),
    ("COORD1(ivo_epoch_prop_pos(10, 20, 0, 0, 0, 0, 2000, 2016))", 10),
    # straight-line space motion: the angle grows as atan(v t / d)
    ("COORD2(ivo_epoch_prop_pos(10, 20, 0, 0, 1000, 0, 2000, 2100))", 20 + math.degrees(math.atan(math.radians(100 / 3600)))),
]


@pytest.mark.parametrize(("expression", "expected"), EXPRESSIONS, ids=[e[0] for e in EXPRESSIONS])
def test_expression_value(expression: str, expected, sky, query_dsn) -> None:
    value = scalar(query_dsn, expression)
    if isinstance(expected, float) or isinstance(value, float):
        assert value == pytest.approx(expected, rel=1e-11, abs=1e-11)
    else:
        assert value == expected


def test_integer_division_is_integer_typed(sky, query_dsn) -> None:
    translation = translate(f"SELECT 7 / 2, id / 2 FROM {P} WHERE id = 5", CATALOG)
    assert run(query_dsn, translation.sql)[0] == (3, 2)
    assert [c.datatype for c in translation.columns] == ["int", "int"]


def test_round_and_truncate_differ_on_columns(sky, query_dsn) -> None:
    rows = run(query_dsn, translate(f"SELECT mag, ROUND(mag, 1), TRUNCATE(mag, 1) FROM {P} WHERE id < 300",
                                    CATALOG).sql)
    for mag, rounded, truncated in rows:
        assert rounded == pytest.approx(round(float(np.float32(mag)) + 0.0, 1), abs=0.051)
        assert truncated == pytest.approx(math.trunc(mag * 10) / 10, abs=1e-6)
        assert abs(rounded - mag) <= 0.05 + 1e-6 and 0 <= mag - truncated < 0.1 + 1e-6


def test_rand_is_in_unit_interval(sky, query_dsn) -> None:
    values = [r[0] for r in run(query_dsn, translate(f"SELECT RAND() FROM {P} WHERE id < 100", CATALOG).sql)]
    assert all(0 <= v < 1 for v in values) and len(set(values)) > 90


def test_bitwise_on_columns(sky, query_dsn) -> None:
    data = sky["points"]
    rows = dict(run(query_dsn, translate(f"SELECT id, (bits & 0xFF) | (bits ^ 3) FROM {P} WHERE id < 500",
                                         CATALOG).sql))
    for i, value in rows.items():
        b = int(data["bits"][i])
        assert value == (b & 0xFF) | (b ^ 3)


CONDITIONS = [
    ("mag < 10", lambda d: d["mag"] < 10),
    ("mag BETWEEN 10 AND 12", lambda d: (d["mag"] >= 10) & (d["mag"] <= 12)),
    ("mag NOT BETWEEN 10 AND 20", lambda d: (d["mag"] < 10) | (d["mag"] > 20)),
    ("id IN (1, 2, 3, 99999)", lambda d: np.isin(np.arange(len(d["mag"])), [1, 2, 3])),
    ("id NOT IN (1, 2, 3)", lambda d: ~np.isin(np.arange(len(d["mag"])), [1, 2, 3])),
    ("MOD(id, 7) = 0 OR id < 5", lambda d: (np.arange(len(d["mag"])) % 7 == 0) | (np.arange(len(d["mag"])) < 5)),
    ("NOT (mag > 8 AND mag < 18)", lambda d: ~((d["mag"] > 8) & (d["mag"] < 18))),
    ("name IS NULL", lambda d: np.arange(len(d["mag"])) % 17 == 0),
    ("name IS NOT NULL", lambda d: np.arange(len(d["mag"])) % 17 != 0),
    ("flag = 1", lambda d: np.arange(len(d["mag"])) % 2 == 1),
    ("flag = 0", lambda d: np.arange(len(d["mag"])) % 2 == 0),
    ("name LIKE 'star 1%'", lambda d: np.array([i % 17 != 0 and str(i).startswith("1") for i in range(len(d["mag"]))])),
    ("name ILIKE '%ALPHA'", lambda d: np.array([i % 17 != 0 and i % 3 == 0 for i in range(len(d["mag"]))])),
    ("name NOT LIKE '%beta'", lambda d: np.array([i % 17 != 0 and i % 3 == 0 for i in range(len(d["mag"]))])),
    ("LOWER(name) = 'star 3 alpha'", lambda d: np.arange(len(d["mag"])) == 3),
    ("ivo_hasword(name, 'ALPHA') = 1", lambda d: np.array([i % 17 != 0 and i % 3 == 0 for i in range(len(d["mag"]))])),
    ("bits & 1 = 1", lambda d: (d["bits"] & 1) == 1),
    ("plx > 0 AND IN_UNIT(plx, 'arcsec') > 0.01", lambda d: d["plx"] > 10),
]


@pytest.mark.parametrize(("condition", "expected"), CONDITIONS, ids=[c[0] for c in CONDITIONS])
def test_condition_selects_the_right_rows(condition: str, expected, sky, query_dsn) -> None:
    data = sky["points"]
    got = {r[0] for r in run(query_dsn, translate(f"SELECT id FROM {P} WHERE {condition}", CATALOG).sql)}
    assert got == set(np.nonzero(expected(data))[0].tolist())


def test_top_order_offset(sky, query_dsn) -> None:
    data = sky["points"]
    order = np.argsort(-data["mag"].astype(np.float64), kind="stable")
    rows = run(query_dsn, translate(f"SELECT TOP 5 id FROM {P} ORDER BY mag DESC OFFSET 3", CATALOG).sql)
    assert [r[0] for r in rows] == order[3:8].tolist()
    rows = run(query_dsn, translate(f"SELECT id, mag AS m FROM {P} ORDER BY m, 1 DESC OFFSET 9995", CATALOG).sql)
    assert [r[0] for r in rows] == np.argsort(data["mag"], kind="stable")[-5:].tolist()


def test_group_by_having(sky, query_dsn) -> None:
    data = sky["points"]
    rows = run(query_dsn, translate(
        f"SELECT FLOOR(mag) AS m, COUNT(*) AS n, MIN(mag), MAX(mag), AVG(mag), SUM(id) FROM {P} "
        "GROUP BY FLOOR(mag) HAVING COUNT(*) > 500 ORDER BY m", CATALOG).sql)
    floors = np.floor(data["mag"])
    expected = [(f, int((floors == f).sum())) for f in np.unique(floors) if (floors == f).sum() > 500]
    assert [(r[0], r[1]) for r in rows] == expected
    for row in rows:
        selected = floors == row[0]
        assert row[2] == pytest.approx(data["mag"][selected].min())
        assert row[4] == pytest.approx(data["mag"][selected].astype(np.float64).mean(), rel=1e-6)
        assert row[5] == int(np.arange(len(floors))[selected].sum())


def test_count_distinct_and_string_agg(sky, query_dsn) -> None:
    rows = run(query_dsn, translate(
        f"SELECT COUNT(DISTINCT flag), COUNT(name), COUNT(*) FROM {P}", CATALOG).sql)
    assert rows[0] == (2, 10_000 - len(range(0, 10_000, 17)), 10_000)
    agg = run(query_dsn, translate(f"SELECT ivo_string_agg(name, '|') FROM {P} WHERE id IN (1, 2)", CATALOG).sql)
    assert sorted(agg[0][0].split("|")) == ["star 1 beta", "star 2 beta"]


def test_set_operations(sky, query_dsn) -> None:
    def ids(q):
        return [r[0] for r in run(query_dsn, translate(q, CATALOG).sql)]

    a = f"SELECT id FROM {P} WHERE id < 10"
    b = f"SELECT id FROM {P} WHERE id BETWEEN 5 AND 14"
    assert sorted(ids(f"{a} UNION {b}")) == list(range(15))
    assert len(ids(f"{a} UNION ALL {b}")) == 20
    assert sorted(ids(f"{a} INTERSECT {b}")) == [5, 6, 7, 8, 9]
    assert sorted(ids(f"{a} EXCEPT {b}")) == [0, 1, 2, 3, 4]
    assert ids(f"{a} UNION {b} ORDER BY 1 DESC OFFSET 12") == [2, 1, 0]
    assert ids(f"({a}) UNION ({b}) ORDER BY id") == list(range(15))
    # INTERSECT binds tighter than UNION
    assert sorted(ids(f"SELECT id FROM {P} WHERE id = 20 UNION {a} INTERSECT {b}")) == [5, 6, 7, 8, 9, 20]


def test_joins(sky, query_dsn) -> None:
    def count(q):
        return run(query_dsn, translate(q, CATALOG).sql)[0][0]

    o = "adqltest.other"
    assert count(f"SELECT COUNT(*) FROM {P} AS p JOIN {o} AS o ON p.id = o.id") == 2000
    assert count(f"SELECT COUNT(*) FROM {P} AS p LEFT OUTER JOIN {o} AS o ON p.id = o.id") == 10_000
    assert count(f"SELECT COUNT(*) FROM {o} AS o RIGHT OUTER JOIN {P} AS p ON p.id = o.id") == 10_000
    assert count(f"SELECT COUNT(*) FROM {P} AS p FULL OUTER JOIN {o} AS o ON p.id = o.id + 9000") == 10_000 + 1000
    assert count(f"SELECT COUNT(*) FROM {P} AS p JOIN {o} AS o USING (id)") == 2000
    assert count(f"SELECT COUNT(*) FROM {P} NATURAL JOIN {o}") == 0
    assert count(f"SELECT COUNT(*) FROM {P} AS p, {o} AS o WHERE p.id = o.id AND p.id < 10") == 10
    assert count(f"SELECT COUNT(*) FROM ({P} AS p JOIN {o} AS o ON p.id = o.id) WHERE o.id < 10") == 10
    assert count(f"SELECT COUNT(*) FROM {P} AS p WHERE EXISTS (SELECT 1 FROM {o} AS o WHERE o.id = p.id)") == 2000
    assert count(f"SELECT COUNT(*) FROM {P} WHERE id IN (SELECT id + 1 FROM {o})") == 2000
    assert count(f"WITH w AS (SELECT id FROM {o} WHERE id < 50) SELECT COUNT(*) FROM w AS a JOIN w AS b "
                 "ON a.id = b.id") == 50
    assert count(f"SELECT COUNT(*) FROM (SELECT TOP 7 id FROM {P} ORDER BY id) AS s") == 7


def test_scalar_subquery_and_correlation(sky, query_dsn) -> None:
    data = sky["points"]
    rows = run(query_dsn, translate(
        f"SELECT COUNT(*) FROM {P} AS p WHERE p.id < 300 AND p.mag > (SELECT AVG(q.mag) FROM {P} AS q "
        "WHERE q.flag = p.flag)", CATALOG).sql)
    flags = np.arange(10_000) % 2
    mean = {f: data["mag"][flags == f].astype(np.float64).mean() for f in (0, 1)}
    expected = sum(int((data["mag"][:300][flags[:300] == f] > mean[f]).sum()) for f in (0, 1))
    assert rows[0][0] == expected


def test_delimited_and_mixed_case_columns(sky, query_dsn) -> None:
    rows = run(query_dsn, translate('SELECT "Id", id, val FROM adqltest.Mixed WHERE "VAL" IS NOT NULL ORDER BY 1',
                                    CATALOG).sql)
    assert rows == [(1, 10, 0.5), (2, 20, 1.5)]


def test_timestamp_column(sky, query_dsn) -> None:
    rows = run(query_dsn, translate("SELECT id FROM adqltest.regions WHERE obs_time > '2020-06-01T00:00:00'",
                                    CATALOG).sql)
    assert rows == [(2,)]


def test_max_rows_overflow_detection(sky, query_dsn) -> None:
    translation = translate(f"SELECT id FROM {P} ORDER BY id DESC", CATALOG, max_rows=10)
    rows = run(query_dsn, translation.sql)
    assert len(rows) == 11 and rows[0][0] == 9999
    translation = translate(f"SELECT TOP 5 id FROM {P} ORDER BY id DESC", CATALOG, max_rows=10)
    assert len(run(query_dsn, translation.sql)) == 5
