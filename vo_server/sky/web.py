"""How the sky services plug into the app: their routes, their landing-page
entries, and the ``/scs/`` index of the per-table cone searches."""

from __future__ import annotations

import psycopg
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from vo_server.db.target import DatabaseTarget
from vo_server.gw.service import gw_routes
from vo_server.moc.service import moc_routes
from vo_server.scs.service import CONE_SEARCH_STANDARD, HARD_MAXREC, MAX_SR, scs_routes
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


_CONE_SEARCH_TABLES_SQL = (
    "SELECT p.schema_name || '.' || p.table_name, t.description FROM vo_internal.published_tables p "
    "LEFT JOIN tap_schema.tables t ON t.table_name = p.schema_name || '.' || p.table_name "
    "WHERE p.hpx_column IS NOT NULL ORDER BY 1")


def _cone_search_link(name: str, description: str | None) -> ServiceLink:
    return ServiceLink(f"Cone search {name}", f"/scs/{name}",
                       f"Simple Cone Search on {name}" + (f": {description}" if description else ""),
                       standard_id=CONE_SEARCH_STANDARD, kind="scs", tables=(name,), interface_version="1.03",
                       capability_details=cone_search_capability)


def cone_search_links(target: DatabaseTarget) -> list[ServiceLink]:
    """One SCS service link (and so registry record) per positional table, at start-up."""
    with psycopg.connect(target.owner_dsn) as conn:
        return [_cone_search_link(*row) for row in conn.execute(_CONE_SEARCH_TABLES_SQL).fetchall()]


async def refresh_cone_search_links(app: Starlette) -> None:
    """Bring the per-table cone search links in ``app.state.services`` up to
    date, so a table ingested or dropped while the server runs gets (or loses)
    its landing-page entry and registry record at once.  Only the links this
    module made are touched (they carry ``cone_search_capability``)."""
    async with app.state.db.owner.connection() as conn:
        cur = await conn.execute(_CONE_SEARCH_TABLES_SQL)
        wanted = [_cone_search_link(*row) for row in await cur.fetchall()]
    services: list[ServiceLink] = app.state.services
    ours = [s for s in services if s.capability_details is cone_search_capability]
    if ours != wanted:
        services[:] = [s for s in services if s.capability_details is not cone_search_capability] + wanted


def cone_search_capability() -> dict:
    return {"max_sr": MAX_SR, "max_records": HARD_MAXREC, "verbosity": True,
            "test_query": {"ra": 0.0, "dec": 0.0, "sr": 1.0}}


def sky_services(target: DatabaseTarget) -> list[ServiceLink]:
    return [
        ServiceLink("Simple Cone Search", "/scs/", "SCS 1.03 per positional table: /scs/SCHEMA.TABLE?RA=&DEC=&SR="),
        ServiceLink("Coverage MOCs", "/moc/tables",
                    "MOC 2.0 coverage of each table (FITS, ASCII, JSON); discovery: /moc/search?ra=&dec=&sr="),
        ServiceLink("GW sky maps", "/gw/",
                    "gravitational-wave localisations: credible areas, MOCs, and the catalogue sources "
                    "inside a credible region ranked by probability (/gw/NAME/sources?table=...)"),
    ]
