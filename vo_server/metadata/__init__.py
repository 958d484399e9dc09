"""Published metadata: one source of truth (schemas/*.yaml plus what ingest
learns from files) for DDL, TAP_SCHEMA, VOSI tables and registry records."""

from vo_server.metadata.model import ColumnMeta, KeyMeta, ResourceMeta, SchemaMeta, TableMeta

__all__ = ["ColumnMeta", "KeyMeta", "ResourceMeta", "SchemaMeta", "TableMeta"]
