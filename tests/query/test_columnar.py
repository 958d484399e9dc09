"""The binary-COPY fast path gives exactly what the row path gives: same
values, same nulls, same overflow flag, parsed back by astropy."""

from __future__ import annotations

import asyncio
import io
import warnings

import numpy as np
import psycopg
import pytest
from astropy.io.votable import parse_single_table

from vo_server.config import Settings
from vo_server.db.pools import Database
from vo_server.formats.fields import Field
from vo_server.formats.votable import votable_stream
from vo_server.query.columnar import columnar_eligible
from vo_server.query.run import QueryFailed, QueryPlan, run_query

FIELDS = [Field("i", "int"), Field("l", "long"), Field("s", "short"), Field("f", "float"), Field("d", "double"),
          Field("b", "boolean"), Field("u", "unsignedByte"), Field("avg", "double")]
SQL = ("SELECT i, l, s, f, d, b, u, i / 7.0 AS avg FROM c.nums ORDER BY k")


@pytest.fixture(scope="module")
def target(db_target):
    with psycopg.connect(db_target.owner_dsn, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA c; CREATE TABLE c.nums (k serial, i integer, l bigint, s smallint, f real, "
                      "d double precision, b boolean, u smallint)")
        conn.execute("INSERT INTO c.nums (i, l, s, f, d, b, u) SELECT CASE WHEN g % 5 = 0 THEN NULL ELSE g END, "
                     "g::bigint * 3000000000, (g % 300)::smallint, CASE WHEN g % 7 = 0 THEN NULL ELSE g / 3.0 END, "
                     "g * 0.5, CASE WHEN g % 3 = 0 THEN NULL ELSE g % 2 = 0 END, (g % 256)::smallint "
                     "FROM generate_series(1, 12345) g")
        conn.execute("GRANT USAGE ON SCHEMA c TO vo_query; GRANT SELECT ON ALL TABLES IN SCHEMA c TO vo_query")
    return db_target


def collect(target, plan: QueryPlan, columnar: bool) -> tuple[bytes, bool]:
    async def go() -> tuple[bytes, bool]:
        db = Database(target, Settings(statement_timeout=30))
        await db.open()
        try:
            async with run_query(db, plan, batch_rows=1000, columnar=columnar) as result:
                assert result.columnar == columnar
                chunks = [c async for c in votable_stream(result)]
            return b"".join(chunks), result.overflow
        finally:
            await db.close()
    return asyncio.run(go())


def table(content: bytes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parse_single_table(io.BytesIO(content)).array


@pytest.mark.parametrize("max_rows", [None, 5000, 12345, 0])
def test_columnar_equals_rows(target, max_rows):
    plan = QueryPlan(SQL + ("" if max_rows is None else f" LIMIT {max_rows + 1}"), FIELDS, max_rows=max_rows)
    assert columnar_eligible(plan.fields, plan.params)
    fast, fast_overflow = collect(target, plan, True)
    slow, slow_overflow = collect(target, plan, False)
    assert fast_overflow == slow_overflow == (max_rows is not None and max_rows < 12345)
    a, b = table(fast), table(slow)
    assert len(a) == len(b) == (12345 if max_rows is None else min(max_rows, 12345))
    for name in a.dtype.names:
        assert np.array_equal(np.ma.getmaskarray(a[name]), np.ma.getmaskarray(b[name])), name
        assert np.array_equal(a[name].filled(0), b[name].filled(0)), name
    if len(a):
        assert a["i"].mask.sum() == len(a) // 5 and a["b"].mask.any()


def test_not_eligible_with_text_or_params():
    assert not columnar_eligible([Field("t", "char", "*")], None)
    assert not columnar_eligible([Field("i", "int")], (1,))
    assert not columnar_eligible([Field("p", "double", "2", xtype="point")], None)


def test_columnar_errors_surface_before_output(target):
    plan = QueryPlan("SELECT 1 / (i - i) AS i FROM c.nums", [Field("i", "int")])
    with pytest.raises(QueryFailed, match="division by zero"):
        collect(target, plan, True)
