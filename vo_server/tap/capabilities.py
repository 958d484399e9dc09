"""VOSI /capabilities with the TAPRegExt description of the service and
VOSI /availability.  Everything published here is read from the code that
implements it (format registry, translator function list, settings), so the
document cannot drift from what the service does."""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape, quoteattr

from starlette.requests import Request
from starlette.responses import Response

from adql import UDFS
from vo_server.config import Settings
from vo_server.formats.registry import FORMATS
from vo_server.tap.service import TapService

XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
TAPREGEXT = "ivo://ivoa.net/std/TAPRegExt"
# ADQL 2.1 section 4 (optional features); each is run by tests/tap/test_capabilities.py.
GEOMETRY_FUNCTIONS = ("POINT", "CIRCLE", "BOX", "POLYGON", "REGION", "CENTROID", "CONTAINS", "INTERSECTS",
                      "DISTANCE", "AREA", "COORD1", "COORD2", "COORDSYS")
# Supported beyond ADQL 2.1, which has no feature type for them: declared under a type of our own
# authority (``extension_feature_type``), as TAPRegExt allows for non-standard features.
EXTENSION_FEATURES = [("MOC", "MOC('ascii moc') or MOC(order, geometry): a Multi-Order Coverage map (MOC 2.0 "
                              "ASCII), usable as the region of CONTAINS and INTERSECTS")]
# Supported but not declared: STILTS taplint 3.4.7 (the validator in Debian, which the tests run)
# predates this ADQL 2.1 feature key and reports declaring it as an error (E-CAP-KEYX); clients use
# COALESCE without looking for the declaration.  Declare it once the validator knows the key.
UNDECLARED_ADQL21_FEATURES = {"features-adql-conditional": [("COALESCE", "first non-null argument")]}
ADQL21_FEATURES = {
    "features-adql-string": [("LOWER", "lower-case a string"), ("UPPER", "upper-case a string"),
                             ("ILIKE", "case-insensitive LIKE")],
    "features-adql-offset": [("OFFSET", "skip rows of the result")],
    "features-adql-type": [("CAST", "type conversion")],
    "features-adql-unit": [("IN_UNIT", "unit conversion")],
    "features-adql-common-table": [("WITH", "common table expressions")],
    "features-adql-sets": [("UNION", "union of results"), ("EXCEPT", "difference of results"),
                           ("INTERSECT", "intersection of results")],
    "features-adql-bitwise": [("BIT_AND", "bitwise and: a & b"), ("BIT_OR", "bitwise or: a | b"),
                              ("BIT_XOR", "bitwise exclusive or: a ^ b"), ("BIT_NOT", "bitwise not: ~a")],
}


def _feature(form: str, description: str) -> str:
    return (f"<feature><form>{escape(form)}</form><description>{escape(description)}</description>"
            "</feature>")


def extension_feature_type(settings: Settings) -> str:
    return f"{settings.authority}/tap#features-adql-extension"


def language_element(settings: Settings) -> str:
    udfs = "".join(_feature(signature, description) for signature, description in UDFS)
    geometry = "".join(_feature(name, f"ADQL {name}") for name in GEOMETRY_FUNCTIONS)
    groups = [(f"{TAPREGEXT}#{kind}", forms) for kind, forms in ADQL21_FEATURES.items()]
    groups.append((extension_feature_type(settings), EXTENSION_FEATURES))
    extra = "".join(f"<languageFeatures type={quoteattr(kind)}>"
                    + "".join(_feature(f, d) for f, d in forms) + "</languageFeatures>"
                    for kind, forms in groups)
    return ("<language><name>ADQL</name>"
            '<version ivo-id="ivo://ivoa.net/std/ADQL#v2.0">2.0</version>'
            '<version ivo-id="ivo://ivoa.net/std/ADQL#v2.1">2.1</version>'
            "<description>ADQL 2.1 (ADQL 2.0 queries are accepted too), translated to PostgreSQL</description>"
            f'<languageFeatures type="{TAPREGEXT}#features-udf">{udfs}</languageFeatures>'
            f'<languageFeatures type="{TAPREGEXT}#features-adqlgeo">{geometry}</languageFeatures>'
            f"{extra}</language>")


def output_formats() -> str:
    parts = []
    for fmt in FORMATS:
        ivo = f" ivo-id={quoteattr(fmt.ivo_id)}" if fmt.ivo_id else ""
        aliases = "".join(f"<alias>{escape(a)}</alias>" for a in dict.fromkeys((fmt.name, *fmt.aliases))
                          if "/" not in a or a == fmt.name)
        parts.append(f"<outputFormat{ivo}><mime>{escape(fmt.mime)}</mime>{aliases}</outputFormat>")
    return "".join(parts)


