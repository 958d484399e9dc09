"""What the sky services need to know about a published positional table,
read from the one source of truth (``vo_internal.published_tables`` for the
index facts, ``tap_schema.columns`` for the columns)."""

from __future__ import annotations

from dataclasses import dataclass

import psycopg

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
