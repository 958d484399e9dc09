"""A throw-away, migrated database on its own embedded server, for
benchmarks: started in a new temporary directory that is removed at exit."""

from __future__ import annotations

from pathlib import Path

from vo_server.db.embedded import start_scratch_embedded
from vo_server.db.migrations import upgrade
from vo_server.db.target import DatabaseTarget, bootstrap_embedded, embedded_target


def scratch_database(prefix: str, database: str = "bench", query_role: str = "vo_query") -> tuple[DatabaseTarget, Path]:
    """(the upgraded database, its temporary directory for other scratch files)."""
    superuser, root = start_scratch_embedded(prefix)
    bootstrap_embedded(superuser, query_role, database)
    target = embedded_target(superuser, query_role, database)
    upgrade(target)
    return target, root
