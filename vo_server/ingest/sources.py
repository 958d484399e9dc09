"""Reading catalogue files (FITS binary tables, VOTable, CSV/ECSV, Parquet)
into a pyarrow table plus the metadata the file carries (units, UCDs,
descriptions).

Everything is read into memory once, columnar; split very large inputs into
several files and load them with ``--mode append``.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from astropy.table import Table
from astropy.time import Time

from vo_server.ingest.errors import IngestError

FORMATS = ("fits", "votable", "csv", "ecsv", "parquet")
EXTENSIONS = {
    ".fits": "fits", ".fit": "fits", ".fts": "fits", ".fits.gz": "fits",
    ".vot": "votable", ".xml": "votable", ".votable": "votable",
    ".csv": "csv", ".ecsv": "ecsv", ".parquet": "parquet", ".pq": "parquet",
}


@dataclass
class FileColumnMeta:
    """What the file says about one column."""

    name: str
    unit: str | None = None
    ucd: str | None = None
    utype: str | None = None
    description: str | None = None


@dataclass
class SourceTable:
    data: pa.Table
    columns: list[FileColumnMeta]
    description: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    format: str = ""


def detect_format(path: Path) -> str:
    """File format from the extension, else from the first bytes."""
    name = path.name.lower()
    for ext, fmt in sorted(EXTENSIONS.items(), key=lambda kv: -len(kv[0])):
        if name.endswith(ext):
            return fmt
    with path.open("rb") as f:
        head = f.read(512)
    if head.startswith(b"SIMPLE  ="):
        return "fits"
    if head.startswith(b"PAR1"):
        return "parquet"
    if b"<VOTABLE" in head:
        return "votable"
    if head.startswith(b"# %ECSV"):
        return "ecsv"
    raise IngestError(f"{path}: unknown file format; use a .fits, .vot/.xml, .csv, .ecsv or .parquet file "
                      "(or pass --format)")


def read_source(path: Path, fmt: str | None = None) -> SourceTable:
    if not path.exists():
        raise IngestError(f"{path}: no such file")
    if not path.is_file():
        raise IngestError(f"{path}: not a regular file")
    fmt = fmt or detect_format(path)
    if fmt not in FORMATS:
        raise IngestError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if fmt == "parquet":
                source = _read_parquet(path)
            else:
                source = _from_astropy(_read_astropy(path, fmt))
                if fmt == "fits":
                    _add_fits_column_keywords(path, source)
    except IngestError:
        raise
    except Exception as exc:  # every reader has its own exception zoo
        raise IngestError(f"{path}: cannot read as {fmt}: {type(exc).__name__}: {exc}") from exc
    if source.data.num_columns == 0:
        raise IngestError(f"{path}: the file has no columns")
    source.format = fmt
    return source


def _read_astropy(path: Path, fmt: str) -> Table:
    if fmt == "fits":
        from astropy.io import fits
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            with fits.open(path) as hdul:
                hdul.readall()
                hdu = next((i for i, h in enumerate(hdul) if isinstance(h, fits.BinTableHDU | fits.TableHDU)), None)
        damaged = [str(w.message) for w in caught if "truncated" in str(w.message) or "corrupted" in str(w.message)]
        if damaged:
            reason = " ".join(damaged[0].split())
            raise IngestError(f"{path}: cannot read as fits: the file is truncated or corrupted ({reason})")
        if hdu is None:
            raise IngestError(f"{path}: the FITS file has no table extension")
        return Table.read(path, format="fits", hdu=hdu, character_as_bytes=False)
    if fmt == "votable":
        return Table.read(path, format="votable")
    if fmt == "ecsv":
        return Table.read(path, format="ascii.ecsv")
    from astropy.io.ascii import convert_numpy
    # Like astropy's default guessing, plus True/False columns read as booleans.
    converters = {"*": [convert_numpy(t) for t in (int, float, bool, str)]}
    return Table.read(path, format="ascii.csv", converters=converters)


def _from_astropy(table: Table) -> SourceTable:
    arrays, metas = [], []
    for name in table.colnames:
        col = table[name]
        meta = col.info.meta or {}
        metas.append(FileColumnMeta(
            name=name, unit=str(col.unit) if getattr(col, "unit", None) is not None else None,
            ucd=meta.get("ucd"), utype=meta.get("utype"),
            description=col.info.description or None))
        arrays.append(_column_to_arrow(name, col))
    description = table.meta.get("description") or table.meta.get("DESCRIPTION")
    if isinstance(description, list):
        description = " ".join(description)
    return SourceTable(pa.table(arrays, names=list(table.colnames)), metas, description)


def _column_to_arrow(name: str, col: Any) -> pa.Array:
    if isinstance(col, Time):
        values = col.datetime64
        mask = np.ma.getmaskarray(col.value) if hasattr(col, "mask") else None
        return pa.array(values, mask=mask)
    data = np.ma.getdata(col)
    if data.dtype.byteorder not in ("=", "|"):  # FITS is big-endian; Arrow wants native order
        data = data.astype(data.dtype.newbyteorder("="))
    mask = np.ma.getmaskarray(col) if np.ma.is_masked(col) or hasattr(col, "mask") else None
    if data.dtype.kind == "c":
        raise IngestError(f"column {name}: complex numbers are not supported; store real and imaginary "
                          "parts as two columns, or drop it")
    if data.dtype.kind == "O":
        raise IngestError(f"column {name}: variable-length or mixed-type values are not supported; "
                          "convert it to a fixed type or drop it")
    if data.dtype.kind == "S":
        data = np.char.decode(data, "utf-8", "replace")
    if data.dtype.byteorder not in ("=", "|"):  # FITS is big-endian; arrow wants native
        data = data.astype(data.dtype.newbyteorder("="))
    if data.ndim == 2:
        flat = pa.array(data.reshape(-1))
        arr = pa.FixedSizeListArray.from_arrays(flat, data.shape[1])
        return arr if mask is None else pa.array(arr.to_pylist(), type=arr.type, mask=mask.any(axis=1))
    if data.ndim > 2:
        raise IngestError(f"column {name}: {data.ndim - 1}-dimensional array cells are not supported; "
                          "flatten them or drop the column")
    if mask is not None and mask.ndim == 1 and mask.any():
        return pa.array(data, mask=mask)
    return pa.array(data)


def _add_fits_column_keywords(path: Path, source: SourceTable) -> None:
    """TUCDn, TUTYPn and TCOMMn are not read by astropy's Table; take them from the header."""
    from astropy.io import fits
    with fits.open(path) as hdul:
        hdu = next(h for h in hdul if isinstance(h, fits.BinTableHDU | fits.TableHDU))
        header = hdu.header
    by_name = {c.name: c for c in source.columns}
    for i in range(1, header.get("TFIELDS", 0) + 1):
        col = by_name.get(header.get(f"TTYPE{i}", ""))
        if col is None:
            continue
        col.ucd = col.ucd or header.get(f"TUCD{i}")
        col.utype = col.utype or header.get(f"TUTYP{i}")
        col.description = col.description or header.get(f"TCOMM{i}")
    source.description = source.description or header.get("EXTNAME")


def _read_parquet(path: Path) -> SourceTable:
    table = pq.read_table(path)
    for i, column in enumerate(table.columns):  # categorical columns are stored as their values
        if pa.types.is_dictionary(column.type):
            table = table.set_column(i, table.field(i).name, column.cast(column.type.value_type))
    metas = {name: FileColumnMeta(name=name) for name in table.column_names}
    description = None
    schema_meta = table.schema.metadata or {}
    if b"table_meta_yaml" in schema_meta:  # written by astropy: units, descriptions, meta
        from astropy.table.meta import get_header_from_yaml
        header = get_header_from_yaml(schema_meta[b"table_meta_yaml"].decode().splitlines())
        for col in header.get("datatype", []):
            meta = metas.get(col["name"])
            if meta is not None:
                meta.unit = col.get("unit")
                meta.description = col.get("description")
                meta.ucd = (col.get("meta") or {}).get("ucd")
                meta.utype = (col.get("meta") or {}).get("utype")
        description = (header.get("meta") or {}).get("description")
    # Columns astropy serialised as several (e.g. masked) are rare; plain columns are what we load.
    return SourceTable(table, list(metas.values()), description)
