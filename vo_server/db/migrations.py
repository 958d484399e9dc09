"""Versioned schema migrations: ``vo_server/migrations/NNNN_name.sql`` (or
``.py`` with ``upgrade(conn)``), applied once each in name order and recorded
in ``vo_internal.schema_migrations``.  ``vo-server db upgrade`` runs them;
so does every start.  Concurrent upgrades (server and CLI starting together)
serialise on an advisory lock.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from dataclasses import dataclass
from pathlib import Path

import psycopg

from vo_server.db import roles
from vo_server.db.target import DatabaseTarget

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
ADVISORY_LOCK_ID = 0x766F5F6D6967  # "vo_mig"


@dataclass(frozen=True)
class Migration:
    version: str
    path: Path

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()

    def apply(self, conn: psycopg.Connection) -> None:
        if self.path.suffix == ".sql":
            conn.execute(self.path.read_text(encoding="utf-8"))
            return
        spec = importlib.util.spec_from_file_location(f"vo_server_migration_{self.version}", self.path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.upgrade(conn)


def available_migrations(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    found = [p for p in directory.iterdir() if p.suffix in (".sql", ".py") and p.name[:4].isdigit()]
    return [Migration(p.stem, p) for p in sorted(found)]


def upgrade(target: DatabaseTarget) -> list[str]:
    """Apply pending migrations, then refresh privileges and static metadata; return what was applied."""
    from vo_server.metadata.sync import publish_static_metadata

    applied_now: list[str] = []
    with psycopg.connect(target.owner_dsn, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_LOCK_ID,))
        try:
            conn.execute("CREATE SCHEMA IF NOT EXISTS vo_internal")
            conn.execute("CREATE TABLE IF NOT EXISTS vo_internal.schema_migrations ("
                         "version text PRIMARY KEY, checksum text NOT NULL, "
                         "applied_at timestamptz NOT NULL DEFAULT now())")
            done = dict(conn.execute("SELECT version, checksum FROM vo_internal.schema_migrations").fetchall())
            for migration in available_migrations():
                if migration.version in done:
                    if done[migration.version] != migration.checksum:
                        log.warning("migration %s changed after it was applied; not re-applied", migration.version)
                    continue
                with conn.transaction():
                    migration.apply(conn)
                    conn.execute("INSERT INTO vo_internal.schema_migrations (version, checksum) VALUES (%s, %s)",
                                 (migration.version, migration.checksum))
                log.info("applied migration %s", migration.version)
                applied_now.append(migration.version)
            with conn.transaction():
                if target.set_role:
                    roles.ensure_query_role(conn, target.query_role)
                publish_static_metadata(conn)
                roles.apply_grants(conn, target.query_role)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (ADVISORY_LOCK_ID,))
    return applied_now


def applied_versions(target: DatabaseTarget) -> list[str]:
    with psycopg.connect(target.owner_dsn) as conn:
        return [r[0] for r in conn.execute("SELECT version FROM vo_internal.schema_migrations ORDER BY 1")]
