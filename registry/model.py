"""What a registry record says, independent of the format it is rendered in.

Record sources (``registry.sources``) build ``RegistryResource`` objects from
the published metadata; the renderers (``registry.voresource``,
``registry.dublin_core``, ``registry.datacite``) turn one into VOResource,
Dublin Core or DataCite XML.  Keeping one intermediate object is what makes
the three formats say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from vo_server.metadata.model import TableMeta

# OAI sets: every record is in ivo_managed (the set the IVOA Registry of
# Registries harvests); each record is also in the set of its kind.
SET_IVO_MANAGED = "ivo_managed"
SETS: dict[str, str] = {
    SET_IVO_MANAGED: "Resources managed by this registry (harvested by the IVOA Registry of Registries)",
    "authorities": "Naming authorities (vg:Authority)",
    "registries": "This publishing registry (vg:Registry)",
    "services": "Data services: TAP, cone search, SIA and others (vs:CatalogService, vs:DataService)",
    "collections": "Tables and data collections (vs:CatalogResource)",
    "skymaps": "Gravitational-wave sky maps",
}


@dataclass(frozen=True)
class Interface:
    """A vr:Interface: where and how a capability is reached."""

    access_url: str
    xsi_type: str = "vs:ParamHTTP"
    role: str | None = "std"
    version: str | None = None
    use: str = "base"
    query_types: tuple[str, ...] = ()  # vs:ParamHTTP queryType (GET, POST)
    result_type: str | None = None     # vs:ParamHTTP resultType (MIME type)


@dataclass(frozen=True)
class Capability:
    """A vr:Capability; ``details`` holds the standard-specific children
    (keys documented in ``registry.capabilities``)."""

    standard_id: str | None
    interfaces: tuple[Interface, ...]
    xsi_type: str | None = None
    description: str | None = None
    details: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Relationship:
    """A vr:Relationship, e.g. ``served-by`` from a table to its TAP service."""

    relationship_type: str
    related: tuple[tuple[str, str], ...]  # (name, IVOID)


@dataclass
class TablesetSchema:
    """One schema of a vs:TableSet, with the tables it lists."""

    name: str
    description: str | None
    tables: list[TableMeta]
    row_counts: dict[str, int] = field(default_factory=dict)  # qualified name -> rows


@dataclass
class RegistryResource:
    """One resource of the registry (one OAI record)."""

    identifier: str                 # IVOID, also the OAI identifier
    resource_type: str              # xsi:type of ri:Resource, e.g. vs:CatalogResource
    set_specs: tuple[str, ...]
    title: str
    description: str
    publisher: str
    reference_url: str
    subjects: list[str]
    contact_name: str
    contact_email: str | None = None
    short_name: str | None = None
    creators: list[str] = field(default_factory=list)
    content_types: list[str] = field(default_factory=list)
    content_levels: list[str] = field(default_factory=list)
    created: datetime | None = None                # when the resource came to be (else first seen)
    dates: list[tuple[str, datetime]] = field(default_factory=list)  # curation dates (role, when)
    source: str | None = None                      # citation of what the resource is derived from
    rights: list[tuple[str, str | None]] = field(default_factory=list)  # (statement, URI)
    relationships: list[Relationship] = field(default_factory=list)
    capabilities: list[Capability] = field(default_factory=list)
    coverage_moc: str | None = None               # MOC 2.0 ASCII, ICRS
    sky_fraction: float | None = None
    temporal: list[tuple[float, float]] = field(default_factory=list)  # MJD intervals
    tableset: list[TablesetSchema] = field(default_factory=list)
    managed_authority: str | None = None           # vg:Registry
    managing_org: str | None = None                # vg:Authority
    full_registry: bool = False
    doi: str | None = None                         # a registered DOI (without doi: / https://doi.org/)
    datacite_type: str = "Other"                   # DataCite resourceTypeGeneral
    access_urls: list[str] = field(default_factory=list)  # for DC/DataCite related identifiers

    @property
    def resource_key(self) -> str:
        return self.identifier.split("/", 3)[3] if self.identifier.count("/") >= 3 else ""
