"""Where registry records come from: record sources over the published metadata.

A record source has a ``name``, a cheap ``fingerprint`` (a string that changes
whenever its records may have changed) and ``resources`` (the records).  The
built-in sources are the authority, this registry, the registered services
(``app.state.services`` entries with a ``standard_id``) and one
``vs:CatalogResource`` per published table (TAP_SCHEMA +
``vo_internal.published_tables``).  Other modules add theirs with
``register_record_source`` — the GW sky-map module is expected to add one
that yields a record per sky map in the ``skymaps`` set.  Records are never
written by hand: everything here reads the metadata ingest and the YAML
files maintain.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import psycopg
from mocpy import MOC

from registry.capabilities import REGISTRY_HARVEST, is_tap, link_details, service_capability
from registry.model import (
    SET_IVO_MANAGED,
    Capability,
    Interface,
    RegistryResource,
    Relationship,
    TablesetSchema,
)
from vo_server.config import Settings
from vo_server.metadata.model import ResourceMeta, SchemaMeta, TableMeta
from vo_server.metadata.tap_schema import read_schemas, read_tables
from vo_server.web.landing import ServiceLink

log = logging.getLogger(__name__)

OAI_PATH = "/oai"
MAX_INLINE_MOC_CHARS = 20_000  # VODataService: keep the inline MOC below a few dozen kB
MIN_INLINE_MOC_ORDER = 6       # ... and at least at order 6 (about one degree)
TABLE_BATCH = 500


@dataclass(frozen=True)
class RecordContext:
    """Everything besides the database that records are derived from."""

    settings: Settings
    resource: ResourceMeta
    services: tuple[ServiceLink, ...] = ()
    page_size: int = 100

    @property
    def authority(self) -> str:
        return self.settings.authority

    @property
    def registry_id(self) -> str:
        return f"{self.authority}/registry"

    def service_id(self, link: ServiceLink) -> str:
        """The TAP service stands for the archive as a whole (the archive's IVOID,
        ``<authority>/<resource_key>``); other services are named by their path."""
        if is_tap(link):
            return self.resource.ivoid(self.authority)
        return f"{self.authority}/{link.path.strip('/')}"

    def service_title(self, link: ServiceLink) -> str:
        return self.resource.title if is_tap(link) else f"{self.resource.title} {link.name}"

    def table_id(self, qualified_name: str) -> str:
        schema, _, name = qualified_name.partition(".")
        return f"{self.authority}/{schema}/{name}"

    @property
    def registered_services(self) -> list[ServiceLink]:
        return [s for s in self.services if s.standard_id]


class RecordSource(Protocol):
    name: str

    def fingerprint(self, conn: psycopg.Connection, ctx: RecordContext) -> str: ...

    def resources(self, conn: psycopg.Connection, ctx: RecordContext) -> Iterable[RegistryResource]: ...


def _digest(value: Any) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=repr).encode()).hexdigest()


def _levels(resource: ResourceMeta) -> list[str]:
    """contentLevel values in the VOResource vocabulary's spelling (``research`` -> ``Research``)."""
    return [" ".join(w.capitalize() for w in level.split()) for level in resource.content_level]


def base_resource(ctx: RecordContext, identifier: str, resource_type: str, set_spec: str, title: str,
                  description: str, **values: Any) -> RegistryResource:
    """A record with the archive-wide curation (publisher, contact, subjects) filled in."""
    meta = ctx.resource
    fields: dict[str, Any] = dict(
        identifier=identifier, resource_type=resource_type, set_specs=(SET_IVO_MANAGED, set_spec),
        title=title, description=description, publisher=meta.publisher,
        reference_url=meta.reference_url or ctx.settings.public_url + "/",
        subjects=list(meta.subjects) or ["astronomy"], contact_name=meta.contact_name or meta.publisher,
        contact_email=meta.contact_email, creators=list(meta.creators), content_levels=_levels(meta),
        rights=[(meta.rights, None)] if meta.rights else [])
    fields.update(values)
    return RegistryResource(**fields)


