"""Rendering a ``RegistryResource`` as a DataCite kernel-4 record
(``oai_datacite``), for DOI-centred aggregators such as B2FIND/EOSC.

The identifier is the resource's DOI when one is registered (a table's
``doi`` metadata); otherwise the IVOID, with ``identifierType="IVOID"`` —
we never make up DOIs.  The IVOID is always given as an alternate identifier.
"""

from __future__ import annotations

from datetime import datetime

from lxml import etree

from registry.dates import format_datestamp
from registry.dublin_core import coverage_statement, time_ranges
from registry.model import RegistryResource

DATACITE = "http://datacite.org/schema/kernel-4"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
SCHEMA_LOCATION = f"{DATACITE} http://schema.datacite.org/meta/kernel-4/metadata.xsd"
RESOURCE_TYPE_NAMES = {"vs:CatalogResource": "Catalogue table", "vs:CatalogService": "IVOA data service",
                       "vs:DataService": "IVOA data service", "vg:Registry": "IVOA publishing registry",
                       "vg:Authority": "IVOA naming authority"}


def render_datacite(res: RegistryResource, created: datetime, updated: datetime) -> etree._Element:
    root = etree.Element(f"{{{DATACITE}}}resource", nsmap={None: DATACITE, "xsi": XSI})
    root.set(f"{{{XSI}}}schemaLocation", SCHEMA_LOCATION)

    def sub(parent: etree._Element, tag: str, text: object = None, **attrs: str) -> etree._Element:
        el = etree.SubElement(parent, f"{{{DATACITE}}}{tag}", attrs)
        if text is not None:
            el.text = str(text)
        return el

    if res.doi:
        sub(root, "identifier", res.doi, identifierType="DOI")
    else:
        sub(root, "identifier", res.identifier, identifierType="IVOID")
    creators = sub(root, "creators")
    for name in res.creators or [res.publisher]:
        sub(sub(creators, "creator"), "creatorName", name)
    sub(sub(root, "titles"), "title", res.title)
    sub(root, "publisher", res.publisher)
    sub(root, "publicationYear", created.year)
    sub(root, "resourceType", RESOURCE_TYPE_NAMES.get(res.resource_type, res.resource_type),
        resourceTypeGeneral=res.datacite_type)
    if res.subjects:
        subjects = sub(root, "subjects")
        for subject in res.subjects:
            sub(subjects, "subject", subject)
    contributors = sub(root, "contributors")
    contact = sub(contributors, "contributor", contributorType="ContactPerson")
    sub(contact, "contributorName", res.contact_name)
    dates = sub(root, "dates")
    sub(dates, "date", format_datestamp(created), dateType="Created")
    sub(dates, "date", format_datestamp(updated), dateType="Updated")
    for period in time_ranges(res):
        sub(dates, "date", period, dateType="Coverage")
    sub(root, "language", "en")
    alternates = sub(root, "alternateIdentifiers")
    sub(alternates, "alternateIdentifier", res.identifier, alternateIdentifierType="IVOID")
    related = sub(root, "relatedIdentifiers")
    sub(related, "relatedIdentifier", res.reference_url, relatedIdentifierType="URL", relationType="IsDocumentedBy")
    if res.datacite_type == "Dataset":  # a table is the source of the services that query it
        for url in res.access_urls:
            sub(related, "relatedIdentifier", url, relatedIdentifierType="URL", relationType="IsSourceOf")
    if res.rights:
        rights_list = sub(root, "rightsList")
        for statement, uri in res.rights:
            if uri:
                sub(rights_list, "rights", statement, rightsURI=uri)
            else:
                sub(rights_list, "rights", statement)
    descriptions = sub(root, "descriptions")
    sub(descriptions, "description", res.description, descriptionType="Abstract")
    if res.source:
        sub(descriptions, "description", f"Please cite: {res.source}", descriptionType="Other")
    coverage = coverage_statement(res)
    if coverage:
        sub(descriptions, "description", coverage, descriptionType="TechnicalInfo")
    return root
