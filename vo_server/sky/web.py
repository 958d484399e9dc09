"""How the sky services plug into the app: their routes, their landing-page
entries, and the ``/scs/`` index of the per-table cone searches."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from vo_server.gw.service import gw_routes
from vo_server.moc.service import moc_routes
from vo_server.scs.service import scs_routes
from vo_server.sky.positional_tables import positional_tables
from vo_server.web.landing import ServiceLink


async def scs_index(request: Request) -> Response:
    """The cone search services, one per positional table (JSON)."""
    base = request.app.state.settings.public_url
    async with request.app.state.db.owner.connection() as conn:
        tables = await positional_tables(conn)
    return JSONResponse({"cone_searches": [
        {"table": t.qualified_name, "description": t.description, "rows": t.row_count,
         "url": f"{base}/scs/{t.qualified_name}?", "capabilities": f"{base}/scs/{t.qualified_name}/capabilities",
         "example": f"{base}/scs/{t.qualified_name}?RA=180&DEC=0&SR=0.5"} for t in tables]})


def sky_routes() -> list[BaseRoute]:
    return [Route("/scs/", scs_index), Route("/scs", scs_index), *scs_routes(), *moc_routes(), *gw_routes()]


def sky_services() -> list[ServiceLink]:
    return [
        ServiceLink("Simple Cone Search", "/scs/", "SCS 1.03 per positional table: /scs/SCHEMA.TABLE?RA=&DEC=&SR="),
        ServiceLink("Coverage MOCs", "/moc/tables",
                    "MOC 2.0 coverage of each table (FITS, ASCII, JSON); discovery: /moc/search?ra=&dec=&sr="),
        ServiceLink("GW sky maps", "/gw/",
                    "gravitational-wave localisations: credible areas, MOCs, and the catalogue sources "
                    "inside a credible region ranked by probability (/gw/NAME/sources?table=...)"),
    ]
