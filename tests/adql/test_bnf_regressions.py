"""Sentences of the ADQL 2.1 BNF that the translator once rejected, found by the
grammar-driven generator (tests/adql/bnf_generator.py); each test names the
production it exercises."""

from __future__ import annotations

import pytest

from adql import AdqlError, translate, validate
from tests.adql.support import CATALOG, run


def accepts(query: str) -> None:
    assert isinstance(validate(query), list)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT ABS(CAST(mag AS SMALLINT)) FROM adqltest.points",
        "SELECT (CAST(mag AS REAL)) + 1 FROM adqltest.points",
        "SELECT COALESCE(CAST(name AS VARCHAR(3)), 'x') FROM adqltest.points",
        "SELECT * FROM adqltest.points ORDER BY (CAST(mag AS REAL)) DESC",
        "SELECT * FROM adqltest.points WHERE (name = CAST(id AS CHAR(5))) AND id = 1",
    ],
)
def test_cast_specification_inside_parentheses(query: str) -> None:
    """<cast_specification> as an argument or inside <left_paren> <value_expression> <right_paren>:
    the closing parenthesis of CAST was consumed twice."""
    accepts(query)
    translate(query, CATALOG)


@pytest.mark.parametrize("query", ["SELECT CAST(mag AS REAL FROM adqltest.points",
                                   "SELECT CAST(mag AS VARCHAR(2) FROM adqltest.points",
                                   "SELECT ABS(CAST(mag AS REAL) FROM adqltest.points"])
def test_cast_specification_still_needs_its_parenthesis(query: str) -> None:
    with pytest.raises(AdqlError) as info:
        validate(query)
    assert info.value.line == 1 and info.value.column


@pytest.mark.parametrize(
    ("query", "value"),
    [
        ("SELECT DISTINCT .5 FROM adqltest.points", "0.5"),
        ("SELECT ALL .5E+1 FROM adqltest.points", "5.0"),
        ("SELECT COUNT(DISTINCT .25) FROM adqltest.points", "0.25"),
    ],
)
def test_exact_numeric_literal_with_leading_period_after_set_quantifier(query: str, value: str) -> None:
    """<exact_numeric_literal> ::= <period> <unsigned_decimal> right after DISTINCT/ALL was a syntax error."""
    accepts(query)
    assert value in translate(query, CATALOG).sql


@pytest.mark.parametrize("query", ["SELECT a FROM t WHERE a = ..5", "SELECT t.5 FROM t", "SELECT a FROM t WHERE a = . 5"])
def test_period_numbers_still_malformed(query: str) -> None:
    with pytest.raises(AdqlError):
        validate(query)


_EXISTS_PARENTHESISED = [
    "SELECT id FROM adqltest.points AS p WHERE EXISTS ((SELECT id FROM adqltest.other AS o WHERE o.id = p.id))",
    "SELECT id FROM adqltest.points AS p WHERE EXISTS ((SELECT id FROM adqltest.other AS o WHERE o.id = p.id) "
    "UNION (SELECT id FROM adqltest.other WHERE id < 0))",
    "SELECT id FROM adqltest.points AS p WHERE NOT EXISTS ((SELECT id FROM adqltest.other AS o WHERE o.id = p.id) "
    "ORDER BY 1 OFFSET 0)",
]


@pytest.mark.parametrize("query", _EXISTS_PARENTHESISED)
def test_exists_predicate_with_parenthesised_query_expression(sky, query_dsn: str, query: str) -> None:
    """<exists_predicate> ::= EXISTS <table_subquery> whose <query_expression> starts with
    <query_set_primary> ::= ( <select_expression> ) was "unknown function 'EXISTS'"."""
    accepts(query)
    rows = run(query_dsn, translate(query, CATALOG).sql)
    ids = {row[0] for row in rows}
    if "NOT EXISTS" in query:
        assert all(i >= 2000 for i in ids) and len(ids) == 8000
    else:
        assert ids == set(range(2000))


@pytest.mark.parametrize("query", ["SELECT a FROM t WHERE EXISTS (1)", "SELECT a FROM t WHERE EXISTS ((1))",
                                   "SELECT a FROM t WHERE EXISTS (SELECT a FROM t",
                                   "SELECT a FROM t WHERE EXISTS (SELECT a FROM t) AS x"])
def test_exists_predicate_still_needs_a_subquery(query: str) -> None:
    with pytest.raises(AdqlError) as info:
        validate(query)
    assert info.value.line == 1


@pytest.mark.parametrize(
    "query",
    [
        "SELECT COUNT(*) FROM ((adqltest.points AS p JOIN adqltest.other AS o ON p.id = o.id))",
        "SELECT COUNT(*) FROM (((adqltest.points AS p JOIN adqltest.other AS o ON p.id = o.id)))",
        "SELECT COUNT(*) FROM adqltest.Mixed AS m RIGHT JOIN ((adqltest.points AS p JOIN adqltest.other AS o "
        "ON p.id = o.id)) ON m.id = p.id",
    ],
)
def test_joined_table_in_nested_parentheses(sky, query_dsn: str, query: str) -> None:
    """<joined_table> ::= <left_paren> <joined_table> <right_paren> applied twice was taken for a
    derived table without a correlation name."""
    accepts(query)
    assert run(query_dsn, translate(query, CATALOG).sql) == [(2000,)]


@pytest.mark.parametrize("query", ["SELECT * FROM ((a))", "SELECT * FROM ((SELECT x FROM a))"])
def test_parenthesised_table_is_not_a_joined_table(query: str) -> None:
    with pytest.raises(AdqlError):
        validate(query)


