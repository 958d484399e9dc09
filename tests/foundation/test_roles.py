"""The query role reads published schemas and nothing else, and writes nothing."""

from __future__ import annotations

import psycopg
import pytest

from tests.foundation.files import star_table, write
from vo_server.ingest.loader import IngestRequest, ingest


@pytest.fixture(scope="module")
def published(db_target, tmp_path_factory):
    path = write(star_table(50), tmp_path_factory.mktemp("roles") / "stars.vot")
    ingest(db_target, IngestRequest(path=path, table="cat.stars"))
    return db_target


def run_as_query_role(target, statement: str) -> None:
    with psycopg.connect(target.query_dsn, autocommit=True) as conn:
        conn.execute(statement)


def test_query_role_reads_published_tables(published) -> None:
    with psycopg.connect(published.query_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM cat.stars").fetchone()[0] == 50
        assert conn.execute("SELECT count(*) FROM tap_schema.tables").fetchone()[0] >= 6
        assert conn.execute("SELECT current_user").fetchone()[0] == published.query_role


@pytest.mark.parametrize("statement", [
    "INSERT INTO cat.stars (id) VALUES (999)",
    "UPDATE cat.stars SET mag_g = 0",
    "DELETE FROM cat.stars",
    "TRUNCATE cat.stars",
    "INSERT INTO tap_schema.tables (schema_name, table_name, table_type) VALUES ('x', 'x.y', 'table')",
    "UPDATE tap_schema.columns SET unit = 'furlong'",
    "DELETE FROM tap_schema.schemas",
    "CREATE TABLE cat.evil (x int)",
    "CREATE TABLE public.evil (x int)",
    "CREATE TABLE tap_schema.evil (x int)",
    "CREATE TEMPORARY TABLE evil (x int)",
    "CREATE SCHEMA evil",
    "DROP TABLE cat.stars",
    "ALTER TABLE cat.stars ADD COLUMN x int",
    "SELECT * FROM vo_internal.published_tables",
    "SELECT * FROM vo_internal.schema_migrations",
    "SELECT * FROM vo_internal.data_schemas",
])
def test_query_role_cannot(published, statement: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        run_as_query_role(published, statement)


def test_nothing_changed_by_the_attempts(published) -> None:
    with psycopg.connect(published.owner_dsn) as conn:
        assert conn.execute("SELECT count(*) FROM cat.stars").fetchone()[0] == 50
        assert conn.execute("SELECT to_regclass('cat.evil') IS NULL AND to_regclass('public.evil') IS NULL "
                            "AND to_regclass('tap_schema.evil') IS NULL").fetchone()[0]
