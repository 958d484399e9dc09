"""Simple Cone Search 1.03 through real clients (pyvo, astroquery, stilts)
and the errors the standard asks for."""

from __future__ import annotations

import io
import shutil
import subprocess
import time
import warnings

import httpx
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from astropy.coordinates import SkyCoord
from astropy.io.votable import parse
from lxml import etree

from vo_server.ingest.loader import IngestRequest, ingest

N = 20_000


@pytest.fixture(scope="module")
def stars(db_target, tmp_path_factory):
    rng = np.random.default_rng(3)
    ra = rng.uniform(0, 360, N)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, N)))
    ra[:50] = rng.uniform(9.9, 10.1, 50)
    dec[:50] = rng.uniform(19.9, 20.1, 50)
    table = pa.table({"source_id": np.arange(N, dtype=np.int64) + 1000, "ra": ra, "dec": dec,
                      "mag": rng.uniform(5, 15, N).astype(np.float32)})
    path = tmp_path_factory.mktemp("scs") / "stars.parquet"
    pq.write_table(table, path)
    ingest(db_target, IngestRequest(path=path, table="scstest.stars", mode="create"))
    return ra, dec


def _expected(stars, ra, dec, sr) -> set[int]:
    sep = SkyCoord(stars[0], stars[1], unit="deg").separation(SkyCoord(ra, dec, unit="deg")).deg
    return set((np.nonzero(sep <= sr)[0] + 1000).tolist())


def _votable(response: httpx.Response):
    assert response.status_code == 200
    return parse(io.BytesIO(response.content))


def test_cone_with_pyvo(live_server, stars):
    import pyvo

    service = pyvo.dal.SCSService(f"{live_server.url}/scs/scstest.stars")
    result = service.search(pos=(10.0, 20.0), radius=0.1)
    assert {int(x) for x in result["source_id"]} == _expected(stars, 10.0, 20.0, 0.1)
    assert len(result) > 0
    table = result.to_table()
    assert np.all(np.diff(np.asarray(table["_r"])) >= 0)  # sorted by distance
    via_conesearch = pyvo.conesearch(f"{live_server.url}/scs/scstest.stars", pos=(10.0, 20.0), radius=0.1)
    assert len(via_conesearch) == len(result)


def test_cone_with_astroquery(live_server, stars):
    from astroquery.vo_conesearch import conesearch

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = conesearch.conesearch(SkyCoord(10.0, 20.0, unit="deg"), 0.1, catalog_db=f"{live_server.url}/scs/scstest.stars?",
                                       verbose=False, return_astropy_table=True)
    assert {int(x) for x in result["source_id"]} == _expected(stars, 10.0, 20.0, 0.1)


