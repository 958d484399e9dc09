"""The ASGI application: every service mounted on one Starlette app."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.routing import BaseRoute, Route

from registry.routes import REGISTRY_LINK, registry_routes
from registry.sources import register_record_source
from vo_server.catalog import PublishedCatalog
from vo_server.config import Settings
from vo_server.db.pools import Database
from vo_server.db.target import DatabaseTarget
from vo_server.gw.registry_records import SkymapSource
from vo_server.metadata.yaml_files import load_resource
from vo_server.moc.capabilities import MOC_CAPABILITIES_LINK
from vo_server.sia.service import obscore_table, sia_routes
from vo_server.sky.positional_tables import PositionalTableCache
from vo_server.sky.spatial_compiler import HealpixSpatialCompiler, SkymapRegions
from vo_server.sky.web import cone_search_links, refresh_cone_search_links, sky_routes, sky_services
from vo_server.tap.routes import tap_background, tap_routes, tap_service_link
from vo_server.web.landing import ServiceLink, health, landing_page


def create_app(settings: Settings, target: DatabaseTarget) -> Starlette:
    """The app for an upgraded database ``target``."""
    db = Database(target, settings)
    routes: list[BaseRoute] = [
        Route("/", landing_page),
        Route("/health", health),
        *tap_routes(),
        *sia_routes(settings),
    ]
    services: list[ServiceLink] = [ServiceLink("Health", "/health", "liveness and database check (JSON)"),
                                   tap_service_link(settings)]
    routes += sky_routes()
    services += sky_services(target)
    services.append(MOC_CAPABILITIES_LINK)
    services += cone_search_links(target)
    routes.extend(registry_routes())
    register_record_source(SkymapSource())
    services.append(REGISTRY_LINK)
    services.append(ServiceLink("SIA 2.0", "/sia/query", "images (ObsCore records) by position, band, time, ...",
                                standard_id="ivo://ivoa.net/std/SIA#query-2.0", kind="sia",
                                tables=("ivoa.obscore",), interface_version="2.0"))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await db.open()
        try:
            async with tap_background(app):
                yield
        finally:
            await db.close()

    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.settings = settings
    app.state.db = db
    app.state.catalog = PublishedCatalog(db)  # shared by TAP and the cone searches
    app.state.positional_tables = PositionalTableCache(app.state.catalog, db)
    app.state.services = services
    app.state.service_refreshers = [refresh_cone_search_links]
    app.state.spatial = HealpixSpatialCompiler(skymap_regions=SkymapRegions(target.owner_dsn))
    app.state.sia_obscore = obscore_table(settings)
    app.state.resource = load_resource(settings.schemas_dir, {
        "publisher": settings.publisher, "contact_name": settings.contact_name,
        "contact_email": settings.contact_email})
    return app
