"""taplint's ObsCore stage (OBS) on ivoa.obscore holding the demo images,
queried through TAP, plus MDQ (result columns match the declared metadata)."""

from __future__ import annotations

import io
import re
import shutil
import subprocess

import httpx
import pytest

from tests.conftest import LiveServer, free_port
from tests.sia.images import IMAGE_HDUS, demo_files
from tests.tap.taplint_accepted import capability_deviation
from vo_server.config import Settings
from vo_server.sia.ingest import ImageIngestRequest, ingest_images


@pytest.fixture(scope="module")
def server(db_target, tmp_path_factory):
    settings = Settings(host="127.0.0.1", port=free_port(), data_dir=tmp_path_factory.mktemp("obs"))
    ingest_images(db_target, settings, ImageIngestRequest(paths=demo_files(), collection="demo"))
    with LiveServer(settings, db_target) as live:
        yield live


@pytest.mark.filterwarnings("ignore::astropy.utils.exceptions.AstropyWarning")
def test_obscore_through_tap(server):
    response = httpx.get(f"{server.url}/tap/sync", params={
        "LANG": "ADQL", "RESPONSEFORMAT": "csv",
        "QUERY": "SELECT obs_id, s_region FROM ivoa.obscore WHERE obs_collection = 'demo' ORDER BY obs_id"},
        timeout=30)
    assert response.status_code == 200, response.text
    assert len(response.text.strip().splitlines()) == 1 + len(IMAGE_HDUS)


@pytest.mark.skipif(shutil.which("stilts") is None, reason="needs the Debian package stilts")
def test_taplint_obs_stage(server, tmp_path):
    out = subprocess.run(["stilts", "taplint", f"tapurl={server.url}/tap", "stages=TMS CAP MDQ OBS",
                          "maxrepeat=20"], capture_output=True, text=True, timeout=300).stdout
    (tmp_path / "taplint.txt").write_text(out)
    assert re.search(r"S-OBS-COLS-\d+ ivoa.ObsCore columns: 30/30 required", out), out[-3000:]
    lines = [line for line in out.splitlines() if not capability_deviation(line)]  # TAP's, tests/tap
    errors = [line for line in lines if line.startswith(("E-", "F-"))]
    assert errors == [], "\n".join(errors)  # s_region is checked as ObsCore 1.1's adql:REGION (char)
    assert [line for line in lines if line.startswith("W-")] == []


@pytest.mark.filterwarnings("ignore::astropy.utils.exceptions.AstropyWarning")
@pytest.mark.parametrize("predicate", [
    "1 = INTERSECTS(s_region, CIRCLE('ICRS', 85.275, -2.4583, 0.01))",
    "1 = CONTAINS(POINT('ICRS', 85.275, -2.4583), s_region)",
    "1 = INTERSECTS(s_region, POLYGON('ICRS', 85.27, -2.46, 85.28, -2.46, 85.28, -2.45))",
    "1 = CONTAINS(CIRCLE('ICRS', 85.275, -2.4583, 0.001), s_region)",
    "1 = INTERSECTS(s_region, CIRCLE('ICRS', 85.275, -2.4583, 0.01)) AND AREA(s_region) > 0.01",
])
def test_adql_geometry_on_s_region(server, predicate):
    response = httpx.get(f"{server.url}/tap/sync", params={
        "LANG": "ADQL", "RESPONSEFORMAT": "csv", "QUERY": f"SELECT obs_id FROM ivoa.obscore WHERE {predicate}"},
        timeout=30)
    assert response.status_code == 200, response.text
    assert response.text.split() == ["obs_id", "dss_horsehead.fits"]


@pytest.mark.filterwarnings("ignore::astropy.utils.exceptions.AstropyWarning")
def test_select_s_region_is_stcs_with_the_region_field(server):
    from astropy.io.votable import parse_single_table

    response = httpx.get(f"{server.url}/tap/sync", params={
        "LANG": "ADQL", "QUERY": "SELECT obs_id, s_region, CENTROID(s_region) AS c FROM ivoa.obscore "
                                 "WHERE obs_id = 'dss_horsehead.fits'"}, timeout=30)
    assert response.status_code == 200, response.text
    table = parse_single_table(io.BytesIO(response.content))
    field = next(f for f in table.fields if f.name == "s_region")
    assert (field.datatype, field.arraysize, field.xtype) == ("char", "*", "adql:REGION")
    text = str(table.array["s_region"][0])
    words = text.split()
    assert words[:2] == ["Polygon", "ICRS"] and len(words) % 2 == 0 and len(words) >= 8
    assert list(table.array["c"][0]) == pytest.approx([85.275, -2.4583], abs=0.2)
