"""The /tap routes and the service's background work (async job workers,
housekeeping), wired into the app by ``create_app``."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route

from vo_server.config import Settings
from vo_server.tap import jobs_http
from vo_server.tap.capabilities import availability, capabilities, capability_details
from vo_server.tap.examples import examples
from vo_server.tap.service import TapService
from vo_server.tap.sync import sync_query
from vo_server.tap.tables import single_table, tableset
from vo_server.tap.worker import JobRunner
from vo_server.web.landing import ServiceLink

TAP_DESCRIPTION = "Table Access Protocol 1.1: ADQL queries, sync and async, uploads (TOPCAT, pyvo, astroquery)"


def tap_service_link(settings: Settings) -> ServiceLink:
    """The landing-page entry and registry record of the TAP service."""
    return ServiceLink("TAP", "/tap", TAP_DESCRIPTION, standard_id="ivo://ivoa.net/std/TAP", kind="tap",
                       interface_version="1.1", capability_details=lambda: capability_details(settings))


async def tap_root(request: Request) -> Response:
    return RedirectResponse(request.app.state.settings.public_url + "/tap/examples", status_code=303)


def tap_routes() -> list[BaseRoute]:
    return [Mount("/tap", routes=[
        Route("/", tap_root),
        Route("/sync", sync_query, methods=["GET", "POST"]),
        *jobs_http.routes(),
        Route("/capabilities", capabilities),
        Route("/availability", availability),
        Route("/tables", tableset),
        Route("/tables/{name:str}", single_table),
        Route("/examples", examples),
    ])]


@contextlib.asynccontextmanager
async def tap_background(app: Starlette) -> AsyncIterator[None]:
    """Create the service state, run async job workers while the app runs."""
    state = app.state
    service = TapService(state.settings, state.db, state.catalog, state)
    state.tap = service
    runner = JobRunner(service)
    state.tap_jobs = runner
    await runner.start()
    try:
        yield
    finally:
        await runner.stop()
