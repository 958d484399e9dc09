"""Simple Cone Search 1.03 at ``/scs/{schema.table}``, with VOSI
capabilities and availability.

Parameters RA, DEC, SR (degrees, ICRS), VERB (1: identifier and position;
2, the default: the table's principal columns; 3: every column), MAXREC
(DALI: rows returned at most, an overflow is flagged with
QUERY_STATUS=OVERFLOW).  SR=0 returns the metadata (the FIELDs) only.
Errors are what SCS 1.03 asks for: HTTP 200 and a VOTable whose INFO
name="Error" carries the message (plus DALI's QUERY_STATUS=ERROR).
Results are sorted by distance, which is the last column ``_r`` (deg).
"""

from __future__ import annotations

import math
from xml.sax.saxutils import escape, quoteattr

from psycopg import sql
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from vo_server.formats.fields import Field
from vo_server.formats.votable import HEAD, MIME_TYPE
from vo_server.query.respond import votable_response
from vo_server.query.run import QueryPlan
from vo_server.sky.positional_tables import PositionalTable
from vo_server.sky.ranges_sql import WALK_RANGE_COST_US, cone_rows_sql, distance_params_sql
from vo_server.sky.regions import RegionError, cone_ranges

CONE_SEARCH_STANDARD = "ivo://ivoa.net/std/ConeSearch"
DEFAULT_MAXREC = 100_000
HARD_MAXREC = 5_000_000
MAX_SR = 180.0
SCS_UCDS = {"id": "ID_MAIN", "ra": "POS_EQ_RA_MAIN", "dec": "POS_EQ_DEC_MAIN"}


class ConeSearchError(ValueError):
    pass


def scs_error(message: str) -> Response:
    """SCS 1.03 error: a VOTable with INFO name="Error" (HTTP 200, as the standard says)."""
    body = (HEAD + f"<INFO name=\"Error\" value={quoteattr(message)}/>\n"
            '<RESOURCE type="results">\n'
            f"<INFO name=\"QUERY_STATUS\" value=\"ERROR\">{escape(message)}</INFO>\n"
            "</RESOURCE>\n</VOTABLE>\n")
    return Response(body.encode(), media_type=MIME_TYPE)


def _params(request: Request) -> dict[str, str]:
    """Parameter names are case-insensitive (DALI); the last value wins."""
    return {k.upper(): v for k, v in request.query_params.multi_items()}


def _number(params: dict[str, str], name: str, low: float, high: float) -> float:
    raw = params.get(name)
    if raw is None or not raw.strip():
        raise ConeSearchError(f"{name} is required (decimal degrees)")
    try:
        value = float(raw)
    except ValueError:
        raise ConeSearchError(f"{name}={raw!r} is not a number (decimal degrees expected)") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ConeSearchError(f"{name}={raw} is out of range: it must be between {low:g} and {high:g} degrees")
    return value


