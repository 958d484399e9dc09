"""Property-based fuzzing: random token soup and mutated valid queries give
either an AdqlError or SQL that PostgreSQL accepts -- never anything else."""

from __future__ import annotations

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adql import AdqlError, translate
from tests.adql.support import CATALOG
from tests.adql.test_grammar import VALID

TOKENS = [
    "SELECT", "FROM", "WHERE", "TOP", "DISTINCT", "ALL", "AS", "AND", "OR", "NOT", "IN", "BETWEEN", "LIKE",
    "ILIKE", "IS", "NULL", "ORDER", "BY", "GROUP", "HAVING", "ASC", "DESC", "OFFSET", "UNION", "EXCEPT",
    "INTERSECT", "JOIN", "LEFT", "RIGHT", "FULL", "OUTER", "INNER", "NATURAL", "ON", "USING", "WITH", "EXISTS",
    "CASE", "WHEN", "THEN", "ELSE", "END", "CAST", "POINT", "CIRCLE", "BOX", "POLYGON", "CONTAINS", "INTERSECTS",
    "DISTANCE", "COUNT", "MAX", "AVG", "COALESCE", "IN_UNIT", "MOD", "ROUND", "TRUNCATE", "LOWER",
    "adqltest.points", "adqltest.other", "p", "o", "p.ra", "o.dec", "ra", "dec", "mag", "id", "name", "flag",
    "bits", "hpx", "*", ",", "(", ")", "=", "<", ">", "<=", ">=", "<>", "!=", "+", "-", "/", "||", "&", "|",
    "^", "~", ".", "1", "0", "2.5", "1e3", "0xFF", "'x'", "'ICRS'", "''", '"id"', "--c\n", ";", "::", "[",
    "$", "%", "?", "@", "LIMIT", "INTEGER", "DOUBLE", "PRECISION", "VARCHAR", "MOC", "'3/1'", "ivo_hasword",
    "\t", "\n", "é", "\x00",
]

_settings = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                             HealthCheck.too_slow])


def check(query: str, dsn: str | None) -> None:
    try:
        translation = translate(query, CATALOG, max_rows=5)
    except AdqlError as error:
        assert isinstance(error.message, str) and error.message
        assert "internal error" not in error.message, query
        assert error.line is None or error.line >= 1
        return
    if dsn is not None:
        with psycopg.connect(dsn) as conn:
            conn.execute("EXPLAIN " + translation.sql)


@_settings
@given(st.lists(st.sampled_from(TOKENS), min_size=0, max_size=25))
def test_token_soup(tokens: list[str]) -> None:
    check(" ".join(tokens), None)


@_settings
@given(st.text(max_size=60))
def test_arbitrary_text(text: str) -> None:
    check(text, None)


def _mutate(query: str, data: st.DataObject) -> str:
    words = query.replace("(", " ( ").replace(")", " ) ").replace(",", " , ").split()
    for _ in range(data.draw(st.integers(1, 3))):
        op = data.draw(st.sampled_from(["delete", "duplicate", "swap", "insert", "replace", "truncate"]))
        if not words:
            break
        i = data.draw(st.integers(0, len(words) - 1))
        if op == "delete":
            del words[i]
        elif op == "duplicate":
            words.insert(i, words[i])
        elif op == "swap":
            j = data.draw(st.integers(0, len(words) - 1))
            words[i], words[j] = words[j], words[i]
        elif op == "insert":
            words.insert(i, data.draw(st.sampled_from(TOKENS)))
        elif op == "replace":
            words[i] = data.draw(st.sampled_from(TOKENS))
        else:
            words = words[:i]
    return " ".join(words)


@pytest.fixture(scope="module")
def explain_dsn(sky, query_dsn) -> str:
    return query_dsn


@_settings
@given(st.sampled_from([q for _, q in VALID]), st.data())
def test_mutated_valid_queries(explain_dsn, query: str, data: st.DataObject) -> None:
    check(_mutate(query, data), explain_dsn)


# PostgreSQL type OIDs that carry each VOTable datatype
_OIDS = {"boolean": {16}, "short": {21}, "int": {23}, "long": {20}, "float": {700}, "double": {701},
         "char": {25, 1042, 1043, 1114}}
_ARRAY_OIDS = {"double": {1022}, "char": {25}}


@pytest.mark.parametrize("query", [q for _, q in VALID])
def test_every_valid_production_runs_on_postgresql(explain_dsn, query: str) -> None:
    translation = translate(query, CATALOG, max_rows=3)
    with psycopg.connect(explain_dsn) as conn:
        cursor = conn.execute(translation.sql)
        rows = cursor.fetchall()
        types = [d.type_code for d in cursor.description]
    assert len(rows) <= 4
    assert all(len(row) == len(translation.columns) for row in rows)
    # the result's PostgreSQL types are the announced VOTable datatypes
    for column, oid in zip(translation.columns, types, strict=True):
        arrays = column.arraysize not in (None, "1") and column.datatype != "char"
        expected = _ARRAY_OIDS[column.datatype] if arrays else _OIDS[column.datatype]
        assert oid in expected, (column, oid)
