"""Every production of the ADQL 2.1 grammar, translated against the test
catalog; and queries that break a production, rejected with a position."""

from __future__ import annotations

import pytest

from adql import AdqlError, parse, translate, validate

P = "adqltest.points"
O = "adqltest.other"  # noqa: E741

# (production, query) -- each query exercises the named BNF production.
VALID = [
    ("select_query", f"SELECT id FROM {P}"),
    ("set_quantifier DISTINCT", f"SELECT DISTINCT flag FROM {P}"),
    ("set_quantifier ALL", f"SELECT ALL flag FROM {P}"),
    ("set_limit", f"SELECT TOP 5 id FROM {P}"),
    ("set_quantifier + set_limit", f"SELECT DISTINCT TOP 5 flag FROM {P}"),
    ("select_list asterisk", f"SELECT * FROM {P}"),
    ("qualifier.asterisk", f"SELECT p.* FROM {P} AS p"),
    ("two qualified asterisks", f"SELECT p.*, o.id FROM {P} AS p, {O} AS o"),
    ("as_clause with AS", f"SELECT id AS ident FROM {P}"),
    ("as_clause without AS", f"SELECT id ident FROM {P}"),
    ("delimited alias", f'SELECT id AS "Weird Name" FROM {P}'),
    ("correlation_specification AS", f"SELECT p.id FROM {P} AS p"),
    ("correlation_specification bare", f"SELECT p.id FROM {P} p"),
    ("schema-qualified column", f"SELECT adqltest.points.id FROM {P}"),
    ("table-qualified column", f"SELECT points.id FROM {P}"),
    ("where_clause", f"SELECT id FROM {P} WHERE id = 3"),
    ("search_condition OR", f"SELECT id FROM {P} WHERE id = 3 OR id = 4"),
    ("boolean_term AND", f"SELECT id FROM {P} WHERE id > 3 AND id < 9"),
    ("boolean_factor NOT", f"SELECT id FROM {P} WHERE NOT id = 3"),
    ("boolean_primary parenthesised", f"SELECT id FROM {P} WHERE (id = 3 OR id = 4) AND mag > 0"),
    ("comp_op =", f"SELECT id FROM {P} WHERE id = 1"),
    ("comp_op <>", f"SELECT id FROM {P} WHERE id <> 1"),
    ("comp_op !=", f"SELECT id FROM {P} WHERE id != 1"),
    ("comp_op <", f"SELECT id FROM {P} WHERE id < 1"),
    ("comp_op >", f"SELECT id FROM {P} WHERE id > 1"),
    ("comp_op <=", f"SELECT id FROM {P} WHERE id <= 1"),
    ("comp_op >=", f"SELECT id FROM {P} WHERE id >= 1"),
    ("between_predicate", f"SELECT id FROM {P} WHERE mag BETWEEN 10 AND 12"),
    ("NOT BETWEEN", f"SELECT id FROM {P} WHERE mag NOT BETWEEN 10 AND 12"),
    ("in_predicate list", f"SELECT id FROM {P} WHERE id IN (1, 2, 3)"),
    ("NOT IN list", f"SELECT id FROM {P} WHERE id NOT IN (1, 2, 3)"),
    ("in_predicate subquery", f"SELECT id FROM {P} WHERE id IN (SELECT id FROM {O})"),
    ("like_predicate", f"SELECT id FROM {P} WHERE name LIKE 'star 1%'"),
    ("NOT LIKE", f"SELECT id FROM {P} WHERE name NOT LIKE 'star 1%'"),
    ("ILIKE", f"SELECT id FROM {P} WHERE name ILIKE 'STAR 1%'"),
    ("NOT ILIKE", f"SELECT id FROM {P} WHERE name NOT ILIKE 'STAR 1%'"),
    ("null_predicate", f"SELECT id FROM {P} WHERE name IS NULL"),
    ("IS NOT NULL", f"SELECT id FROM {P} WHERE name IS NOT NULL"),
    ("exists_predicate", f"SELECT id FROM {P} AS p WHERE EXISTS (SELECT o.id FROM {O} AS o WHERE o.id = p.id)"),
    ("NOT EXISTS", f"SELECT id FROM {P} AS p WHERE NOT EXISTS (SELECT o.id FROM {O} AS o WHERE o.id = p.id)"),
    ("group_by_clause", f"SELECT flag, COUNT(*) FROM {P} GROUP BY flag"),
    ("group_by expression", f"SELECT FLOOR(mag), COUNT(*) FROM {P} GROUP BY FLOOR(mag)"),
    ("having_clause", f"SELECT flag, COUNT(*) FROM {P} GROUP BY flag HAVING COUNT(*) > 10"),
    ("order_by name", f"SELECT id FROM {P} ORDER BY mag"),
    ("order_by alias", f"SELECT id, mag AS m FROM {P} ORDER BY m"),
    ("order_by position", f"SELECT id, mag FROM {P} ORDER BY 2"),
    ("order_by DESC", f"SELECT id FROM {P} ORDER BY id DESC"),
    ("order_by ASC", f"SELECT id FROM {P} ORDER BY id ASC"),
    ("order_by expression", f"SELECT id FROM {P} ORDER BY mag * 2 DESC, id"),
    ("offset_clause", f"SELECT id FROM {P} ORDER BY id OFFSET 10"),
    ("TOP with OFFSET", f"SELECT TOP 3 id FROM {P} ORDER BY id OFFSET 10"),
    ("with_clause", f"WITH bright AS (SELECT id, mag FROM {P} WHERE mag < 10) SELECT * FROM bright"),
    ("two with_queries", f"WITH a AS (SELECT id FROM {P}), b AS (SELECT id FROM a) SELECT * FROM b"),
    ("UNION", f"SELECT id FROM {P} UNION SELECT id FROM {O}"),
    ("UNION ALL", f"SELECT id FROM {P} UNION ALL SELECT id FROM {O}"),
    ("EXCEPT", f"SELECT id FROM {P} EXCEPT SELECT id FROM {O}"),
    ("EXCEPT ALL", f"SELECT id FROM {P} EXCEPT ALL SELECT id FROM {O}"),
    ("INTERSECT", f"SELECT id FROM {P} INTERSECT SELECT id FROM {O}"),
    ("INTERSECT ALL", f"SELECT id FROM {P} INTERSECT ALL SELECT id FROM {O}"),
    ("query_set_primary parenthesised", f"(SELECT id FROM {P}) UNION (SELECT id FROM {O}) ORDER BY 1"),
    ("set operation with ORDER BY and OFFSET", f"SELECT id FROM {P} UNION SELECT id FROM {O} ORDER BY id OFFSET 3"),
    ("qualified_join INNER", f"SELECT p.id FROM {P} AS p INNER JOIN {O} AS o ON p.id = o.id"),
    ("JOIN (implicit inner)", f"SELECT p.id FROM {P} AS p JOIN {O} AS o ON p.id = o.id"),
    ("LEFT JOIN", f"SELECT p.id FROM {P} AS p LEFT JOIN {O} AS o ON p.id = o.id"),
    ("LEFT OUTER JOIN", f"SELECT p.id FROM {P} AS p LEFT OUTER JOIN {O} AS o ON p.id = o.id"),
    ("RIGHT OUTER JOIN", f"SELECT o.id FROM {P} AS p RIGHT OUTER JOIN {O} AS o ON p.id = o.id"),
    ("FULL OUTER JOIN", f"SELECT p.id FROM {P} AS p FULL OUTER JOIN {O} AS o ON p.id = o.id"),
    ("NATURAL JOIN", f"SELECT id FROM {P} NATURAL JOIN {O}"),
    ("NATURAL LEFT JOIN", f"SELECT id FROM {P} NATURAL LEFT OUTER JOIN {O}"),
    ("named_columns_join USING", f"SELECT id FROM {P} AS p JOIN {O} AS o USING (id)"),
    ("USING two columns", f"SELECT id, ra FROM {P} AS p JOIN {O} AS o USING (id, ra)"),
    ("parenthesised joined_table", f"SELECT p.id FROM ({P} AS p JOIN {O} AS o ON p.id = o.id)"),
    ("three-way join", f"SELECT p.id FROM {P} AS p JOIN {O} AS o ON p.id = o.id JOIN {P} AS q ON q.id = o.id"),
    ("comma join", f"SELECT p.id, o.id FROM {P} AS p, {O} AS o WHERE p.id = o.id"),
    ("derived_table", f"SELECT s.id FROM (SELECT id FROM {P} WHERE mag < 10) AS s"),
    ("scalar subquery", f"SELECT id, (SELECT MAX(mag) FROM {O}) AS maxmag FROM {P}"),
    ("correlated subquery", f"SELECT id FROM {P} AS p WHERE mag > (SELECT AVG(o.mag) FROM {O} AS o WHERE o.flag = p.flag)"),
    ("general_set_function COUNT(*)", f"SELECT COUNT(*) FROM {P}"),
    ("COUNT(DISTINCT)", f"SELECT COUNT(DISTINCT flag) FROM {P}"),
    ("COUNT(ALL x)", f"SELECT COUNT(name) FROM {P}"),
    ("AVG", f"SELECT AVG(mag) FROM {P}"),
    ("MIN", f"SELECT MIN(mag) FROM {P}"),
    ("MAX", f"SELECT MAX(mag) FROM {P}"),
    ("SUM", f"SELECT SUM(id) FROM {P}"),
    ("SUM(DISTINCT)", f"SELECT SUM(DISTINCT id) FROM {P}"),
    ("numeric_value_expression + -", f"SELECT id + 1 - 2 FROM {P}"),
    ("term * /", f"SELECT mag * 2 / 3 FROM {P}"),
    ("factor sign", f"SELECT -mag, +mag FROM {P}"),
    ("exact_numeric_literal forms", f"SELECT 1, 1.5, .5, 2. FROM {P}"),
    ("approximate_numeric_literal", f"SELECT 1e3, 1.5E-3, 2E+2 FROM {P}"),
    ("hexadecimal literal", f"SELECT 0xFF, 0X1a FROM {P}"),
    ("character_string_literal", f"SELECT 'text' FROM {P}"),
    ("quote_symbol in string", f"SELECT 'it''s' FROM {P}"),
    ("empty string", f"SELECT '' FROM {P}"),
    ("concatenation", f"SELECT name || ' suffix' FROM {P}"),
    ("NULL value", f"SELECT COALESCE(name, NULL, 'none') FROM {P}"),
    ("bitwise and", f"SELECT bits & 255 FROM {P}"),
    ("bitwise or", f"SELECT bits | 1 FROM {P}"),
    ("bitwise xor", f"SELECT bits ^ 1 FROM {P}"),
    ("bitwise not", f"SELECT ~bits FROM {P}"),
    ("ABS", f"SELECT ABS(mag) FROM {P}"),
    ("CEILING", f"SELECT CEILING(mag) FROM {P}"),
    ("DEGREES", f"SELECT DEGREES(mag) FROM {P}"),
    ("EXP", f"SELECT EXP(1) FROM {P}"),
    ("FLOOR", f"SELECT FLOOR(mag) FROM {P}"),
    ("LOG", f"SELECT LOG(mag) FROM {P}"),
    ("LOG10", f"SELECT LOG10(mag) FROM {P}"),
    ("MOD", f"SELECT MOD(id, 3) FROM {P}"),
    ("PI", f"SELECT PI() FROM {P}"),
    ("POWER", f"SELECT POWER(mag, 2) FROM {P}"),
    ("RADIANS", f"SELECT RADIANS(ra) FROM {P}"),
    ("RAND", f"SELECT RAND() FROM {P}"),
    ("RAND(seed)", f"SELECT RAND(42) FROM {P}"),
    ("ROUND(x)", f"SELECT ROUND(mag) FROM {P}"),
    ("ROUND(x, n)", f"SELECT ROUND(mag, 2) FROM {P}"),
    ("ROUND(x, -n)", f"SELECT ROUND(id, -1) FROM {P}"),
    ("SQRT", f"SELECT SQRT(mag) FROM {P}"),
    ("TRUNCATE(x)", f"SELECT TRUNCATE(mag) FROM {P}"),
    ("TRUNCATE(x, n)", f"SELECT TRUNCATE(mag, 1) FROM {P}"),
    ("ACOS", f"SELECT ACOS(0.5) FROM {P}"),
    ("ASIN", f"SELECT ASIN(0.5) FROM {P}"),
    ("ATAN", f"SELECT ATAN(0.5) FROM {P}"),
    ("ATAN2", f"SELECT ATAN2(1, 2) FROM {P}"),
    ("COS", f"SELECT COS(ra) FROM {P}"),
    ("COT", f"SELECT COT(ra) FROM {P}"),
    ("SIN", f"SELECT SIN(ra) FROM {P}"),
    ("TAN", f"SELECT TAN(ra) FROM {P}"),
    ("LOWER", f"SELECT LOWER(name) FROM {P}"),
    ("UPPER", f"SELECT UPPER(name) FROM {P}"),
    ("COALESCE", f"SELECT COALESCE(name, 'anonymous') FROM {P}"),
    ("CAST SMALLINT", f"SELECT CAST(id AS SMALLINT) FROM {P}"),
    ("CAST INTEGER", f"SELECT CAST(mag AS INTEGER) FROM {P}"),
    ("CAST BIGINT", f"SELECT CAST(id AS BIGINT) FROM {P}"),
    ("CAST REAL", f"SELECT CAST(id AS REAL) FROM {P}"),
    ("CAST DOUBLE PRECISION", f"SELECT CAST(id AS DOUBLE PRECISION) FROM {P}"),
    ("CAST CHAR(n)", f"SELECT CAST(id AS CHAR(10)) FROM {P}"),
    ("CAST VARCHAR", f"SELECT CAST(id AS VARCHAR) FROM {P}"),
    ("CAST VARCHAR(n)", f"SELECT CAST(id AS VARCHAR(4)) FROM {P}"),
    ("CAST TIMESTAMP", f"SELECT CAST('2020-01-01T00:00:00' AS TIMESTAMP) FROM {P}"),
    ("CAST POINT", f"SELECT CAST('10 20' AS POINT) FROM {P}"),
    ("CAST CIRCLE", f"SELECT CAST('10 20 1' AS CIRCLE) FROM {P}"),
    ("CAST POLYGON", f"SELECT CAST('10 20 11 20 11 21' AS POLYGON) FROM {P}"),
    ("searched CASE", f"SELECT CASE WHEN mag < 10 THEN 'bright' ELSE 'faint' END FROM {P}"),
    ("simple CASE", f"SELECT CASE flag WHEN 1 THEN 'yes' END FROM {P}"),
    ("IN_UNIT", f"SELECT IN_UNIT(ra, 'arcsec') FROM {P}"),
    ("point", f"SELECT POINT(ra, dec) FROM {P}"),
    ("point with coord_sys", f"SELECT POINT('ICRS', ra, dec) FROM {P}"),
    ("point with empty coord_sys", f"SELECT POINT('', ra, dec) FROM {P}"),
    ("circle", f"SELECT CIRCLE(10, 20, 1) FROM {P}"),
    ("circle with coord_sys", f"SELECT CIRCLE('ICRS', 10, 20, 1) FROM {P}"),
    ("circle_center coord_value", f"SELECT CIRCLE(POINT(10, 20), 1) FROM {P}"),
    ("box", f"SELECT BOX(10, 20, 2, 1) FROM {P}"),
    ("box with coord_sys", f"SELECT BOX('ICRS', 10, 20, 2, 1) FROM {P}"),
    ("box_center coord_value", f"SELECT BOX(POINT(10, 20), 2, 1) FROM {P}"),
    ("polygon coordinates", f"SELECT POLYGON(10, 20, 11, 20, 11, 21) FROM {P}"),
    ("polygon coord_values", f"SELECT POLYGON(POINT(10, 20), POINT(11, 20), POINT(11, 21)) FROM {P}"),
    ("polygon with coord_sys", f"SELECT POLYGON('ICRS', 10, 20, 11, 20, 11, 21, 10, 21) FROM {P}"),
    ("region", f"SELECT REGION('CIRCLE ICRS 10 20 1') FROM {P}"),
    ("centroid", f"SELECT CENTROID(CIRCLE(10, 20, 1)) FROM {P}"),
    ("centroid of polygon", f"SELECT CENTROID(POLYGON(10, 20, 11, 20, 11, 21)) FROM {P}"),
    ("coord1", f"SELECT COORD1(POINT(ra, dec)) FROM {P}"),
    ("coord2", f"SELECT COORD2(POINT(ra, dec)) FROM {P}"),
    ("coord1 of column", "SELECT COORD1(pos) FROM adqltest.regions"),
    ("extract_coordsys", f"SELECT COORDSYS(POINT(ra, dec)) FROM {P}"),
    ("area", f"SELECT AREA(CIRCLE(10, 20, 1)) FROM {P}"),
    ("area of box", f"SELECT AREA(BOX(10, 20, 1, 1)) FROM {P}"),
    ("distance points", f"SELECT DISTANCE(POINT(ra, dec), POINT(10, 20)) FROM {P}"),
    ("distance four numbers", f"SELECT DISTANCE(ra, dec, 10, 20) FROM {P}"),
    ("contains", f"SELECT id FROM {P} WHERE 1 = CONTAINS(POINT(ra, dec), CIRCLE(10, 20, 1))"),
    ("contains reversed", f"SELECT id FROM {P} WHERE CONTAINS(POINT(ra, dec), CIRCLE(10, 20, 1)) = 1"),
    ("contains = 0", f"SELECT id FROM {P} WHERE CONTAINS(POINT(ra, dec), CIRCLE(10, 20, 1)) = 0"),
    ("contains in select", f"SELECT CONTAINS(POINT(ra, dec), CIRCLE(10, 20, 1)) FROM {P}"),
    ("intersects", f"SELECT id FROM {P} WHERE 1 = INTERSECTS(CIRCLE(ra, dec, 1), BOX(10, 20, 2, 2))"),
    ("intersects with point", f"SELECT id FROM {P} WHERE 1 = INTERSECTS(POINT(ra, dec), CIRCLE(10, 20, 1))"),
    ("geometry column predicate", "SELECT id FROM adqltest.regions WHERE 1 = CONTAINS(pos, shape)"),
    ("MOC", f"SELECT id FROM {P} WHERE 1 = CONTAINS(POINT(ra, dec), MOC('3/1-5 4/88'))"),
    ("MOC(order, geometry)", f"SELECT id FROM {P} WHERE 1 = CONTAINS(POINT(ra, dec), MOC(5, CIRCLE(10, 20, 1)))"),
    ("user_defined_function", f"SELECT ivo_healpix_index(8, ra, dec) FROM {P}"),
    ("ivo_healpix_center", f"SELECT ivo_healpix_center(8, 100) FROM {P}"),
    ("ivo_hasword", f"SELECT id FROM {P} WHERE ivo_hasword(name, 'alpha') = 1"),
    ("ivo_nocasematch", f"SELECT id FROM {P} WHERE ivo_nocasematch(name, 'STAR%') = 1"),
    ("ivo_string_agg", f"SELECT flag, ivo_string_agg(name, ',') FROM {P} GROUP BY flag"),
    ("ivo_epoch_prop_pos", f"SELECT ivo_epoch_prop_pos(ra, dec, plx, 1, 1, 0, 2016, 2000) FROM {P}"),
    ("delimited identifier column", 'SELECT "Id", "VAL" FROM adqltest."Mixed"'),
    ("regular identifier any case", "SELECT ID, Mag FROM ADQLTEST.POINTS"),
    ("TAP_SCHEMA upper case", "SELECT * FROM TAP_SCHEMA.tables"),
    ("comment", f"SELECT id -- the identifier\nFROM {P}"),
    ("comment with three dashes", f"SELECT id --- x\nFROM {P}"),
    ("newlines and tabs", f"SELECT\tid\r\nFROM\n{P}"),
    ("timestamp comparison", "SELECT id FROM adqltest.regions WHERE obs_time > '2020-06-01'"),
]


