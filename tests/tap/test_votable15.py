"""VOTable 1.5 output on request (RESPONSEFORMAT=votable1.5 or the MIME type
with version=1.5), declared in the capabilities; 1.4 stays the default.
Checked against the VOTable 1.5 XSD (shipped with astropy), by astropy, and
by `stilts votlint`, whose 1.4 schema only objects to the version number."""

from __future__ import annotations

import io
import shutil
import subprocess
import warnings

import httpx
import numpy as np
import pytest
from astropy.io.votable import parse_single_table
from astropy.utils.data import get_pkg_data_filename
from lxml import etree

QUERY = "SELECT TOP 200 source_id, ra, dec, phot_g_mean_mag, origin FROM gaia.dr3_bright ORDER BY source_id"
VOTLINT_VERSION_ONLY = ("Unknown VOTable version: 1.5", "Value '1.5' is not facet-valid",
                        "The value '1.5' of attribute 'version'")


def fetch(tap_url: str, response_format: str | None, query: str = QUERY) -> httpx.Response:
    data = {"LANG": "ADQL", "QUERY": query}
    if response_format is not None:
        data["RESPONSEFORMAT"] = response_format
    return httpx.post(tap_url + "/sync", data=data, timeout=60)


@pytest.mark.parametrize("response_format", [
    "votable1.5", "application/x-votable+xml;version=1.5",
    "application/x-votable+xml; serialization=binary2; version=1.5"])
def test_votable15_on_request(tap_url, response_format):
    response = fetch(tap_url, response_format)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/x-votable+xml;version=1.5"
    root = etree.fromstring(response.content)
    assert root.get("version") == "1.5"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # astropy knows 1.5: no "unknown version" or spec warnings
        table = parse_single_table(io.BytesIO(response.content))
    default = parse_single_table(io.BytesIO(fetch(tap_url, None).content))
    assert table.array.dtype.names == default.array.dtype.names and len(table.array) == 200
    for name in table.array.dtype.names:
        assert np.array_equal(table.array[name], default.array[name]), name


def test_default_stays_votable14(tap_url):
    response = fetch(tap_url, None)
    assert response.headers["content-type"] == "application/x-votable+xml"
    assert etree.fromstring(response.content).get("version") == "1.4"


def test_votable15_declared_in_capabilities(tap_url):
    doc = etree.fromstring(httpx.get(tap_url + "/capabilities").content)
    formats = {f.findtext("mime"): [a.text for a in f.iterfind("alias")] for f in doc.iter("outputFormat")}
    assert "votable1.5" in formats["application/x-votable+xml;version=1.5"]


def test_votable15_valid_against_its_schema(tap_url):
    schema = etree.XMLSchema(etree.parse(get_pkg_data_filename("data/VOTable.v1.5.xsd",
                                                               package="astropy.io.votable")))
    for query in (QUERY, "SELECT TOP 0 * FROM gaia.dr3_bright", "SELECT TOP 5 POINT('ICRS', ra, dec) AS p, "
                  "CIRCLE('ICRS', ra, dec, 1) AS c FROM gaia.dr3_bright"):
        response = fetch(tap_url, "votable1.5", query)
        assert response.status_code == 200, response.text
        assert schema.validate(etree.fromstring(response.content)), schema.error_log


def test_votlint_on_votable15(tap_url, tmp_path):
    assert shutil.which("stilts"), "stilts is missing: `make test` installs it (apt-get install stilts)"
    path = tmp_path / "result.vot"
    path.write_bytes(fetch(tap_url, "votable1.5").content)
    out = subprocess.run(["stilts", "votlint", str(path)], capture_output=True, text=True, timeout=120)
    problems = [line for line in (out.stdout + out.stderr).splitlines()
                if line.startswith(("WARNING", "ERROR")) and not any(v in line for v in VOTLINT_VERSION_ONLY)]
    assert problems == [], out.stdout + out.stderr
