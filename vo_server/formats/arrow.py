"""Result batches as Arrow record batches (for VOParquet and FITS): one
Arrow type per VOTable field, values converted column by column."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from vo_server.formats.binary2 import fixed_count, is_variable
from vo_server.formats.fields import Field
from vo_server.formats.values import text_value

SCALAR_TYPES = {
    "boolean": pa.bool_(), "unsignedByte": pa.uint8(), "short": pa.int16(), "int": pa.int32(),
    "long": pa.int64(), "float": pa.float32(), "double": pa.float64(),
}


def arrow_type(field: Field) -> pa.DataType:
    if field.datatype in ("char", "unicodeChar"):
        return pa.string()
    base = SCALAR_TYPES.get(field.datatype, pa.float64())
    if is_variable(field) or fixed_count(field) != 1:
        return pa.list_(base)
    return base


def arrow_schema(fields: Sequence[Field]) -> pa.Schema:
    return pa.schema([pa.field(f.name, arrow_type(f)) for f in fields])


def _column(values: Sequence[Any], kind: pa.DataType) -> pa.Array:
    if pa.types.is_string(kind):
        return pa.array([None if v is None else (v if isinstance(v, str) else text_value(v)) for v in values],
                        type=kind)
    if pa.types.is_integer(kind):
        return pa.array([None if v is None else int(v) for v in values], type=kind)
    return pa.array(values, type=kind, from_pandas=True)


def record_batch(schema: pa.Schema, fields: Sequence[Field], rows: Sequence[Sequence[Any]]) -> pa.RecordBatch:
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in fields]
    return pa.record_batch([_column(col, schema.field(i).type) for i, col in enumerate(columns)], schema=schema)
