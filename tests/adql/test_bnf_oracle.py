"""``adql.validate`` against an independent membership oracle of the ADQL 2.1 BNF
(tests/adql/bnf_recognizer.py, an Earley recognizer over the grammar file's productions).

Short sentences of the grammar-driven generator (tests/adql/bnf_generator.py) must be recognised
(a check of the oracle); mutations of them (token deletion, duplication, swap, insertion,
replacement, dropped parentheses, reserved words as names, SQL-only syntax) are classified by
the oracle:

* not a sentence of the grammar: ``validate`` must raise an AdqlError with a position;
  or, if the mutation inserted one, accept a deliberate extension (``_EXTENSIONS``);
* a sentence: ``validate`` must accept it, or reject it for one of the rules the grammar does not
  state (``_OUTSIDE_THE_GRAMMAR``, each matched by its message and a position): the grammar has no
  scopes (a qualifier must name a table in scope, unambiguously; an alias is used once) and no
  types (a string is not a coordinate, CAST converts between compatible types only, comparisons
  need comparable types, a HEALPix order is an integer); IN_UNIT needs a value with a unit; a
  geometry needs valid values (DALI strings, known coordinate systems, simple polygons);
  PostgreSQL's FULL JOIN takes equalities of columns only and its ORDER BY after a set operation
  output columns only; the BNF's optional ``<join_specification>`` follows SQL-92's syntax rules
  (an outer join needs one, a NATURAL join has none).

Departures of the oracle from the file (a bare join as a subquery, one WITH query, ``IN (1)``,
hexadecimal numbers) are listed in bnf_recognizer.py and docs/adql.md.
"""

from __future__ import annotations

import random
import re
from collections import Counter

import pytest

from adql import AdqlError, validate
from tests.adql.bnf_generator import SentenceGenerator
from tests.adql.bnf_recognizer import MAX_TOKENS, Recognizer

SEED = 20_261_123
N_SENTENCES = 1000  # valid sentences of at most MAX_OWN_TOKENS tokens
MAX_OWN_TOKENS = MAX_TOKENS - 5  # room for insertions
MUTATIONS_PER_SENTENCE = 6

# Rejections of sentences for rules outside the grammar, by message (see the module docstring).
_OUTSIDE_THE_GRAMMAR = {
    "scope": re.compile(r"^unknown table or alias '[^']*'$|^table reference '[^']*' is ambiguous$"
                        r"|^unknown output column '[^']*' in ORDER BY$|^table alias '[^']*' is used twice$"),
    "type": re.compile(
        r"^the value cast to \w+ must be (a string or a timestamp|a string|a number|a string or a number), got \w+$"
        r"|^POINT takes a coordinate system and two coordinates, got \d+ \w+"
        r"|^an operand of '[^']+' must be [\w ]+, not [\w ]+$"
        r"|^an? [\w ]+ of (POINT|CIRCLE|BOX|POLYGON) must be [\w ]+, not [\w ]+$"
        r"|^a HEALPix order must be an integer"
        r"|^(syntax error near '[+-]': )?a sign cannot apply to a string"
        r"|^(the|an?) [\w ]+ (of|cast to) [\w' ]+ must be .+, not [\w ]+$"
        r"|^column '[^']*' has incompatible types in the combined queries \(\w+ and \w+\)$"
        r"|^cannot compare \w+ with \w+$"
        r"|^POLYGON needs pairs of coordinates, got \d+ numbers$"
    ),
    "geometry value": re.compile(
        r"^cannot CAST .+ to (POINT|CIRCLE|POLYGON)|^only strings \(DALI serialisation\) can be cast to \w+$"
        r"|^coordinate system '[^']*' is not supported; use 'ICRS' or ''$"
        r"|^polygon edges \d+ and \d+ cross: the polygon is self-intersecting$"
    ),
    "PostgreSQL's FULL JOIN and set-operation ORDER BY": re.compile(
        r"^FULL OUTER JOIN needs ON conditions of the form left\.column = right\.column \(joined with AND\), or USING$"
        r"|^ORDER BY after a set operation takes output column names or positions$"
    ),
    "unit": re.compile(r"^IN_UNIT needs a value whose unit is known \(a column with a unit\)$"),
    "join specification": re.compile(r"^(LEFT|RIGHT|FULL) OUTER JOIN needs ON or USING$"
                                     r"|^NATURAL JOIN takes no ON or USING$"),
}

# Insertions and replacements: SQL that is not ADQL, ADQL tokens out of place.
_FOREIGN = ["LIMIT", "::", "!=", "<>", ";", "[", "]", "%", "?", "$1", "ILIKE", "ESCAPE", "CASE", "WHEN", "TRUE",
            "RECURSIVE", "LATERAL", "CROSS", "/*", "&", "^", "~", "0x1F", "1e", "12abc", "'a' 'b'"]
_ADQL = ["(", ")", ",", ".", "*", "+", "-", "/", "||", "=", "<", ">=", "AND", "OR", "NOT", "SELECT", "FROM",
         "WHERE", "AS", "JOIN", "ON", "USING", "IS", "NULL", "IN", "BETWEEN", "LIKE", "TOP", "OFFSET", "DISTINCT",
         "ALL", "UNION", "INTERSECT", "EXCEPT", "ORDER", "GROUP", "BY", "HAVING", "ASC", "DESC", "NATURAL", "LEFT",
         "OUTER", "EXISTS", "COUNT", "ABS", "POINT", "CIRCLE", "CAST", "WITH", "'s'", "1", "1.5", "1e3", ".5", "x",
         '"d"']
