"""Which PostgreSQL we talk to, and as whom.

Two roles: the *owner* (ingest, DDL, the server's own state) and the *query
role* (client queries: SELECT on published schemas only).  Embedded: we start
the server, create both roles and the database ``vo`` ourselves and log in
as each.  External (``VO_SERVER_DSN``): the DSN's user is the owner; queries
use ``VO_SERVER_QUERY_DSN`` or else the owner's connection with
``SET ROLE <query_role>``.
"""

from __future__ import annotations

from dataclasses import dataclass

import psycopg
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from vo_server.config import Settings
from vo_server.db.embedded import start_embedded

EMBEDDED_DATABASE = "vo"
EMBEDDED_OWNER = "vo_owner"


@dataclass(frozen=True)
class DatabaseTarget:
    owner_dsn: str
    query_dsn: str
    query_role: str
    set_role: bool  # query connections must SET ROLE query_role first
    embedded: bool

    def with_database(self, dbname: str) -> DatabaseTarget:
        return DatabaseTarget(make_conninfo(self.owner_dsn, dbname=dbname),
                              make_conninfo(self.query_dsn, dbname=dbname),
                              self.query_role, self.set_role, self.embedded)

    @property
    def database(self) -> str:
        return conninfo_to_dict(self.owner_dsn).get("dbname", "")


def bootstrap_embedded(superuser_dsn: str, query_role: str, database: str = EMBEDDED_DATABASE) -> None:
    """Create the owner and query roles and the database (idempotent)."""
    with psycopg.connect(superuser_dsn, autocommit=True) as conn:
        for role in (EMBEDDED_OWNER, query_role):
            if not conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone():
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(role)))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {} ENCODING 'UTF8' TEMPLATE template0").format(
                sql.Identifier(database), sql.Identifier(EMBEDDED_OWNER)))


def resolve_target(settings: Settings) -> DatabaseTarget:
    """Connect to the configured PostgreSQL, starting the embedded one if none is set."""
    if settings.dsn:
        query_dsn = settings.query_dsn or settings.dsn
        return DatabaseTarget(settings.dsn, query_dsn, settings.query_role,
                              set_role=not settings.query_dsn, embedded=False)
    superuser = start_embedded(settings.pg_dir, settings.embedded_engine)
    bootstrap_embedded(superuser, settings.query_role)
    return embedded_target(superuser, settings.query_role, EMBEDDED_DATABASE)


def embedded_target(superuser_dsn: str, query_role: str, database: str) -> DatabaseTarget:
    return DatabaseTarget(make_conninfo(superuser_dsn, user=EMBEDDED_OWNER, dbname=database),
                          make_conninfo(superuser_dsn, user=query_role, dbname=database),
                          query_role, set_role=False, embedded=True)
