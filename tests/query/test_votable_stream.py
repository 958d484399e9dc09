"""The shared execution path and the streaming VOTable writer, against the
real database, parsed back by astropy's VOTable reader."""

from __future__ import annotations

import asyncio
import io
import warnings

import numpy as np
import psycopg
import pytest
from astropy.io.votable import parse

from vo_server.config import Settings
from vo_server.db.pools import Database
from vo_server.formats.fields import Field
from vo_server.formats.votable import error_document, votable_stream
from vo_server.query.run import QueryFailed, QueryPlan, run_query

FIELDS = [
    Field("i", "int", description="an int"),
    Field("l", "long"),
    Field("s", "short"),
    Field("f", "float", unit="mag"),
    Field("d", "double", ucd="pos.eq.ra;meta.main", unit="deg"),
    Field("b", "boolean"),
    Field("t", "char", "*", description="text & <markup>"),
    Field("u", "unicodeChar", "*"),
    Field("ts", "char", "*", xtype="timestamp"),
    Field("p", "double", "2", xtype="point", unit="deg"),
    Field("poly", "double", "*", xtype="polygon", unit="deg"),
    Field("c8", "char", "8"),
]

SETUP = """
CREATE SCHEMA IF NOT EXISTS w;
CREATE TABLE w.types (i integer, l bigint, s smallint, f real, d double precision, b boolean, t text, u text,
                      ts timestamp, p double precision[], poly double precision[], c8 text);
INSERT INTO w.types
SELECT g, g::bigint * 10000000000, (g % 100)::smallint, g / 3.0, g * 0.001, g % 2 = 0, 'row ' || g, 'Ångström ' || g,
       timestamp '2020-01-01' + g * interval '1 hour', ARRAY[g * 0.1, -g * 0.1], ARRAY[0, 0, 1, 0, g % 5 + 1, 1], 'abc'
FROM generate_series(1, 12000) g;
INSERT INTO w.types VALUES (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
"""


@pytest.fixture(scope="module")
def database(db_target):
    with psycopg.connect(db_target.owner_dsn, autocommit=True) as conn:
        conn.execute(SETUP)
        conn.execute("GRANT USAGE ON SCHEMA w TO vo_query; GRANT SELECT ON ALL TABLES IN SCHEMA w TO vo_query")
    return db_target


def collect(target, plan: QueryPlan, serialization: str = "binary2", timeout: float = 30) -> bytes:
    async def go() -> bytes:
        db = Database(target, Settings(statement_timeout=timeout))
        await db.open()
        try:
            async with run_query(db, plan, batch_rows=1000) as result:
                return b"".join([chunk async for chunk in votable_stream(result, serialization)])
        finally:
            await db.close()
    return asyncio.run(go())


def parsed(data: bytes):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any VOTable spec warning from astropy fails the test
        return parse(io.BytesIO(data), verify="exception")


@pytest.mark.parametrize("serialization", ["binary2", "tabledata"])
def test_every_type_round_trips(database, serialization: str) -> None:
    plan = QueryPlan(sql="SELECT i, l, s, f, d, b, t, u, ts, p, poly, c8 FROM w.types ORDER BY i NULLS LAST",
                     fields=FIELDS, infos=[("QUERY", "SELECT ... -- test")])
    vot = parsed(collect(database, plan, serialization))
    table = vot.get_first_table().to_table()
    assert len(table) == 12001
    assert list(table.colnames) == [f.name for f in FIELDS]
    row = table[41]  # g = 42
    assert row["i"] == 42 and row["l"] == 420000000000 and row["s"] == 42
    assert row["f"] == pytest.approx(14.0) and row["d"] == pytest.approx(0.042)
    assert bool(row["b"]) is True
    assert row["t"] == "row 42" and row["u"] == "Ångström 42" and row["c8"] == "abc"
    assert row["ts"] == "2020-01-02T18:00:00"
    np.testing.assert_allclose(row["p"], [4.2, -4.2])
    np.testing.assert_allclose(row["poly"], [0, 0, 1, 0, 3, 1])
    last = table[-1]
    for name in ("i", "l", "s", "f", "d", "t"):
        assert np.ma.is_masked(last[name]) or last[name] in ("", None), name
    resource = vot.resources[0]
    assert resource.type == "results"
    assert [(i.name, i.value) for i in resource.infos][:2] == [("QUERY_STATUS", "OK"), ("QUERY", "SELECT ... -- test")]
    fields = {f.name: f for f in vot.get_first_table().fields}
    assert fields["d"].ucd == "pos.eq.ra;meta.main" and str(fields["d"].unit) == "deg"
    assert fields["p"].xtype == "point" and fields["t"].description == "text & <markup>"


def test_overflow_is_flagged_after_the_table(database) -> None:
    plan = QueryPlan(sql="SELECT i FROM w.types ORDER BY i LIMIT 2501", fields=[FIELDS[0]], max_rows=2500)
    vot = parsed(collect(database, plan))
    assert len(vot.get_first_table().array) == 2500
    assert [(i.name, i.value) for i in vot.resources[0].infos][-1] == ("QUERY_STATUS", "OVERFLOW")


def test_exact_limit_is_not_overflow(database) -> None:
    plan = QueryPlan(sql="SELECT i FROM w.types WHERE i <= 2500", fields=[FIELDS[0]], max_rows=2500)
    vot = parsed(collect(database, plan))
    assert len(vot.get_first_table().array) == 2500
    assert all(i.value != "OVERFLOW" for i in vot.resources[0].infos)


def test_query_role_is_read_only(database) -> None:
    # a SELECT with a side effect: only the read-only transaction stops it
    plan = QueryPlan(sql="SELECT lo_create(0)::int AS i", fields=[FIELDS[0]])
    with pytest.raises(QueryFailed) as err:
        collect(database, plan)
    assert not err.value.timeout
    assert "read-only transaction" in err.value.message


def test_statement_timeout_is_reported_as_timeout(database) -> None:
    plan = QueryPlan(sql="SELECT pg_sleep(5)::text AS x", fields=[Field("x", "char", "*")])
    with pytest.raises(QueryFailed) as err:
        collect(database, plan, timeout=0.2)
    assert err.value.timeout
    assert "time" in err.value.message


def test_error_document_is_valid_votable() -> None:
    vot = parsed(error_document("unknown column 'foo' at line 1, column 8 <&>"))
    info = vot.resources[0].infos[0]
    assert (info.name, info.value) == ("QUERY_STATUS", "ERROR")
    assert info.content == "unknown column 'foo' at line 1, column 8 <&>"