@pytest.mark.parametrize(
    "query",
    [
        "SELECT COUNT(*) FROM adqltest.points WHERE NOT NULL BETWEEN 1 AND 2",
        "SELECT COUNT(*) FROM adqltest.points WHERE NOT NULL IN (1, 2)",
        "SELECT COUNT(*) FROM adqltest.points WHERE id >= 0 AND NOT NULL = id",
    ],
)
def test_boolean_factor_not_before_a_null_value(sky, query_dsn: str, query: str) -> None:
    """<boolean_factor> ::= NOT <boolean_primary> whose predicate starts with the <value_expression>
    NULL was taken for a misspelt IS NOT NULL."""
    accepts(query)
    assert run(query_dsn, translate(query, CATALOG).sql) == [(0,)]


@pytest.mark.parametrize("query", ["SELECT a FROM t WHERE a NOT NULL", "SELECT a FROM t WHERE (a) NOT NULL",
                                   "SELECT a FROM t WHERE 'x' NOT NULL"])
def test_not_null_after_a_value_is_still_an_error(query: str) -> None:
    with pytest.raises(AdqlError) as info:
        validate(query)
    assert "IS NOT NULL" in info.value.message


@pytest.mark.parametrize(
    "query",
    [
        "SELECT s FROM t UNION SELECT 'x' FROM u",
        "SELECT a, b FROM t EXCEPT SELECT CAST(c AS VARCHAR), 1 FROM u",
        "SELECT a FROM t WHERE EXISTS (SELECT b FROM u INTERSECT SELECT POINT(1, 2) FROM v)",
    ],
)
def test_query_set_expression_with_columns_of_unknown_tables(query: str) -> None:
    """<query_set_expression> UNION/EXCEPT/INTERSECT: without a catalog a column's type is unknown
    and must not be reported as incompatible with the other side."""
    accepts(query)


def test_query_set_expression_still_checks_known_types() -> None:
    with pytest.raises(AdqlError) as info:
        validate("SELECT 'x' FROM t UNION SELECT 1 FROM t")
    assert "incompatible" in info.value.message


@pytest.mark.parametrize(
    "query",
    [
        "SELECT COUNT(*) FROM ((SELECT id FROM adqltest.points) AS x JOIN adqltest.other AS o ON x.id = o.id)",
        "SELECT COUNT(*) FROM (((SELECT id FROM adqltest.points) AS x JOIN (SELECT id FROM adqltest.other) AS y "
        "USING (id)))",
    ],
)
def test_parenthesised_joined_table_starting_with_a_derived_table(sky, query_dsn: str, query: str) -> None:
    """( <qualified_join> ) whose first <table_reference> is <derived_table> <correlation_specification>
    was "a subquery in FROM needs a correlation name"."""
    accepts(query)
    assert run(query_dsn, translate(query, CATALOG).sql) == [(2000,)]


def test_coalesce_expression_of_geometries(sky, query_dsn: str) -> None:
    """<coalesce_expression> takes any <value_expression>, geometries included: arguments of one
    shape give a geometry of that shape."""
    query = ("SELECT id, COALESCE(pos, POINT(1, 2)) AS p, COORD2(COALESCE(pos, POINT(1, 2))) AS d, "
             "AREA(COALESCE(shape, BOX(10, 20, 1, 1))) AS a FROM adqltest.regions "
             "WHERE 1 = CONTAINS(POINT(10, 20), COALESCE(cone, CIRCLE(1, 2, 3))) ORDER BY id")
    accepts(query)
    translation = translate(query, CATALOG)
    assert [(c.xtype, c.arraysize) for c in translation.columns[1:2]] == [("point", "2")]
    rows = run(query_dsn, translation.sql)
    assert [(row[0], list(row[1]), row[2]) for row in rows] == [(1, [10.0, 20.0], 20.0)]
    assert 3.5 < rows[0][3] < 4.5  # the polygon of row 1 spans 2 x 2 degrees


@pytest.mark.parametrize("query", ["SELECT COALESCE(pos, CIRCLE(1, 2, 3)) FROM adqltest.regions",
                                   "SELECT COALESCE(pos, 1) FROM adqltest.regions"])
def test_coalesce_expression_of_mixed_shapes_is_an_error(query: str) -> None:
    with pytest.raises(AdqlError) as info:
        translate(query, CATALOG)
    assert "COALESCE" in info.value.message and info.value.line == 1


def test_group_by_term_constant_value_expression(sky, query_dsn: str) -> None:
    """<group_by_term> ::= <value_expression>, a literal included: it groups by its value (one group),
    it is not an output column position."""
    query = "SELECT COUNT(*) AS n, MAX(id) AS m FROM adqltest.points GROUP BY 2, 'x', NULL"
    accepts(query)
    assert run(query_dsn, translate(query, CATALOG).sql) == [(10_000, 9_999)]
    empty = "SELECT COUNT(*) FROM adqltest.points WHERE id < 0 GROUP BY 1"
    assert run(query_dsn, translate(empty, CATALOG).sql) == []