# Syntax outside the BNF file that the translator has on purpose (docs/adql.md): the bitwise
# operators of the ADQL 2.1 Recommendation's text, and CASE.
_EXTENSIONS = {"&", "|", "^", "~", "CASE", "WHEN"}
_RESERVED = ["select", "SIZE", "value", "Point", "offset", "top", "user", "DATE", "contains", "region", "abs", "end",
             "first", "in_unit"]


@pytest.fixture(scope="module")
def recognizer() -> Recognizer:
    return Recognizer()


@pytest.fixture(scope="module")
def sentences(recognizer: Recognizer) -> list[str]:
    generator = SentenceGenerator(SEED, max_depth=7)
    out: list[str] = []
    while len(out) < N_SENTENCES:
        sentence = generator.sentence()
        if len(recognizer.tokens(sentence)) <= MAX_OWN_TOKENS:
            out.append(sentence)
    return out


def mutate(words: list[str], rng: random.Random, recognizer: Recognizer) -> tuple[list[str], str | None]:
    """One random edit of a token list, and the word it inserted (if any)."""
    inserted: str | None = None
    words = list(words)
    i = rng.randrange(len(words))
    operation = rng.choice(["delete", "duplicate", "swap", "insert", "replace", "parenthesis", "reserved", "sql"])
    if operation == "delete":
        del words[i]
    elif operation == "duplicate":
        words.insert(i, words[i])
    elif operation == "swap":
        j = min(i + 1, len(words) - 1)
        words[i], words[j] = words[j], words[i]
    elif operation == "insert":
        inserted = rng.choice(_ADQL)
        words.insert(i, inserted)
    elif operation == "replace":
        inserted = words[i] = rng.choice(_ADQL)
    elif operation == "parenthesis":
        parentheses = [k for k, word in enumerate(words) if word in "()"]
        if parentheses:
            del words[rng.choice(parentheses)]
    elif operation == "reserved":
        names = [k for k, word in enumerate(words)
                 if "C:regular_identifier" in recognizer.tokens(word)[0].terminals]
        if names:
            words[rng.choice(names)] = rng.choice(_RESERVED)
    else:
        inserted = rng.choice(_FOREIGN)
        words.insert(i, inserted)
    return words or ["SELECT"], inserted


def test_the_oracle_recognises_generated_sentences(recognizer: Recognizer, sentences: list[str]) -> None:
    rejected = [sentence for sentence in sentences if not recognizer.recognises(sentence)]
    assert not rejected, f"{len(rejected)} of {len(sentences)}, e.g. {rejected[:3]}"


@pytest.mark.parametrize(
    ("query", "in_language"),
    [
        ("SELECT a FROM t", True),
        ('SELECT TOP 5 t.a AS "x y", -1.5E-3, .5, 0xFF FROM s.t WHERE a <> 1 OR b != 2', True),
        ("SELECT a FROM t WHERE x IN (1)", True),
        ("WITH q AS (SELECT a FROM t) SELECT * FROM q", True),
        ("SELECT a FROM t -- a comment\nWHERE a = 'it''s'", True),
        ("SELECT a FROM t LIMIT 5", False),
        ("SELECT select FROM t", False),
        ('SELECT "select" FROM t', True),
        ("SELECT a::int FROM t", False),
        ("SELECT 12abc FROM t", False),
        ("SELECT a FROM t WHERE 1 IS NULL", False),  # <null_predicate> ::= <column_reference> IS [ NOT ] NULL
        ("SELECT a FROM t WHERE NOT NOT a = 1", False),
        ("SELECT a FROM (t JOIN u) AS x", False),  # no <query_expression> ::= <joined_table>
        ("SELECT a FROM t;", False),
    ],
)
def test_the_oracle_on_known_queries(recognizer: Recognizer, query: str, in_language: bool) -> None:
    assert recognizer.recognises(query) is in_language


def test_validate_agrees_with_the_oracle_on_mutated_sentences(recognizer: Recognizer, sentences: list[str]) -> None:
    rng = random.Random(SEED)
    classes: Counter[str] = Counter()
    disagreements: list[tuple[str, str, str]] = []
    for sentence in sentences:
        words = [token.text for token in recognizer.tokens(sentence)]
        for _ in range(MUTATIONS_PER_SENTENCE):
            mutated_words, inserted = mutate(words, rng, recognizer)
            mutated = " ".join(mutated_words)
            in_language = recognizer.recognises(mutated)
            try:
                validate(mutated)
                error = None
            except AdqlError as caught:
                error = caught
            if not in_language:
                if error is None and inserted in _EXTENSIONS:
                    classes["not a sentence, accepted: extension"] += 1
                elif error is None:
                    disagreements.append(("accepted", mutated, ""))
                elif error.line is None or "internal error" in error.message:
                    disagreements.append(("rejected without a position", mutated, error.message))
                else:
                    classes["not a sentence"] += 1
            elif error is None:
                classes["sentence"] += 1
            else:
                rule = next((name for name, pattern in _OUTSIDE_THE_GRAMMAR.items()
                             if pattern.match(error.message)), None)
                if rule is None or error.line is None:
                    disagreements.append(("rejected", mutated, error.message))
                else:
                    classes[f"sentence rejected: {rule}"] += 1
    total = sum(classes.values()) + len(disagreements)
    assert total == N_SENTENCES * MUTATIONS_PER_SENTENCE
    assert not disagreements, f"{len(disagreements)} of {total}: {disagreements[:5]}"
    # the mutations reach both sides of the language
    assert classes["sentence"] > total // 20, classes
    assert classes["not a sentence"] > total // 2, classes
