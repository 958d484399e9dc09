"""RAND(seed) honours the seed: the same query gives the same values, a
different seed different ones, in a single SELECT."""

from __future__ import annotations

import psycopg

from adql import translate, validate
from tests.adql.support import CATALOG

P = "adqltest.points"


def values(dsn: str, adql: str) -> list:
    sql = translate(adql, CATALOG).sql
    assert ";" not in sql
    with psycopg.connect(dsn) as conn:
        return [r[0] for r in conn.execute(sql).fetchall()]


def test_same_seed_same_values(sky, query_dsn) -> None:
    query = f"SELECT RAND(42) FROM {P} WHERE id < 200 ORDER BY id"
    first = values(query_dsn, query)
    assert first == values(query_dsn, query)
    assert all(0 <= v < 1 for v in first) and len(set(first)) > 190
    other = values(query_dsn, f"SELECT RAND(43) FROM {P} WHERE id < 200 ORDER BY id")
    assert other != first and all(0 <= v < 1 for v in other)
    # different from the unseeded generator, which continues wherever the session left it
    assert values(query_dsn, f"SELECT RAND() FROM {P} WHERE id < 200 ORDER BY id") != first


def test_seeded_sampling_and_ordering_repeat(sky, query_dsn) -> None:
    sample = f"SELECT id FROM {P} WHERE RAND(7) < 0.1"
    ids = values(query_dsn, sample)
    assert ids == values(query_dsn, sample) and 800 < len(ids) < 1200
    shuffled = f"SELECT TOP 20 id FROM {P} ORDER BY RAND(2147483648000)"
    assert values(query_dsn, shuffled) == values(query_dsn, shuffled)
    assert values(query_dsn, shuffled) != values(query_dsn, f"SELECT TOP 20 id FROM {P} ORDER BY RAND(1)")


def test_seed_is_not_a_warning_any_more(catalog) -> None:
    assert validate(f"SELECT RAND(3) FROM {P}", catalog) == []
