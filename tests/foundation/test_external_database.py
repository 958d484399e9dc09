"""An external PostgreSQL where the server only has an owner login: queries
run through ``SET ROLE <query_role>`` and are still confined to SELECT."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from psycopg import sql
from psycopg.conninfo import make_conninfo

from vo_server.config import Settings
from vo_server.db.migrations import upgrade
from vo_server.db.pools import Database
from vo_server.db.target import DatabaseTarget

OWNER, QUERY_ROLE, DATABASE = "ext_owner", "ext_query", "ext_archive"


@pytest.fixture(scope="module")
def external(pg_server: str) -> DatabaseTarget:
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DATABASE)))
        for role in (QUERY_ROLE, OWNER):
            conn.execute(sql.SQL("DROP ROLE IF EXISTS {}").format(sql.Identifier(role)))
        # what a DBA grants an application owner on a managed PostgreSQL
        conn.execute(sql.SQL("CREATE ROLE {} LOGIN CREATEROLE").format(sql.Identifier(OWNER)))
        conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(DATABASE), sql.Identifier(OWNER)))
    owner_dsn = make_conninfo(pg_server, user=OWNER, dbname=DATABASE)
    target = DatabaseTarget(owner_dsn, owner_dsn, QUERY_ROLE, set_role=True, embedded=False)
    upgrade(target)  # creates the query role and lets the owner SET ROLE to it
    return target


def run(target: DatabaseTarget, statement: str) -> list[tuple]:
    async def go() -> list[tuple]:
        db = Database(target, Settings())
        await db.open()
        try:
            async with db.query.connection() as conn:
                try:
                    cur = await conn.execute(statement)
                    return await cur.fetchall()
                finally:
                    await conn.rollback()
        finally:
            await db.close()
    return asyncio.run(go())


def test_queries_run_as_the_query_role(external) -> None:
    assert run(external, "SELECT current_user, current_setting('transaction_read_only')") == [(QUERY_ROLE, "on")]
    assert run(external, "SELECT count(*) FROM tap_schema.tables")[0][0] >= 5


@pytest.mark.parametrize("statement", ["SELECT * FROM vo_internal.schema_migrations",
                                       "CREATE TABLE tap_schema.evil (x int)"])
def test_query_role_is_confined(external, statement: str) -> None:
    with pytest.raises((psycopg.errors.InsufficientPrivilege, psycopg.errors.ReadOnlySqlTransaction)):
        run(external, statement)


def test_query_role_cannot_write_even_in_a_read_write_transaction(external) -> None:
    with psycopg.connect(external.owner_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(QUERY_ROLE)))
        for statement in ("CREATE TABLE tap_schema.evil (x int)", "DELETE FROM tap_schema.columns",
                          "CREATE TEMPORARY TABLE evil (x int)"):
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                conn.execute(statement)


def test_upgrade_is_idempotent(external) -> None:
    assert upgrade(external) == []
