"""/tap/capabilities declares exactly the ADQL features that work: every
declared geometry function and optional ADQL 2.1 feature is run here; the
TAP and MOC capabilities documents are valid VOSI + VODataService +
TAPRegExt (offline XSDs)."""

from __future__ import annotations

import math

import httpx
import pytest
from lxml import etree

from tests.tap.xsd import validation_errors
from vo_server.tap.capabilities import (
    ADQL21_FEATURES,
    EXTENSION_FEATURES,
    GEOMETRY_FUNCTIONS,
    TAPREGEXT,
    UNDECLARED_ADQL21_FEATURES,
)

VOSI_CAPABILITIES = "http://www.ivoa.net/xml/VOSICapabilities/v1.0"
STAR = "gaia.dr3_bright"
IN_FIELD = f"SELECT COUNT(*) FROM {STAR} WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), {{}})"


def value(rows):  # noqa: ANN001, ANN201
    return rows[0][0]


# form -> (ADQL query using it, check of the rows)
FEATURE_QUERIES = {
    "POINT": (f"SELECT TOP 1 POINT('ICRS', ra, dec), ra, dec FROM {STAR} ORDER BY source_id",
              lambda rows: rows[0][0][:2] == pytest.approx([rows[0][1], rows[0][2]])),
    "CIRCLE": (IN_FIELD.format("CIRCLE('ICRS', 83.8, -5.4, 3)"), lambda rows: value(rows) > 0),
    "BOX": (IN_FIELD.format("BOX('ICRS', 83.8, -5.4, 6, 6)"), lambda rows: value(rows) > 0),
    "POLYGON": (IN_FIELD.format("POLYGON('ICRS', 80, -8, 88, -8, 88, -2, 80, -2)"), lambda rows: value(rows) > 0),
    "REGION": (IN_FIELD.format("REGION('CIRCLE ICRS 83.8 -5.4 3')"), lambda rows: value(rows) > 0),
    "CENTROID": (f"SELECT TOP 1 CENTROID(CIRCLE('ICRS', 10, 20, 1)) FROM {STAR}",
                 lambda rows: value(rows)[:2] == pytest.approx([10, 20])),
    "CONTAINS": (f"SELECT TOP 1 CONTAINS(POINT('ICRS', 10, 20), CIRCLE('ICRS', 10, 20.5, 1)) FROM {STAR}",
                 lambda rows: value(rows) == 1),
    "INTERSECTS": (f"SELECT TOP 1 INTERSECTS(CIRCLE('ICRS', 10, 20, 1), CIRCLE('ICRS', 10, 22.5, 1)) FROM {STAR}",
                   lambda rows: value(rows) == 0),
    "DISTANCE": (f"SELECT TOP 1 DISTANCE(POINT('ICRS', 10, 20), POINT('ICRS', 10, 23)) FROM {STAR}",
                 lambda rows: value(rows) == pytest.approx(3)),
    "AREA": (f"SELECT TOP 1 AREA(CIRCLE('ICRS', 10, 20, 1)) FROM {STAR}",
             lambda rows: value(rows) == pytest.approx(2 * math.pi * (1 - math.cos(math.radians(1)))
                                                       * (180 / math.pi) ** 2, rel=1e-3)),
    "COORD1": (f"SELECT TOP 1 COORD1(POINT('ICRS', 10, 20)) FROM {STAR}", lambda rows: value(rows) == 10),
    "COORD2": (f"SELECT TOP 1 COORD2(POINT('ICRS', 10, 20)) FROM {STAR}", lambda rows: value(rows) == 20),
    "COORDSYS": (f"SELECT TOP 1 COORDSYS(POINT('ICRS', 10, 20)) FROM {STAR}", lambda rows: value(rows) == "ICRS"),
    "MOC": (IN_FIELD.format("MOC('2/0-191')"), lambda rows: value(rows) > 400_000),  # the whole sky at order 2
    "LOWER": ("SELECT LOWER(table_name) FROM TAP_SCHEMA.tables WHERE table_name = 'gaia.dr3_bright'",
              lambda rows: value(rows) == "gaia.dr3_bright"),
    "UPPER": ("SELECT UPPER(table_name) FROM TAP_SCHEMA.tables WHERE table_name = 'gaia.dr3_bright'",
              lambda rows: value(rows) == "GAIA.DR3_BRIGHT"),
    "ILIKE": ("SELECT table_name FROM TAP_SCHEMA.tables WHERE table_name ILIKE 'GAIA.DR3%'",
              lambda rows: [r[0] for r in rows] == ["gaia.dr3_bright"]),
    "OFFSET": (f"SELECT TOP 2 source_id FROM {STAR} ORDER BY source_id OFFSET 3", lambda rows: len(rows) == 2),
    "CAST": (f"SELECT TOP 1 CAST(ra AS INTEGER), ra FROM {STAR} WHERE ra > 10 ORDER BY source_id",
             lambda rows: value(rows) == round(rows[0][1])),
    "IN_UNIT": (f"SELECT TOP 1 IN_UNIT(ra, 'arcmin'), ra FROM {STAR} ORDER BY source_id",
                lambda rows: value(rows) == pytest.approx(60 * rows[0][1])),
    "WITH": (f"WITH few AS (SELECT TOP 7 source_id FROM {STAR} ORDER BY source_id) SELECT COUNT(*) FROM few",
             lambda rows: value(rows) == 7),
    "UNION": ("SELECT 1 AS x FROM TAP_SCHEMA.schemas WHERE schema_name = 'tap_schema' UNION "
              "SELECT 2 AS x FROM TAP_SCHEMA.schemas WHERE schema_name = 'tap_schema'",
              lambda rows: sorted(r[0] for r in rows) == [1, 2]),
    "EXCEPT": ("SELECT schema_name FROM TAP_SCHEMA.schemas EXCEPT "
               "SELECT schema_name FROM TAP_SCHEMA.schemas WHERE schema_name <> 'gaia'",
               lambda rows: [r[0] for r in rows] == ["gaia"]),
    "INTERSECT": ("SELECT schema_name FROM TAP_SCHEMA.schemas INTERSECT "
                  "SELECT schema_name FROM TAP_SCHEMA.schemas WHERE schema_name = 'gaia'",
                  lambda rows: [r[0] for r in rows] == ["gaia"]),
    "COALESCE": (f"SELECT TOP 1 COALESCE(NULL, source_id), source_id FROM {STAR} ORDER BY source_id",
                 lambda rows: value(rows) == rows[0][1]),
    "BIT_AND": (f"SELECT TOP 1 source_id & 255, source_id FROM {STAR} ORDER BY source_id",
                lambda rows: value(rows) == rows[0][1] & 255),
    "BIT_OR": (f"SELECT TOP 1 source_id | 1, source_id FROM {STAR} ORDER BY source_id",
               lambda rows: value(rows) == rows[0][1] | 1),
    "BIT_XOR": (f"SELECT TOP 1 source_id ^ 5, source_id FROM {STAR} ORDER BY source_id",
                lambda rows: value(rows) == rows[0][1] ^ 5),
    "BIT_NOT": (f"SELECT TOP 1 ~source_id, source_id FROM {STAR} ORDER BY source_id",
                lambda rows: value(rows) == ~rows[0][1]),
}


