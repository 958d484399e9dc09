"""The metadata objects every part of the server reads."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

VOTABLE_DATATYPES = frozenset({
    "boolean", "bit", "unsignedByte", "short", "int", "long", "char", "unicodeChar",
    "float", "double", "floatComplex", "doubleComplex",
})


@dataclass
class ColumnMeta:
    """A column as TAP_SCHEMA 1.1 describes it (datatype is a VOTable datatype)."""

    name: str
    datatype: str
    arraysize: str | None = None
    xtype: str | None = None
    unit: str | None = None
    ucd: str | None = None
    utype: str | None = None
    description: str | None = None
    principal: bool = False
    indexed: bool = False
    std: bool = False
    nullable: bool = True


@dataclass
class KeyMeta:
    """A foreign key as TAP_SCHEMA.keys/key_columns describe it."""

    key_id: str
    from_table: str
    target_table: str
    columns: list[tuple[str, str]]
    description: str | None = None
    utype: str | None = None


@dataclass
class TableMeta:
    schema: str
    name: str
    columns: list[ColumnMeta]
    description: str | None = None
    utype: str | None = None
    table_type: str = "table"
    primary_key: list[str] = field(default_factory=list)
    keys: list[KeyMeta] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    def column(self, name: str) -> ColumnMeta | None:
        for col in self.columns:
            if col.name == name:
                return col
        return None


@dataclass
class SchemaMeta:
    name: str
    description: str | None = None
    utype: str | None = None
    tables: list[TableMeta] = field(default_factory=list)


@dataclass
class ResourceMeta:
    """Resource-level metadata of the whole archive (schemas/resource.yaml)."""

    title: str
    short_name: str
    description: str
    publisher: str
    creators: list[str] = field(default_factory=list)
    contact_name: str | None = None
    contact_email: str | None = None
    subjects: list[str] = field(default_factory=list)
    reference_url: str | None = None
    rights: str | None = None
    content_level: list[str] = field(default_factory=list)
    content_type: str | None = None
    resource_key: str = "archive"

    def ivoid(self, authority: str) -> str:
        """The archive's IVOID: ``<authority>/<resource_key>``."""
        return f"{authority.rstrip('/')}/{self.resource_key}"