def capabilities_document(service: TapService) -> str:
    s = service.settings
    base = s.public_url + "/tap"

    def interface(path: str, role: str | None = None) -> str:
        role_attr = f' role="{role}"' if role else ""
        return (f'<interface xsi:type="vs:ParamHTTP"{role_attr}><accessURL use="full">'
                f"{escape(base + path)}</accessURL></interface>")

    return (XML_HEAD +
            '<vosi:capabilities xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1" '
            'xmlns:tr="http://www.ivoa.net/xml/TAPRegExt/v1.0">'
            '<capability standardID="ivo://ivoa.net/std/TAP" xsi:type="tr:TableAccess">'
            + interface("", "std").replace("<interface ", '<interface version="1.1" ', 1) +
            # ivoa.obscore (migration 0007, schemas/ivoa.yaml) implements ObsCore 1.1
            '<dataModel ivo-id="ivo://ivoa.net/std/ObsCore#core-1.1">ObsCore-1.1</dataModel>' +
            language_element(s) + output_formats() +
            '<uploadMethod ivo-id="ivo://ivoa.net/std/TAPRegExt#upload-inline"/>'
            '<uploadMethod ivo-id="ivo://ivoa.net/std/TAPRegExt#upload-http"/>'
            '<uploadMethod ivo-id="ivo://ivoa.net/std/TAPRegExt#upload-https"/>'
            f"<retentionPeriod><default>{s.tap_async_destruction}</default>"
            f"<hard>{s.tap_async_destruction}</hard></retentionPeriod>"
            f"<executionDuration><default>{s.tap_async_execution_duration}</default>"
            f"<hard>{s.tap_async_execution_duration}</hard></executionDuration>"
            f'<outputLimit><default unit="row">{s.tap_max_rec}</default>'
            f'<hard unit="row">{s.tap_max_rec_limit}</hard></outputLimit>'
            f'<uploadLimit><default unit="byte">{s.tap_upload_max_bytes}</default>'
            f'<hard unit="byte">{s.tap_upload_max_bytes}</hard></uploadLimit>'
            "</capability>"
            '<capability standardID="ivo://ivoa.net/std/VOSI#capabilities">'
            + interface("/capabilities") + "</capability>"
            '<capability standardID="ivo://ivoa.net/std/VOSI#availability">'
            + interface("/availability") + "</capability>"
            '<capability standardID="ivo://ivoa.net/std/VOSI#tables-1.1">'
            + interface("/tables") + "</capability>"
            '<capability standardID="ivo://ivoa.net/std/DALI#examples">'
            '<interface xsi:type="vr:WebBrowser" xmlns:vr="http://www.ivoa.net/xml/VOResource/v1.0">'
            f'<accessURL use="full">{escape(base + "/examples")}</accessURL></interface></capability>'
            "</vosi:capabilities>\n")


async def capabilities(request: Request) -> Response:
    return Response(capabilities_document(request.app.state.tap), media_type="text/xml")


async def availability(request: Request) -> Response:
    service: TapService = request.app.state.tap
    note = "the service is accepting queries"
    available = True
    try:
        async with service.db.query.connection() as conn:
            await (await conn.execute("SELECT 1")).fetchone()
            await conn.rollback()
    except Exception as exc:  # any database failure means "not available"
        available, note = False, f"the database is not reachable: {type(exc).__name__}"
    body = (XML_HEAD + '<vosi:availability xmlns:vosi="http://www.ivoa.net/xml/VOSIAvailability/v1.0">'
            f"<vosi:available>{'true' if available else 'false'}</vosi:available>"
            f"<vosi:note>{escape(note)}</vosi:note></vosi:availability>\n")
    return Response(body, media_type="text/xml")


def capability_details(settings: Settings) -> dict[str, Any]:
    """The same facts as /capabilities, in the registry's form
    (``registry/capabilities.py``), so the VOResource record and VOSI agree."""
    udf = {"type": f"{TAPREGEXT}#features-udf", "forms": list(UDFS)}
    geometry = {"type": f"{TAPREGEXT}#features-adqlgeo", "forms": [(name, None) for name in GEOMETRY_FUNCTIONS]}
    extra = [{"type": f"{TAPREGEXT}#{kind}", "forms": forms} for kind, forms in ADQL21_FEATURES.items()]
    extra.append({"type": extension_feature_type(settings), "forms": EXTENSION_FEATURES})
    return {
        "languages": [{"name": "ADQL", "versions": [("2.0", "ivo://ivoa.net/std/ADQL#v2.0"),
                                                    ("2.1", "ivo://ivoa.net/std/ADQL#v2.1")],
                       "description": "ADQL 2.1 (ADQL 2.0 queries are accepted too), translated to PostgreSQL",
                       "features": [udf, geometry, *extra]}],
        "output_formats": [{"mime": f.mime, "aliases": [a for a in dict.fromkeys((f.name, *f.aliases))
                                                        if "/" not in a or a == f.name], "ivo_id": f.ivo_id}
                           for f in FORMATS],
        "upload_methods": [f"{TAPREGEXT}#upload-inline", f"{TAPREGEXT}#upload-http", f"{TAPREGEXT}#upload-https"],
        "retention_period": {"default": settings.tap_async_destruction, "hard": settings.tap_async_destruction},
        "execution_duration": {"default": settings.tap_async_execution_duration,
                               "hard": settings.tap_async_execution_duration},
        "output_limit": {"default": settings.tap_max_rec, "hard": settings.tap_max_rec_limit, "unit": "row"},
        "upload_limit": {"default": settings.tap_upload_max_bytes, "hard": settings.tap_upload_max_bytes,
                         "unit": "byte"},
    }
