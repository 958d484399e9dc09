"""The landing page and /health over real HTTP, with the real Gaia demo table."""

from __future__ import annotations

import httpx
import pytest

from vo_server.config import Settings
from vo_server.demo.loader import load_demo


@pytest.fixture(scope="module")
def demo_server(db_target, live_server, tmp_path_factory):
    loaded = load_demo(db_target, Settings(data_dir=tmp_path_factory.mktemp("demo")))
    assert "gaia.dr3_bright" in loaded
    return live_server


def test_landing_page_lists_the_demo_table(demo_server) -> None:
    response = httpx.get(demo_server.url + "/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert "gaia.dr3_bright" in page
    assert "482,176" in page  # row count
    assert "Gaia DR3 bright stars" in page  # description from the table metadata
    assert "/health" in page


def test_new_tables_show_up_without_restart(demo_server, db_target, tmp_path) -> None:
    from tests.foundation.files import star_table, write
    from vo_server.ingest.loader import IngestRequest, ingest
    ingest(db_target, IngestRequest(path=write(star_table(12), tmp_path / "late.vot"), table="late.stars"))
    page = httpx.get(demo_server.url + "/").text
    assert "late.stars" in page and "Test stars" in page


def test_health(demo_server) -> None:
    response = httpx.get(demo_server.url + "/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_demo_table_content(db_target) -> None:
    import psycopg
    with psycopg.connect(db_target.query_dsn) as conn:
        count, hip, bad, brightest = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE origin = 'Hipparcos-2'), count(*) FILTER (WHERE hpx IS NULL), "
            "min(phot_g_mean_mag) FROM gaia.dr3_bright").fetchone()
    assert count == 482_176 and hip == 70 and bad == 0
    assert brightest == pytest.approx(-1.108, abs=0.01)


def test_unknown_path_is_404(demo_server) -> None:
    assert httpx.get(demo_server.url + "/no/such/page").status_code == 404
