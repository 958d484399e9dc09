"""Privileges of the query role: SELECT on published schemas, nothing else.

Re-applied on every upgrade and after every ingest (idempotent), because
database-level grants are not copied by CREATE DATABASE ... TEMPLATE and new
schemas appear with ingest.
"""

from __future__ import annotations

import psycopg
from psycopg import sql

# Schemas whose tables clients may read; catalogue schemas created by ingest
# are added from vo_internal.data_schemas.
PUBLISHED_SCHEMAS = ("tap_schema", "ivoa")
INTERNAL_SCHEMA = "vo_internal"


def published_schemas(conn: psycopg.Connection) -> list[str]:
    data = [r[0] for r in conn.execute("SELECT schema_name FROM vo_internal.data_schemas ORDER BY 1")]
    return [*PUBLISHED_SCHEMAS, *data]


def ensure_query_role(conn: psycopg.Connection, role: str) -> None:
    """Create the query role if missing (needs CREATEROLE) and make the owner able to SET ROLE to it."""
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    if not exists:
        try:
            conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        except psycopg.errors.InsufficientPrivilege as exc:
            raise PermissionError(
                f"the query role {role!r} does not exist and the owner may not create it: "
                f"ask your DBA to run CREATE ROLE {role} LOGIN, or set VO_SERVER_QUERY_ROLE") from exc
    # PostgreSQL 16 separates membership from the right to SET ROLE; before 16, membership is enough.
    privilege = "SET" if conn.info.server_version >= 160000 else "MEMBER"
    is_member = conn.execute("SELECT pg_has_role(current_user, %s, %s)", (role, privilege)).fetchone()[0]
    if not is_member:
        conn.execute(sql.SQL("GRANT {} TO CURRENT_USER").format(sql.Identifier(role)))


def apply_grants(conn: psycopg.Connection, role: str) -> None:
    q = sql.Identifier(role)
    db = sql.Identifier(conn.info.dbname)
    conn.execute(sql.SQL("REVOKE ALL ON DATABASE {} FROM PUBLIC").format(db))
    conn.execute(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, q))
    conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    conn.execute(sql.SQL("REVOKE ALL ON SCHEMA {} FROM PUBLIC").format(sql.Identifier(INTERNAL_SCHEMA)))
    conn.execute(sql.SQL("REVOKE ALL ON ALL TABLES IN SCHEMA {} FROM PUBLIC, {}").format(
        sql.Identifier(INTERNAL_SCHEMA), q))
    for schema in published_schemas(conn):
        grant_select(conn, schema, role)


def grant_select(conn: psycopg.Connection, schema: str, role: str) -> None:
    s, q = sql.Identifier(schema), sql.Identifier(role)
    conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(s, q))
    conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(s, q))
    conn.execute(sql.SQL("ALTER DEFAULT PRIVILEGES IN SCHEMA {} GRANT SELECT ON TABLES TO {}").format(s, q))
