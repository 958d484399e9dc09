"""Demo images: the third-party FITS files in vo_server/demo/images (see
PROVENANCE.md there), published as the ObsCore/SIA collection ``demo-images``."""

from __future__ import annotations

import logging
from pathlib import Path

import psycopg

from vo_server.config import Settings
from vo_server.db.target import DatabaseTarget
from vo_server.sia.ingest import ImageIngestRequest, ingest_images

log = logging.getLogger(__name__)

COLLECTION = "demo-images"
IMAGES_DIR = Path(__file__).resolve().parent / "images"


def demo_image_files() -> list[Path]:
    return sorted(p for p in IMAGES_DIR.iterdir() if p.name.endswith((".fits", ".fits.gz")))


def is_loaded(target: DatabaseTarget) -> bool:
    with psycopg.connect(target.owner_dsn) as conn:
        return conn.execute("SELECT 1 FROM ivoa.obscore WHERE obs_collection = %s LIMIT 1",
                            (COLLECTION,)).fetchone() is not None


def load_demo_images(target: DatabaseTarget, settings: Settings) -> bool:
    """Publish the demo images unless already published; True if loaded now."""
    if is_loaded(target):
        return False
    report = ingest_images(target, settings, ImageIngestRequest(paths=demo_image_files(), collection=COLLECTION))
    for path, reason in report.skipped:
        log.warning("demo images: skipped %s: %s", path, reason)
    log.info("demo: %d images published in ivoa.obscore (collection %s)", report.rows, COLLECTION)
    return True
