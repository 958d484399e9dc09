"""The landing page: what this archive offers, for a person with a browser."""

from __future__ import annotations

import html
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse

from vo_server.metadata.model import ResourceMeta


@dataclass(frozen=True)
class ServiceLink:
    """A service listed on the landing page (protocol modules register theirs).

    A link with a ``standard_id`` is also published in the registry as an
    IVOA service record (docs/registry.md has the contract):

    - ``standard_id``: the capability's IVOA standard, e.g.
      ``ivo://ivoa.net/std/TAP``, ``ivo://ivoa.net/std/ConeSearch``,
      ``ivo://ivoa.net/std/SIA#query-2.0``;
    - ``kind``: short protocol label (``tap``, ``scs``, ``sia``, ``moc``, ``gw``);
    - ``tables``: qualified names of the tables the service queries (empty:
      every published table, as for TAP); table records point to it;
    - ``interface_version``: the standard's version the interface implements;
    - ``capability_details``: a callable returning a mapping with the
      capability's protocol details (TAP: languages, output formats, limits;
      SCS: max_sr, max_records, verbosity, test query; ...), read each time
      records are rebuilt so the service module owns those facts.
    """

    name: str
    path: str
    description: str
    standard_id: str | None = None
    kind: str | None = None
    tables: tuple[str, ...] = ()
    interface_version: str | None = None
    capability_details: Callable[[], Mapping[str, Any]] | None = field(default=None, compare=False)


async def current_services(app: Starlette) -> list[ServiceLink]:
    """``app.state.services`` after the registered refreshers (``app.state.
    service_refreshers``: async callables taking the app) brought it up to
    date, e.g. the cone searches of tables ingested while serving."""
    for refresh in getattr(app.state, "service_refreshers", ()):
        await refresh(app)
    return app.state.services


async def published_tables(request: Request) -> list[tuple[str, str | None, int, float | None]]:
    db = request.app.state.db
    async with db.owner.connection() as conn:
        cur = await conn.execute(
            "SELECT p.schema_name || '.' || p.table_name, t.description, p.row_count, p.sky_fraction "
            "FROM vo_internal.published_tables p "
            "LEFT JOIN tap_schema.tables t ON t.table_name = p.schema_name || '.' || p.table_name "
            "ORDER BY 1")
        return await cur.fetchall()


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


async def landing_page(request: Request) -> HTMLResponse:
    resource: ResourceMeta = request.app.state.resource
    base = request.app.state.settings.public_url
    services = await current_services(request.app)
    tables = await published_tables(request)
    service_items = "\n".join(
        f'<li><a href="{_e(base + s.path)}">{_e(s.name)}</a> <code>{_e(base + s.path)}</code>: {_e(s.description)}</li>'
        for s in services)
    table_rows = "\n".join(
        f"<tr><td><code>{_e(name)}</code></td><td>{_e(desc)}</td><td class=num>{rows:,}</td>"
        f"<td class=num>{'' if frac is None else f'{100 * frac:.3g}%'}</td></tr>"
        for name, desc, rows, frac in tables)
    if not tables:
        table_rows = '<tr><td colspan=4>No tables yet: load one with <code>vo-server ingest FILE --table SCHEMA.NAME</code>.</td></tr>'
    page = f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>{_e(resource.title)}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body {{ font-family: system-ui, sans-serif; max-width: 60rem; margin: 2rem auto; padding: 0 1rem; color: #222; }}
table {{ border-collapse: collapse; width: 100%; }} td, th {{ border-bottom: 1px solid #ddd; padding: .4rem; text-align: left; vertical-align: top; }}
td.num {{ text-align: right; white-space: nowrap; }} code {{ background: #f4f4f4; padding: 0 .2rem; }}
</style></head>
<body>
<h1>{_e(resource.title)}</h1>
<p>{_e(resource.description)}</p>
<p>Published by {_e(resource.publisher)}{f' &middot; contact: <a href="mailto:{_e(resource.contact_email)}">{_e(resource.contact_name or resource.contact_email)}</a>' if resource.contact_email else ''}.</p>
<h2>Services</h2>
<ul>
{service_items}
</ul>
<h2>Tables</h2>
<table><thead><tr><th>Table</th><th>Description</th><th>Rows</th><th>Sky coverage</th></tr></thead>
<tbody>
{table_rows}
</tbody></table>
<p><small>vo-server &middot; <a href="{_e(base)}/health">health</a></small></p>
</body></html>
"""
    return HTMLResponse(page)


async def health(request: Request) -> JSONResponse:
    """Liveness and database reachability, for load balancers and monitoring."""
    try:
        async with request.app.state.db.query.connection(timeout=5) as conn:
            await conn.execute("SELECT 1")
            await conn.rollback()
    except Exception as exc:  # any failure to reach the database is "unhealthy"
        return JSONResponse({"status": "error", "database": f"{type(exc).__name__}: {exc}"}, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})
