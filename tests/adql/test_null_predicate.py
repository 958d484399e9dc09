"""IS [NOT] NULL takes what the ADQL 2.1 grammar allows there:
``<null_predicate> ::= <column_reference> IS [ NOT ] NULL``."""

from __future__ import annotations

import pytest

from adql import AdqlError, translate, validate
from tests.adql.support import CATALOG, run

P = "adqltest.points"


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("name IS NULL", 589),  # every 17th row of 10 000
        ("p.name IS NOT NULL", 10_000 - 589),
        ("adqltest.p.name IS NULL", None),  # a schema-qualified alias is not a table reference: error below
    ],
)
def test_column_references(condition: str, expected: int | None, sky, query_dsn) -> None:
    adql = f"SELECT COUNT(*) FROM {P} AS p WHERE {condition}"
    if expected is None:
        with pytest.raises(AdqlError):
            translate(adql, CATALOG)
        return
    assert run(query_dsn, translate(adql, CATALOG).sql) == [(expected,)]


def test_geometry_and_delimited_columns(sky, query_dsn) -> None:
    assert run(query_dsn, translate("SELECT COUNT(*) FROM adqltest.regions WHERE pos IS NOT NULL AND "
                                    "cone IS NOT NULL", CATALOG).sql) == [(2,)]
    assert run(query_dsn, translate('SELECT COUNT(*) FROM adqltest.Mixed WHERE "VAL" IS NULL', CATALOG).sql) == [(1,)]


@pytest.mark.parametrize(
    "condition",
    [
        "mag + 1 IS NULL",
        "(name) IS NULL",
        "COALESCE(name, 'x') IS NOT NULL",
        "POINT(ra, dec) IS NULL",
        "CONTAINS(POINT(ra, dec), CIRCLE(1, 2, 3)) IS NULL",
        "(mag < 3) IS NULL",
        "NULL IS NULL",
        "1 IS NULL",
        "'a' IS NOT NULL",
        "(SELECT MAX(mag) FROM adqltest.other) IS NULL",
        "UPPER(name) IS NULL",
    ],
)
def test_expressions_are_adql_errors(condition: str) -> None:
    for check in (lambda q: translate(q, CATALOG), validate):
        with pytest.raises(AdqlError, match="column") as info:
            check(f"SELECT id FROM {P} WHERE {condition}")
        if not condition.startswith("NULL"):  # sqlglot keeps no position for a bare NULL
            assert info.value.line == 1 and info.value.column is not None