def _context_fingerprint(ctx: RecordContext) -> Any:
    services = [(s.name, s.path, s.description, s.standard_id, s.kind, list(s.tables), s.interface_version,
                 link_details(s)) for s in ctx.registered_services]
    return {"settings": ctx.settings.__dict__, "resource": ctx.resource.__dict__, "services": services,
            "page_size": ctx.page_size}


class AuthoritySource:
    """The vg:Authority record of our naming authority."""

    name = "authority"

    def fingerprint(self, conn: psycopg.Connection, ctx: RecordContext) -> str:
        return _digest(_context_fingerprint(ctx))

    def resources(self, conn: psycopg.Connection, ctx: RecordContext) -> Iterable[RegistryResource]:
        meta = ctx.resource
        yield base_resource(
            ctx, ctx.authority, "vg:Authority", "authorities", f"{meta.title} naming authority",
            f"The IVOA naming authority {ctx.authority}: identifiers of resources published by "
            f"{meta.publisher} through {meta.short_name}.",
            short_name=meta.short_name[:16] if meta.short_name else None, managing_org=meta.publisher,
            content_types=["Organisation"])


class RegistrySource:
    """The vg:Registry record of this publishing registry, with its OAI-PMH
    harvesting capability and the authority it manages."""

    name = "registry"

    def fingerprint(self, conn: psycopg.Connection, ctx: RecordContext) -> str:
        return _digest(_context_fingerprint(ctx))

    def resources(self, conn: psycopg.Connection, ctx: RecordContext) -> Iterable[RegistryResource]:
        meta = ctx.resource
        harvest = Capability(
            REGISTRY_HARVEST,
            (Interface(ctx.settings.public_url + OAI_PATH, xsi_type="vg:OAIHTTP", version="1.0"),),
            "vg:Harvest", "OAI-PMH 2.0 (metadata prefixes ivo_vor, oai_dc, oai_datacite)",
            {"max_records": ctx.page_size})
        yield base_resource(
            ctx, ctx.registry_id, "vg:Registry", "registries", f"{meta.title} publishing registry",
            f"The OAI-PMH publishing registry of {meta.title}: VOResource, Dublin Core and DataCite "
            f"records of the resources under {ctx.authority}.",
            short_name=(meta.short_name or "")[:12] + " reg" if meta.short_name else None,
            managed_authority=ctx.authority.removeprefix("ivo://"), full_registry=False,
            capabilities=[harvest], content_types=["Registry"], datacite_type="Service",
            access_urls=[ctx.settings.public_url + OAI_PATH])


def _tableset(schemas: list[SchemaMeta], row_counts: dict[str, int]) -> list[TablesetSchema]:
    return [TablesetSchema(s.name, s.description, s.tables, row_counts) for s in schemas if s.tables]


def _row_counts(conn: psycopg.Connection) -> dict[str, int]:
    return dict(conn.execute("SELECT schema_name || '.' || table_name, row_count "
                             "FROM vo_internal.published_tables").fetchall())


_METADATA_FINGERPRINT_SQL = """
SELECT md5(concat_ws('#',
    (SELECT string_agg(s::text, '|' ORDER BY s.schema_name) FROM tap_schema.schemas s),
    (SELECT string_agg(t::text, '|' ORDER BY t.table_name) FROM tap_schema.tables t),
    (SELECT string_agg(c::text, '|' ORDER BY c.table_name, c.column_name) FROM tap_schema.columns c),
    (SELECT string_agg(k::text, '|' ORDER BY k.key_id) FROM tap_schema.keys k),
    (SELECT string_agg(kc::text, '|' ORDER BY kc.key_id, kc.from_column) FROM tap_schema.key_columns kc),
    (SELECT string_agg(p::text, '|' ORDER BY p.schema_name, p.table_name) FROM vo_internal.published_tables p)))
"""


