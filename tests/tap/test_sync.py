"""TAP sync over real HTTP: every output format parsed back by an
independent reader, MAXREC and overflow, parameters as DALI says, and bad
input answered with the DALI error document (never a 500)."""

from __future__ import annotations

import io
import json
import subprocess
import warnings

import httpx
import numpy as np
import pyarrow.parquet as pq
import pytest
from astropy.io import fits
from astropy.io.votable import parse, parse_single_table
from astropy.table import Table

QUERY = "SELECT TOP 50 source_id, ra, dec, phot_g_mean_mag, origin FROM gaia.dr3_bright ORDER BY source_id"


def sync(tap_url: str, **params) -> httpx.Response:
    return httpx.post(tap_url + "/sync", data={"LANG": "ADQL", **params}, timeout=60)


def votable(content: bytes):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return parse_single_table(io.BytesIO(content))


def error_message(response: httpx.Response) -> str:
    assert response.headers["content-type"].startswith("application/x-votable+xml")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        parsed = parse(io.BytesIO(response.content))
    infos = {i.name: i for i in parsed.resources[0].infos}
    assert infos["QUERY_STATUS"].value == "ERROR"
    return infos["QUERY_STATUS"].content


@pytest.fixture(scope="module")
def reference(tap_url) -> Table:
    return votable(sync(tap_url, QUERY=QUERY).content).to_table()


@pytest.mark.parametrize("fmt", ["votable", "votable/td", "votable/b", "application/x-votable+xml"])
def test_votable_variants_match(tap_url, reference, fmt):
    response = sync(tap_url, QUERY=QUERY, RESPONSEFORMAT=fmt)
    assert response.status_code == 200
    table = votable(response.content).to_table()
    assert len(table) == 50
    assert np.array_equal(table["source_id"], reference["source_id"])
    assert np.allclose(table["ra"], reference["ra"])
    assert table["ra"].unit == "deg"


def test_csv_tsv_json(tap_url, reference):
    csv_table = Table.read(sync(tap_url, QUERY=QUERY, RESPONSEFORMAT="csv").text, format="ascii.csv")
    assert list(csv_table["source_id"]) == list(reference["source_id"])
    tsv = sync(tap_url, QUERY=QUERY, RESPONSEFORMAT="text/tab-separated-values")
    assert tsv.headers["content-type"].startswith("text/tab-separated-values")
    assert tsv.text.splitlines()[0].split("\t") == ["source_id", "ra", "dec", "phot_g_mean_mag", "origin"]
    doc = json.loads(sync(tap_url, QUERY=QUERY, RESPONSEFORMAT="json").content)
    assert doc["status"] == "OK"
    assert [c["name"] for c in doc["columns"]][:2] == ["source_id", "ra"]
    assert doc["columns"][1]["unit"] == "deg"
    assert [row[0] for row in doc["data"]] == list(reference["source_id"])


def test_fits_and_parquet(tap_url, reference):
    with fits.open(io.BytesIO(sync(tap_url, QUERY=QUERY, RESPONSEFORMAT="fits").content)) as hdul:
        data = hdul[1].data
        assert hdul[1].header["QSTATUS"] == "OK"
        assert list(data["source_id"]) == list(reference["source_id"])
        assert hdul[1].header["TUNIT2"] == "deg"
    content = sync(tap_url, QUERY=QUERY, RESPONSEFORMAT="parquet").content
    parquet = pq.read_table(io.BytesIO(content))
    assert parquet.column("source_id").to_pylist() == list(reference["source_id"])
    meta = pq.ParquetFile(io.BytesIO(content)).metadata.metadata
    assert b"IVOA.VOTable-Parquet.content" in meta
    assert b'ucd="pos.eq.ra;meta.main"' in meta[b"IVOA.VOTable-Parquet.content"]


@pytest.mark.parametrize("fmt", ["votable", "csv", "json", "fits", "parquet", "votable/td"])
def test_overflow_is_flagged_in_every_format(tap_url, fmt):
    response = sync(tap_url, QUERY="SELECT source_id FROM gaia.dr3_bright", MAXREC="7", RESPONSEFORMAT=fmt)
    assert response.status_code == 200
    if fmt.startswith("votable"):
        assert b'<INFO name="QUERY_STATUS" value="OVERFLOW"/>' in response.content
        assert len(votable(response.content).array) == 7
    elif fmt == "csv":
        lines = response.text.strip().splitlines()
        assert len(lines) == 1 + 7 + 1 and lines[-1].startswith("# QUERY_STATUS=OVERFLOW")
    elif fmt == "json":
        doc = json.loads(response.content)
        assert doc["status"] == "OVERFLOW" and len(doc["data"]) == 7
    elif fmt == "fits":
        with fits.open(io.BytesIO(response.content)) as hdul:
            assert hdul[1].header["QSTATUS"] == "OVERFLOW" and len(hdul[1].data) == 7
    else:
        meta = pq.ParquetFile(io.BytesIO(response.content)).metadata.metadata[b"IVOA.VOTable-Parquet.content"]
        assert b'value="OVERFLOW"' in meta


