"""VOSI capabilities of the MOC service (``/moc/capabilities``).

There is no IVOA standard for serving coverage MOCs, so the endpoints are
declared as capabilities without a ``standardID`` (VOResource allows that)
with ``vs:ParamHTTP`` interfaces: their parameters, the MOC 2.0 media types
they return (``vo_server.sky.moc_formats``) and the VOSI capability of the
document itself.  Declaring them in ``/tap/capabilities`` would be wrong:
that document describes the TAP service only.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

from starlette.requests import Request
from starlette.responses import Response

from vo_server.sky.moc_formats import FORMATS
from vo_server.web.landing import ServiceLink

MOC_CAPABILITIES_LINK = ServiceLink(
    "MOC service capabilities", "/moc/capabilities",
    "VOSI capabilities of the coverage MOC endpoints (/moc/...): their parameters and MOC 2.0 formats")
XML_HEAD = '<?xml version="1.0" encoding="UTF-8"?>\n'
FORMAT_PARAM = ("format", "serialisation: fits (MOC 2.0 FITS, default), ascii or json; or use the Accept header")

# (path, use of the access URL, media type returned, description, [(parameter, description, required)])
ENDPOINTS: tuple[tuple[str, str, str, str, list[tuple[str, str, bool]]], ...] = (
    ("/moc/tables", "full", "application/json", "The tables with a coverage MOC, with links to each (JSON).", []),
    ("/moc/tables/", "base", FORMATS["fits"],
     "Coverage of a published table: append SCHEMA.TABLE for its spatial MOC (computed at ingest), "
     "SCHEMA.TABLE/time for its temporal coverage (T-MOC) when it has a time column.",
     [(*FORMAT_PARAM, False)]),
    ("/moc/skymaps/", "base", FORMATS["fits"],
     "Credible region of a gravitational-wave sky map as a MOC: append the sky map's name.",
     [("credible", "credible level in (0, 1], default 0.9", False), (*FORMAT_PARAM, False)]),
    ("/moc/search", "full", "application/json",
     "Tables and sky maps whose coverage intersects a region (JSON): give moc, or ra, dec and sr.",
     [("moc", "the region as a MOC 2.0 ASCII string, e.g. 3/1-5 4/88", False),
      ("ra", "cone centre right ascension (deg, ICRS)", False),
      ("dec", "cone centre declination (deg, ICRS)", False),
      ("sr", "cone radius (deg, 0 < sr <= 180)", False),
      ("credible", "credible level of the sky maps' regions, default 0.9", False)]),
)


def _param(name: str, description: str, required: bool) -> str:
    return (f'<param use="{"required" if required else "optional"}"><name>{escape(name)}</name>'
            f"<description>{escape(description)}</description>"
            '<dataType xsi:type="vs:SimpleDataType">string</dataType></param>')


def _endpoint(base: str, path: str, use: str, returns: str, description: str,
              params: list[tuple[str, str, bool]]) -> str:
    return (f"<capability><description>{escape(description)}</description>"
            '<interface xsi:type="vs:ParamHTTP">'
            f'<accessURL use="{use}">{escape(base + path)}</accessURL>'
            f"<queryType>GET</queryType><resultType>{escape(returns)}</resultType>"
            + "".join(_param(*p) for p in params) + "</interface></capability>")


def moc_capabilities_document(public_url: str) -> str:
    return (XML_HEAD +
            '<vosi:capabilities xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            'xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1">'
            + "".join(_endpoint(public_url, *endpoint) for endpoint in ENDPOINTS) +
            '<capability standardID="ivo://ivoa.net/std/VOSI#capabilities">'
            f'<interface xsi:type="vs:ParamHTTP"><accessURL use="full">{escape(public_url)}/moc/capabilities'
            "</accessURL></interface></capability></vosi:capabilities>\n")


async def moc_capabilities(request: Request) -> Response:
    return Response(moc_capabilities_document(request.app.state.settings.public_url), media_type="text/xml")
