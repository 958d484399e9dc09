"""TAP_SCHEMA 1.1 tables, created from schemas/tap_schema.yaml (the one description of them)."""

from __future__ import annotations

import psycopg

from vo_server.config import load_settings
from vo_server.metadata.ddl import create_table_sql
from vo_server.metadata.yaml_files import load_schema_files


def upgrade(conn: psycopg.Connection) -> None:
    schemas = load_schema_files(load_settings().schemas_dir)
    tap_schema = next(s for s in schemas if s.name == "tap_schema")
    for table in tap_schema.tables:
        conn.execute(create_table_sql(table))
