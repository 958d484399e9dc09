"""The Gaia demo table as a registry record, and a registry that keeps
serving when a service's capability provider fails."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from mocpy import MOC

from registry.sources import MAX_INLINE_MOC_CHARS
from registry.xsd_validation import validate_xml
from tests.registry.support import NS, OAI, XSI_TYPE, error_codes, live_registry, oai
from vo_server.config import Settings
from vo_server.demo.loader import load_demo
from vo_server.web.landing import ServiceLink


def broken_details() -> dict:
    raise RuntimeError("TAP module bug")


@pytest.fixture(scope="module")
def server(db_target, tmp_path_factory) -> Iterator:
    data = tmp_path_factory.mktemp("demo")
    load_demo(db_target, Settings(data_dir=data))
    with live_registry(db_target, data, services=[]) as live:
        yield live


def test_gaia_demo_table_record(server, db_target):
    response, root = oai(server.url, verb="GetRecord", identifier="ivo://example.org/gaia/dr3_bright",
                         metadataPrefix="ivo_vor")
    assert validate_xml(response.content).valid
    res = root.find(f".//{OAI}metadata")[0]
    assert res.get(XSI_TYPE) == "vs:CatalogResource"
    assert res.findtext("rights") == "CC BY-SA 3.0 IGO (Gaia DR3 data, (c) ESA/Gaia/DPAC)"
    assert res.findtext("content/referenceURL") == "https://www.cosmos.esa.int/web/gaia/dr3"
    assert res.findtext("content/source").startswith("Gaia Collaboration")
    assert res.findtext("tableset/schema/table/nrows") == "482176"
    spatial = MOC.from_string(res.findtext("coverage/spatial"), format="ascii")
    with psycopg.connect(db_target.owner_dsn) as conn:
        stored, fraction = conn.execute("SELECT coverage_moc, sky_fraction FROM vo_internal.published_tables").fetchone()
    assert len(stored) > MAX_INLINE_MOC_CHARS  # too long to inline at order 8: degraded, never below order 6
    assert spatial.max_order >= 6 and spatial.sky_fraction >= fraction > 0
    response, root = oai(server.url, verb="GetRecord", identifier="ivo://example.org/gaia/dr3_bright",
                         metadataPrefix="oai_dc")
    dc = root.find(f".//{OAI}metadata")[0]
    assert dc.findtext("dc:coverage", namespaces=NS) == \
        f"Sky (ICRS): {100 * fraction:.3g}% of the sky, by its HEALPix coverage MOC"


def test_a_failing_capability_provider_does_not_break_harvesting(db_target, tmp_path, server):
    broken = ServiceLink("TAP", "/tap", "ADQL", standard_id="ivo://ivoa.net/std/TAP", capability_details=broken_details)
    with live_registry(db_target, tmp_path, services=[broken]) as live:
        response, root = oai(live.url, verb="ListIdentifiers", metadataPrefix="ivo_vor")
        assert response.status_code == 200 and error_codes(root) == []
        identifiers = {h.text for h in root.iter(f"{OAI}identifier")}
        assert "ivo://example.org/gaia/dr3_bright" in identifiers  # the stored records are still served


def test_service_records_follow_the_registered_services(server):
    """The app registers TAP (the archive record), SIA 2.0 and one cone search per
    positional table; a service that goes away leaves a tombstone, and comes back."""
    services = server.server.config.app.state.services
    scs_id = "ivo://example.org/scs/gaia.dr3_bright"
    _, root = oai(server.url, verb="ListIdentifiers", metadataPrefix="oai_dc", set="services")
    before = sorted(h.text for h in root.iter(f"{OAI}identifier"))
    assert before == ["ivo://example.org/archive", scs_id, "ivo://example.org/sia/query"]
    response, root = oai(server.url, verb="GetRecord", identifier="ivo://example.org/gaia/dr3_bright",
                         metadataPrefix="ivo_vor")
    aux = [c.get("standardID") for c in root.find(f".//{OAI}metadata")[0].iterfind("capability")]
    assert sorted(aux) == ["ivo://ivoa.net/std/ConeSearch#aux", "ivo://ivoa.net/std/TAP#aux"]
    cap = oai(server.url, verb="GetRecord", identifier=scs_id,
              metadataPrefix="ivo_vor")[1].find(f".//{OAI}metadata")[0].find("capability")
    assert cap.get(XSI_TYPE) == "cs:ConeSearch" and cap.findtext("verbosity") == "true"
    cone = next(link for link in services if link.path == "/scs/gaia.dr3_bright")
    state = server.server.config.app.state
    refreshers, state.service_refreshers = state.service_refreshers, []  # else the table's cone search comes back
    services.remove(cone)
    try:
        _, root = oai(server.url, verb="GetRecord", identifier=scs_id, metadataPrefix="oai_dc")
        assert root.find(f".//{OAI}header").get("status") == "deleted"
        _, root = oai(server.url, verb="ListIdentifiers", metadataPrefix="oai_dc", set="services")
        live = sorted(h.find(f"{OAI}identifier").text for h in root.iter(f"{OAI}header") if h.get("status") != "deleted")
        assert live == ["ivo://example.org/archive", "ivo://example.org/sia/query"]
    finally:
        services.append(cone)
        state.service_refreshers = refreshers
    _, root = oai(server.url, verb="GetRecord", identifier=scs_id, metadataPrefix="oai_dc")
    assert root.find(f".//{OAI}header").get("status") is None


def test_gw_skymap_record(server):
    """The demo's GW170817 map is a registry resource in every format, with its
    90% credible region as coverage."""
    _, root = oai(server.url, verb="ListIdentifiers", metadataPrefix="ivo_vor", set="skymaps")
    assert [h.text for h in root.iter(f"{OAI}identifier")] == ["ivo://example.org/gw/GW170817"]
    for prefix in ("ivo_vor", "oai_dc", "oai_datacite"):
        response, root = oai(server.url, verb="GetRecord", identifier="ivo://example.org/gw/GW170817",
                             metadataPrefix=prefix)
        assert error_codes(root) == [] and validate_xml(response.content).valid, prefix
    response, root = oai(server.url, verb="GetRecord", identifier="ivo://example.org/gw/GW170817",
                         metadataPrefix="ivo_vor")
    res = root.find(f".//{OAI}metadata")[0]
    assert "90% 16.2 deg²" in res.findtext("content/description")
    moc = MOC.from_string(res.findtext("coverage/spatial"), format="ascii")
    assert 15.5 < moc.sky_fraction * 41252.96 < 17.0  # the 90% credible area, 16.17 deg² (reference)