def test_order_by_expression_geometry(sky, query_dsn: str) -> None:
    """<order_by_expression> ::= <value_expression> includes geometries; they sort as their DALI arrays."""
    query = "SELECT id FROM adqltest.regions ORDER BY pos DESC, CIRCLE(1, 2, 3)"
    accepts(query)
    assert run(query_dsn, translate(query, CATALOG).sql) == [(2,), (1,)]


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("SELECT COUNT(*) FROM adqltest.Mixed AS a JOIN adqltest.Mixed AS b FULL JOIN adqltest.regions AS c "
         "ON a.id = c.id", 3 * 3 + 2),
        ("SELECT COUNT(*) FROM adqltest.Mixed AS a JOIN adqltest.Mixed AS b JOIN adqltest.Mixed AS c "
         "ON a.id = c.id", 3 * 3),
    ],
)
def test_qualified_join_without_join_specification_keeps_its_left_side(sky, query_dsn: str, query: str,
                                                                        count: int) -> None:
    """<qualified_join> ::= <table_reference> JOIN <table_reference> (no <join_specification>) was read
    as a comma, so a following join's ON condition could not use the first table."""
    accepts(query)
    sql = translate(query, CATALOG).sql
    assert "CROSS JOIN" in sql
    assert run(query_dsn, sql) == [(count,)]


def test_named_columns_join_inside_parentheses_after_other_tables(sky, query_dsn: str) -> None:
    """<named_columns_join> (USING) in a parenthesised <joined_table> that follows other FROM items:
    the USING column was looked up in those items too and reported ambiguous."""
    query = ("SELECT COUNT(*) FROM adqltest.Mixed AS m, adqltest.points AS p LEFT JOIN "
             "(adqltest.other AS o LEFT JOIN adqltest.regions AS r USING (id)) ON o.id = p.id")
    accepts(query)
    assert run(query_dsn, translate(query, CATALOG).sql) == [(3 * 10_000,)]


def test_ambiguous_column_reference_has_a_position() -> None:
    with pytest.raises(AdqlError) as info:
        translate("SELECT r.id FROM (SELECT id, id FROM adqltest.points) AS r", CATALOG)
    assert "ambiguous" in info.value.message and (info.value.line, info.value.column) == (1, 8)


def test_errors_about_null_have_a_position() -> None:
    """<value_expression> ::= NULL: an error about it points at it."""
    with pytest.raises(AdqlError) as info:
        translate("SELECT DISTINCT id FROM adqltest.points ORDER BY NULL", CATALOG)
    assert (info.value.line, info.value.column) == (1, 50)


@pytest.mark.parametrize(
    ("query", "count"),
    [
        ("SELECT COUNT(*) FROM adqltest.points AS a JOIN adqltest.other AS b USING (id) "
         "JOIN adqltest.Mixed AS c USING (id)", 3),
        ("SELECT COUNT(*) FROM adqltest.points AS a NATURAL JOIN adqltest.other AS b "
         "NATURAL JOIN adqltest.regions AS c", 0),
    ],
)
def test_named_columns_join_after_a_merging_join(sky, query_dsn: str, query: str, count: int) -> None:
    """<named_columns_join> / NATURAL after a join that merged the column: it is one column, not two."""
    accepts(query)
    assert run(query_dsn, translate(query, CATALOG).sql) == [(count,)]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT COUNT(*) FROM adqltest.points AS a JOIN adqltest.other AS b ON a.id = b.id "
        "JOIN adqltest.Mixed AS c USING (id)",
        "SELECT COUNT(*) FROM adqltest.points AS a JOIN adqltest.other AS b NATURAL JOIN adqltest.Mixed AS c",
    ],
)
def test_join_on_a_column_twice_in_the_left_tables_is_an_error(query: str) -> None:
    """PostgreSQL: 'common column name appears more than once in left table'; an ADQL error instead."""
    with pytest.raises(AdqlError) as info:
        translate(query, CATALOG)
    assert "ambiguous in the left tables" in info.value.message and info.value.line == 1


def test_general_set_function_of_null(sky, query_dsn: str) -> None:
    """<general_set_function> of the <value_expression> NULL: PostgreSQL cannot resolve avg(unknown)."""
    query = "SELECT AVG(NULL), SUM((NULL)), MAX(NULL), MIN(ALL NULL), COUNT(NULL) FROM adqltest.points"
    accepts(query)
    translation = translate(query, CATALOG)
    assert run(query_dsn, translation.sql) == [(None, None, None, None, 0)]
    assert [c.datatype for c in translation.columns] == ["double", "double", "char", "char", "long"]


def test_order_by_constant_value_expression(sky, query_dsn: str) -> None:
    """<order_by_expression> ::= <value_expression> that is a constant other than an unsigned integer
    (a position): PostgreSQL rejected "non-integer constant in ORDER BY" or read (1) as a position."""
    query = "SELECT id FROM adqltest.points WHERE id < 3 ORDER BY (NULL) DESC, 'x', (5), 1 DESC"
    accepts(query)
    assert run(query_dsn, translate(query, CATALOG).sql) == [(2,), (1,), (0,)]


@pytest.mark.parametrize(
    "query",
    [
        "SELECT BOX(1, 2, 3, SUM(ra)), ra FROM adqltest.points",
        "SELECT ra FROM adqltest.points ORDER BY CIRCLE(1, 2, COUNT(*))",
        "SELECT ra FROM adqltest.points ORDER BY DISTANCE(1, 2, 3, COUNT(*))",
    ],
)
def test_geometry_value_function_of_an_aggregate_groups_the_query(query: str) -> None:
    """<geometry_value_function>/<distance_function> with a <set_function_specification> argument makes
    the query grouped: an ungrouped column is an ADQL error, not a PostgreSQL one."""
    with pytest.raises(AdqlError) as info:
        translate(query, CATALOG)
    assert "GROUP BY" in info.value.message and info.value.line == 1


def test_geometry_value_function_of_aggregates_runs(sky, query_dsn: str) -> None:
    query = "SELECT COORD2(POINT(1, MAX(dec))), ivo_healpix_index(0, MIN(ra), 0) FROM adqltest.points"
    accepts(query)
    assert run(query_dsn, translate(query, CATALOG).sql) == [(90.0, 4)]


