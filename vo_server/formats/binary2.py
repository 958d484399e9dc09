"""Vectorised VOTable BINARY2 encoding of a batch of rows.

A BINARY2 row is a null bitmap (one bit per field, most significant first)
followed by every field in big-endian: fixed-size fields as is,
variable-size ones (arraysize "*" or "n*") as a 4-byte element count and the
elements.  Each column of a batch is turned into byte *pieces* (a flat byte
array plus the width each row takes) with numpy, and the pieces are
scattered into one row-major buffer: no per-row Python in the layout.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import numpy as np

from vo_server.formats.fields import Field

NUMERIC = {"short": ">i2", "int": ">i4", "long": ">i8", "float": ">f4", "double": ">f8", "unsignedByte": "u1"}
Piece = tuple[np.ndarray, np.ndarray]  # (flat uint8 bytes, per-row widths)
# Null values declared in <VALUES null> for the BINARY serialisation (which has no null bitmap).
INTEGER_NULLS = {"short": -32768, "int": -2147483648, "long": -9223372036854775808, "unsignedByte": 255}


def is_variable(field: Field) -> bool:
    return field.arraysize is not None and field.arraysize.endswith("*")


def fixed_count(field: Field) -> int:
    """Elements per value for a fixed arraysize (1 for scalars)."""
    if field.arraysize is None or is_variable(field):
        return 1
    return int(np.prod([int(x) for x in field.arraysize.split("x")]))


def fixed_piece(array: np.ndarray, n: int) -> Piece:
    """A piece of ``n`` rows of equal width (``array`` holds them back to back)."""
    flat = np.ascontiguousarray(array).view(np.uint8).reshape(-1)
    return flat, np.full(n, flat.size // n if n else 0, dtype=np.int64)


def _counts_piece(counts: np.ndarray) -> Piece:
    return fixed_piece(counts.astype(">i4"), len(counts))


def _text(value: Any) -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


def _char_pieces(field: Field, values: Sequence[Any], nulls: np.ndarray) -> list[Piece]:
    """char as UTF-8 bytes (ASCII in practice), unicodeChar as UCS-2 big-endian."""
    unicode = field.datatype == "unicodeChar"
    codec = "utf-16-be" if unicode else "utf-8"
    encoded = [b"" if v is None else _text(v).encode(codec, "replace") for v in values]
    lengths = np.fromiter((len(b) for b in encoded), dtype=np.int64, count=len(encoded))
    n = len(values)
    size = 2 if unicode else 1
    if field.arraysize and not is_variable(field):
        width = fixed_count(field) * size
        padded = b"".join(b[:width].ljust(width, b"\0") for b in encoded)
        return [(np.frombuffer(padded, dtype=np.uint8), np.full(n, width, dtype=np.int64))]
    limit = field.arraysize[:-1] if field.arraysize and field.arraysize != "*" else ""
    if limit:
        cap = int(limit) * size
        encoded = [b[:cap] for b in encoded]
        lengths = np.minimum(lengths, cap)
    content = np.frombuffer(b"".join(encoded), dtype=np.uint8)
    return [_counts_piece(lengths // size), (content, lengths)]


def _number_array(values: Sequence[Any], code: str, nulls: np.ndarray) -> np.ndarray:
    if not nulls.any():
        try:  # fast path: numpy converts the Python numbers in C
            return np.array(values, dtype=code)
        except (TypeError, ValueError, OverflowError):
            pass
    if code[-2] == "f":
        return np.array([np.nan if v is None else float(v) for v in values], dtype=code)
    clean = [0 if v is None else (int(v) if isinstance(v, Decimal | float | bool) else v) for v in values]
    return np.array(clean, dtype=code)


def _array_pieces(field: Field, values: Sequence[Any], nulls: np.ndarray) -> list[Piece]:
    code = NUMERIC.get(field.datatype, ">f8")
    n = len(values)
    if not is_variable(field):
        count = fixed_count(field)
        fill = [np.nan] * count if code[-2] == "f" else [0] * count
        rows = [fill if v is None else list(v)[:count] + fill[len(v):] for v in values]
        return [fixed_piece(np.array(rows, dtype=code).reshape(n, count), n)]
    counts = np.fromiter((0 if v is None else len(v) for v in values), dtype=np.int64, count=n)
    flat = np.array([x for v in values if v is not None for x in v], dtype=code)
    return [_counts_piece(counts), (flat.view(np.uint8), counts * np.dtype(code).itemsize)]


def column_pieces(field: Field, values: Sequence[Any], integer_nulls: bool = False) -> tuple[list[Piece], np.ndarray]:
    """The byte pieces of one column and its null mask; ``integer_nulls``
    writes the INTEGER_NULLS sentinel for null integers (BINARY)."""
    n = len(values)
    if None in values:
        nulls = np.fromiter((v is None for v in values), dtype=bool, count=n)
    else:
        nulls = np.zeros(n, dtype=bool)
    if field.datatype in ("char", "unicodeChar"):
        return _char_pieces(field, values, nulls), nulls
    if field.datatype == "boolean":
        flags = np.array([b"?" if v is None else (b"T" if v else b"F") for v in values], dtype="S1")
        return [fixed_piece(flags, n)], nulls
    if fixed_count(field) != 1 or is_variable(field):
        return _array_pieces(field, values, nulls), nulls
    code = NUMERIC.get(field.datatype)
    if code is None:
        raise ValueError(f"field {field.name}: datatype {field.datatype} cannot be written as BINARY2")
    array = _number_array(values, code, nulls)
    if integer_nulls and field.datatype in INTEGER_NULLS and nulls.any():
        array[nulls] = INTEGER_NULLS[field.datatype]
    return [fixed_piece(array, n)], nulls


def encode_rows(fields: Sequence[Field], rows: Sequence[Sequence[Any]], null_bitmap: bool = True) -> bytes:
    """BINARY2 bytes of ``rows`` (tuples in ``fields`` order); with
    ``null_bitmap=False`` the BINARY serialisation (nulls as sentinels)."""
    n = len(rows)
    if n == 0:
        return b""
    columns = list(zip(*rows, strict=True))
    pieces: list[Piece] = []
    null_matrix = np.zeros((n, len(fields)), dtype=bool)
    for i, (field, values) in enumerate(zip(fields, columns, strict=True)):
        column, nulls = column_pieces(field, values, integer_nulls=not null_bitmap)
        pieces.extend(column)
        null_matrix[:, i] = nulls
    if null_bitmap:
        bitmap = np.packbits(null_matrix, axis=1, bitorder="big")
        pieces.insert(0, fixed_piece(bitmap, n))
    return interleave(pieces)


def interleave(pieces: Sequence[Piece]) -> bytes:
    """Row-major bytes: for each row, every piece's bytes for that row, in order.

    All pieces describe the same rows; a piece's flat bytes hold its rows
    back to back, each row taking ``width[row]`` bytes.
    """
    n = len(pieces[0][1])
    if all(w.size == 0 or (w[0] == w).all() for _, w in pieces):
        # every piece has one width for all rows: a horizontal stack of (rows, width) blocks
        return np.hstack([flat.reshape(n, -1) for flat, _ in pieces if flat.size]).tobytes()
    widths = np.stack([w for _, w in pieces])           # (pieces, rows)
    row_width = widths.sum(axis=0)
    row_start = np.cumsum(row_width) - row_width
    piece_start = row_start + np.cumsum(widths, axis=0) - widths  # where each piece begins in each row
    out = np.empty(int(row_width.sum()), dtype=np.uint8)
    for (flat, width), start in zip(pieces, piece_start, strict=True):
        if flat.size == 0:
            continue
        source_start = np.cumsum(width) - width
        out[np.repeat(start - source_start, width) + np.arange(flat.size)] = flat
    return out.tobytes()