@pytest.mark.parametrize(("production", "query"), VALID, ids=[v[0] for v in VALID])
def test_valid_production(production: str, query: str, catalog) -> None:
    assert parse(query) is not None
    validate(query)
    translation = translate(query, catalog)
    assert translation.sql.startswith(("SELECT", "WITH", "("))
    assert translation.columns


# (reason, query, line, at) -- ``at`` is the text the error must point to (None: anywhere)
INVALID = [
    ("missing FROM", "SELECT 1", None, None),
    ("missing select list", f"SELECT FROM {P}", 1, None),
    ("trailing comma in select list", f"SELECT id, FROM {P}", None, None),
    ("LIMIT", f"SELECT id FROM {P} LIMIT 5", 1, None),
    ("semicolon", f"SELECT id FROM {P};", 1, ";"),
    ("two statements", f"SELECT id FROM {P}; SELECT id FROM {P}", 1, ";"),
    ("PostgreSQL cast", f"SELECT id::text FROM {P}", 1, ":"),
    ("block comment", f"SELECT /* x */ id FROM {P}", 1, "/*"),
    ("TOP after DISTINCT keyword order", f"SELECT TOP 5 DISTINCT id FROM {P}", 1, "DISTINCT"),
    ("TOP expression", f"SELECT TOP (5) id FROM {P}", None, None),
    ("TOP negative", f"SELECT TOP -5 id FROM {P}", None, None),
    ("OFFSET before ORDER BY", f"SELECT id FROM {P} OFFSET 5 ORDER BY id", None, None),
    ("NULLS FIRST", f"SELECT id FROM {P} ORDER BY id NULLS FIRST", 1, "NULLS"),
    ("unknown function", f"SELECT foo(id) FROM {P}", 1, "foo"),
    ("PostgreSQL-only function", f"SELECT now() FROM {P}", 1, "now"),
    ("pg_sleep", f"SELECT pg_sleep(10) FROM {P}", 1, "pg_sleep"),
    ("pg_catalog table", "SELECT * FROM pg_catalog.pg_class", 1, "pg_catalog"),
    ("information_schema", "SELECT * FROM information_schema.tables", 1, "information_schema"),
    ("pg_ table", "SELECT * FROM pg_user", 1, "pg_user"),
    ("DROP", "DROP TABLE adqltest.points", None, None),
    ("INSERT", "INSERT INTO adqltest.points VALUES (1)", None, None),
    ("UPDATE", "UPDATE adqltest.points SET id = 1", None, None),
    ("DELETE", "DELETE FROM adqltest.points", None, None),
    ("CREATE", "CREATE TABLE x (a int)", None, None),
    ("SELECT INTO", f"SELECT id INTO newtable FROM {P}", None, None),
    ("FOR UPDATE", f"SELECT id FROM {P} FOR UPDATE", None, None),
    ("window function", f"SELECT COUNT(*) OVER () FROM {P}", None, None),
    ("ANY subquery", f"SELECT id FROM {P} WHERE id = ANY (SELECT id FROM {O})", None, None),
    ("array subscript", f"SELECT id[1] FROM {P}", 1, "["),
    ("dollar quoting", f"SELECT $$x$$ FROM {P}", 1, "$"),
    ("modulo operator", f"SELECT id % 2 FROM {P}", 1, "%"),
    ("question mark", f"SELECT id FROM {P} WHERE id = ?", None, None),
    ("double equals", f"SELECT id FROM {P} WHERE id == 1", None, None),
    ("boolean literal", f"SELECT id FROM {P} WHERE flag = TRUE", None, None),
    ("IS TRUE", f"SELECT id FROM {P} WHERE flag IS TRUE", None, None),
    ("CROSS JOIN", f"SELECT p.id FROM {P} AS p CROSS JOIN {O} AS o", None, None),
    ("LATERAL", f"SELECT p.id FROM {P} AS p, LATERAL (SELECT 1 FROM {O}) AS x", None, None),
    ("derived table without alias", f"SELECT id FROM (SELECT id FROM {P})", None, None),
    ("star mixed with columns", f"SELECT *, id FROM {P}", None, None),
    ("unterminated string", f"SELECT 'abc FROM {P}", 1, "'"),
    ("unterminated delimited identifier", f'SELECT "abc FROM {P}', 1, '"'),
    ("unbalanced parenthesis", f"SELECT (id FROM {P}", None, None),
    ("extra closing parenthesis", f"SELECT id) FROM {P}", None, None),
    ("number glued to word", f"SELECT 1abc FROM {P}", 1, "1abc"),
    ("malformed hex", f"SELECT 0xZZ FROM {P}", 1, "0xZZ"),
    ("identifier with dollar", f"SELECT a$b FROM {P}", None, None),
    ("identifier starting with underscore", f"SELECT _id FROM {P}", 1, "_id"),
    ("non-ASCII identifier", f"SELECT größe FROM {P}", 1, "größe"),
    ("LIKE ESCAPE", f"SELECT id FROM {P} WHERE name LIKE 'a' ESCAPE 'b'", None, None),
    ("DISTINCT ON", f"SELECT DISTINCT ON (id) id FROM {P}", None, None),
    ("WITH RECURSIVE", f"WITH RECURSIVE a AS (SELECT id FROM {P}) SELECT * FROM a", None, None),
    ("missing operand", f"SELECT id + FROM {P}", None, None),
    ("dangling AND", f"SELECT id FROM {P} WHERE id = 1 AND", None, None),
    ("empty IN list", f"SELECT id FROM {P} WHERE id IN ()", None, None),
    ("GROUP without BY", f"SELECT id FROM {P} GROUP id", None, None),
    ("ORDER without BY", f"SELECT id FROM {P} ORDER id", None, None),
    ("bare comparison operator", f"SELECT id FROM {P} WHERE = 1", None, None),
    ("INTERVAL", f"SELECT INTERVAL '1 day' FROM {P}", None, None),
    ("EXTRACT", "SELECT EXTRACT(YEAR FROM obs_time) FROM adqltest.regions", None, None),
    ("SUBSTRING", f"SELECT SUBSTRING(name FROM 1 FOR 2) FROM {P}", None, None),
    ("TRIM", f"SELECT TRIM(name) FROM {P}", None, None),
    ("NULLIF", f"SELECT NULLIF(id, 0) FROM {P}", None, None),
    ("CAST to TEXT", f"SELECT CAST(id AS TEXT) FROM {P}", None, None),
    ("CAST to INT", f"SELECT CAST(id AS INT) FROM {P}", None, None),
    ("CAST to BOX", f"SELECT CAST('1 2 3 4' AS BOX) FROM {P}", None, None),
    ("VALUES", "VALUES (1), (2)", None, None),
    ("TABLE statement", "TABLE adqltest.points", None, None),
]