@pytest.mark.parametrize(
    ("query", "rows"),
    [
        ("SELECT COUNT(*) FROM (SELECT * FROM adqltest.regions AS a NATURAL JOIN adqltest.regions AS b, "
         "adqltest.regions AS c) AS q", [(4,)]),
        ("SELECT id FROM adqltest.regions AS a FULL JOIN adqltest.Mixed AS b USING (id) ORDER BY id",
         [(1,), (2,), (10,), (20,), (30,)]),
        ("SELECT COUNT(*) FROM (SELECT * FROM adqltest.regions AS r RIGHT JOIN adqltest.Mixed AS o USING (id), "
         "adqltest.regions AS z) AS q", [(6,)]),
        ("SELECT o.id, COUNT(*) FROM adqltest.regions AS r RIGHT JOIN adqltest.other AS o USING (id), "
         "adqltest.regions AS z WHERE o.id < 3 GROUP BY o.id ORDER BY o.id", [(0, 2), (1, 2), (2, 2)]),
    ],
)
def test_merged_join_column_next_to_a_same_named_column(sky, query_dsn: str, query: str, rows: list) -> None:
    """The column merged by <named_columns_join> or NATURAL was written unqualified, ambiguous in
    PostgreSQL when another FROM item has a column of that name; it is now the left, right or
    COALESCE of both columns, as the join type defines it."""
    accepts(query)
    assert run(query_dsn, translate(query, CATALOG).sql) == rows


@pytest.mark.parametrize(
    ("query", "second"),
    [
        ("SELECT * FROM (SELECT id, id FROM adqltest.regions) AS r ORDER BY 1", 1),
        ("WITH w AS (SELECT a.id, b.id FROM adqltest.regions AS a, adqltest.regions AS b WHERE a.id = b.id) "
         "SELECT * FROM w ORDER BY 1", 1),
        ("SELECT q.* FROM (SELECT * FROM adqltest.regions AS a JOIN adqltest.regions AS b ON a.id = b.id) AS q "
         "ORDER BY 1", 5),
    ],
)
def test_derived_table_with_repeated_column_names(sky, query_dsn: str, query: str, second: int) -> None:
    """<derived_table> / <with_query> whose select list repeats a name (SELECT a, a or SELECT * of a
    join): SELECT * of it was ambiguous in PostgreSQL; the repeated names get distinct SQL names."""
    accepts(query)
    rows = run(query_dsn, translate(query, CATALOG).sql)
    assert [(row[0], row[second]) for row in rows] == [(1, 1), (2, 2)]


def test_order_and_group_by_folded_constants(sky, query_dsn: str) -> None:
    """A <value_expression> the translator folds to a literal (COORDSYS(...) is 'ICRS') in ORDER BY or
    GROUP BY: PostgreSQL rejected "non-integer constant"."""
    query = ("SELECT COUNT(*) FROM adqltest.points WHERE id < 3 GROUP BY COORDSYS(POINT(1, 2)) "
             "ORDER BY COORDSYS(CIRCLE(1, 2, 3))")
    accepts(query)
    assert run(query_dsn, translate(query, CATALOG).sql) == [(3,)]


@pytest.mark.parametrize(
    ("query", "rows"),
    [
        ("SELECT COUNT(*) FROM adqltest.points WHERE id IN (SELECT NULL FROM adqltest.other)", [(0,)]),
        ("(SELECT NULL AS x, name FROM adqltest.points WHERE id = 1 ORDER BY 2) UNION ALL "
         "(SELECT 2.5, 'y' FROM adqltest.other WHERE id = 1) ORDER BY 1", [(2.5, "y"), (None, "star 1 beta")]),
    ],
)
def test_bare_null_column_of_a_subquery_takes_the_other_type(sky, query_dsn: str, query: str, rows: list) -> None:
    """<in_predicate> with a <table_subquery> selecting NULL, and a <query_set_expression> whose
    parenthesised side selects NULL: PostgreSQL types such a column text ("operator does not exist:
    integer = text", "UNION types text and double precision cannot be matched")."""
    accepts(query)
    assert run(query_dsn, translate(query, CATALOG).sql) == rows


@pytest.mark.parametrize("query", ['SELECT x FROM t AS "a""b1" ("a""b1" "c""d")', 'SELECT * FROM t AS x ( a "a""b" )'])
def test_typed_column_list_after_a_correlation_name_is_an_adql_error(query: str) -> None:
    """Not ADQL (<correlation_specification> takes no column list): sqlglot's re-tokenising of the
    'type' raised its own TokenError instead of an AdqlError."""
    with pytest.raises(AdqlError) as info:
        validate(query)
    assert info.value.line == 1


@pytest.mark.parametrize(
    "query",
    [
        "SELECT COUNT(*) FROM adqltest.Mixed AS a, adqltest.Mixed AS b JOIN adqltest.Mixed AS c ON a.id = c.id",
        "SELECT COUNT(*) FROM adqltest.Mixed AS a JOIN (adqltest.Mixed AS b JOIN adqltest.Mixed AS c "
        "ON a.id = c.id) ON a.id = b.id",
    ],
)
def test_join_condition_sees_only_its_join(query: str) -> None:
    """<join_condition> may use the tables of its join (and enclosing queries) only; PostgreSQL
    reported "invalid reference to FROM-clause entry" for the SQL, now an ADQL error."""
    with pytest.raises(AdqlError) as info:
        translate(query, CATALOG)
    assert "unknown table or alias 'a'" in info.value.message and info.value.line == 1


