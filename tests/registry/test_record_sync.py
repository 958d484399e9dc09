"""Record state: datestamps move only on real change, tombstones persist,
extra record sources (the GW sky-map extension point) plug in, and the
``vo-server registry validate`` command checks everything."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Iterable

import psycopg
import pytest

from registry.conformance import ERROR_CASES
from registry.model import RegistryResource
from registry.record_store import synchronise
from registry.sources import RECORD_SOURCES, RecordContext, base_resource
from registry.xsd_validation import validate_xml
from tests.registry.support import load_table
from vo_server.config import Settings
from vo_server.metadata.yaml_files import load_resource


class SkyMapSource:
    """What the GW module will register: one record per sky map."""

    name = "test-skymaps"

    def __init__(self, maps: list[str]):
        self.maps = maps

    def fingerprint(self, conn: psycopg.Connection, ctx: RecordContext) -> str:
        return ",".join(self.maps)

    def resources(self, conn: psycopg.Connection, ctx: RecordContext) -> Iterable[RegistryResource]:
        for name in self.maps:
            yield base_resource(ctx, f"{ctx.authority}/skymaps/{name}", "vs:CatalogResource", "skymaps",
                                f"Sky map {name}", f"Gravitational-wave sky map {name}",
                                datacite_type="Dataset")


@pytest.fixture(scope="module")
def ctx() -> RecordContext:
    settings = Settings()
    return RecordContext(settings, load_resource(settings.schemas_dir), (), 10)


def records(conn: psycopg.Connection) -> dict[str, tuple]:
    return {r[0]: r[1:] for r in conn.execute(
        "SELECT identifier, datestamp, deleted, content_hash, ivo_vor FROM vo_internal.registry_records")}


def test_datestamps_follow_real_changes_only(db_target, ctx, tmp_path):
    load_table(db_target, tmp_path, "cat.stars")
    with psycopg.connect(db_target.owner_dsn) as conn:
        first = synchronise(conn, ctx)
        assert (first.added, first.changed, first.deleted) == (3, 0, 0)  # authority, registry, the table
        again = synchronise(conn, ctx)
        assert again.skipped  # fingerprint unchanged: nothing rebuilt
        forced = synchronise(conn, ctx, force=True)
        assert (forced.added, forced.changed, forced.unchanged) == (0, 0, 3)
        before = records(conn)
    time.sleep(1.1)
    load_table(db_target, tmp_path, "cat.stars", rows=41, mode="replace")
    with psycopg.connect(db_target.owner_dsn) as conn:
        report = synchronise(conn, ctx)
        after = records(conn)
    assert report.changed == 1
    table = "ivo://example.org/cat/stars"
    assert after[table][0] > before[table][0]
    assert after["ivo://example.org"][0] == before["ivo://example.org"][0]
    assert f'updated="{after[table][0].strftime("%Y-%m-%dT%H:%M:%SZ")}"' in after[table][3]


def test_record_sources_extend_the_registry_and_leave_tombstones(db_target, ctx):
    sources = [*RECORD_SOURCES, SkyMapSource(["S250101a", "S250102b"])]
    with psycopg.connect(db_target.owner_dsn) as conn:
        report = synchronise(conn, ctx, sources)
        assert report.added == 2
        rows = records(conn)
        payload = rows["ivo://example.org/skymaps/S250101a"][3]
        document = (f'<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/"><responseDate>2026-01-01T00:00:00Z'
                    f'</responseDate><request>http://x/oai</request><GetRecord><record><header><identifier>x'
                    f'</identifier><datestamp>2026-01-01T00:00:00Z</datestamp></header><metadata>{payload}'
                    f'</metadata></record></GetRecord></OAI-PMH>')
        assert validate_xml(document.encode()).valid
        sources[-1] = SkyMapSource(["S250102b"])
        report = synchronise(conn, ctx, sources)
        assert report.deleted == 1
        rows = records(conn)
        assert rows["ivo://example.org/skymaps/S250101a"][1] is True
        assert rows["ivo://example.org/skymaps/S250101a"][3] is None
        synchronise(conn, ctx, sources)
        assert records(conn)["ivo://example.org/skymaps/S250101a"][1] is True  # persistent


def test_cli_registry_validate(db_target, cli_env):
    result = subprocess.run([sys.executable, "-m", "vo_server.cli", "registry", "validate"], env=cli_env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "all valid" in result.stdout
    assert f"({len(ERROR_CASES)} error cases)" in result.stdout


def test_cli_registry_validate_reports_an_invalid_record(db_target, cli_env):
    with psycopg.connect(db_target.owner_dsn) as conn:
        conn.execute("UPDATE vo_internal.registry_records SET ivo_vor = replace(ivo_vor, '<referenceURL>', "
                     "'<referenceURI>') WHERE identifier = 'ivo://example.org/cat/stars'")
        conn.execute("UPDATE vo_internal.registry_records SET ivo_vor = replace(ivo_vor, '</referenceURL>', "
                     "'</referenceURI>') WHERE identifier = 'ivo://example.org/cat/stars'")
    result = subprocess.run([sys.executable, "-m", "vo_server.cli", "registry", "validate"], env=cli_env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "GetRecord ivo://example.org/cat/stars ivo_vor: invalid response" in result.stdout
