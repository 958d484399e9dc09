"""Rendering a ``RegistryResource`` as simple Dublin Core (``oai_dc``), the
format every OAI-PMH harvester understands (B2FIND among them)."""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from registry.dates import format_datestamp, mjd_day
from registry.model import RegistryResource

OAI_DC = "http://www.openarchives.org/OAI/2.0/oai_dc/"
DC = "http://purl.org/dc/elements/1.1/"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{OAI_DC} http://www.openarchives.org/OAI/2.0/oai_dc.xsd"

DC_TYPES = {"Dataset": "Dataset", "Service": "Service"}


def coverage_statement(res: RegistryResource) -> str | None:
    """Human-readable sky coverage (the MOC itself is in the VOResource record)."""
    if res.sky_fraction is None:
        return None
    return f"Sky (ICRS): {100 * res.sky_fraction:.3g}% of the sky, by its HEALPix coverage MOC"


def time_ranges(res: RegistryResource) -> list[str]:
    """Temporal coverage as ISO 8601 day ranges (``2015-01-01/2018-12-31``)."""
    return [f"{mjd_day(lo)}/{mjd_day(hi)}" for lo, hi in res.temporal]


def render_dublin_core(res: RegistryResource, created: datetime, updated: datetime) -> etree._Element:
    root = etree.Element(f"{{{OAI_DC}}}dc", nsmap={"oai_dc": OAI_DC, "dc": DC, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)

    def dc(tag: str, value: object) -> None:
        if value not in (None, ""):
            etree.SubElement(root, f"{{{DC}}}{tag}").text = str(value)

    dc("title", res.title)
    for creator in res.creators:
        dc("creator", creator)
    for subject in res.subjects:
        dc("subject", subject)
    dc("description", res.description)
    dc("publisher", res.publisher)
    dc("date", format_datestamp(created)[:10])
    dc("date", format_datestamp(updated))
    dc("type", DC_TYPES.get(res.datacite_type, "Text" if res.datacite_type == "Other" else res.datacite_type))
    dc("identifier", res.identifier)
    if res.doi:
        dc("identifier", f"https://doi.org/{res.doi}")
    for url in res.access_urls:
        dc("identifier", url)
    dc("source", res.source)
    dc("relation", res.reference_url)
    for rel in res.relationships:
        for _name, ivoid in rel.related:
            dc("relation", ivoid)
    dc("coverage", coverage_statement(res))
    for period in time_ranges(res):
        dc("coverage", f"Time: {period}")
    for statement, uri in res.rights:
        dc("rights", statement)
        dc("rights", uri)
    return root
