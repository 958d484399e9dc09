"""Offline XSD validation of VOSI and UWS documents: the registry's bundled
IVOA schemas plus the ones kept next to these tests (VOSICapabilities,
UWS 1.1, copied from the IVOA)."""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

from registry.xsd_validation import NAMESPACES, XSD_DIR, _LocalSchemaResolver

HERE = Path(__file__).resolve().parent
LOCAL = (("http://www.ivoa.net/xml/VOSICapabilities/v1.0", HERE / "VOSICapabilities.xsd"),
         ("http://www.ivoa.net/xml/UWS/v1.0", HERE / "UWS.xsd"))


@functools.cache
def schema() -> etree.XMLSchema:
    imports = [(ns, (XSD_DIR / path).as_uri()) for ns, path in NAMESPACES]
    imports += [(ns, path.as_uri()) for ns, path in LOCAL]
    wrapper = ('<xs:schema xmlns:xs="http://www.w3.org/2001/XMLSchema" targetNamespace="urn:test:wrapper">'
               + "".join(f'<xs:import namespace="{ns}" schemaLocation="{uri}"/>' for ns, uri in imports)
               + "</xs:schema>")
    parser = etree.XMLParser(no_network=True)
    parser.resolvers.add(_LocalSchemaResolver())
    return etree.XMLSchema(etree.fromstring(wrapper.encode(), parser, base_url=(XSD_DIR / "w.xsd").as_uri()))


def validation_errors(document: bytes) -> list[str]:
    """[] when ``document`` is valid."""
    compiled = schema()
    if compiled.validate(etree.fromstring(document)):
        return []
    return [f"line {e.line}: {e.message}" for e in compiled.error_log]
