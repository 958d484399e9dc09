"""SIA 2.0 endpoints: /sia/query (ObsCore records as VOTable through the
shared execution path), /sia/capabilities, /sia/availability (VOSI), and
/sia/files/... (the images themselves, see vo_server.sia.files)."""

from __future__ import annotations

from xml.sax.saxutils import escape

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from vo_server.config import Settings
from vo_server.metadata.model import TableMeta
from vo_server.metadata.yaml_files import load_schema_files
from vo_server.query.respond import votable_error_response, votable_response
from vo_server.sia.files import serve_file
from vo_server.sia.params import SiaUsageError, parse_sia_query
from vo_server.sia.query import sia_plan

SIA_STANDARD_ID = "ivo://ivoa.net/std/SIA#query-2.0"
MAX_FORM_BYTES = 1 << 20


def obscore_table(settings: Settings) -> TableMeta:
    """ivoa.obscore as schemas/ivoa.yaml describes it (the one source of its metadata)."""
    for schema in load_schema_files(settings.schemas_dir):
        for table in schema.tables:
            if table.qualified_name == "ivoa.obscore":
                return table
    raise LookupError("schemas/ivoa.yaml does not describe ivoa.obscore")


async def request_parameters(request: Request) -> list[tuple[str, str]]:
    items = list(request.query_params.multi_items())
    if request.method == "POST":
        async with request.form(max_files=0, max_fields=10_000, max_part_size=MAX_FORM_BYTES) as form:
            items += [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
    return items


async def sia_query(request: Request) -> Response:
    try:
        query = parse_sia_query(await request_parameters(request))
    except SiaUsageError as exc:
        return votable_error_response(f"UsageError: {exc}")
    except (ValueError, HTTPException) as exc:  # malformed or oversized form body
        detail = exc.detail if isinstance(exc, HTTPException) else str(exc)
        return votable_error_response(f"UsageError: cannot read the request parameters ({detail})")
    plan = sia_plan(query, request.app.state.sia_obscore)
    return await votable_response(request.app.state.db, plan, serialization=query.serialization)


def capabilities_document(base_url: str) -> str:
    base = escape(base_url)
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<vosi:capabilities xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0"
    xmlns:vr="http://www.ivoa.net/xml/VOResource/v1.0" xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
  <capability standardID="{SIA_STANDARD_ID}">
    <interface xsi:type="vs:ParamHTTP" role="std" version="2.0">
      <accessURL use="base">{base}/sia/query</accessURL>
    </interface>
  </capability>
  <capability standardID="ivo://ivoa.net/std/VOSI#capabilities">
    <interface xsi:type="vs:ParamHTTP"><accessURL use="full">{base}/sia/capabilities</accessURL></interface>
  </capability>
  <capability standardID="ivo://ivoa.net/std/VOSI#availability">
    <interface xsi:type="vs:ParamHTTP"><accessURL use="full">{base}/sia/availability</accessURL></interface>
  </capability>
</vosi:capabilities>
"""


async def sia_capabilities(request: Request) -> Response:
    return Response(capabilities_document(request.app.state.settings.public_url), media_type="text/xml")


async def sia_availability(request: Request) -> Response:
    try:
        async with request.app.state.db.query.connection() as conn:
            await conn.execute("SELECT 1 FROM ivoa.obscore LIMIT 1")
            await conn.rollback()
        available, note = "true", "SIA 2.0 service is accepting queries"
    except Exception as exc:  # any failure to reach the table means "not available", reported, not raised
        available, note = "false", f"the ObsCore table cannot be read: {type(exc).__name__}"
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<vosi:availability xmlns:vosi="http://www.ivoa.net/xml/VOSIAvailability/v1.0">\n'
            f"  <vosi:available>{available}</vosi:available>\n  <vosi:note>{escape(note)}</vosi:note>\n"
            "</vosi:availability>\n")
    return Response(body, media_type="text/xml")


def sia_routes(settings: Settings) -> list[BaseRoute]:
    """The SIA routes; the app must also set ``app.state.sia_obscore = obscore_table(settings)``."""
    return [
        Route("/sia/query", sia_query, methods=["GET", "POST"]),
        Route("/sia/capabilities", sia_capabilities),
        Route("/sia/availability", sia_availability),
        Route("/sia/files/{collection}/{path:path}", serve_file, methods=["GET", "HEAD"]),
    ]