def test_join_condition_still_sees_enclosing_queries_and_earlier_joins(sky, query_dsn: str) -> None:
    query = ("SELECT COUNT(*) FROM adqltest.Mixed AS m WHERE EXISTS (SELECT * FROM adqltest.Mixed AS a "
             "JOIN adqltest.Mixed AS b JOIN adqltest.Mixed AS c ON a.id = c.id AND c.id = m.id)")
    accepts(query)
    assert run(query_dsn, translate(query, CATALOG).sql) == [(3,)]


def test_arithmetic_on_null(sky, query_dsn: str) -> None:
    """<factor> ::= [ <sign> ] <numeric_primary> and <term>/<numeric_value_expression> on the
    <value_expression> NULL: PostgreSQL's "operator is not unique: - unknown"."""
    query = "SELECT -(NULL), (NULL) * (NULL), - COALESCE(NULL) + 1 FROM adqltest.Mixed WHERE id = 10"
    accepts(query)
    assert run(query_dsn, translate(query, CATALOG).sql) == [(None, None, None)]


def test_qualified_join_whose_right_table_reference_is_an_unparenthesised_join(sky, query_dsn: str) -> None:
    """<qualified_join> ::= <table_reference> [ <join_type> ] JOIN <table_reference> [ <join_specification> ]
    with a <joined_table> as the right <table_reference>: "a LEFT JOIN b JOIN c ON x ON y" was
    "unexpected join here"."""
    query = ("SELECT COUNT(*) FROM adqltest.Mixed AS a LEFT JOIN adqltest.Mixed AS b JOIN adqltest.regions AS c "
             "ON b.id = c.id ON a.id = b.id")
    accepts(query)
    sql = translate(query, CATALOG).sql
    assert 'LEFT OUTER JOIN ("adqltest"."Mixed" AS "t2" INNER JOIN' in sql
    assert run(query_dsn, sql) == [(3,)]


# Non-sentences the translator accepted or failed on, found by the membership oracle
# (tests/adql/bnf_recognizer.py, tests/adql/test_bnf_oracle.py).


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ("SELECT * FROM . adqltest.points", 15),  # accepted as adqltest.points
        ("SELECT * FROM adqltest . . points", 26),  # internal error (AttributeError)
        ("SELECT * FROM adqltest..points", 24),
        ("SELECT a FROM adqltest.points AS p, . p", 37),
    ],
)
def test_table_name_parts_before_a_period_are_names(query: str, column: int) -> None:
    """<table_name> ::= [ <schema_name> <period> ] <identifier>: a period always follows a name."""
    with pytest.raises(AdqlError, match="'.' must follow a name") as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)
    accepts('SELECT p.id, "p".mag, adqltest.points.* FROM adqltest.points AS p, adqltest . points')


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ("SELECT + * FROM adqltest.points", 8),  # '+' was dropped
        ("SELECT id FROM adqltest.points WHERE + (mag IS NULL)", 38),
        ("SELECT - -mag FROM adqltest.points", 8),
        ("SELECT +-mag FROM adqltest.points", 8),
    ],
)
def test_factor_has_one_sign_before_a_numeric_primary(query: str, column: int) -> None:
    """<factor> ::= [ <sign> ] <numeric_primary>."""
    with pytest.raises(AdqlError, match="must be followed by a numeric value") as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)
    accepts("SELECT +mag, -mag, 1 - -mag, 2 * -mag, -(mag), +(mag), -ROUND(mag, -1) FROM adqltest.points")


def test_between_predicate_needs_and() -> None:
    """<between_predicate> ::= <value_expression> [ NOT ] BETWEEN <value_expression> AND <value_expression>:
    "mag BETWEEN 1 2" was read as "BETWEEN 1 AND 2"."""
    with pytest.raises(AdqlError, match="BETWEEN needs AND") as info:
        validate("SELECT id FROM adqltest.points WHERE mag BETWEEN 1 2")
    assert (info.value.line, info.value.column) == (1, 52)
    accepts("SELECT id FROM adqltest.points WHERE mag NOT BETWEEN 1 AND 2")


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ("SELECT * FROM 'points'", 15),
        ("SELECT * FROM adqltest.'points'", 24),
        ("SELECT * FROM adqltest.points AS p, 'x'", 37),
    ],
)
def test_table_name_is_an_identifier_not_a_string(query: str, column: int) -> None:
    """<table_name> ::= [ <schema_name> <period> ] <identifier>: sqlglot read a string literal as a name."""
    with pytest.raises(AdqlError) as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)


def test_character_string_type_length_is_not_empty() -> None:
    """<character_string_type> ::= VARCHAR [ <left paren> <length> <right paren> ]: "VARCHAR()" was accepted."""
    with pytest.raises(AdqlError, match="expected a length") as info:
        validate("SELECT CAST(mag AS VARCHAR()) FROM adqltest.points")
    assert (info.value.line, info.value.column) == (1, 28)
    accepts("SELECT CAST(mag AS VARCHAR(3)), CAST(mag AS CHAR) FROM adqltest.points")


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ("SELECT * FROM adqltest.points * p", 31),  # PostgreSQL's inheritance '*', skipped by sqlglot
        ("SELECT * FROM adqltest.points * WHERE mag > 1", 31),
    ],
)
def test_table_reference_has_no_star_suffix(query: str, column: int) -> None:
    """<table_reference> ::= <table_name> [ <correlation_specification> ]: no '*' after the name."""
    with pytest.raises(AdqlError, match=r"unexpected '\*' after a table name") as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)


