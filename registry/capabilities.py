"""Capabilities of our services, built from the ``ServiceLink`` entries the
protocol modules register in ``app.state.services``.

A link's ``capability_details()`` (when given) supplies the protocol facts
only the service module knows; without it we state only what the standard
itself guarantees.  Recognised keys:

TAP (``ivo://ivoa.net/std/TAP``), rendered as ``tr:TableAccess``:
  ``languages``: [{name, versions: [(version, ivo_id|None)], description,
  features: [{type, forms: [(form, description|None)]}]}]; ``output_formats``:
  [{mime, aliases: [...], ivo_id}]; ``upload_methods``: [ivo_id];
  ``data_models``: [(name, ivo_id)]; ``retention_period`` / ``execution_duration``:
  {default, hard} seconds; ``output_limit`` / ``upload_limit``:
  {default, hard, unit ("row"|"byte")}.
Cone search (``ivo://ivoa.net/std/ConeSearch``), rendered as ``cs:ConeSearch``:
  ``max_sr`` (deg), ``max_records``, ``verbosity`` (bool), ``test_query``: {ra, dec, sr}.
Any standard: ``description`` (text of the capability), ``result_type``
  (MIME type of results), ``query_types`` (["GET", "POST"]).
Standards without a registry extension schema (SIA 2, MOC, ...) get a plain
``vr:Capability`` with their standardID and a ``vs:ParamHTTP`` interface,
as the IVOA's SIA 2 and Discovering Data Collections notes prescribe.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from registry.model import Capability, Interface
from vo_server.web.landing import ServiceLink

TAP = "ivo://ivoa.net/std/TAP"
CONE_SEARCH = "ivo://ivoa.net/std/ConeSearch"
REGISTRY_HARVEST = "ivo://ivoa.net/std/Registry"
ADQL_2_0 = ("2.0", "ivo://ivoa.net/std/ADQL#v2.0")

# What TAP 1.1 itself requires of every service: ADQL 2.0 and VOTable output.
TAP_REQUIRED_DETAILS: dict[str, Any] = {
    "languages": [{"name": "ADQL", "versions": [ADQL_2_0],
                   "description": "The Astronomical Data Query Language"}],
    "output_formats": [{"mime": "application/x-votable+xml", "aliases": ["votable"]}],
}


def standard_base(standard_id: str) -> str:
    return standard_id.split("#", 1)[0]


def is_tap(link: ServiceLink) -> bool:
    return link.standard_id is not None and standard_base(link.standard_id) == TAP


def link_details(link: ServiceLink) -> dict[str, Any]:
    """The link's capability details, or {} (a failing provider is a bug in
    that module: it propagates rather than publishing a wrong record)."""
    if link.capability_details is None:
        return {}
    details = link.capability_details()
    if not isinstance(details, Mapping):
        raise TypeError(f"capability_details of {link.path} returned {type(details).__name__}, not a mapping")
    return dict(details)


def aux_standard_id(standard_id: str) -> str:
    """The auxiliary-capability standardID a data collection uses to point to
    a service that serves it (IVOA "Discovering Data Collections" note):
    ``#query-2.0`` becomes ``#query-aux-2.0``, otherwise ``#aux`` is added."""
    base, _, fragment = standard_id.partition("#")
    if fragment.startswith("query-") and not fragment.startswith("query-aux-"):
        return f"{base}#query-aux-{fragment[len('query-'):]}"
    return f"{base}#aux" if not fragment else f"{base}#{fragment}-aux"


def service_capability(link: ServiceLink, public_url: str, auxiliary: bool = False) -> Capability:
    """The capability of a registered service (or its auxiliary form, for a
    data collection the service serves)."""
    assert link.standard_id is not None
    details = link_details(link)
    query_types = details.get("query_types") or []
    interface = Interface(
        access_url=public_url + link.path, version=link.interface_version,
        query_types=tuple(query_types), result_type=details.get("result_type"))
    if auxiliary:
        return Capability(aux_standard_id(link.standard_id), (interface,))
    base = standard_base(link.standard_id)
    if base == TAP:
        merged = {**TAP_REQUIRED_DETAILS, **{k: v for k, v in details.items() if v}}
        return Capability(link.standard_id, (interface,), "tr:TableAccess", details.get("description"), merged)
    if base == CONE_SEARCH:
        cone = {"verbosity": bool(details.get("verbosity", False)), **details}
        return Capability(link.standard_id, (interface,), "cs:ConeSearch", details.get("description"), cone)
    return Capability(link.standard_id, (interface,), None, details.get("description") or link.description)
