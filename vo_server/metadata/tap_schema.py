"""Writing and reading TAP_SCHEMA rows.

TAP_SCHEMA is the published view of our metadata: ingest and the static
YAML files write it through ``TapSchemaWriter``; the TAP service, VOSI
/tables, the registry and the ADQL catalog read it back with
``read_tables``.
"""

from __future__ import annotations

from collections.abc import Iterable

import psycopg
from psycopg import sql

from adql.reserved import RESERVED_WORDS
from vo_server.metadata.model import ColumnMeta, KeyMeta, SchemaMeta, TableMeta


def adql_column_name(name: str) -> str:
    """The name as TAP 1.1 publishes it: delimited ("size") when it is an ADQL
    reserved word or not a regular identifier, so clients can paste it into ADQL."""
    regular = name[:1].isalpha() and all(ch.isalnum() or ch == "_" for ch in name) and name.isascii()
    if regular and name.upper() not in RESERVED_WORDS:
        return name
    return '"' + name.replace('"', '""') + '"'


def stored_column_name(published: str) -> str:
    """The database column behind a published (possibly delimited) name."""
    if len(published) >= 2 and published.startswith('"') and published.endswith('"'):
        return published[1:-1].replace('""', '"')
    return published


def _flag(value: bool) -> int:
    return 1 if value else 0


def _size(arraysize: str | None) -> int | None:
    if arraysize and arraysize.rstrip("*").isdigit():
        return int(arraysize.rstrip("*"))
    return None


class TapSchemaWriter:
    """Upserts schema/table/column/key rows; all in the caller's transaction."""

    def __init__(self, conn: psycopg.Connection):
        self.conn = conn

    def publish_schema(self, name: str, description: str | None, utype: str | None = None,
                       index: int | None = None) -> None:
        self.conn.execute(
            "INSERT INTO tap_schema.schemas (schema_name, description, utype, schema_index) "
            "VALUES (%s, %s, %s, %s) ON CONFLICT (schema_name) DO UPDATE SET "
            "description = coalesce(EXCLUDED.description, tap_schema.schemas.description), "
            "utype = coalesce(EXCLUDED.utype, tap_schema.schemas.utype), "
            "schema_index = coalesce(EXCLUDED.schema_index, tap_schema.schemas.schema_index)",
            (name, description, utype, index))

    def publish_table(self, table: TableMeta, index: int | None = None) -> None:
        """Replace every TAP_SCHEMA row of ``table`` (its schema row must exist)."""
        self.unpublish_table(table.qualified_name)
        self.conn.execute(
            "INSERT INTO tap_schema.tables (schema_name, table_name, table_type, utype, description, table_index) "
            "VALUES (%s, %s, %s, %s, %s, %s)",
            (table.schema, table.qualified_name, table.table_type, table.utype, table.description, index))
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO tap_schema.columns (table_name, column_name, datatype, arraysize, xtype, size, "
                "description, utype, unit, ucd, indexed, principal, std, column_index) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(table.qualified_name, adql_column_name(c.name), c.datatype, c.arraysize, c.xtype, _size(c.arraysize),
                  c.description, c.utype, c.unit, c.ucd, _flag(c.indexed), _flag(c.principal), _flag(c.std), i)
                 for i, c in enumerate(table.columns, start=1)])
        for key in table.keys:
            self._publish_key(key)

    def _publish_key(self, key: KeyMeta) -> None:
        self.conn.execute(
            "INSERT INTO tap_schema.keys (key_id, from_table, target_table, description, utype) "
            "VALUES (%s, %s, %s, %s, %s)",
            (key.key_id, key.from_table, key.target_table, key.description, key.utype))
        with self.conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO tap_schema.key_columns (key_id, from_column, target_column) VALUES (%s, %s, %s)",
                [(key.key_id, f, t) for f, t in key.columns])

    def unpublish_table(self, qualified_name: str) -> None:
        self.conn.execute(
            "DELETE FROM tap_schema.key_columns WHERE key_id IN "
            "(SELECT key_id FROM tap_schema.keys WHERE from_table = %(t)s OR target_table = %(t)s)",
            {"t": qualified_name})
        self.conn.execute("DELETE FROM tap_schema.keys WHERE from_table = %(t)s OR target_table = %(t)s",
                          {"t": qualified_name})
        self.conn.execute("DELETE FROM tap_schema.columns WHERE table_name = %s", (qualified_name,))
        self.conn.execute("DELETE FROM tap_schema.tables WHERE table_name = %s", (qualified_name,))

    def unpublish_schema_if_empty(self, name: str) -> bool:
        cur = self.conn.execute(
            "DELETE FROM tap_schema.schemas s WHERE schema_name = %s AND NOT EXISTS "
            "(SELECT 1 FROM tap_schema.tables t WHERE t.schema_name = s.schema_name)", (name,))
        return cur.rowcount > 0

    def publish_static(self, schemas: Iterable[SchemaMeta]) -> None:
        """Publish the schemas described by YAML files (descriptions of tables
        that exist; a YAML entry for a table that is not in the database is
        skipped, so data tables appear once ingested)."""
        for s_index, schema in enumerate(schemas):
            present = [(i, t) for i, t in enumerate(schema.tables) if table_exists(self.conn, t.schema, t.name)]
            if not present:
                continue
            self.publish_schema(schema.name, schema.description, schema.utype, s_index)
            for t_index, table in present:
                self.publish_table(table, t_index)


