"""Thousands of sentences generated from the ADQL 2.1 BNF (tests/adql/bnf_generator.py):
every one passes ``adql.validate``, translates against a catalog of the generator's tables,
and a sample runs on PostgreSQL without a syntax, undefined-object or type error.

Rejections are allowed only for reasons outside the grammar, each narrowly:

* constant geometry out of range (a radius, a box size or a declination computed by a generic
  <numeric_value_expression>), only in sentences where the generator put such an expression
  into a coordinate, and always with a position;
* in the translation against the catalog (not in ``validate``, which checks the grammar and
  names without one), SQL's semantic rules the generator does not model, each by its message:
  every column outside an aggregate must be grouped, SELECT DISTINCT ... ORDER BY expressions
  must be selected, and the columns of derived tables and WITH queries (which the generator does
  not track) must exist and be unambiguous; the share of such rejections is bounded;
* on PostgreSQL, data exceptions (SQLSTATE class 22: division by zero, LOG of a negative number,
  ...) and the adql_* functions' own errors on invalid computed geometry (P0001): the grammar
  does not restrict values.
"""

from __future__ import annotations

import re
from collections import Counter

import psycopg
import pytest

from adql import AdqlError, translate, validate
from adql.catalog import ColumnInfo, SimpleCatalog, TableInfo
from tests.adql.bnf_generator import (
    COLUMNS,
    ROWS,
    SCHEMA,
    TABLES,
    SentenceGenerator,
    Symbol,
    Terminal,
    load_grammar,
    undefined_symbols,
    unquote,
)

SEED = 20_261_122
N_SENTENCES = 2_000
EXECUTE_EVERY = 5  # every 5th translated sentence runs on PostgreSQL

# Constant geometry the translator evaluates and rejects (adql/geometry.py).
_GEOMETRY_VALUE_ERRORS = re.compile(
    r"box (width|height) \S+ must be greater than 0|circle radius \S+ must be between 0 and 180"
    r"|declination \S+ is outside \[-90, 90\]|coordinates must be finite numbers"
)
# Productions the generator must reach (the syntactic part of the grammar).
_SYNTACTIC = {
    "query_specification", "with_clause", "select_expression", "query_set_expression", "select_query",
    "select_list", "select_sublist", "derived_column", "as_clause", "from_clause", "table_reference",
    "joined_table", "qualified_join", "derived_table", "table_subquery", "table_name", "where_clause",
    "group_by_clause", "having_clause", "order_by_clause", "offset_clause", "set_limit", "search_condition",
    "boolean_term", "boolean_factor", "boolean_primary", "predicate", "comparison_predicate",
    "between_predicate", "in_predicate", "like_predicate", "null_predicate", "exists_predicate",
    "value_expression", "numeric_value_expression", "term", "factor", "numeric_primary",
    "value_expression_primary", "character_value_expression", "concatenation", "character_primary",
    "string_value_function", "case_folding_function", "extract_coordsys", "numeric_value_function",
    "trig_function", "math_function", "in_unit_function", "numeric_geometry_function",
    "predicate_geometry_function", "non_predicate_geometry_function", "area", "coord1", "coord2",
    "distance_function", "contains", "intersects", "geometry_value_expression", "geometry_value_function",
    "box", "centroid", "circle", "point", "polygon", "polygon_vertices", "region", "coord_sys",
    "set_function_specification", "general_set_function", "cast_specification", "coalesce_expression",
    "user_defined_function", "unsigned_literal", "column_reference", "character_string_literal",
    "exact_numeric_literal", "approximate_numeric_literal", "signed_integer", "unsigned_decimal",
}

_SQL_TYPES = {"double": "double precision", "float": "real", "int": "integer"}


def corpus_catalog() -> SimpleCatalog:
    columns = tuple(
        ColumnInfo(unquote(name), datatype, arraysize, xtype, unit)
        for name, (_, _, datatype, arraysize, xtype, unit) in COLUMNS.items()
    )
    return SimpleCatalog.of([TableInfo(SCHEMA, unquote(table), columns) for table in TABLES])