def test_boolean_factor_has_one_not() -> None:
    """<boolean_factor> ::= [ NOT ] <boolean_primary>: "NOT NOT p" was accepted."""
    with pytest.raises(AdqlError, match="NOT NOT needs parentheses") as info:
        validate("SELECT id FROM adqltest.points WHERE NOT NOT mag > 1")
    assert (info.value.line, info.value.column) == (1, 42)
    accepts("SELECT id FROM adqltest.points WHERE NOT (NOT mag > 1) AND NOT mag NOT IN (1) AND NOT mag NOT "
            "BETWEEN 1 AND 2 AND NOT name NOT LIKE 'x' AND name IS NOT NULL")


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ("SELECT , id FROM adqltest.points", 8),
        ("SELECT id FROM adqltest.points GROUP BY , id", 41),
        ("SELECT id FROM adqltest.points ORDER BY , id", 41),
        ("SELECT id FROM adqltest.points WHERE id IN (, 1)", 45),
        ("SELECT COUNT(DISTINCT , id) FROM adqltest.points", 23),
    ],
)
def test_lists_start_with_an_item(query: str, column: int) -> None:
    """<select_list>, <group_by_term_list>, <order_by_term_list>, <in_value_list>: a leading comma was accepted."""
    with pytest.raises(AdqlError, match="unexpected ','") as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ("SELECT AS id FROM adqltest.points", 8),  # read as the column "id"
        ("SELECT DISTINCT AS id FROM adqltest.points", 17),
    ],
)
def test_as_clause_follows_a_value(query: str, column: int) -> None:
    """<derived_column> ::= <value_expression> [ <as_clause> ]: an AS with no value before it was accepted."""
    with pytest.raises(AdqlError, match="unexpected AS") as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)
    accepts("SELECT id AS a, 1 AS b, 'x' AS c, NULL AS d, CAST(NULL AS INTEGER) AS e FROM adqltest.points AS p")


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ("SELECT id FROM adqltest.points ORDER BY id WHERE mag > 1", "WHERE cannot follow ORDER BY", 44),
        ("SELECT id FROM adqltest.points HAVING id > 1 GROUP BY id", "GROUP BY cannot follow HAVING", 46),
        ("SELECT id FROM adqltest.points WHERE id = 1 JOIN adqltest.points AS q USING (id)",
         "JOIN cannot follow WHERE", 45),
        ("SELECT id FROM adqltest.points WHERE id = 1 WHERE id = 2", "WHERE cannot follow WHERE", 45),
        ("SELECT id FROM adqltest.points ORDER BY id UNION SELECT id FROM adqltest.points",
         "UNION cannot follow ORDER BY", 44),
    ],
)
def test_select_query_clauses_in_order(query: str, message: str, column: int) -> None:
    """<select_query> ::= SELECT ... <from_clause> [ <where_clause> ] [ <group_by_clause> ] [ <having_clause> ]
    and <select_expression> ::= <query_set_expression> [ <order_by_clause> ] [ <offset_clause> ]:
    sqlglot took the clauses in any order."""
    with pytest.raises(AdqlError, match=message) as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)
    accepts("(SELECT id FROM adqltest.points ORDER BY id OFFSET 1) UNION (SELECT id FROM adqltest.points AS p "
            "JOIN adqltest.points AS q USING (id) WHERE id IN (SELECT id FROM adqltest.points GROUP BY id "
            "HAVING COUNT(*) > 1) GROUP BY id HAVING id > 1) ORDER BY 1 OFFSET 2")


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ("SELECT INTERSECT FROM adqltest.points", "the select list is empty", 8),  # read as FROM-first query
        ("SELECT DISTINCT EXCEPT FROM adqltest.points", "the select list is empty", 17),
        ("(FROM adqltest.points)", "a query starts with SELECT", 2),
        ("SELECT id FROM adqltest.points UNION FROM adqltest.points", "UNION must be followed by a query", 38),
        ("SELECT CIRCLE(1, 2, SELECT) FROM adqltest.points", "SELECT cannot follow ','", 21),  # had no position
        ("+ SELECT id FROM adqltest.points", "SELECT cannot follow '\\+'", 3),
    ],
)
def test_query_set_primary_starts_with_select(query: str, message: str, column: int) -> None:
    """<query_set_primary> ::= <select_query> | ( <select_expression> ), <select_query> ::= SELECT ...
    <select_list> <from_clause> ...: sqlglot's FROM-first queries and empty SELECTs are not ADQL."""
    with pytest.raises(AdqlError, match=message) as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)
    accepts("SELECT id FROM adqltest.points UNION ALL (SELECT id FROM adqltest.points) EXCEPT SELECT id FROM "
            "adqltest.points")


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ("SELECT id FROM adqltest.points 's'", "unexpected string literal after 'points'", 32),
        ("WITH 's' AS (SELECT id FROM adqltest.points) SELECT * FROM adqltest.points", "name of a WITH query", 6),
        ("WITH q AS (SELECT id FROM adqltest.points), 's' AS (SELECT 1 FROM q) SELECT * FROM q",
         "name of a WITH query", 45),
        ("SELECT p.>= FROM adqltest.points AS p", "a name or '\\*' must follow '.'", 10),
    ],
)
def test_correlation_and_query_names_are_identifiers(query: str, message: str, column: int) -> None:
    """<correlation_name> ::= <identifier>, <query_name> ::= <identifier>, <column_reference> ::=
    [ <qualifier> <period> ] <column_name>: a string literal or an operator was taken for a name."""
    with pytest.raises(AdqlError, match=message) as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)
    accepts("SELECT TOP 2 'x' FROM adqltest.points AS p WHERE name LIKE 'a%' AND 'b' = name")


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ("SELECT id FROM adqltest.points WHERE name NOT IS NULL", "use IS NOT NULL", 43),
        ("SELECT id FROM adqltest.points GROUP BY DISTINCT id", "DISTINCT cannot follow 'GROUP BY'", 41),
        ("SELECT id FROM adqltest.points AS p, JOIN adqltest.points AS q USING (id)", "unexpected ','", 36),
        ("SELECT id FROM adqltest.points AS p, NATURAL JOIN adqltest.points AS q", "unexpected ','", 36),
    ],
)
def test_keywords_in_their_productions_only(query: str, message: str, column: int) -> None:
    """<null_predicate> ::= <column_reference> IS [ NOT ] NULL, <set_quantifier> after SELECT or in a
    <general_set_function>, <qualified_join> after a <table_reference>: sqlglot skipped these."""
    with pytest.raises(AdqlError, match=message) as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)
    accepts("SELECT DISTINCT COUNT(DISTINCT id) FROM adqltest.points AS p NATURAL JOIN adqltest.points AS q "
            "WHERE name IS NOT NULL")


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ("SELECT NULL + 1 FROM adqltest.points", 8),
        ("SELECT mag * NULL FROM adqltest.points", 14),
        ("SELECT id FROM adqltest.points WHERE name LIKE NULL", 48),
        ("SELECT name || NULL FROM adqltest.points", 16),
        ("SELECT ABS(NULL) FROM adqltest.points", 12),
        ("SELECT POINT(ra, NULL) FROM adqltest.points", 18),
    ],
)
def test_null_is_a_value_expression_not_a_primary(query: str, column: int) -> None:
    """<value_expression> ::= NULL | ...: NULL is no <numeric_primary> or <character_primary>, so it is
    no operand of arithmetic, '||', LIKE or a built-in function; (NULL) is."""
    with pytest.raises(AdqlError, match="NULL cannot be an operand here") as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ("SELECT + NULL FROM adqltest.points", "numeric value, not NULL", 8),
        ("SELECT - NULL FROM adqltest.points", "numeric value, not NULL", 8),
        ("SELECT id FROM adqltest.points WHERE name IS + NULL", "numeric value, not NULL", 46),
        ("SELECT IN_UNIT(ra, + 'deg') FROM adqltest.points", "a sign cannot apply to a string", 20),
    ],
)
def test_signed_null_or_string(query: str, message: str, column: int) -> None:
    """<factor> ::= [ <sign> ] <numeric_primary>: the dropped '+' hid "+ NULL" and "+ 'deg'"."""
    with pytest.raises(AdqlError, match=message) as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)


