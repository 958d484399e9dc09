"""Aggregates that appear only in ORDER BY: the query is grouped (as in SQL),
so it runs, or a column outside the aggregates gets an ADQL error rather
than a database error."""

from __future__ import annotations

from collections import Counter

import pytest

from adql import AdqlError, translate
from tests.adql.support import CATALOG, run


def test_grouped_query_ordered_by_an_aggregate(sky, query_dsn) -> None:
    sql = translate("SELECT name FROM adqltest.points WHERE id < 40 GROUP BY name ORDER BY COUNT(*) DESC, name",
                    CATALOG).sql
    rows = [r[0] for r in run(query_dsn, sql)]
    counts = Counter(None if i % 17 == 0 else f"star {i} {'alpha' if i % 3 == 0 else 'beta'}" for i in range(40))
    assert rows[0] is None and counts[None] == 3  # the only name shared by several rows comes first
    assert len(rows) == len(counts)


def test_aggregate_in_order_by_of_an_aggregate_query(sky, query_dsn) -> None:
    rows = run(query_dsn, translate("SELECT COUNT(*) FROM adqltest.points ORDER BY MAX(mag)", CATALOG).sql)
    assert rows == [(10_000,)]
    rows = run(query_dsn, translate("SELECT 1 AS one FROM adqltest.points ORDER BY COUNT(*)", CATALOG).sql)
    assert rows == [(1,)]


@pytest.mark.parametrize(
    "adql",
    [
        "SELECT name FROM adqltest.points ORDER BY COUNT(*)",
        "SELECT name FROM adqltest.points ORDER BY mag, MAX(mag)",
        "SELECT id, COUNT(*) FROM adqltest.points GROUP BY name ORDER BY COUNT(*)",
        "SELECT name FROM adqltest.points GROUP BY name ORDER BY COUNT(*) + mag",
    ],
)
def test_ungrouped_columns_with_an_ordering_aggregate_are_adql_errors(adql: str) -> None:
    with pytest.raises(AdqlError, match="must appear in GROUP BY"):
        translate(adql, CATALOG)
