"""Hostile or broken input: always an AdqlError, quickly."""

from __future__ import annotations

import time

import pytest

from adql import AdqlError, parse, translate, validate

P = "adqltest.points"


def _fails_fast(query, catalog, seconds: float = 2.0) -> AdqlError:
    start = time.perf_counter()
    with pytest.raises(AdqlError) as info:
        translate(query, catalog)
    assert time.perf_counter() - start < seconds
    return info.value


@pytest.mark.parametrize("query", ["", " ", "\n\t  \r\n", "-- only a comment", "-- a\n-- b\n"])
def test_empty(query: str, catalog) -> None:
    error = _fails_fast(query, catalog)
    assert "empty" in error.message


def test_one_megabyte_query(catalog) -> None:
    query = f"SELECT id FROM {P} WHERE id IN (" + ", ".join(["1"] * 350_000) + ")"
    assert len(query) > 1_000_000
    error = _fails_fast(query, catalog)
    assert "too long" in error.message


def test_large_but_allowed_query_translates(catalog) -> None:
    query = f"SELECT id FROM {P} WHERE id IN (" + ", ".join(str(i) for i in range(5000)) + ")"
    assert "4999" in translate(query, catalog).sql


def test_ten_thousand_nested_parentheses(catalog) -> None:
    query = f"SELECT {'(' * 10_000}1{')' * 10_000} FROM {P}"
    error = _fails_fast(query, catalog)
    assert "nested" in error.message and error.line == 1


def test_deep_but_unparenthesised_expression(catalog) -> None:
    query = f"SELECT {' + '.join(['id'] * 5000)} FROM {P}"
    try:
        translate(query, catalog)
    except AdqlError as error:
        assert "nested" in error.message or "too" in error.message


def test_many_nots(catalog) -> None:
    query = f"SELECT id FROM {P} WHERE {'NOT ' * 3000} id = 1"
    try:
        translate(query, catalog)
    except AdqlError as error:
        assert error.message


def test_moderate_nesting_is_fine(catalog) -> None:
    query = f"SELECT {'(' * 100}id{')' * 100} FROM {P} WHERE {'(' * 40}id = 1{')' * 40}"
    assert translate(query, catalog).sql


@pytest.mark.parametrize("query", [f"SELECT 'abc FROM {P}", f"SELECT id FROM {P} WHERE name = 'x''", "SELECT '",
                                   f'SELECT "id FROM {P}'])
def test_unterminated(query: str, catalog) -> None:
    error = _fails_fast(query, catalog)
    assert "unterminated" in error.message and error.line == 1


def test_unterminated_on_second_line(catalog) -> None:
    error = _fails_fast(f"SELECT id\nFROM {P}\nWHERE name = 'oops", catalog)
    assert (error.line, error.column) == (3, 14)


@pytest.mark.parametrize("data", [b"SELECT id FROM adqltest.points WHERE name = '\xff\xfe'", b"\xc3\x28", b"\x80abc"])
def test_non_utf8_bytes(data: bytes, catalog) -> None:
    error = _fails_fast(data, catalog)
    assert "UTF-8" in error.message


def test_utf8_bytes_are_accepted(catalog) -> None:
    translation = translate(f"SELECT id FROM {P} WHERE name = 'größe'".encode(), catalog)
    assert "'größe'" in translation.sql


def test_lone_surrogate(catalog) -> None:
    error = _fails_fast(f"SELECT id FROM {P} WHERE name = '\udcff'", catalog)
    assert "invalid character" in error.message


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x07", "\x08", "\x0b", "\x0c", "\x1b", "\x7f"])
def test_control_characters(char: str, catalog) -> None:
    query = f"SELECT id FROM {P} WHERE name = 'a{char}b'"
    error = _fails_fast(query, catalog)
    assert "control character" in error.message
    assert error.column == query.index(char) + 1


def test_not_a_string(catalog) -> None:
    with pytest.raises(AdqlError):
        translate(12345, catalog)  # type: ignore[arg-type]


def test_negative_max_rows(catalog) -> None:
    with pytest.raises(AdqlError):
        translate(f"SELECT id FROM {P}", catalog, max_rows=-1)


@pytest.mark.parametrize(
    "smuggle",
    [
        f"SELECT id FROM {P} -- ; DROP TABLE x\n",
        f"SELECT id FROM {P} WHERE name = '; DROP TABLE x; --'",
        f"SELECT id AS \"x\"\"; DROP TABLE y; --\" FROM {P}",
        f"SELECT id FROM {P} WHERE name = 'a\\' OR '' = '; DROP TABLE x; --'",
        f"SELECT id FROM {P} WHERE name = '\\'';DROP TABLE x;--'",
    ],
)
def test_smuggled_sql_stays_inside_literals(smuggle: str, catalog) -> None:
    import sqlglot
    from sqlglot import exp

    sql = translate(smuggle, catalog).sql
    statements = sqlglot.parse(sql, read="postgres")
    assert len(statements) == 1 and isinstance(statements[0], exp.Select)
    assert not list(statements[0].find_all(exp.Drop, exp.Command))


def test_backslash_does_not_escape_a_quote(catalog) -> None:
    # ADQL strings have no backslash escapes: the string ends at the second quote
    with pytest.raises(AdqlError, match="';'"):
        translate(f"SELECT id FROM {P} WHERE name = 'a\\'; DROP TABLE x; --'", catalog)


def test_backslash_is_literal_in_strings(catalog) -> None:
    sql = translate(f"SELECT id FROM {P} WHERE name = 'a\\b'", catalog).sql
    assert "E'a\\\\b'" in sql


def test_parse_and_validate_without_catalog() -> None:
    assert parse("SELECT a FROM t WHERE b = 1") is not None
    assert validate("SELECT a FROM t WHERE 1 = CONTAINS(POINT(a, b), CIRCLE(1, 2, 3))") == []
    with pytest.raises(AdqlError):
        validate("SELECT a FROM t LIMIT 3")
    with pytest.raises(AdqlError):
        validate("SELECT 1")
    with pytest.raises(AdqlError):
        validate("SELECT select FROM t")


def test_validate_with_catalog_returns_warnings(catalog) -> None:
    assert validate(f"SELECT RAND(3) FROM {P}", catalog) == []  # the seed is honoured (test_rand_seed.py)
