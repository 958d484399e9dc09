"""OAI-PMH over real HTTP: every verb, every error code, GET and POST; each
response validated against the bundled schemas."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlencode

import httpx
import psycopg
import pytest
from lxml import etree

from registry.conformance import ERROR_CASES
from registry.xsd_validation import validate_xml
from tests.registry.support import NS, OAI, XSI_TYPE, error_codes, live_registry, load_table, oai

GAIA_LIKE_METADATA = """
table:
  description: Bright test stars. Second sentence.
  citation: Doe J. 2024, A&A 1, 1
  license: CC BY 4.0
  license_url: https://creativecommons.org/licenses/by/4.0/
  reference_url: https://example.org/stars
  doi: 10.5072/stars.1
  temporal_coverage: [57023.0, 58484.5]
  creators: ["Doe, J.", "Roe, R."]
"""


@pytest.fixture(scope="module")
def server(db_target, tmp_path_factory) -> Iterator:
    data = tmp_path_factory.mktemp("oai")
    load_table(db_target, data, "cat.stars", metadata=GAIA_LIKE_METADATA)
    load_table(db_target, data, "cat.other", rows=10, seed=3, description="Other objects")
    with live_registry(db_target, data, oai_page_size=3) as live:
        yield live


def test_every_response_of_every_verb_validates(server):
    requests = [{"verb": "Identify"}, {"verb": "ListMetadataFormats"}, {"verb": "ListSets"}]
    for prefix in ("ivo_vor", "oai_dc", "oai_datacite"):
        requests += [{"verb": "ListRecords", "metadataPrefix": prefix},
                     {"verb": "ListIdentifiers", "metadataPrefix": prefix, "set": "collections"},
                     {"verb": "GetRecord", "metadataPrefix": prefix, "identifier": "ivo://example.org/archive"}]
    for params in requests:
        for method in ("GET", "POST"):
            response, root = oai(server.url, method, **params)
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/xml")
            result = validate_xml(response.content)
            assert result.valid, (params, result.errors)
            assert error_codes(root) == [], params
            assert root.tag == f"{OAI}OAI-PMH" and root.prefix is None  # default namespace, no prefix


@pytest.mark.parametrize("label,arguments,expected", ERROR_CASES, ids=[c[0] for c in ERROR_CASES])
def test_bad_requests_get_the_protocol_error(server, label, arguments, expected):
    query = urlencode(arguments, errors="surrogatepass")  # as a client would send a lone surrogate: raw bytes
    for method in ("GET", "POST"):
        if method == "GET":
            response = httpx.get(server.url + "/oai" + ("?" + query if query else ""))
        else:
            response = httpx.post(server.url + "/oai", content=query,
                                  headers={"content-type": "application/x-www-form-urlencoded"})
        assert response.status_code == 200
        assert validate_xml(response.content).valid
        root = etree.fromstring(response.content)
        assert error_codes(root) == [expected]
        request = root.find(f"{OAI}request")
        if expected in ("badVerb", "badArgument"):
            assert request.attrib == {}  # the protocol: no echo of an illegal request
        else:
            assert request.get("verb") == dict(arguments)["verb"]
        assert b"\x01" not in response.content


def test_post_with_wrong_content_type_is_bad_argument(server):
    for headers, body in (({"content-type": "application/json"}, b'{"verb": "Identify"}'),
                          ({"content-type": "text/plain"}, b"verb=Identify"), ({}, b"verb=Identify")):
        response = httpx.post(server.url + "/oai", content=body, headers=headers)
        assert response.status_code == 200
        assert validate_xml(response.content).valid
        assert error_codes(etree.fromstring(response.content)) == ["badArgument"]
    response = httpx.post(server.url + "/oai", content=b"verb=Identify\xff",
                          headers={"content-type": "application/x-www-form-urlencoded"})
    assert error_codes(etree.fromstring(response.content)) == ["badArgument"]


def test_identify_describes_the_repository_and_carries_the_registry_record(server):
    response, root = oai(server.url, verb="Identify")
    identify = root.find(f"{OAI}Identify")
    assert identify.findtext(f"{OAI}baseURL") == server.url + "/oai"
    assert identify.findtext(f"{OAI}protocolVersion") == "2.0"
    assert identify.findtext(f"{OAI}deletedRecord") == "persistent"
    assert identify.findtext(f"{OAI}granularity") == "YYYY-MM-DDThh:mm:ssZ"
    assert identify.findtext(f"{OAI}adminEmail") == "archive@example.org"
    registry = identify.find(f"{OAI}description/ri:Resource", NS)
    assert registry.get(XSI_TYPE) == "vg:Registry"
    assert registry.findtext("managedAuthority") == "example.org"
    harvest = registry.find("capability")
    assert harvest.get(XSI_TYPE) == "vg:Harvest" and harvest.get("standardID") == "ivo://ivoa.net/std/Registry"
    assert harvest.findtext("interface/accessURL") == server.url + "/oai"
    assert harvest.findtext("maxRecords") == "3"


def test_list_sets_and_formats(server):
    _, root = oai(server.url, verb="ListSets")
    specs = [s.text for s in root.iter(f"{OAI}setSpec")]
    assert "ivo_managed" in specs and "collections" in specs
    _, root = oai(server.url, verb="ListMetadataFormats", identifier="ivo://example.org/cat/stars")
    assert sorted(p.text for p in root.iter(f"{OAI}metadataPrefix")) == ["ivo_vor", "oai_datacite", "oai_dc"]


def _record(server, identifier: str, prefix: str) -> etree._Element:
    response, root = oai(server.url, verb="GetRecord", identifier=identifier, metadataPrefix=prefix)
    assert validate_xml(response.content).valid
    return root.find(f"{OAI}GetRecord/{OAI}record/{OAI}metadata")[0]


def test_tap_service_record_has_tableset_and_tapregext_capability(server, db_target):
    res = _record(server, "ivo://example.org/archive", "ivo_vor")
    assert res.get(XSI_TYPE) == "vs:CatalogService"
    cap = res.find("capability")
    assert cap.get(XSI_TYPE) == "tr:TableAccess" and cap.get("standardID") == "ivo://ivoa.net/std/TAP"
    assert cap.findtext("interface/accessURL") == server.url + "/tap"
    assert cap.find("interface").get("version") == "1.1"
    assert [v.text for v in cap.iterfind("language/version")] == ["2.1"]  # from the TAP module's provider
    assert [f.findtext("form") for f in cap.iterfind("language/languageFeatures/feature")] == ["CIRCLE", "CONTAINS"]
    assert cap.findtext("outputLimit/hard") == "10000000"
    with psycopg.connect(db_target.owner_dsn) as conn:
        published = {r[0] for r in conn.execute("SELECT table_name FROM tap_schema.tables")}
    assert {t.text for t in res.iterfind("tableset/schema/table/name")} == published
    assert {"cat.stars", "tap_schema.columns"} <= published
    related = {r.get("ivo-id") for r in res.iterfind("content/relationship/relatedResource")}
    assert related == {"ivo://example.org/cat/stars", "ivo://example.org/cat/other"}


def test_cone_search_and_sia_records(server):
    scs = _record(server, "ivo://example.org/scs/cat.stars", "ivo_vor")
    cap = scs.find("capability")
    assert cap.get(XSI_TYPE) == "cs:ConeSearch"
    assert (cap.findtext("maxSR"), cap.findtext("verbosity"), cap.findtext("testQuery/sr")) == ("10.0", "true", "0.1")
    assert [t.text for t in scs.iterfind("tableset/schema/table/name")] == ["cat.stars"]
    sia = _record(server, "ivo://example.org/sia/cat.stars", "ivo_vor")
    cap = sia.find("capability")
    assert cap.get(XSI_TYPE) is None and cap.get("standardID") == "ivo://ivoa.net/std/SIA#query-2.0"
    assert cap.find("interface").get(XSI_TYPE) == "vs:ParamHTTP"


def test_table_record_is_a_data_collection_with_coverage_and_auxiliary_capabilities(server, db_target):
    res = _record(server, "ivo://example.org/cat/stars", "ivo_vor")
    assert res.get(XSI_TYPE) == "vs:CatalogResource"
    assert res.findtext("title") == "Bright test stars (cat.stars)"
    assert res.findtext("altIdentifier") == "doi:10.5072/stars.1"
    assert [c.text for c in res.iterfind("curation/creator/name")] == ["Doe, J.", "Roe, R."]
    assert res.findtext("content/source") == "Doe J. 2024, A&A 1, 1"
    assert res.findtext("content/referenceURL") == "https://example.org/stars"
    assert res.find("rights").get("rightsURI") == "https://creativecommons.org/licenses/by/4.0/"
    with psycopg.connect(db_target.owner_dsn) as conn:
        moc = conn.execute("SELECT coverage_moc FROM vo_internal.published_tables "
                           "WHERE table_name = 'stars'").fetchone()[0]
    assert res.findtext("coverage/spatial") == moc
    assert res.findtext("coverage/temporal") == "57023.0 58484.5"
    aux = {c.get("standardID"): c.findtext("interface/accessURL") for c in res.iterfind("capability")}
    assert aux == {"ivo://ivoa.net/std/TAP#aux": server.url + "/tap",
                   "ivo://ivoa.net/std/ConeSearch#aux": server.url + "/scs/cat.stars",
                   "ivo://ivoa.net/std/SIA#query-aux-2.0": server.url + "/sia/cat.stars"}
    served_by = res.find("content/relationship")
    assert served_by.findtext("relationshipType") == "served-by"
    assert [r.get("ivo-id") for r in served_by.iterfind("relatedResource")] == [
        "ivo://example.org/archive", "ivo://example.org/scs/cat.stars", "ivo://example.org/sia/cat.stars"]
    other = _record(server, "ivo://example.org/cat/other", "ivo_vor")
    assert [c.get("standardID") for c in other.iterfind("capability")] == ["ivo://ivoa.net/std/TAP#aux"]


def test_dublin_core_and_datacite_say_the_same(server):
    vor = _record(server, "ivo://example.org/cat/stars", "ivo_vor")
    dc = _record(server, "ivo://example.org/cat/stars", "oai_dc")
    assert dc.findtext("dc:title", namespaces=NS) == vor.findtext("title")
    assert "ivo://example.org/cat/stars" in [i.text for i in dc.iterfind("dc:identifier", NS)]
    assert "https://doi.org/10.5072/stars.1" in [i.text for i in dc.iterfind("dc:identifier", NS)]
    assert [c.text for c in dc.iterfind("dc:creator", NS)] == ["Doe, J.", "Roe, R."]
    assert "CC BY 4.0" in [r.text for r in dc.iterfind("dc:rights", NS)]
    coverage = [c.text for c in dc.iterfind("dc:coverage", NS)]
    assert coverage[0].startswith("Sky (ICRS):") and coverage[1] == "Time: 2015-01-01/2019-01-01"
    dcite = _record(server, "ivo://example.org/cat/stars", "oai_datacite")
    ident = dcite.find("dcite:identifier", NS)
    assert (ident.text, ident.get("identifierType")) == ("10.5072/stars.1", "DOI")
    assert dcite.findtext("dcite:alternateIdentifiers/dcite:alternateIdentifier", namespaces=NS) == \
        "ivo://example.org/cat/stars"
    assert dcite.findtext("dcite:titles/dcite:title", namespaces=NS) == vor.findtext("title")
    assert dcite.findtext("dcite:publicationYear", namespaces=NS) == vor.get("created")[:4]
    assert dcite.find("dcite:resourceType", NS).get("resourceTypeGeneral") == "Dataset"
    assert dcite.find("dcite:dates/dcite:date[@dateType='Coverage']", NS).text == "2015-01-01/2019-01-01"
    assert dcite.find("dcite:rightsList/dcite:rights", NS).get("rightsURI").startswith("https://creativecommons")
    urls = {r.text: r.get("relationType") for r in dcite.iterfind("dcite:relatedIdentifiers/dcite:relatedIdentifier", NS)}
    assert urls[server.url + "/tap"] == "IsSourceOf" and urls["https://example.org/stars"] == "IsDocumentedBy"
    other = _record(server, "ivo://example.org/cat/other", "oai_datacite")  # no DOI: the IVOID, never a made-up DOI
    assert other.find("dcite:identifier", NS).get("identifierType") == "IVOID"


def test_validation_catches_a_broken_record(server):
    response, _ = oai(server.url, verb="GetRecord", identifier="ivo://example.org/cat/stars", metadataPrefix="ivo_vor")
    assert validate_xml(response.content).valid
    broken = response.content.replace(b"<referenceURL>", b"<referenceURI>").replace(b"</referenceURL>", b"</referenceURI>")
    assert not validate_xml(broken).valid
    wrong_type = response.content.replace(b'xsi:type="vs:CatalogResource"', b'xsi:type="vs:NoSuchType"')
    assert not validate_xml(wrong_type).valid
    prefixed = response.content.replace(b"<OAI-PMH xmlns=", b"<OAI-PMH xmlns:x=")
    assert not validate_xml(prefixed).valid