def table_exists(conn: psycopg.Connection, schema: str, name: str) -> bool:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL",
                       (sql.Identifier(schema, name).as_string(conn),)).fetchone()
    return bool(row and row[0])


def read_tables(conn: psycopg.Connection, qualified_names: Iterable[str] | None = None) -> list[TableMeta]:
    """Published tables (all, or the ones named), in schema/table order, with columns and keys."""
    names = list(qualified_names) if qualified_names is not None else None
    rows = conn.execute(
        "SELECT t.schema_name, t.table_name, t.table_type, t.utype, t.description "
        "FROM tap_schema.tables t LEFT JOIN tap_schema.schemas s USING (schema_name) "
        "WHERE %(names)s::text[] IS NULL OR t.table_name = ANY(%(names)s::text[]) "
        "ORDER BY s.schema_index NULLS LAST, t.schema_name, t.table_index NULLS LAST, t.table_name",
        {"names": names}).fetchall()
    tables: dict[str, TableMeta] = {}
    for schema_name, table_name, table_type, utype, description in rows:
        short = table_name.split(".", 1)[1] if table_name.startswith(schema_name + ".") else table_name
        tables[table_name] = TableMeta(schema=schema_name, name=short, columns=[], description=description,
                                       utype=utype, table_type=table_type)
    if not tables:
        return []
    for row in conn.execute(
            "SELECT table_name, column_name, datatype, arraysize, xtype, unit, ucd, utype, description, "
            "principal, indexed, std FROM tap_schema.columns WHERE table_name = ANY(%s) "
            "ORDER BY table_name, column_index NULLS LAST, column_name", (list(tables),)):
        tables[row[0]].columns.append(ColumnMeta(
            name=row[1], datatype=row[2], arraysize=row[3], xtype=row[4], unit=row[5], ucd=row[6],
            utype=row[7], description=row[8], principal=bool(row[9]), indexed=bool(row[10]), std=bool(row[11])))
    for key_id, from_table, target_table, description, utype in conn.execute(
            "SELECT key_id, from_table, target_table, description, utype FROM tap_schema.keys "
            "WHERE from_table = ANY(%s) ORDER BY key_id", (list(tables),)):
        columns = conn.execute("SELECT from_column, target_column FROM tap_schema.key_columns "
                               "WHERE key_id = %s ORDER BY from_column", (key_id,)).fetchall()
        tables[from_table].keys.append(KeyMeta(key_id, from_table, target_table, [tuple(c) for c in columns],
                                               description, utype))
    return list(tables.values())


def read_schemas(conn: psycopg.Connection) -> list[SchemaMeta]:
    """Published schemas with their tables."""
    by_name: dict[str, SchemaMeta] = {
        name: SchemaMeta(name=name, description=description, utype=utype)
        for name, description, utype in conn.execute(
            "SELECT schema_name, description, utype FROM tap_schema.schemas "
            "ORDER BY schema_index NULLS LAST, schema_name")}
    for table in read_tables(conn):
        by_name.setdefault(table.schema, SchemaMeta(name=table.schema)).tables.append(table)
    return list(by_name.values())
