"""Connection pools of the running server.

``owner`` reads the server's own state (vo_internal) and writes job state;
``query`` runs client queries: as the query role, in read-only transactions,
with the statement timeout.
"""

from __future__ import annotations

import asyncio

import psycopg
from psycopg import sql
from psycopg_pool import AsyncConnectionPool, ConnectionPool

from vo_server.config import Settings
from vo_server.db.target import DatabaseTarget

QUERY_CONNECTIONS = 16  # client queries at once, shared by the server processes (VO_SERVER_WORKERS)
MIN_QUERY_CONNECTIONS = 4


class Database:
    def __init__(self, target: DatabaseTarget, settings: Settings):
        self.target = target
        self.settings = settings
        # ``settings.workers`` is the actual number of server processes in a worker (vo_server.serving),
        # 0 in a single in-process server: the processes share the connection budget.
        queries = max(MIN_QUERY_CONNECTIONS, QUERY_CONNECTIONS // max(1, settings.workers))
        self.owner = AsyncConnectionPool(target.owner_dsn, min_size=1, max_size=4, open=False,
                                         kwargs={"autocommit": True})
        self.query = AsyncConnectionPool(target.query_dsn, min_size=1, max_size=queries, open=False,
                                         configure=self._configure_query)
        # Blocking connections of the query role, used from worker threads for binary COPY
        # (vo_server.query.columnar): psycopg's async COPY costs an event-loop round trip per row.
        self.query_sync = ConnectionPool(target.query_dsn, min_size=0, max_size=queries, open=False,
                                         configure=self._configure_query_sync)

    async def _configure_query(self, conn: psycopg.AsyncConnection) -> None:
        await conn.set_autocommit(True)
        if self.target.set_role:
            await conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(self.target.query_role)))
        await conn.execute("SET default_transaction_read_only = on")
        await conn.execute(sql.SQL("SET statement_timeout = {}").format(
            sql.Literal(int(self.settings.statement_timeout * 1000))))
        await conn.set_autocommit(False)

    def _configure_query_sync(self, conn: psycopg.Connection) -> None:
        conn.autocommit = True
        if self.target.set_role:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(self.target.query_role)))
        conn.execute("SET default_transaction_read_only = on")
        conn.execute(sql.SQL("SET statement_timeout = {}").format(
            sql.Literal(int(self.settings.statement_timeout * 1000))))
        conn.autocommit = False

    async def open(self) -> None:
        await self.owner.open(wait=True)
        await self.query.open(wait=True)
        self.query_sync.open()

    async def close(self) -> None:
        await asyncio.to_thread(self.query_sync.close)
        await self.query.close()
        await self.owner.close()