def metadata_fingerprint(conn: psycopg.Connection) -> str:
    """Changes whenever TAP_SCHEMA or published_tables change (one query, no catalogue data)."""
    return conn.execute(_METADATA_FINGERPRINT_SQL).fetchone()[0]


class ServiceSource:
    """One record per registered service that declares an IVOA standard.

    TAP becomes a vs:CatalogService with the whole TAP_SCHEMA as tableset;
    a service bound to given tables (cone search, SIA over a collection) a
    vs:CatalogService with those tables; any other a vs:DataService."""

    name = "services"

    def fingerprint(self, conn: psycopg.Connection, ctx: RecordContext) -> str:
        if not ctx.registered_services:
            return "no services"
        return _digest([_context_fingerprint(ctx), metadata_fingerprint(conn)])

    def resources(self, conn: psycopg.Connection, ctx: RecordContext) -> Iterable[RegistryResource]:
        links = ctx.registered_services
        if not links:
            return
        schemas = read_schemas(conn)
        counts = _row_counts(conn)
        published = set(counts)
        for link in links:
            if is_tap(link):
                tableset = _tableset(schemas, counts)
                served = sorted(published)
            else:
                wanted = set(link.tables)
                tableset = _tableset([SchemaMeta(s.name, s.description, s.utype,
                                                 [t for t in s.tables if t.qualified_name in wanted])
                                      for s in schemas], counts)
                served = sorted(wanted & published)
            related = tuple((name, ctx.table_id(name)) for name in served)
            description = (ctx.resource.description if is_tap(link)
                           else f"{link.name} of {ctx.resource.title}: {link.description}")
            yield base_resource(
                ctx, ctx.service_id(link), "vs:CatalogService" if tableset else "vs:DataService", "services",
                ctx.service_title(link), description,
                short_name=(link.kind or link.name)[:16], content_types=[ctx.resource.content_type or "Archive"],
                capabilities=[service_capability(link, ctx.settings.public_url)], tableset=tableset,
                relationships=[Relationship("service-for", related)] if related else [],
                datacite_type="Service", access_urls=[ctx.settings.public_url + link.path])


def _first_sentence(text: str | None, limit: int = 100) -> str | None:
    if not text:
        return None
    sentence = text.strip().split(". ", 1)[0].rstrip(".")
    if len(sentence) <= limit:
        return sentence
    cut = max(sentence.rfind(sep, 0, limit) for sep in (",", ":", ";", " ("))
    return sentence[:cut] if cut > 20 else sentence[:limit].rsplit(" ", 1)[0] + "…"


def inline_moc(ascii_moc: str | None) -> str | None:
    """The MOC as VODataService wants it inline: degraded (never below
    order 6) until it is a few dozen kB at most."""
    if not ascii_moc:
        return None
    if len(ascii_moc) <= MAX_INLINE_MOC_CHARS:
        return ascii_moc
    moc = MOC.from_string(ascii_moc, format="ascii")
    for order in range(moc.max_order - 1, MIN_INLINE_MOC_ORDER - 1, -1):
        text = moc.degrade_to_order(order).to_string(format="ascii")
        if len(text) <= MAX_INLINE_MOC_CHARS or order == MIN_INLINE_MOC_ORDER:
            return text
    return ascii_moc


