"""FITS binary table writer.

A FITS header needs the row count and every column's width before the first
row, so the result is first spooled to a temporary Arrow file on disk
(memory stays bounded), measuring string and array widths on the way; then
the header and the fixed-width big-endian rows are streamed from the spool.
Variable-length arrays are written at their maximum length, padded with NaN
(or the integer null).  QUERY_STATUS (OK / OVERFLOW / ERROR) is in the
table header as keyword ``QSTATUS``, the query in ``QUERY`` (long strings
use the CONTINUE convention).
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.ipc as ipc
from astropy.io import fits

from vo_server.formats.arrow import arrow_schema, record_batch
from vo_server.formats.binary2 import INTEGER_NULLS
from vo_server.formats.fields import Field
from vo_server.query.run import QueryFailed, QueryResult

BLOCK = 2880
CODES = {"boolean": ("L", "S1"), "unsignedByte": ("B", "u1"), "short": ("I", ">i2"), "int": ("J", ">i4"),
         "long": ("K", ">i8"), "float": ("E", ">f4"), "double": ("D", ">f8")}


def _width(array: pa.Array) -> int:
    if len(array) == 0:
        return 0
    if pa.types.is_string(array.type):
        value = pc.max(pc.binary_length(array)).as_py()
    elif pa.types.is_list(array.type):
        value = pc.max(pc.list_value_length(array)).as_py()
    else:
        return 1
    return int(value or 0)


def _column_bytes(field: Field, array: pa.Array, width: int) -> np.ndarray:
    """One column of a batch as a (rows, bytes) uint8 matrix."""
    n = len(array)
    if pa.types.is_string(array.type):
        values = [b"" if v is None else v.encode("utf-8") for v in array.to_pylist()]
        return np.array(values, dtype=f"S{width}").view(np.uint8).reshape(n, width)
    form, code = CODES.get(field.datatype, CODES["double"])
    floating = code[-2] == "f"
    null = np.nan if floating else INTEGER_NULLS.get(field.datatype, 0)
    if pa.types.is_list(array.type):
        rows = [[null] * width if v is None else [null if x is None else x for x in v] + [null] * (width - len(v))
                for v in array.to_pylist()]
        return np.array(rows, dtype=code).reshape(n, width).view(np.uint8).reshape(n, -1)
    if form == "L":
        flags = [b"\0" if v is None else (b"T" if v else b"F") for v in array.to_pylist()]
        return np.array(flags, dtype="S1").view(np.uint8).reshape(n, 1)
    values = array.to_numpy(zero_copy_only=False) if floating else np.array(
        [null if v is None else v for v in array.to_pylist()])
    return np.asarray(values, dtype=code).reshape(n, 1).view(np.uint8).reshape(n, -1)


def table_header(fields: Sequence[Field], widths: Sequence[int], rows: int, status: str,
                 infos: Sequence[tuple[str, str]]) -> tuple[bytes, int]:
    header = fits.Header()
    header["XTENSION"] = "BINTABLE"
    header["BITPIX"] = 8
    header["NAXIS"] = 2
    row_bytes = 0
    forms = []
    for field, width in zip(fields, widths, strict=True):
        if field.datatype in ("char", "unicodeChar"):
            w = max(width, 1)
            forms.append(f"{w}A")
            row_bytes += w
        else:
            form, code = CODES.get(field.datatype, CODES["double"])
            count = width if field.arraysize else 1
            count = max(count, 1)
            forms.append(f"{count}{form}" if field.arraysize else form)
            row_bytes += count * np.dtype(code).itemsize
    header["NAXIS1"] = row_bytes
    header["NAXIS2"] = rows
    header["PCOUNT"] = 0
    header["GCOUNT"] = 1
    header["TFIELDS"] = len(fields)
    for i, (field, form) in enumerate(zip(fields, forms, strict=True), start=1):
        header[f"TTYPE{i}"] = field.name
        header[f"TFORM{i}"] = form
        if field.unit:
            header[f"TUNIT{i}"] = field.unit
        if field.datatype in INTEGER_NULLS and form[-1] in "BIJK":
            header[f"TNULL{i}"] = INTEGER_NULLS[field.datatype]
        if field.ucd:
            header[f"TUCD{i}"] = field.ucd
        if field.description:
            header[f"TCOMM{i}"] = field.description[:68]
    header["EXTNAME"] = "RESULTS"
    header["QSTATUS"] = (status, "QUERY_STATUS: OK, OVERFLOW or ERROR")
    for name, value in infos:
        header.add_comment(f"{name}: {value}"[:2000])
    return header.tostring(padding=True).encode("ascii"), row_bytes


def primary_header() -> bytes:
    header = fits.Header()
    header["SIMPLE"] = True
    header["BITPIX"] = 8
    header["NAXIS"] = 0
    header["EXTEND"] = True
    return header.tostring(padding=True).encode("ascii")


async def fits_stream(result: QueryResult) -> AsyncIterator[bytes]:
    fields = result.plan.fields
    schema = arrow_schema(fields)
    widths = [1 if f.datatype in ("char", "unicodeChar") else (1 if f.arraysize else 0) for f in fields]
    failure: QueryFailed | None = None
    with tempfile.TemporaryFile(prefix="vo-fits-") as spool:
        sink = pa.PythonFile(spool, mode="w")
        with ipc.new_stream(sink, schema) as writer:
            try:
                async for batch in result.batches():
                    arrow_batch = record_batch(schema, fields, batch)
                    for i, column in enumerate(arrow_batch.columns):
                        if fields[i].datatype in ("char", "unicodeChar") or fields[i].arraysize:
                            widths[i] = max(widths[i], _width(column))
                    writer.write_batch(arrow_batch)
            except QueryFailed as exc:
                failure = exc
        status = "ERROR" if failure else "OVERFLOW" if result.overflow else "OK"
        infos = list(result.plan.infos) + ([("ERROR", failure.message)] if failure else [])
        head, row_bytes = table_header(fields, widths, result.rows_sent, status, infos)
        yield primary_header() + head
        spool.seek(0)
        written = 0
        for batch in ipc.open_stream(pa.PythonFile(spool, mode="r")):
            if batch.num_rows == 0:
                continue
            parts = [_column_bytes(f, batch.column(i), max(widths[i], 1)) for i, f in enumerate(fields)]
            chunk = np.hstack(parts).tobytes() if parts else b""
            written += len(chunk)
            yield chunk
        pad = (-written) % BLOCK
        yield b"\0" * pad
