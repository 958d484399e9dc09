"""Publishing the YAML-described metadata into TAP_SCHEMA at every upgrade,
so an edited description shows up after a restart."""

from __future__ import annotations

import psycopg

from vo_server.config import load_settings
from vo_server.metadata.tap_schema import TapSchemaWriter
from vo_server.metadata.yaml_files import load_schema_files


def publish_static_metadata(conn: psycopg.Connection) -> None:
    TapSchemaWriter(conn).publish_static(load_schema_files(load_settings().schemas_dir))