def test_null_where_a_value_expression_is_allowed() -> None:
    accepts("SELECT (NULL) + 1, NULL, -(NULL), COALESCE(NULL, 1), CAST(NULL AS INTEGER), MAX(NULL), "
            "ivo_hasword(NULL, 'x') FROM adqltest.points WHERE mag = NULL OR mag IN (NULL, 1) OR mag BETWEEN NULL "
            "AND 1 ORDER BY NULL")


def test_signed_column_is_not_a_column_reference() -> None:
    """<null_predicate> ::= <column_reference> IS [ NOT ] NULL: "+ p.mag IS NULL" was read as "p.mag IS NULL"
    (sqlglot drops a unary '+'); <signed_integer> still takes "+2"."""
    with pytest.raises(AdqlError, match="IS \\[NOT\\] NULL applies to a column") as info:
        validate("SELECT id FROM adqltest.points AS p WHERE NOT + p.mag IS NULL")
    assert info.value.line == 1
    accepts("SELECT +mag, ROUND(mag, +2), TRUNCATE(mag, -1), 1 + +mag FROM adqltest.points")


def test_user_defined_function_name_is_a_regular_identifier() -> None:
    """<user_defined_function_name> ::= [ <default_function_prefix> ] <regular_identifier>: a delimited
    name ("d"(x)) was accepted as a nameless function."""
    with pytest.raises(AdqlError, match="a function name cannot be a delimited identifier") as info:
        validate('SELECT "d"(ra, 1) FROM adqltest.points')
    assert (info.value.line, info.value.column) == (1, 8)
    accepts("SELECT my_udf(ra, 1) FROM adqltest.points")


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ("SELECT IN_UNIT(ALL ra, 'deg') FROM adqltest.points", "ALL cannot follow", 16),  # ALL was dropped
        ("SELECT ABS(DISTINCT ra) FROM adqltest.points", "DISTINCT cannot follow", 12),
        ("SELECT ra FROM adqltest.points WHERE ra > ALL 1", "ALL cannot follow", 43),
    ],
)
def test_set_quantifier_only_after_select_or_in_an_aggregate(query: str, message: str, column: int) -> None:
    """<set_quantifier> ::= DISTINCT | ALL, in <select_query> and <general_set_function> only (and ALL after
    UNION/INTERSECT/EXCEPT)."""
    with pytest.raises(AdqlError, match=message) as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)
    accepts("SELECT ALL COUNT(ALL ra), SUM(DISTINCT ra) FROM adqltest.points UNION ALL SELECT DISTINCT 1, 2 FROM "
            "adqltest.points")


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ("SELECT * FROM adqltest.points AS a LEFT JOIN (adqltest.points AS b, adqltest.points AS c) ON a.id = b.id",
         69),
        ("SELECT * FROM (adqltest.points AS b, adqltest.points AS c)", 38),
    ],
)
def test_parenthesised_joined_table_has_no_comma(query: str, column: int) -> None:
    """<joined_table> ::= <qualified_join> | ( <joined_table> ): "(a, b)" is no joined table."""
    with pytest.raises(AdqlError, match="a parenthesised joined table cannot contain ','") as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)
    accepts("SELECT * FROM adqltest.points AS a LEFT JOIN (adqltest.points AS b JOIN adqltest.points AS c "
            "USING (id)) ON a.id = b.id, adqltest.points AS d")


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ("SELECT * FROM adqltest.points AS a JOIN adqltest.points AS b ON WHERE a.id = b.id",
         "WHERE cannot follow ON", 65),
        ("SELECT * FROM adqltest.points AS a JOIN adqltest.points AS b ON ON a.id = b.id", "ON cannot follow ON", 65),
        ("SELECT REGION(SELECT) FROM adqltest.points", "the select list is empty", 21),  # had no position
    ],
)
def test_clauses_are_not_empty(query: str, message: str, column: int) -> None:
    """<join_condition> ::= ON <search_condition>, <select_list> is not empty: "ON WHERE" was accepted."""
    with pytest.raises(AdqlError, match=message) as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("SELECT id FROM adqltest.points WHERE name ILIKE + name", "an operand of ILIKE cannot have a sign"),
        ("SELECT name || - name FROM adqltest.points", "an operand of '||' cannot have a sign"),
        ("SELECT + + mag FROM adqltest.points", "'\\+' must be followed by a numeric value"),
    ],
)
def test_character_factor_has_no_sign(query: str, message: str) -> None:
    """<concatenation> ::= <character_value_expression> || <character_factor>, <pattern> ::=
    <character_value_expression>: no sign there (and one sign per <factor>)."""
    with pytest.raises(AdqlError, match=message) as info:
        validate(query)
    assert info.value.line == 1
    accepts("SELECT name || 'x' FROM adqltest.points WHERE name LIKE 'a' || name AND - mag < 1")


