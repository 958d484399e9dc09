"""Validating registry XML offline against the bundled XSDs (``registry/xsd``).

One lxml schema covers every namespace a response can contain (OAI-PMH,
oai_dc, VOResource and its extensions, DataCite kernel-4): a wrapper schema
imports each namespace from the local files, and a resolver maps the remote
``schemaLocation`` URLs inside the IVOA files to the same local copies, so
nothing is ever fetched.  The OAI-PMH schema validates record payloads
strictly (``processContents="strict"``), so validating a whole response
checks the records too.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from lxml import etree

XSD_DIR = Path(__file__).resolve().parent / "xsd"

# Namespace -> local file, in import order (a namespace must be imported
# before the files that import it, or libxml2 follows their remote URL).
NAMESPACES: tuple[tuple[str, str], ...] = (
    ("http://www.w3.org/XML/1998/namespace", "ivoa/xml.xsd"),
    ("http://www.w3.org/1999/xlink", "ivoa/xlink.xsd"),
    ("http://www.ivoa.net/xml/VOResource/v1.0", "ivoa/VOResource.xsd"),
    ("http://www.ivoa.net/xml/STC/stc-v1.30.xsd", "ivoa/stc.xsd"),
    ("http://www.ivoa.net/xml/VODataService/v1.1", "ivoa/VODataService.xsd"),
    ("http://www.ivoa.net/xml/VORegistry/v1.0", "ivoa/VORegistry.xsd"),
    ("http://www.ivoa.net/xml/RegistryInterface/v1.0", "ivoa/RegistryInterface.xsd"),
    ("http://www.ivoa.net/xml/TAPRegExt/v1.0", "ivoa/TAPRegExt.xsd"),
    ("http://www.ivoa.net/xml/ConeSearch/v1.0", "ivoa/ConeSearch.xsd"),
    ("http://www.ivoa.net/xml/SIA/v1.1", "ivoa/SIA.xsd"),
    ("http://purl.org/dc/elements/1.1/", "ivoa/simpledc20021212.xsd"),
    ("http://www.openarchives.org/OAI/2.0/oai_dc/", "ivoa/oai_dc.xsd"),
    ("http://datacite.org/schema/kernel-4", "datacite-kernel-4/metadata.xsd"),
    ("http://www.openarchives.org/OAI/2.0/", "ivoa/OAI-PMH.xsd"),
)


class _LocalSchemaResolver(etree.Resolver):
    """Maps any schema URL to the bundled file of the same name."""

    def resolve(self, system_url, public_id, context):  # noqa: ANN001 (lxml's signature)
        name = str(system_url).rsplit("/", 1)[-1]
        for candidate in (XSD_DIR / "ivoa" / name, XSD_DIR / "datacite-kernel-4" / name):
            if candidate.is_file():
                return self.resolve_filename(str(candidate), context)
        return None


def _wrapper_schema() -> bytes:
    imports = "\n".join(f'  <xs:import namespace="{ns}" schemaLocation="{(XSD_DIR / path).as_uri()}"/>'
                        for ns, path in NAMESPACES)
    return (f'<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            f'targetNamespace="urn:vo-server:registry:wrapper">\n{imports}\n</xs:schema>').encode()


@functools.cache
def registry_schema() -> etree.XMLSchema:
    """The compiled schema set (built once per process; compiling takes ~0.5 s)."""
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalSchemaResolver())
    doc = etree.fromstring(_wrapper_schema(), parser, base_url=(XSD_DIR / "wrapper.xsd").as_uri())
    return etree.XMLSchema(etree.ElementTree(doc))


@dataclass(frozen=True)
class ValidationResult:
    valid: bool
    errors: tuple[str, ...]


def validate_xml(document: bytes | etree._Element) -> ValidationResult:
    """Validate an XML document (bytes or an element) against the bundled schemas."""
    schema = registry_schema()
    try:
        root = etree.fromstring(document, etree.XMLParser(no_network=True, resolve_entities=False)) \
            if isinstance(document, bytes) else document
    except etree.XMLSyntaxError as exc:
        return ValidationResult(False, (f"not well-formed XML: {exc}",))
    if schema.validate(root):
        return ValidationResult(True, ())
    return ValidationResult(False, tuple(f"line {e.line}: {e.message}" for e in schema.error_log))
