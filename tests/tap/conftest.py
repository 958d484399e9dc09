"""TAP test fixtures: a database with the Gaia demo table and a live server on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import LiveServer, free_port
from vo_server.config import Settings
from vo_server.demo.loader import load_demo


@pytest.fixture(scope="module")
def demo_target(db_target, tmp_path_factory):
    load_demo(db_target, Settings(data_dir=tmp_path_factory.mktemp("demo")))
    return db_target


def tap_settings(tmp_path_factory: pytest.TempPathFactory, **overrides) -> Settings:
    values = dict(host="127.0.0.1", port=free_port(), data_dir=tmp_path_factory.mktemp("tap-data"),
                  tap_max_rec=20000, statement_timeout=30.0)
    values.update(overrides)
    return Settings(**values)


@pytest.fixture(scope="module")
def tap_server(demo_target, tmp_path_factory) -> Iterator[LiveServer]:
    with LiveServer(tap_settings(tmp_path_factory), demo_target) as server:
        yield server


@pytest.fixture(scope="module")
def tap_url(tap_server) -> str:
    return tap_server.url + "/tap"