@pytest.mark.parametrize(("reason", "query", "line", "at"), INVALID, ids=[v[0] for v in INVALID])
def test_invalid_query(reason: str, query: str, line: int | None, at: str | None, catalog) -> None:
    with pytest.raises(AdqlError) as info:
        translate(query, catalog)
    error = info.value
    assert error.message
    if line is not None:
        assert error.line == line
    if at is not None:
        assert error.column == query.index(at) + 1


# Invalid only because of the catalog (unknown tables/functions): syntax-only validation accepts them.
CATALOG_DEPENDENT = {"unknown function", "PostgreSQL-only function", "pg_sleep", "pg_catalog table",
                     "information_schema", "pg_ table", "CAST to BOX"}


@pytest.mark.parametrize(
    ("reason", "query"), [(r, q) for r, q, *_ in INVALID if r not in CATALOG_DEPENDENT],
    ids=[r for r, *_ in INVALID if r not in CATALOG_DEPENDENT],
)
def test_invalid_without_catalog(reason: str, query: str) -> None:
    with pytest.raises(AdqlError):
        validate(query)


SYNTAX_ONLY_VALID = [
    "SELECT * FROM some_schema.some_table WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 1, 2, 3))",
    "SELECT t.a, u.b FROM t JOIN u USING (id) WHERE t.c > 3",
    "SELECT gavo_specconv(a, 'm') FROM t",
    "SELECT DISTANCE(pos, POINT(1, 2)), COORD1(pos), AREA(s_region), CENTROID(s_region) FROM ivoa.obscore",
    "SELECT * FROM a UNION SELECT x, y FROM b",
    "SELECT IN_UNIT(a, 'km/s') FROM t",
    "WITH c AS (SELECT * FROM t) SELECT c.y FROM c ORDER BY 2",
    "SELECT a FROM t WHERE a IN (SELECT b FROM u WHERE u.c = t.d)",
    '(SELECT "Strange Column" FROM "Odd Table")',
    "SELECT POLYGON(p1, p2, p3) FROM t",
    "SELECT a, COUNT(*) FROM t GROUP BY a HAVING COUNT(*) > 2 ORDER BY 2 DESC OFFSET 3",
]


@pytest.mark.parametrize("query", SYNTAX_ONLY_VALID)
def test_valid_without_catalog(query: str) -> None:
    assert validate(query) == []


def test_validate_rejects_unknown_units_and_reserved_function_names() -> None:
    with pytest.raises(AdqlError, match="unknown unit"):
        validate("SELECT IN_UNIT(a, 'nonsense_unit') FROM t")
    with pytest.raises(AdqlError, match="unknown function 'TRIM'"):
        validate("SELECT TRIM(a) FROM t")


def test_with_only_at_the_top() -> None:
    with pytest.raises(AdqlError, match="WITH is only allowed"):
        validate("SELECT * FROM (WITH a AS (SELECT x FROM t) SELECT * FROM a) AS s")
    assert validate("WITH a AS (SELECT x FROM t) SELECT * FROM a WHERE x IN (SELECT x FROM a)") == []


def test_catalog_qualified_names() -> None:
    assert validate("SELECT cat.sch.tab.a FROM cat.sch.tab") == []


def test_delimited_identifier_with_escaped_quote(catalog) -> None:
    translation = translate(f'SELECT id AS "a""b" FROM {P}', catalog)
    assert translation.columns[0].name == 'a"b' and '"a""b"' in translation.sql
