"""Reading the metadata YAML files (schemas/*.yaml and ingest --metadata files)."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path
from typing import Any

import yaml

from vo_server.metadata.model import (
    VOTABLE_DATATYPES,
    ColumnMeta,
    KeyMeta,
    ResourceMeta,
    SchemaMeta,
    TableMeta,
)

RESOURCE_FILE = "resource.yaml"
COLUMN_FIELDS = {f.name for f in fields(ColumnMeta)}
TABLE_EXTRA_FIELDS = ("citation", "license", "license_url", "doi", "reference_url", "creators", "source_url",
                      "temporal_coverage")


class MetadataError(ValueError):
    """A metadata file is malformed; the message names the file and the place."""


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise MetadataError(f"metadata file {path} does not exist") from exc
    except yaml.YAMLError as exc:
        raise MetadataError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(data, dict):
        raise MetadataError(f"{path}: expected a mapping at the top level")
    return data


def column_from_mapping(data: dict[str, Any], where: str) -> ColumnMeta:
    unknown = set(data) - COLUMN_FIELDS
    if unknown:
        raise MetadataError(f"{where}: unknown column keys {sorted(unknown)}")
    if "name" not in data or "datatype" not in data:
        raise MetadataError(f"{where}: a column needs 'name' and 'datatype'")
    if data["datatype"] not in VOTABLE_DATATYPES:
        raise MetadataError(f"{where}: datatype {data['datatype']!r} is not a VOTable datatype")
    values = {k: (str(v) if k == "arraysize" and v is not None else v) for k, v in data.items()}
    return ColumnMeta(**values)


def schema_from_mapping(data: dict[str, Any], where: str) -> SchemaMeta:
    head = data.get("schema")
    if not isinstance(head, dict) or "name" not in head:
        raise MetadataError(f"{where}: needs 'schema: {{name: ..., description: ...}}'")
    schema = SchemaMeta(name=head["name"], description=head.get("description"), utype=head.get("utype"))
    for i, tdata in enumerate(data.get("tables") or []):
        twhere = f"{where}: tables[{i}]"
        if "name" not in tdata:
            raise MetadataError(f"{twhere}: a table needs a 'name'")
        columns = [column_from_mapping(c, f"{twhere}.columns[{j}]") for j, c in enumerate(tdata.get("columns") or [])]
        keys = [
            KeyMeta(key_id=k["key_id"], from_table=k["from_table"], target_table=k["target_table"],
                    columns=[(c["from"], c["target"]) for c in k["columns"]],
                    description=k.get("description"), utype=k.get("utype"))
            for k in tdata.get("keys") or []
        ]
        schema.tables.append(TableMeta(
            schema=schema.name, name=tdata["name"], columns=columns, description=tdata.get("description"),
            utype=tdata.get("utype"), table_type=tdata.get("table_type", "table"),
            primary_key=list(tdata.get("primary_key") or []), keys=keys,
            extra={k: tdata[k] for k in TABLE_EXTRA_FIELDS if k in tdata},
        ))
    return schema


def load_schema_files(schemas_dir: Path) -> list[SchemaMeta]:
    """Every schema described in ``schemas_dir`` (all *.yaml but resource.yaml)."""
    return [schema_from_mapping(_read_yaml(p), str(p))
            for p in sorted(schemas_dir.glob("*.yaml")) if p.name != RESOURCE_FILE]


def load_resource(schemas_dir: Path, overrides: dict[str, str | None] | None = None) -> ResourceMeta:
    path = schemas_dir / RESOURCE_FILE
    data = _read_yaml(path)
    known = {f.name for f in fields(ResourceMeta)}
    unknown = set(data) - known
    if unknown:
        raise MetadataError(f"{path}: unknown keys {sorted(unknown)}")
    try:
        resource = ResourceMeta(**data)
    except TypeError as exc:
        raise MetadataError(f"{path}: {exc}") from exc
    return replace(resource, **{k: v for k, v in (overrides or {}).items() if v})


def load_table_overrides(path: Path) -> dict[str, Any]:
    """An ingest ``--metadata`` file: {schema: {...}, table: {...}, columns: {name: {...}}}.

    Returned as a plain mapping; ``apply_table_overrides`` merges it into what
    the data file itself says.
    """
    data = _read_yaml(path)
    unknown = set(data) - {"schema", "table", "columns"}
    if unknown:
        raise MetadataError(f"{path}: unknown top-level keys {sorted(unknown)}; use schema, table, columns")
    for name, cdata in (data.get("columns") or {}).items():
        bad = set(cdata or {}) - (COLUMN_FIELDS - {"name"})
        if bad:
            raise MetadataError(f"{path}: columns.{name}: unknown keys {sorted(bad)}")
    return data


def apply_table_overrides(table: TableMeta, overrides: dict[str, Any], where: str) -> TableMeta:
    tdata = overrides.get("table") or {}
    for key in ("description", "utype"):
        if key in tdata:
            setattr(table, key, tdata[key])
    table.extra.update({k: tdata[k] for k in TABLE_EXTRA_FIELDS if k in tdata})
    by_name = {c.name: c for c in table.columns}
    for name, cdata in (overrides.get("columns") or {}).items():
        col = by_name.get(name.lower()) or by_name.get(name)
        if col is None:
            raise MetadataError(f"{where}: columns.{name} is not a column of the table ({', '.join(by_name)})")
        for key, value in (cdata or {}).items():
            setattr(col, key, str(value) if key == "arraysize" and value is not None else value)
    return table
