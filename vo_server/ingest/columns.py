"""From file columns to published columns: names, VOTable datatypes, and the
text PostgreSQL's COPY reads."""

from __future__ import annotations

import re

import pyarrow as pa
import pyarrow.compute as pc

from vo_server.ingest.errors import IngestError
from vo_server.ingest.sources import FileColumnMeta
from vo_server.metadata.model import ColumnMeta

IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


def column_name(original: str) -> str:
    """A lower-case regular identifier for a file's column name."""
    name = re.sub(r"[^a-z0-9_]", "_", original.strip().lower())
    if not name or name[0].isdigit():
        name = "c_" + name
    return name


def table_identifier(value: str, what: str) -> str:
    if not IDENTIFIER.match(value) or len(value) > 63:
        raise IngestError(f"{what} {value!r} is not a valid name: use lower-case letters, digits and _, "
                          "starting with a letter")
    return value


def _votable_type(name: str, typ: pa.DataType) -> tuple[str, str | None, str | None]:
    """(datatype, arraysize, xtype) for an arrow type."""
    if pa.types.is_boolean(typ):
        return "boolean", None, None
    if pa.types.is_int8(typ) or pa.types.is_int16(typ) or pa.types.is_uint8(typ):
        return "short", None, None
    if pa.types.is_int32(typ) or pa.types.is_uint16(typ):
        return "int", None, None
    if pa.types.is_int64(typ) or pa.types.is_uint32(typ) or pa.types.is_uint64(typ):
        return "long", None, None
    if pa.types.is_float16(typ) or pa.types.is_float32(typ):
        return "float", None, None
    if pa.types.is_float64(typ):
        return "double", None, None
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return "char", "*", None
    if pa.types.is_timestamp(typ) or pa.types.is_date(typ):
        return "char", "*", "timestamp"
    if pa.types.is_fixed_size_list(typ):
        inner, arraysize, _ = _votable_type(name, typ.value_type)
        if arraysize is not None or inner == "boolean":
            raise IngestError(f"column {name}: arrays of {typ.value_type} are not supported")
        return inner, str(typ.list_size), None
    raise IngestError(f"column {name}: type {typ} is not supported; convert it to numbers, strings, "
                      "booleans or timestamps, or drop the column")


def published_columns(data: pa.Table, file_columns: list[FileColumnMeta]) -> list[ColumnMeta]:
    """ColumnMeta for every column of ``data``, with names made regular and unique."""
    seen: dict[str, str] = {}
    columns = []
    for field, meta in zip(data.schema, file_columns, strict=True):
        name = column_name(field.name)
        if name in seen:
            raise IngestError(f"columns {seen[name]!r} and {field.name!r} both become {name!r}; rename one")
        seen[name] = field.name
        datatype, arraysize, xtype = _votable_type(field.name, field.type)
        if datatype == "char" and xtype is None and _has_non_ascii(data.column(field.name)):
            datatype = "unicodeChar"
        columns.append(ColumnMeta(name=name, datatype=datatype, arraysize=arraysize, xtype=xtype,
                                  unit=meta.unit or None, ucd=meta.ucd, utype=meta.utype,
                                  description=meta.description))
    return columns


def _has_non_ascii(column: pa.ChunkedArray) -> bool:
    lengths = pc.sum(pc.binary_length(column)).as_py() or 0
    chars = pc.sum(pc.utf8_length(column)).as_py() or 0
    return lengths != chars


def copy_ready(data: pa.Table) -> pa.Table:
    """The table with every column in a type binary COPY writes directly:
    unsigned 64-bit checked against bigint, half floats widened."""
    arrays = []
    for field, column in zip(data.schema, data.columns, strict=True):
        if pa.types.is_uint64(field.type):
            top = pc.max(column).as_py()
            if top is not None and top >= 2**63:
                raise IngestError(f"column {field.name}: unsigned values above 2^63-1 do not fit a bigint")
        if pa.types.is_float16(field.type):
            column = column.cast(pa.float32())
        arrays.append(column)
    return pa.table(arrays, names=data.column_names)
