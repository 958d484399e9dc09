"""Rendering a ``RegistryResource`` as a VOResource 1.1 record (``ri:Resource``),
the ``ivo_vor`` metadata format harvested by the IVOA Registry of Registries."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from lxml import etree

from registry.dates import format_datestamp
from registry.model import Capability, Interface, RegistryResource, TablesetSchema
from vo_server.metadata.model import ColumnMeta, TableMeta

NS = {
    "ri": "http://www.ivoa.net/xml/RegistryInterface/v1.0",
    "vr": "http://www.ivoa.net/xml/VOResource/v1.0",
    "vs": "http://www.ivoa.net/xml/VODataService/v1.1",
    "vg": "http://www.ivoa.net/xml/VORegistry/v1.0",
    "tr": "http://www.ivoa.net/xml/TAPRegExt/v1.0",
    "cs": "http://www.ivoa.net/xml/ConeSearch/v1.0",
    "xsi": "http://www.w3.org/2001/XMLSchema-instance",
}
XSI_TYPE = f"{{{NS['xsi']}}}type"
SCHEMA_LOCATION = " ".join([
    NS["ri"], "http://www.ivoa.net/xml/RegistryInterface/v1.0",
    NS["vr"], "http://www.ivoa.net/xml/VOResource/v1.0",
    NS["vs"], "http://www.ivoa.net/xml/VODataService/v1.1",
    NS["vg"], "http://www.ivoa.net/xml/VORegistry/v1.0",
    NS["tr"], "http://www.ivoa.net/xml/TAPRegExt/v1.0",
    NS["cs"], "http://www.ivoa.net/xml/ConeSearch/v1.0",
])
DATA_RESOURCE_TYPES = {"vs:DataService", "vs:CatalogResource", "vs:CatalogService"}
SERVICE_TYPES = DATA_RESOURCE_TYPES | {"vg:Registry", "vr:Service"}


def _text(parent: etree._Element, tag: str, value: Any, **attrs: str | None) -> etree._Element | None:
    """A child element with text, skipped when the value is empty."""
    if value is None or value == "":
        return None
    el = etree.SubElement(parent, tag, {k.replace("_", "-"): v for k, v in attrs.items() if v is not None})
    el.text = str(value)
    return el


def _typed(parent: etree._Element, tag: str, xsi_type: str | None, **attrs: str | None) -> etree._Element:
    el = etree.SubElement(parent, tag, {k: v for k, v in attrs.items() if v is not None})
    if xsi_type:
        el.set(XSI_TYPE, xsi_type)
    return el


def _curation(root: etree._Element, res: RegistryResource) -> None:
    curation = etree.SubElement(root, "curation")
    _text(curation, "publisher", res.publisher)
    for creator in res.creators:
        _text(etree.SubElement(curation, "creator"), "name", creator)
    for role, when in res.dates:
        if when is not None:
            _text(curation, "date", format_datestamp(when), role=role)
    contact = etree.SubElement(curation, "contact")
    _text(contact, "name", res.contact_name)
    _text(contact, "email", res.contact_email)


def _content(root: etree._Element, res: RegistryResource) -> None:
    content = etree.SubElement(root, "content")
    for subject in res.subjects:
        _text(content, "subject", subject)
    _text(content, "description", res.description)
    _text(content, "source", res.source)
    _text(content, "referenceURL", res.reference_url)
    for value in res.content_types:
        _text(content, "type", value)
    for value in res.content_levels:
        _text(content, "contentLevel", value)
    for rel in res.relationships:
        el = etree.SubElement(content, "relationship")
        _text(el, "relationshipType", rel.relationship_type)
        for name, ivoid in rel.related:
            _text(el, "relatedResource", name, ivo_id=ivoid)


def _interface(parent: etree._Element, interface: Interface) -> None:
    el = _typed(parent, "interface", interface.xsi_type, role=interface.role, version=interface.version)
    _text(el, "accessURL", interface.access_url, use=interface.use)
    if interface.xsi_type == "vs:ParamHTTP":
        for query_type in interface.query_types:
            _text(el, "queryType", query_type)
        _text(el, "resultType", interface.result_type)


def _limits(parent: etree._Element, tag: str, value: dict[str, Any] | None, with_unit: bool) -> None:
    if not value:
        return
    el = etree.SubElement(parent, tag)
    for key in ("default", "hard"):
        if value.get(key) is not None:
            _text(el, key, int(value[key]), unit=value.get("unit", "row") if with_unit else None)


def _table_access(cap: etree._Element, d: dict[str, Any]) -> None:
    for name, ivo_id in d.get("data_models") or []:
        _text(cap, "dataModel", name, ivo_id=ivo_id)
    for lang in d["languages"]:
        el = etree.SubElement(cap, "language")
        _text(el, "name", lang["name"])
        for version, ivo_id in lang["versions"]:
            _text(el, "version", version, ivo_id=ivo_id)
        _text(el, "description", lang.get("description"))
        for feature_list in lang.get("features") or []:
            fl = etree.SubElement(el, "languageFeatures", type=feature_list["type"])
            for form, description in feature_list["forms"]:
                feature = etree.SubElement(fl, "feature")
                _text(feature, "form", form)
                _text(feature, "description", description)
    for fmt in d["output_formats"]:
        el = etree.SubElement(cap, "outputFormat", {"ivo-id": fmt["ivo_id"]} if fmt.get("ivo_id") else {})
        _text(el, "mime", fmt["mime"])
        for alias in fmt.get("aliases") or []:
            _text(el, "alias", alias)
    for ivo_id in d.get("upload_methods") or []:
        etree.SubElement(cap, "uploadMethod", {"ivo-id": ivo_id})
    _limits(cap, "retentionPeriod", d.get("retention_period"), with_unit=False)
    _limits(cap, "executionDuration", d.get("execution_duration"), with_unit=False)
    _limits(cap, "outputLimit", d.get("output_limit"), with_unit=True)
    _limits(cap, "uploadLimit", d.get("upload_limit"), with_unit=True)


def _cone_search(cap: etree._Element, d: dict[str, Any]) -> None:
    _text(cap, "maxSR", d.get("max_sr"))
    _text(cap, "maxRecords", d.get("max_records"))
    _text(cap, "verbosity", "true" if d.get("verbosity") else "false")
    query = d.get("test_query")
    if query:
        el = etree.SubElement(cap, "testQuery")
        for key in ("ra", "dec", "sr"):
            _text(el, key, query[key])


def _capability(root: etree._Element, capability: Capability) -> None:
    cap = _typed(root, "capability", capability.xsi_type, standardID=capability.standard_id)
    _text(cap, "description", capability.description)
    for interface in capability.interfaces:
        _interface(cap, interface)
    if capability.xsi_type == "tr:TableAccess":
        _table_access(cap, capability.details)
    elif capability.xsi_type == "cs:ConeSearch":
        _cone_search(cap, capability.details)
    elif capability.xsi_type == "vg:Harvest":
        _text(cap, "maxRecords", capability.details["max_records"])


def _column(parent: etree._Element, col: ColumnMeta, primary: bool) -> None:
    el = etree.SubElement(parent, "column")
    _text(el, "name", col.name)
    _text(el, "description", col.description)
    _text(el, "unit", col.unit)
    _text(el, "ucd", col.ucd)
    _text(el, "utype", col.utype)
    data_type = _text(el, "dataType", col.datatype, arraysize=col.arraysize, extendedType=col.xtype)
    if data_type is not None:
        data_type.set(XSI_TYPE, "vs:VOTableType")
    for flag, on in (("indexed", col.indexed), ("primary", primary)):  # TAP_SCHEMA does not record nullability
        if on:
            _text(el, "flag", flag)
    if col.std:
        el.set("std", "true")


def _table(parent: etree._Element, table: TableMeta, rows: int | None) -> None:
    el = etree.SubElement(parent, "table", {"type": table.table_type} if table.table_type else {})
    _text(el, "name", table.qualified_name)
    _text(el, "description", table.description)
    _text(el, "utype", table.utype)
    _text(el, "nrows", rows)
    for col in table.columns:
        _column(el, col, col.name in table.primary_key)
    for key in table.keys:
        fk = etree.SubElement(el, "foreignKey")
        _text(fk, "targetTable", key.target_table)
        for from_column, target_column in key.columns:
            pair = etree.SubElement(fk, "fkColumn")
            _text(pair, "fromColumn", from_column)
            _text(pair, "targetColumn", target_column)
        _text(fk, "description", key.description)
        _text(fk, "utype", key.utype)


def _tableset(root: etree._Element, schemas: list[TablesetSchema]) -> None:
    if not schemas:
        return
    tableset = etree.SubElement(root, "tableset")
    for schema in schemas:
        el = etree.SubElement(tableset, "schema")
        _text(el, "name", schema.name)
        _text(el, "description", schema.description)
        for table in schema.tables:
            _table(el, table, schema.row_counts.get(table.qualified_name))


def _coverage(root: etree._Element, res: RegistryResource) -> None:
    if not (res.coverage_moc or res.temporal):
        return
    coverage = etree.SubElement(root, "coverage")
    _text(coverage, "spatial", res.coverage_moc)
    for lo, hi in res.temporal:
        _text(coverage, "temporal", f"{lo!r} {hi!r}")


def render_voresource(res: RegistryResource, created: datetime, updated: datetime) -> etree._Element:
    """The ``ri:Resource`` element of ``res``; ``updated`` is the record's datestamp."""
    root = etree.Element(f"{{{NS['ri']}}}Resource", nsmap=NS)
    root.set(XSI_TYPE, res.resource_type)
    root.set(f"{{{NS['xsi']}}}schemaLocation", SCHEMA_LOCATION)
    root.set("created", format_datestamp(created))
    root.set("updated", format_datestamp(updated))
    root.set("status", "active")
    _text(root, "title", res.title)
    _text(root, "shortName", res.short_name)
    _text(root, "identifier", res.identifier)
    if res.doi:
        _text(root, "altIdentifier", f"doi:{res.doi}")
    _curation(root, res)
    _content(root, res)
    if res.resource_type == "vg:Authority":
        _text(root, "managingOrg", res.managing_org)
        return root
    if res.resource_type in SERVICE_TYPES:
        for statement, uri in res.rights:
            _text(root, "rights", statement, rightsURI=uri)
        for capability in res.capabilities:
            _capability(root, capability)
    if res.resource_type in DATA_RESOURCE_TYPES:
        _coverage(root, res)
        if res.resource_type != "vs:DataService":
            _tableset(root, res.tableset)
    if res.resource_type == "vg:Registry":
        _text(root, "full", "true" if res.full_registry else "false")
        _text(root, "managedAuthority", res.managed_authority)
    return root