_USED: set[str] = set()


@pytest.fixture(scope="module")
def corpus() -> list[tuple[str, bool]]:
    """The sentences and whether a generic expression went into a geometry coordinate."""
    generator = SentenceGenerator(SEED)
    sentences = []
    for _ in range(N_SENTENCES):
        generator.generic_coordinate = False
        sentence = generator.sentence()
        sentences.append((sentence, generator.generic_coordinate))
    _USED.update(generator.used)
    return sentences


@pytest.fixture(scope="module")
def corpus_tables(db_target) -> str:
    """The generator's tables (owner), readable by the query role; returns the query DSN."""
    column_sql = ", ".join(f"{name} {spec[1]}" for name, spec in COLUMNS.items())
    with psycopg.connect(db_target.owner_dsn, autocommit=True) as conn:
        conn.execute(f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
        conn.execute(f"CREATE SCHEMA {SCHEMA}")
        for table in TABLES:
            conn.execute(f"CREATE TABLE {SCHEMA}.{table} ({column_sql})")
            placeholders = ", ".join(["%s"] * len(COLUMNS))
            for row in ROWS:
                conn.execute(f"INSERT INTO {SCHEMA}.{table} VALUES ({placeholders})", row)
        conn.execute(f"GRANT USAGE ON SCHEMA {SCHEMA} TO {db_target.query_role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {SCHEMA} TO {db_target.query_role}")
    return db_target.query_dsn


# Semantic rules checked only with a catalog (see the module docstring).
_SEMANTIC_ERRORS = re.compile(
    r"^column '[^']+' must appear in GROUP BY or be used in an aggregate function$"
    r"|^with SELECT DISTINCT, ORDER BY expressions must appear in the select list$"
    r"|^unknown column '[^']+'$"
    r"|^column name '[^']+' is ambiguous( in .+| \(it exists in .+\))$"
    r"|^ORDER BY '[^']+' is ambiguous$"
    r"|^(NATURAL JOIN|USING) column '[^']+' is ambiguous in the (left|right) tables$"
)


def _allowed_rejection(error: AdqlError, generic_coordinate: bool) -> bool:
    return generic_coordinate and error.line is not None and bool(_GEOMETRY_VALUE_ERRORS.search(error.message))


def _semantic_rejection(error: AdqlError) -> bool:
    return error.line is not None and bool(_SEMANTIC_ERRORS.match(error.message))


def test_the_grammar_file_is_read_completely() -> None:
    grammar = load_grammar()
    assert len(grammar) == 199 - 5  # every production but the five defined in prose
    assert undefined_symbols(grammar) == set()
    assert grammar["set_function_type"] == tuple((Terminal(t),) for t in ("AVG", "MAX", "MIN", "SUM", "COUNT"))
    # <with_query> is written with ':=', <coalesce_expression> lacks a '>', <distance> is <distance_function>
    assert grammar["with_query"][0][0] == Symbol("query_name")
    repeated = grammar["coalesce_expression"][0][3].alternatives[0][0].item
    assert repeated.alternatives == ((Symbol("comma"), Symbol("value_expression")),)
    assert Symbol("distance_function") in [seq[0] for seq in grammar["non_predicate_geometry_function"]]


def test_the_generator_reaches_every_syntactic_production(corpus: list[tuple[str, bool]]) -> None:
    assert len(corpus) == N_SENTENCES
    assert _SYNTACTIC - _USED == set()


def test_every_generated_sentence_is_valid(corpus: list[tuple[str, bool]]) -> None:
    failures = []
    allowed = Counter()
    for sentence, generic_coordinate in corpus:
        try:
            validate(sentence)
        except AdqlError as error:
            if _allowed_rejection(error, generic_coordinate):
                allowed[_GEOMETRY_VALUE_ERRORS.search(error.message).group(0)[:10]] += 1
            else:
                failures.append((error.message, sentence))
    assert not failures, f"{len(failures)} of {len(corpus)} rejected, e.g. {failures[:3]}"
    assert sum(allowed.values()) < len(corpus) // 50, allowed


def test_every_generated_sentence_translates_and_runs(corpus: list[tuple[str, bool]], corpus_tables: str) -> None:
    catalog = corpus_catalog()
    failures = []
    database_errors = []
    semantic = Counter()
    translated = executed = 0
    with psycopg.connect(corpus_tables, autocommit=True) as conn:
        conn.execute("SET statement_timeout = '5s'")
        for sentence, generic_coordinate in corpus:
            try:
                translation = translate(sentence, catalog, max_rows=20)
            except AdqlError as error:
                if _semantic_rejection(error):
                    semantic[error.message.split("'")[0]] += 1
                elif not _allowed_rejection(error, generic_coordinate):
                    failures.append((error.message, sentence))
                continue
            translated += 1
            if translated % EXECUTE_EVERY:
                continue
            executed += 1
            try:
                rows = conn.execute(translation.sql).fetchall()
            except psycopg.Error as error:
                state = error.sqlstate or ""
                if not (state.startswith("22") or state == "P0001"):
                    database_errors.append((state, str(error).splitlines()[0], sentence, translation.sql))
                continue
            assert len(rows) <= 21
            assert all(len(row) == len(translation.columns) for row in rows)
    assert not failures, f"{len(failures)} of {len(corpus)} not translated, e.g. {failures[:3]}"
    assert not database_errors, f"{len(database_errors)} of {executed} failed on PostgreSQL: {database_errors[:3]}"
    assert translated > len(corpus) * 2 // 5, semantic  # most rejections: ungrouped columns
    assert executed >= translated // EXECUTE_EVERY


# SQL that is not ADQL, and reserved words (ADQL's and SQL's lists in the BNF) for identifiers.
_NOT_ADQL = ["LIMIT 5", ";", "::int", "[1]", "/* c */", "%", "RECURSIVE", "LATERAL", "CROSS", "ILIKE ANY", "$1", "?"]
_RESERVED = ["select", "SIZE", "value", "Point", "offset", "top", "user", "DATE", "contains", "region"]


def test_mutated_sentences_give_adql_errors(corpus: list[tuple[str, bool]]) -> None:
    """Token deletions, duplications, swaps, truncations and insertions of SQL-only syntax: the
    result is valid or an AdqlError (never another exception, never an internal error); a reserved
    word written as a correlation name or column alias is always an error."""
    import random

    rng = random.Random(SEED)
    catalog = corpus_catalog()
    for sentence, _ in corpus[:250]:
        words = sentence.split(" ")
        for _ in range(rng.randint(1, 3)):
            i = rng.randrange(len(words))
            operation = rng.choice(["delete", "duplicate", "swap", "insert", "truncate"])
            if operation == "delete":
                del words[i : i + rng.randint(1, 6)]
            elif operation == "duplicate":
                words.insert(i, words[i])
            elif operation == "swap":
                j = rng.randrange(len(words))
                words[i], words[j] = words[j], words[i]
            elif operation == "insert":
                words.insert(i, rng.choice(_NOT_ADQL))
            else:
                words = words[: max(1, i)]
            words = words or ["SELECT"]
        mutated = " ".join(words)
        for check in (lambda q: validate(q), lambda q: translate(q, catalog, max_rows=5)):
            try:
                check(mutated)
            except AdqlError as error:
                assert "internal error" not in error.message, (mutated, error.message)
        if " AS " in sentence:
            word = rng.choice(_RESERVED)
            # an alias of the generator (not a CAST target, not a WITH query name)
            renamed = re.sub(r' AS (x\d+|q1\d+|src\d+|T_2\d+|"(?:[^"]|"")+")(?= (?!\())', f" AS {word}", sentence,
                             count=1)
            if renamed != sentence:
                with pytest.raises(AdqlError) as info:
                    validate(renamed)
                assert info.value.line is not None, renamed
