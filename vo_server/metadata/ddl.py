"""CREATE statements derived from table metadata (never written by hand)."""

from __future__ import annotations

from psycopg import sql

from vo_server.metadata.model import TableMeta
from vo_server.metadata.pg_types import pg_type


def create_table_sql(table: TableMeta, name: str | None = None) -> sql.Composed:
    """CREATE TABLE for ``table`` (under ``name`` in its schema if given)."""
    column_defs = [
        sql.SQL("{} {}{}").format(
            sql.Identifier(col.name), sql.SQL(pg_type(col)),
            sql.SQL("" if col.nullable else " NOT NULL"))
        for col in table.columns
    ]
    if table.primary_key:
        column_defs.append(sql.SQL("PRIMARY KEY ({})").format(
            sql.SQL(", ").join(map(sql.Identifier, table.primary_key))))
    return sql.SQL("CREATE TABLE {} ({})").format(
        sql.Identifier(table.schema, name or table.name), sql.SQL(", ").join(column_defs))