@pytest.mark.parametrize(
    ("query", "message", "column"),
    [
        ("SELECT * FROM adqltest.points WHERE mag <= 1 , adqltest.regions", "unexpected ',' in the WHERE", 46),
        ("SELECT id FROM adqltest.points GROUP BY id HAVING id > 1, adqltest.regions",
         "unexpected ',' in the HAVING", 57),
    ],
)
def test_search_condition_has_no_comma(query: str, message: str, column: int) -> None:
    """<where_clause> ::= WHERE <search_condition>: sqlglot read "WHERE c, t" as a comma join with t."""
    with pytest.raises(AdqlError, match=message) as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)


def test_unary_plus_takes_a_number() -> None:
    """<factor> ::= [ <sign> ] <numeric_primary>: "+ POINT(1, 2)" was accepted (the '+' was dropped)."""
    with pytest.raises(AdqlError, match="the operand of unary plus must be numeric, not a geometry") as info:
        validate("SELECT + POINT(1, 2) FROM adqltest.points")
    assert info.value.line == 1
    accepts("SELECT +mag, +(1), + COUNT(*) FROM adqltest.points")


def test_user_defined_function_param_is_a_value_expression() -> None:
    """<user_defined_function_param> ::= <value_expression>: "f(x IS NULL)" was accepted without a catalog."""
    with pytest.raises(AdqlError, match="a condition cannot be a function argument") as info:
        validate("SELECT my_udf(mag IS NULL) FROM adqltest.points")
    assert (info.value.line, info.value.column) == (1, 15)
    accepts("SELECT my_udf(mag, 1, 'x', NULL, POINT(1, 2)) FROM adqltest.points")


def test_qualified_join_right_side_has_no_comma() -> None:
    """<qualified_join> ::= <table_reference> ... JOIN <table_reference> [ <join_specification> ]:
    "a JOIN b, c AS x ON ..." was read as "a JOIN (b, c AS x) ON ..."."""
    with pytest.raises(AdqlError, match="a joined table cannot contain ','") as info:
        validate("SELECT * FROM adqltest.points AS a JOIN adqltest.points AS b, adqltest.points AS c ON a.id = c.id")
    assert info.value.line == 1
    accepts("SELECT * FROM adqltest.points AS a JOIN adqltest.points AS b ON a.id = b.id, adqltest.points AS c "
            "JOIN adqltest.points AS d USING (id)")


def test_ambiguous_table_reference_in_a_full_join_condition_has_a_position() -> None:
    """<join_condition> of a FULL join: an ambiguous qualifier had no position."""
    with pytest.raises(AdqlError, match="table reference 'points' is ambiguous") as info:
        validate("SELECT * FROM adqltest.points, adqltest.regions NATURAL RIGHT JOIN (adqltest.points FULL JOIN "
                 "adqltest.regions AS r ON adqltest.points.id = r.id)")
    assert info.value.line == 1 and info.value.column is not None


@pytest.mark.parametrize(
    ("query", "column"),
    [
        ("(SELECT id FROM adqltest.points) HAVING 1", 34),
        ("(SELECT id FROM adqltest.points) WHERE id = 1", 34),
    ],
)
def test_parenthesised_query_takes_only_order_by_and_offset(query: str, column: int) -> None:
    """<select_expression> ::= <query_set_expression> [ <order_by_clause> ] [ <offset_clause> ]."""
    with pytest.raises(AdqlError, match="cannot follow a parenthesised query") as info:
        validate(query)
    assert (info.value.line, info.value.column) == (1, column)
    accepts("(SELECT id FROM adqltest.points) ORDER BY 1 OFFSET 1")
