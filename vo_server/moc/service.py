"""``/moc/`` endpoints.

- ``/moc/tables``: the tables with a coverage MOC (JSON, with links);
- ``/moc/tables/{schema.table}``: a table's coverage MOC (built at ingest);
- ``/moc/tables/{schema.table}/time``: its temporal coverage (T-MOC), when
  it has a time column;
- ``/moc/skymaps/{name}?credible=0.9``: a GW credible region as a MOC;
- ``/moc/search?moc=ASCII`` or ``?ra=&dec=&sr=``: which tables and sky maps
  (their ``credible`` region, default 0.9) intersect the given region.

The format is chosen by ``format=fits|ascii|json`` or the Accept header.
"""

from __future__ import annotations

import math

import anyio
import astropy.units as u
import numpy as np
import psycopg
from astropy.coordinates import Latitude, Longitude
from mocpy import MOC, TimeMOC
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from vo_server.gw.service import GwRequestError, parse_credible
from vo_server.moc.capabilities import moc_capabilities
from vo_server.sky.moc_formats import FORMATS, MocFormatError, choose_format, serialise
from vo_server.sky.skymap_files import NAME_PATTERN
from vo_server.sky.time_coverage import table_tmoc

SEARCH_ORDER = 12


def _error(message: str, status: int = 400) -> Response:
    return JSONResponse({"error": message}, status_code=status)


def _moc_response(request: Request, moc: MOC | TimeMOC, filename: str) -> Response:
    try:
        fmt = choose_format(request.query_params.get("format"), request.headers.get("accept"))
    except MocFormatError as exc:
        return _error(str(exc))
    headers = {"Content-Disposition": f'inline; filename="{filename}.{ "fits" if fmt == "fits" else fmt}"'}
    return Response(serialise(moc, fmt), media_type=FORMATS[fmt], headers=headers)


async def list_table_mocs(request: Request) -> Response:
    base = request.app.state.settings.public_url
    async with request.app.state.db.owner.connection() as conn:
        cur = await conn.execute(
            "SELECT schema_name || '.' || table_name, coverage_order, sky_fraction FROM vo_internal.published_tables "
            "WHERE coverage_moc IS NOT NULL ORDER BY 1")
        rows = await cur.fetchall()
    return JSONResponse({"tables": [
        {"table": t, "order": o, "sky_fraction": f, "url": f"{base}/moc/tables/{t}",
         "time_url": f"{base}/moc/tables/{t}/time"} for t, o, f in rows]})


async def table_moc(request: Request) -> Response:
    qualified = request.path_params["table"]
    async with request.app.state.db.owner.connection() as conn:
        cur = await conn.execute(
            "SELECT coverage_moc FROM vo_internal.published_tables WHERE schema_name || '.' || table_name = %s",
            (qualified,))
        row = await cur.fetchone()
    if row is None or row[0] is None:
        return _error(f"no coverage MOC for {qualified!r}: not a published table with a position", 404)
    return _moc_response(request, MOC.from_string(row[0], format="ascii"), qualified)


def _table_tmoc(owner_dsn: str, qualified: str) -> TimeMOC | None:
    schema, _, table = qualified.partition(".")
    with psycopg.connect(owner_dsn, autocommit=True) as conn:
        return table_tmoc(conn, schema, table)


async def table_time_moc(request: Request) -> Response:
    """The table's temporal coverage (T-MOC), when it has a time column."""
    qualified = request.path_params["table"]
    dsn = request.app.state.db.target.owner_dsn
    moc = await anyio.to_thread.run_sync(_table_tmoc, dsn, qualified)
    if moc is None:
        return _error(f"no temporal coverage for {qualified!r}: not a published table with a time column "
                      "(xtype timestamp, or MJD with UCD time.epoch)", 404)
    return _moc_response(request, moc, f"{qualified}_tmoc")


