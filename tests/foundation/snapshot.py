"""A comparable picture of everything ingest may touch, to prove a failed
ingest left the database as it was."""

from __future__ import annotations

import psycopg


def database_state(dsn: str) -> dict[str, object]:
    with psycopg.connect(dsn) as conn:
        relations = conn.execute(
            "SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1, 2").fetchall()
        state: dict[str, object] = {"relations": relations,
                                    "schemas": conn.execute("SELECT nspname FROM pg_namespace ORDER BY 1").fetchall()}
        for table in ("tap_schema.schemas", "tap_schema.tables", "tap_schema.columns", "tap_schema.keys",
                      "tap_schema.key_columns", "vo_internal.published_tables", "vo_internal.data_schemas"):
            state[table] = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
        for schema, name, kind in relations:
            if kind == "r" and schema not in ("tap_schema", "vo_internal"):
                state[f"{schema}.{name}"] = conn.execute(f'SELECT md5(string_agg(t::text, \',\' ORDER BY t::text)) '
                                                         f'FROM "{schema}"."{name}" t').fetchone()
    return state
