"""The ``/oai`` endpoint: OAI-PMH over HTTP GET and POST."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qsl

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import BaseRoute, Route

from registry.oai_pmh import OaiProvider
from registry.sources import OAI_PATH, RecordContext
from vo_server.web.landing import ServiceLink, current_services

FORM_TYPE = "application/x-www-form-urlencoded"
REGISTRY_LINK = ServiceLink("Registry (OAI-PMH)", OAI_PATH,
                            "OAI-PMH 2.0 registry: VOResource (ivo_vor), Dublin Core and DataCite records")


def record_context(app: Starlette) -> RecordContext:
    """Records are derived from the app's settings, resource metadata and registered services."""
    settings = app.state.settings
    return RecordContext(settings=settings, resource=app.state.resource, services=tuple(app.state.services),
                         page_size=settings.oai_page_size)


def oai_provider(app: Starlette) -> OaiProvider:
    """The app's provider; its record context is refreshed from ``app.state`` at
    every request, so a service registered late (in a module's start-up) is
    published from the next harvest on."""
    provider = getattr(app.state, "oai_provider", None)
    if provider is None:
        settings = app.state.settings
        provider = OaiProvider(app.state.db, record_context(app), settings.public_url + OAI_PATH,
                               settings.oai_token_lifetime)
        app.state.oai_provider = provider
    else:
        provider.ctx = record_context(app)
    return provider


def _stream(chunks: list[str]) -> Iterator[bytes]:
    for chunk in chunks:
        yield chunk.encode("utf-8")


async def oai_endpoint(request: Request) -> StreamingResponse:
    await current_services(request.app)
    provider = oai_provider(request.app)
    if request.method == "POST":
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await request.body()
        if content_type != FORM_TYPE and (body or content_type):  # an empty POST simply has no arguments
            chunks = provider.error_document(
                "badArgument", f"POST requests must have Content-Type {FORM_TYPE}, not {content_type or 'none'}")
            return StreamingResponse(_stream(chunks), media_type="text/xml; charset=utf-8")
        try:
            arguments = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            chunks = provider.error_document("badArgument", "the request body is not UTF-8")
            return StreamingResponse(_stream(chunks), media_type="text/xml; charset=utf-8")
    else:
        arguments = request.query_params.multi_items()
    chunks = await provider.respond(arguments)
    return StreamingResponse(_stream(chunks), media_type="text/xml; charset=utf-8")


def registry_routes() -> list[BaseRoute]:
    return [Route(OAI_PATH, oai_endpoint, methods=["GET", "POST"])]