def declared_features(tap_url: str) -> dict[str, list[str]]:
    doc = etree.fromstring(httpx.get(tap_url + "/capabilities").content)
    return {group.get("type"): [f.findtext("form") for f in group.iterfind("feature")]
            for group in doc.iter("languageFeatures")}


def test_every_supported_feature_has_a_query():
    """Every declared feature, and the supported ones left undeclared for the validator's sake."""
    supported = [*GEOMETRY_FUNCTIONS, *(form for forms in ADQL21_FEATURES.values() for form, _ in forms),
                 *(form for forms in UNDECLARED_ADQL21_FEATURES.values() for form, _ in forms),
                 *(form for form, _ in EXTENSION_FEATURES)]
    assert sorted(supported) == sorted(FEATURE_QUERIES)


def test_capabilities_declare_the_adql21_features(tap_url):
    features = declared_features(tap_url)
    assert features[f"{TAPREGEXT}#features-adqlgeo"] == list(GEOMETRY_FUNCTIONS)
    for kind, forms in ADQL21_FEATURES.items():
        assert features[f"{TAPREGEXT}#{kind}"] == [form for form, _ in forms]
    for kind in UNDECLARED_ADQL21_FEATURES:
        assert f"{TAPREGEXT}#{kind}" not in features
    assert features["ivo://example.org/tap#features-adql-extension"] == ["MOC"]


@pytest.mark.parametrize("form", sorted(FEATURE_QUERIES))
def test_declared_feature_works(tap_url, form):
    query, check = FEATURE_QUERIES[form]
    response = httpx.post(tap_url + "/sync", data={"LANG": "ADQL-2.1", "QUERY": query, "RESPONSEFORMAT": "json"},
                          timeout=60)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["status"] == "OK" and body["data"], body
    assert check(body["data"]), body["data"][:3]


@pytest.mark.parametrize("path", ["/tap/capabilities", "/moc/capabilities"])
def test_capabilities_documents_are_valid(tap_server, path):
    response = httpx.get(tap_server.url + path)
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/xml")
    assert etree.fromstring(response.content).tag == f"{{{VOSI_CAPABILITIES}}}capabilities"
    assert validation_errors(response.content) == []


def test_moc_capabilities_describe_working_endpoints(tap_server):
    doc = etree.fromstring(httpx.get(tap_server.url + "/moc/capabilities").content)
    urls = {(u.text, u.get("use")) for u in doc.iter("accessURL")}
    assert (tap_server.url + "/moc/capabilities", "full") in urls
    for url, use in urls:
        target = url + STAR if use == "base" and url.endswith("/tables/") else url
        if use == "base" and not url.endswith("/tables/"):
            continue  # sky maps: none loaded in this database
        params = {"ra": "83.8", "dec": "-5.4", "sr": "1"} if url.endswith("/search") else {}
        response = httpx.get(target, params=params)
        assert response.status_code == 200, (target, response.text)
    landing = httpx.get(tap_server.url + "/").text
    assert "/moc/capabilities" in landing