@pytest.mark.skipif(shutil.which("stilts") is None, reason="stilts is not installed (apt-get install stilts)")
def test_cone_with_stilts(live_server, stars, tmp_path):
    out = tmp_path / "out.csv"
    done = subprocess.run(["stilts", "cone", f"serviceurl={live_server.url}/scs/scstest.stars?", "lon=10",
                           "lat=20", "radius=0.1", f"out={out}", "ofmt=csv"], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    lines = out.read_text().strip().splitlines()
    assert len(lines) - 1 == len(_expected(stars, 10.0, 20.0, 0.1))


def test_ucds_and_verbosity(live_server, stars):
    url = f"{live_server.url}/scs/scstest.stars"
    fields = {}
    for verb in (1, 2, 3):
        table = _votable(httpx.get(url, params={"RA": 10, "DEC": 20, "SR": 0.05, "VERB": verb})).get_first_table()
        fields[verb] = [f.name for f in table.fields]
        ucds = [f.ucd for f in table.fields]
        for required in ("ID_MAIN", "POS_EQ_RA_MAIN", "POS_EQ_DEC_MAIN"):
            assert ucds.count(required) == 1
    assert fields[1] == ["source_id", "ra", "dec", "_r"]
    assert set(fields[1]) <= set(fields[2]) <= set(fields[3])
    assert "hpx" in fields[3] and "mag" in fields[3]


def test_sr_zero_gives_metadata_only(live_server, stars):
    table = _votable(httpx.get(f"{live_server.url}/scs/scstest.stars", params={"RA": 10, "DEC": 20, "SR": 0}))
    first = table.get_first_table()
    assert len(first.array) == 0 and [f.name for f in first.fields][:3] == ["source_id", "ra", "dec"]


def test_maxrec_overflow(live_server, stars):
    r = httpx.get(f"{live_server.url}/scs/scstest.stars", params={"RA": 10, "DEC": 20, "SR": 1, "MAXREC": 5})
    table = _votable(r).get_first_table()
    assert len(table.array) == 5
    assert 'name="QUERY_STATUS" value="OVERFLOW"' in r.text


@pytest.mark.parametrize("params,message", [
    ({"RA": "abc", "DEC": 20, "SR": 1}, "RA='abc' is not a number"),
    ({"RA": 10, "DEC": 100, "SR": 1}, "DEC=100 is out of range"),
    ({"RA": 10, "DEC": 20, "SR": -1}, "SR=-1 is out of range"),
    ({"DEC": 20, "SR": 1}, "RA is required"),
    ({"RA": 10, "DEC": 20, "SR": 1, "VERB": 7}, "VERB=7"),
])
def test_errors_follow_the_standard(live_server, stars, params, message):
    r = httpx.get(f"{live_server.url}/scs/scstest.stars", params=params)
    assert r.status_code == 200
    root = etree.fromstring(r.content)
    ns = {"v": "http://www.ivoa.net/xml/VOTable/v1.3"}
    error = root.find("v:INFO[@name='Error']", ns)
    assert error is not None and message in error.get("value")


def test_pyvo_reports_the_error(live_server, stars):
    import pyvo

    with pytest.raises(pyvo.dal.DALQueryError, match="SR=-1.0 is out of range"):
        pyvo.dal.SCSService(f"{live_server.url}/scs/scstest.stars").search(pos=(10, 20), radius=-1)


def test_unknown_table(live_server, stars):
    r = httpx.get(f"{live_server.url}/scs/nope.nope", params={"RA": 1, "DEC": 1, "SR": 1})
    assert "INFO name=\"Error\"" in r.text


def test_vosi_and_index(live_server, stars):
    caps = httpx.get(f"{live_server.url}/scs/scstest.stars/capabilities")
    assert caps.status_code == 200 and 'standardID="ivo://ivoa.net/std/ConeSearch"' in caps.text
    etree.fromstring(caps.content)
    avail = httpx.get(f"{live_server.url}/scs/scstest.stars/availability")
    assert avail.status_code == 200 and "<vosi:available>true</vosi:available>" in avail.text
    index = httpx.get(f"{live_server.url}/scs/").json()
    assert [c["table"] for c in index["cone_searches"]] == ["scstest.stars"]
    landing = httpx.get(f"{live_server.url}/").text
    assert "/scs/" in landing and "/moc/tables" in landing and "/gw/" in landing


def test_cone_searches_follow_tables_ingested_and_dropped_while_serving(live_server, db_target, stars, tmp_path):
    """A table ingested while the server runs gets its cone search on the
    landing page and in the registry at once; dropping it leaves a tombstone."""
    from vo_server.ingest.loader import drop_table

    rng = np.random.default_rng(8)
    path = tmp_path / "late.parquet"
    pq.write_table(pa.table({"id": np.arange(20), "ra": rng.uniform(0, 360, 20), "dec": rng.uniform(-80, 80, 20)}),
                   path)
    ingest(db_target, IngestRequest(path=path, table="scslate.stars", mode="create"))

    def services_set() -> dict[str, str | None]:
        response = httpx.get(f"{live_server.url}/oai", params={"verb": "ListIdentifiers", "metadataPrefix": "ivo_vor",
                                                             "set": "services"})
        assert response.status_code == 200
        ns = {"o": "http://www.openarchives.org/OAI/2.0/"}
        return {h.findtext("o:identifier", namespaces=ns): h.get("status")
                for h in etree.fromstring(response.content).iterfind(".//o:header", ns)}

    def cone_search() -> httpx.Response:
        return httpx.get(f"{live_server.url}/scs/scslate.stars", params={"RA": 10, "DEC": 0, "SR": 180})

    try:
        assert len(_votable(cone_search()).get_first_table().array) == 20  # at once, though table facts are kept
        assert "/scs/scslate.stars" in httpx.get(f"{live_server.url}/").text
        listed = {k: v for k, v in services_set().items() if k.endswith("/scs/scslate.stars")}
        assert list(listed.values()) == [None]
        identifier = next(iter(listed))
        record = httpx.get(f"{live_server.url}/oai", params={"verb": "GetRecord", "metadataPrefix": "ivo_vor",
                                                            "identifier": identifier})
        assert 'standardID="ivo://ivoa.net/std/ConeSearch"' in record.text and "scslate.stars" in record.text
    finally:
        drop_table(db_target, "scslate.stars")
    assert "/scs/scslate.stars" not in httpx.get(f"{live_server.url}/").text
    assert services_set()[identifier] == "deleted"
    deadline = time.monotonic() + 5  # the kept table facts are dropped with the next metadata check (<= 0.25 s)
    while "no positional table" not in cone_search().text:
        assert time.monotonic() < deadline
        time.sleep(0.05)
