"""Shared fixtures: one embedded PostgreSQL per test session, one fresh
database per test module (a copy of a migrated template), and a real HTTP
server on a free loopback port."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator

import psycopg
import pytest
import uvicorn
from psycopg import sql

from vo_server.config import Settings
from vo_server.db.embedded import start_scratch_embedded
from vo_server.db.migrations import upgrade
from vo_server.db.target import EMBEDDED_OWNER, DatabaseTarget, bootstrap_embedded, embedded_target

TEMPLATE_DB = "vo_template"
QUERY_ROLE = "vo_query"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[str]:
    """Superuser URI of an embedded PostgreSQL private to this test session."""
    uri, _root = start_scratch_embedded("vo-test-")
    bootstrap_embedded(uri, QUERY_ROLE, TEMPLATE_DB)
    upgrade(embedded_target(uri, QUERY_ROLE, TEMPLATE_DB))
    yield uri


def _new_database(pg_server: str, name: str) -> DatabaseTarget:
    with psycopg.connect(pg_server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {} TEMPLATE {} OWNER {}").format(
            sql.Identifier(name), sql.Identifier(TEMPLATE_DB), sql.Identifier(EMBEDDED_OWNER)))
    target = embedded_target(pg_server, QUERY_ROLE, name)
    upgrade(target)  # database-level grants are not copied from the template
    return target


@pytest.fixture(scope="module")
def db_target(pg_server: str, request: pytest.FixtureRequest) -> DatabaseTarget:
    """A fresh, migrated database for this test module."""
    name = "t_" + re.sub(r"\W", "_", request.module.__name__.rsplit(".", 1)[-1])[:55]
    return _new_database(pg_server, name)


@pytest.fixture(scope="module")
def db_dsn(db_target: DatabaseTarget) -> str:
    """Owner DSN of this module's database."""
    return db_target.owner_dsn


@pytest.fixture(scope="module")
def query_dsn(db_target: DatabaseTarget) -> str:
    """DSN of this module's database as the read-only query role."""
    return db_target.query_dsn


@pytest.fixture(scope="module")
def cli_env(db_target: DatabaseTarget, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment for running ``vo-server`` as a subprocess against this module's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("VO_SERVER_")}
    env.update(VO_SERVER_DSN=db_target.owner_dsn, VO_SERVER_QUERY_DSN=db_target.query_dsn,
               VO_SERVER_DATA_DIR=str(tmp_path_factory.mktemp("data")), VO_SERVER_LOG_LEVEL="warning")
    return env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    """The real app under uvicorn on a loopback port, in a thread."""

    def __init__(self, settings: Settings, target: DatabaseTarget):
        from vo_server.app import create_app

        self.url = settings.public_url
        config = uvicorn.Config(create_app(settings, target), host=settings.host, port=settings.port,
                                log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_server(db_target: DatabaseTarget, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    port = free_port()
    settings = Settings(host="127.0.0.1", port=port, data_dir=tmp_path_factory.mktemp("server-data"))
    with LiveServer(settings, db_target) as server:
        yield server