async def credible_region_moc(db, name: str, level: float) -> MOC | None:
    async with db.owner.connection() as conn:
        cur = await conn.execute("SELECT max_order FROM vo_sky.skymaps WHERE name = %s", (name,))
        found = await cur.fetchone()
        if found is None:
            return None
        cur = await conn.execute("SELECT lo, hi FROM vo_sky.gw_region_ranges(%s, %s)", (name, level))
        ranges = np.array(await cur.fetchall(), dtype=np.uint64).reshape(-1, 2)
    return MOC.from_depth29_ranges(int(found[0]), ranges)


async def skymap_moc(request: Request) -> Response:
    name = request.path_params["name"]
    try:
        level = parse_credible(request.query_params.get("credible"))
    except GwRequestError as exc:
        return _error(str(exc))
    if not NAME_PATTERN.match(name):
        return _error(f"no sky map named {name!r}", 404)
    moc = await credible_region_moc(request.app.state.db, name, level)
    if moc is None:
        return _error(f"no sky map named {name!r}; /gw/ lists them", 404)
    return _moc_response(request, moc, f"{name}_{level:g}")


def _query_moc(request: Request) -> MOC:
    params = {k.lower(): v for k, v in request.query_params.items()}
    if params.get("moc"):
        try:
            return MOC.from_string(params["moc"], format="ascii")
        except Exception as exc:  # mocpy raises plain exceptions for syntax errors
            raise ValueError(f"moc is not a MOC 2.0 ASCII serialisation (e.g. '3/1-5 4/88'): {exc}") from None
    try:
        ra, dec, sr = (float(params[k]) for k in ("ra", "dec", "sr"))
    except KeyError:
        raise ValueError("give moc=ASCII-MOC, or ra, dec and sr in degrees") from None
    except ValueError:
        raise ValueError("ra, dec and sr must be numbers (degrees)") from None
    if not (math.isfinite(ra) and -90 <= dec <= 90 and 0 < sr <= 180):
        raise ValueError("need -90 <= dec <= 90 and 0 < sr <= 180 (degrees)")
    return MOC.from_cone(Longitude(ra % 360 * u.deg), Latitude(dec * u.deg), radius=sr * u.deg, max_depth=SEARCH_ORDER)


async def moc_search(request: Request) -> Response:
    """Tables and sky maps whose coverage intersects the query region."""
    try:
        query = _query_moc(request)
        level = parse_credible(request.query_params.get("credible"))
    except (ValueError, GwRequestError) as exc:
        return _error(str(exc))
    base = request.app.state.settings.public_url
    db = request.app.state.db
    async with db.owner.connection() as conn:
        cur = await conn.execute(
            "SELECT schema_name || '.' || table_name, coverage_moc FROM vo_internal.published_tables "
            "WHERE coverage_moc IS NOT NULL ORDER BY 1")
        tables = await cur.fetchall()
        cur = await conn.execute("SELECT name FROM vo_sky.skymaps ORDER BY name")
        maps = [r[0] for r in await cur.fetchall()]
    found_tables = []
    for name, ascii_moc in tables:
        overlap = MOC.from_string(ascii_moc, format="ascii").intersection(query)
        if not overlap.empty():
            found_tables.append({"table": name, "overlap_sky_fraction": float(overlap.sky_fraction),
                                 "moc": f"{base}/moc/tables/{name}", "cone_search": f"{base}/scs/{name}"})
    found_maps = []
    for name in maps:
        region = await credible_region_moc(db, name, level)
        if region is None:
            continue
        overlap = region.intersection(query)
        if not overlap.empty():
            found_maps.append({"skymap": name, "credible": level,
                               "overlap_deg2": float(overlap.sky_fraction) * 4 * math.pi * (180 / math.pi) ** 2,
                               "summary": f"{base}/gw/{name}"})
    return JSONResponse({"query_sky_fraction": float(query.sky_fraction), "tables": found_tables,
                         "skymaps": found_maps})


def moc_routes() -> list[BaseRoute]:
    return [
        Route("/moc/tables", list_table_mocs),
        Route("/moc/tables/{table}/time", table_time_moc),
        Route("/moc/tables/{table}", table_moc),
        Route("/moc/skymaps/{name}", skymap_moc),
        Route("/moc/search", moc_search),
        Route("/moc/capabilities", moc_capabilities),
    ]
