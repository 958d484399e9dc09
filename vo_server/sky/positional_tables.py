"""What the sky services need to know about a published positional table,
read from the one source of truth (``vo_internal.published_tables`` for the
index facts, ``tap_schema.columns`` for the columns)."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

from vo_server.catalog import PublishedCatalog
from vo_server.db.pools import Database
from vo_server.metadata.model import ColumnMeta


@dataclass(frozen=True)
class PositionalTable:
    schema: str
    name: str
    ra_column: str
    dec_column: str
    hpx_column: str
    row_count: int
    columns: tuple[ColumnMeta, ...]
    description: str | None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    def id_column(self) -> ColumnMeta:
        """The main identifier: UCD meta.id;meta.main, else the first
        principal non-position column, else the first column."""
        for col in self.columns:
            if (col.ucd or "").lower().replace(" ", "") in ("meta.id;meta.main", "id_main"):
                return col
        skip = {self.ra_column, self.dec_column, self.hpx_column}
        for col in self.columns:
            if col.principal and col.name not in skip:
                return col
        return next(c for c in self.columns if c.name not in skip) if len(self.columns) > 3 else self.columns[0]

    def column(self, name: str) -> ColumnMeta | None:
        return next((c for c in self.columns if c.name == name), None)


async def positional_tables(conn: psycopg.AsyncConnection, qualified: str | None = None) -> list[PositionalTable]:
    """Published tables with an indexed position (all, or the one named)."""
    cur = await conn.execute(
        "SELECT p.schema_name, p.table_name, p.ra_column, p.dec_column, p.hpx_column, p.row_count, t.description "
        "FROM vo_internal.published_tables p "
        "LEFT JOIN tap_schema.tables t ON t.table_name = p.schema_name || '.' || p.table_name "
        "WHERE p.hpx_column IS NOT NULL AND (%(q)s::text IS NULL OR p.schema_name || '.' || p.table_name = %(q)s) "
        "ORDER BY 1, 2", {"q": qualified})
    found = await cur.fetchall()
    tables = []
    for schema, name, ra, dec, hpx, rows, description in found:
        cur = await conn.execute(
            "SELECT column_name, datatype, arraysize, xtype, unit, ucd, utype, description, principal, indexed "
            "FROM tap_schema.columns WHERE table_name = %s ORDER BY column_index NULLS LAST, column_name",
            (f"{schema}.{name}",))
        columns = tuple(ColumnMeta(name=r[0], datatype=r[1], arraysize=r[2], xtype=r[3], unit=r[4], ucd=r[5],
                                   utype=r[6], description=r[7], principal=bool(r[8]), indexed=bool(r[9]))
                        for r in await cur.fetchall())
        tables.append(PositionalTable(schema, name, ra, dec, hpx, rows, columns, description))
    return tables


class PositionalTableCache:
    """Positional tables by name, kept until the published metadata changes
    (the catalog's version, checked at most every ``CHECK_INTERVAL``): a cone
    search otherwise ran two metadata queries per request (~15% of its server
    CPU).  Only tables found are kept, so unknown names cost a query each but
    no memory."""

    def __init__(self, catalog: PublishedCatalog, db: Database):
        self.catalog = catalog
        self.db = db
        self.version: tuple | None = None
        self.tables: dict[str, PositionalTable] = {}

    async def get(self, qualified: str) -> PositionalTable | None:
        await self.catalog.refresh()
        if self.catalog.version != self.version:
            self.tables, self.version = {}, self.catalog.version
        table = self.tables.get(qualified)
        if table is None:
            async with self.db.owner.connection() as conn:
                found = await positional_tables(conn, qualified)
            if not found:
                return None
            table = self.tables[qualified] = found[0]
        return table

    def forget(self, qualified: str) -> None:
        """After a failed query: the table may have gone in the last interval."""
        self.tables.pop(qualified, None)