def _as_list(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _temporal(extra: dict[str, Any]) -> list[tuple[float, float]]:
    """``extra.temporal_coverage``: [mjd_min, mjd_max] or a list of such pairs (where known)."""
    value = extra.get("temporal_coverage")
    if not value:
        return []
    try:
        pairs = [value] if not isinstance(value[0], (list, tuple)) else value
        intervals = [(float(lo), float(hi)) for lo, hi in pairs]
    except (TypeError, ValueError, KeyError, IndexError):
        log.warning("registry: temporal_coverage %r is not [mjd_min, mjd_max] (or a list of them); ignored", value)
        return []
    return [(lo, hi) for lo, hi in intervals if lo <= hi]


class TableSource:
    """A vs:CatalogResource per published data table, with its coverage MOC
    and auxiliary capabilities pointing to the services that serve it."""

    name = "tables"

    def fingerprint(self, conn: psycopg.Connection, ctx: RecordContext) -> str:
        return _digest([_context_fingerprint(ctx), metadata_fingerprint(conn)])

    def resources(self, conn: psycopg.Connection, ctx: RecordContext) -> Iterable[RegistryResource]:
        rows = conn.execute(
            "SELECT p.schema_name, p.table_name, p.row_count, p.coverage_moc, p.sky_fraction, p.extra, "
            "p.created_at, p.updated_at, s.description FROM vo_internal.published_tables p "
            "JOIN tap_schema.tables t ON t.table_name = p.schema_name || '.' || p.table_name "
            "LEFT JOIN tap_schema.schemas s ON s.schema_name = p.schema_name "
            "ORDER BY p.schema_name, p.table_name").fetchall()
        for start in range(0, len(rows), TABLE_BATCH):  # column metadata of a few hundred tables at a time
            batch = rows[start:start + TABLE_BATCH]
            tables = {t.qualified_name: t for t in read_tables(conn, [f"{r[0]}.{r[1]}" for r in batch])}
            for schema, name, row_count, moc, fraction, extra, created, updated, schema_description in batch:
                table = tables.get(f"{schema}.{name}")
                if table is not None:
                    yield self._record(ctx, table, row_count, moc, fraction, extra or {}, created, updated,
                                       schema_description)

    def _record(self, ctx: RecordContext, table: TableMeta, row_count: int, moc: str | None,
                fraction: float | None, extra: dict[str, Any], created: Any, updated: Any,
                schema_description: str | None) -> RegistryResource:
        qualified = table.qualified_name
        serving = [s for s in ctx.registered_services if is_tap(s) or qualified in s.tables]
        capabilities = [service_capability(s, ctx.settings.public_url, auxiliary=True) for s in serving]
        relationships = [Relationship("served-by", tuple((ctx.service_title(s), ctx.service_id(s))
                                                         for s in serving))] if serving else []
        licence = extra.get("license")
        rights = [(str(licence), extra.get("license_url"))] if licence else []
        if not rights and ctx.resource.rights:
            rights = [(ctx.resource.rights, None)]
        title = _first_sentence(table.description) or f"Table {qualified}"
        return base_resource(
            ctx, ctx.table_id(qualified), "vs:CatalogResource", "collections", f"{title} ({qualified})",
            table.description or f"The table {qualified} of {ctx.resource.title}.",
            short_name=table.name[:16], creators=_as_list(extra.get("creators")) or list(ctx.resource.creators),
            reference_url=extra.get("reference_url") or ctx.resource.reference_url or ctx.settings.public_url + "/",
            content_types=["Catalog"], created=created, dates=[("updated", updated)],
            source=extra.get("citation"), rights=rights, relationships=relationships, capabilities=capabilities,
            coverage_moc=inline_moc(moc), sky_fraction=fraction, temporal=_temporal(extra),
            tableset=[TablesetSchema(table.schema, schema_description, [table], {qualified: row_count})],
            doi=extra.get("doi"), datacite_type="Dataset",
            access_urls=[ctx.settings.public_url + s.path for s in serving])


RECORD_SOURCES: list[RecordSource] = [AuthoritySource(), RegistrySource(), ServiceSource(), TableSource()]


def register_record_source(source: RecordSource) -> None:
    """Add a record source (e.g. GW sky maps); its records are published from
    the next harvest on, and disappear as tombstones when it stops yielding them."""
    if all(s.name != source.name for s in RECORD_SOURCES):
        RECORD_SOURCES.append(source)
