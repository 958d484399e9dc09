"""The TAP service's registry record (built from the same facts as
/capabilities) is valid VOResource + TAPRegExt."""

from __future__ import annotations

import httpx
from lxml import etree

from registry.xsd_validation import validate_xml

OAI = "{http://www.openarchives.org/OAI/2.0/}"


def test_registry_record_of_the_tap_service_is_valid(tap_server):
    response = httpx.get(tap_server.url + "/oai", params={"verb": "GetRecord", "metadataPrefix": "ivo_vor",
                                                          "identifier": "ivo://example.org/archive"}, timeout=60)
    assert response.status_code == 200
    result = validate_xml(response.content)
    assert result.valid, result
    resource = etree.fromstring(response.content).find(f".//{OAI}metadata")[0]
    capability = next(c for c in resource.iterfind("capability") if c.get("standardID") == "ivo://ivoa.net/std/TAP")
    assert [v.text for v in capability.iterfind("language/version")] == ["2.0", "2.1"]
    forms = [f.findtext("form") for f in capability.iterfind("language/languageFeatures/feature")]
    assert any(form.startswith("ivo_healpix_index(") for form in forms)
    assert capability.findtext("outputLimit/default") == "20000"