def test_maxrec_zero_gives_metadata_only(tap_url):
    table = votable(sync(tap_url, QUERY="SELECT ra FROM gaia.dr3_bright", MAXREC="0").content)
    assert len(table.array) == 0 and table.fields[0].name == "ra"


def test_get_parameters_case_insensitive_and_request_tolerated(tap_url):
    response = httpx.get(tap_url + "/sync", params={"lang": "ADQL-2.1", "query": "SELECT TOP 2 ra FROM gaia.dr3_bright",
                                                    "request": "doQuery", "format": "csv"})
    assert response.status_code == 200 and response.text.splitlines()[0] == "ra"


def test_multipart_post(tap_url):
    response = httpx.post(tap_url + "/sync", files={"QUERY": (None, "SELECT TOP 3 dec FROM gaia.dr3_bright"),
                                                     "LANG": (None, "ADQL"), "RESPONSEFORMAT": (None, "csv")})
    assert response.status_code == 200 and len(response.text.splitlines()) == 4


def test_translator_error_has_position(tap_url):
    response = sync(tap_url, QUERY="SELECT nosuchcolumn FROM gaia.dr3_bright")
    assert response.status_code == 400
    message = error_message(response)
    assert "nosuchcolumn" in message and "line 1" in message


def test_timeout_is_reported_as_timeout(tap_server, demo_target, tmp_path_factory):
    from tests.conftest import LiveServer
    from tests.tap.conftest import tap_settings

    with LiveServer(tap_settings(tmp_path_factory, statement_timeout=0.3), demo_target) as server:
        response = sync(server.url + "/tap", QUERY="SELECT COUNT(*) FROM gaia.dr3_bright AS a, gaia.dr3_bright AS b")
    assert response.status_code == 408
    assert b'name="TIMEOUT" value="true"' in response.content
    assert "statement timeout" in error_message(response)


@pytest.mark.parametrize("params, status, fragment", [
    ({"LANG": "SQL", "QUERY": "SELECT 1"}, 400, "LANG"),
    ({"QUERY": "SELECT TOP 1 ra FROM gaia.dr3_bright", "LANG": ""}, 400, "LANG"),
    ({"LANG": "ADQL"}, 400, "QUERY"),
    ({"LANG": "ADQL", "QUERY": "SELECT TOP 1 ra FROM gaia.dr3_bright", "MAXREC": "-1"}, 400, "MAXREC"),
    ({"LANG": "ADQL", "QUERY": "SELECT TOP 1 ra FROM gaia.dr3_bright", "MAXREC": "lots"}, 400, "MAXREC"),
    ({"LANG": "ADQL", "QUERY": "SELECT TOP 1 ra FROM gaia.dr3_bright", "RESPONSEFORMAT": "xls"}, 400, "RESPONSEFORMAT"),
    ({"LANG": "ADQL", "QUERY": "SELECT * FROM TAP_UPLOAD.t", "UPLOAD": "t,param:missing"}, 400, "missing"),
    ({"LANG": "ADQL", "QUERY": "SELECT * FROM TAP_UPLOAD.t", "UPLOAD": "t,ftp://example.org/t.xml"}, 400, "URI"),
    ({"LANG": "ADQL", "QUERY": "SELECT * FROM TAP_UPLOAD.t", "UPLOAD": "t,http://127.0.0.1:9/t.xml"}, 400, "fetch"),
    ({"LANG": "ADQL", "QUERY": "SELEC ra FROM gaia.dr3_bright"}, 400, "line 1"),
    ({"LANG": "ADQL", "QUERY": "SELECT TOP 1 ra FROM gaia.dr3_bright", "REQUEST": "getCapabilities"}, 400, "REQUEST"),
])
def test_bad_input(tap_url, params, status, fragment):
    response = httpx.post(tap_url + "/sync", data=params, timeout=60)
    assert response.status_code == status
    assert fragment in error_message(response)


def test_votlint_clean_on_every_votable_variant(tap_url, tmp_path):
    for fmt in ("votable", "votable/td", "votable/b"):
        path = tmp_path / "result.vot"
        path.write_bytes(sync(tap_url, QUERY=QUERY, RESPONSEFORMAT=fmt, MAXREC="10").content)
        out = subprocess.run(["stilts", "votlint", f"votable={path}"], capture_output=True, text=True).stdout
        assert [line for line in out.splitlines() if "ERROR" in line] == [], (fmt, out)
    path = tmp_path / "error.vot"
    path.write_bytes(sync(tap_url, QUERY="SELECT nothing").content)
    out = subprocess.run(["stilts", "votlint", f"votable={path}"], capture_output=True, text=True).stdout
    assert [line for line in out.splitlines() if "ERROR" in line] == [], out