def _integer(params: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    raw = params.get(name)
    if raw is None or not raw.strip():
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConeSearchError(f"{name}={raw!r} is not an integer") from None
    if not low <= value <= high:
        raise ConeSearchError(f"{name}={raw} is out of range [{low}, {high}]")
    return value


def result_columns(table: PositionalTable, verb: int) -> list[tuple[str, Field]]:
    """(column name, FIELD) pairs: identifier, ra, dec first with the SCS UCDs."""
    id_col = table.id_column()
    chosen = [id_col.name, table.ra_column, table.dec_column]
    if verb >= 2:
        chosen += [c.name for c in table.columns
                   if c.name not in chosen and (verb == 3 or c.principal) and c.name != table.hpx_column]
    if verb == 3:
        chosen += [c.name for c in table.columns if c.name not in chosen]
    ucds = {id_col.name: SCS_UCDS["id"], table.ra_column: SCS_UCDS["ra"], table.dec_column: SCS_UCDS["dec"]}
    out = []
    for name in chosen:
        col = table.column(name)
        assert col is not None
        ucd = ucds.get(name, col.ucd)
        if name not in ucds and ucd and ucd.upper() in SCS_UCDS.values():
            ucd = None  # only one column may carry each SCS UCD
        out.append((name, Field(name=col.name, datatype=col.datatype, arraysize=col.arraysize, xtype=col.xtype,
                                unit=col.unit, ucd=ucd, utype=col.utype, description=col.description)))
    return out


def cone_plan(table: PositionalTable, ra: float, dec: float, sr: float, verb: int, maxrec: int) -> QueryPlan:
    columns = result_columns(table, verb)
    distance_field = Field(name="_r", datatype="double", unit="deg", ucd="pos.angDistance",
                           description="Angular distance from the cone centre")
    fields = [f for _, f in columns] + [distance_field]
    select = sql.SQL(", ").join(sql.Identifier(name) for name, _ in columns)
    source = sql.Identifier(table.schema, table.name)
    infos = [("RA", repr(ra)), ("DEC", repr(dec)), ("SR", repr(sr)), ("VERB", str(verb))]
    if sr == 0:
        query = sql.SQL("SELECT {}, NULL::double precision AS _r FROM {} LIMIT 0").format(select, source)
        return QueryPlan(query, fields, max_rows=maxrec, infos=infos)
    ra_sql = sql.Identifier(table.ra_column).as_string(None)
    dec_sql = sql.Identifier(table.dec_column).as_string(None)
    hpx_sql = sql.Identifier(table.hpx_column).as_string(None)
    region = cone_ranges(ra, dec, sr, table.row_count, range_cost_us=WALK_RANGE_COST_US)
    # Placeholders, identifiers and numbers we generated (see ranges_sql): safe to compose as SQL.
    rows, rows_params = cone_rows_sql(source.as_string(None), [sql.Identifier(name).as_string(None) for name, _ in columns],
                                      hpx_sql, ra_sql, dec_sql, ra, dec, sr, region)
    distance, distance_params = distance_params_sql(ra_sql, dec_sql, ra, dec)
    query = sql.SQL("SELECT {}, {} AS _r FROM {} AS cone ORDER BY _r LIMIT %s").format(
        select, sql.SQL(distance), sql.SQL(rows))
    params = [*distance_params, *rows_params, maxrec + 1]
    return QueryPlan(query, fields, params=params, max_rows=maxrec, infos=infos)


async def _table(request: Request) -> PositionalTable | None:
    return await request.app.state.positional_tables.get(request.path_params["table"])


async def cone_search(request: Request) -> Response:
    table = await _table(request)
    if table is None:
        return scs_error(f"no positional table {request.path_params['table']!r} here; "
                         "the landing page lists the cone search services")
    params = _params(request)
    try:
        ra = _number(params, "RA", 0.0, 360.0)
        dec = _number(params, "DEC", -90.0, 90.0)
        sr = _number(params, "SR", 0.0, MAX_SR)
        verb = _integer(params, "VERB", 2, 1, 3)
        maxrec = _integer(params, "MAXREC", DEFAULT_MAXREC, 0, HARD_MAXREC)
        plan = cone_plan(table, ra, dec, sr, verb, maxrec)
    except (ConeSearchError, RegionError) as exc:
        return scs_error(str(exc))
    response = await votable_response(request.app.state.db, plan)
    if response.status_code != 200:
        request.app.state.positional_tables.forget(table.qualified_name)
        message = response.body.decode(errors="replace") if hasattr(response, "body") else "query failed"
        return scs_error(_query_status_message(message))
    return response


def _query_status_message(document: str) -> str:
    start = document.find('name="QUERY_STATUS"')
    if start < 0:
        return "the query failed"
    body_start = document.find(">", start) + 1
    end = document.find("</INFO>", body_start)
    return document[body_start:end] if end > body_start else "the query failed"


def capabilities_xml(base: str, table: PositionalTable) -> str:
    access = f"{base}/scs/{table.qualified_name}"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<vosi:capabilities xmlns:vosi="http://www.ivoa.net/xml/VOSICapabilities/v1.0"
    xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"
    xmlns:vr="http://www.ivoa.net/xml/VOResource/v1.0"
    xmlns:vs="http://www.ivoa.net/xml/VODataService/v1.1"
    xmlns:cs="http://www.ivoa.net/xml/ConeSearch/v1.0">
  <capability standardID="ivo://ivoa.net/std/VOSI#capabilities">
    <interface xsi:type="vs:ParamHTTP"><accessURL use="full">{escape(access)}/capabilities</accessURL></interface>
  </capability>
  <capability standardID="ivo://ivoa.net/std/VOSI#availability">
    <interface xsi:type="vs:ParamHTTP"><accessURL use="full">{escape(access)}/availability</accessURL></interface>
  </capability>
  <capability standardID="{CONE_SEARCH_STANDARD}" xsi:type="cs:ConeSearch">
    <interface xsi:type="vs:ParamHTTP" role="std">
      <accessURL use="base">{escape(access)}?</accessURL>
      <queryType>GET</queryType>
      <resultType>application/x-votable+xml</resultType>
    </interface>
    <maxSR>{MAX_SR:g}</maxSR>
    <maxRecords>{HARD_MAXREC}</maxRecords>
    <verbosity>true</verbosity>
    <testQuery><ra>0</ra><dec>0</dec><sr>1</sr></testQuery>
  </capability>
</vosi:capabilities>
"""


async def capabilities(request: Request) -> Response:
    table = await _table(request)
    if table is None:
        return Response(f"no positional table {request.path_params['table']!r}\n", status_code=404,
                        media_type="text/plain")
    base = request.app.state.settings.public_url
    return Response(capabilities_xml(base, table), media_type="text/xml")


async def availability(request: Request) -> Response:
    try:
        async with request.app.state.db.query.connection(timeout=5) as conn:
            await conn.execute("SELECT 1")
            await conn.rollback()
        up, note = "true", "service is accepting queries"
    except Exception as exc:  # any failure to reach the database means unavailable
        up, note = "false", f"database unreachable: {type(exc).__name__}"
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<vosi:availability xmlns:vosi="http://www.ivoa.net/xml/VOSIAvailability/v1.0">\n'
            f"  <vosi:available>{up}</vosi:available>\n  <vosi:note>{escape(note)}</vosi:note>\n"
            "</vosi:availability>\n")
    return Response(body, media_type="text/xml", status_code=200 if up == "true" else 503)


def scs_routes() -> list[BaseRoute]:
    return [
        Route("/scs/{table}/capabilities", capabilities),
        Route("/scs/{table}/availability", availability),
        Route("/scs/{table}", cone_search),
    ]
