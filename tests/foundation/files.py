"""Real catalogue files written by astropy/pyarrow for the ingest tests."""

from __future__ import annotations

from pathlib import Path

import astropy.units as u
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
from astropy.io import fits
from astropy.table import MaskedColumn, Table


def random_positions(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Uniform on the sphere, plus the awkward places: both poles, ra=0 and ra=360."""
    rng = np.random.default_rng(seed)
    ra = rng.uniform(0, 360, n)
    dec = np.degrees(np.arcsin(rng.uniform(-1, 1, n)))
    edges = [(0.0, 0.0), (360.0, 0.0), (0.0, 90.0), (123.4, 90.0), (0.0, -90.0), (359.9999999, -89.9999),
             (360.0, 45.0), (180.0, 0.0), (0.0, -30.0), (1e-12, 1e-12)]
    for i, (r, d) in enumerate(edges[:n]):
        ra[i], dec[i] = r, d
    return ra, dec


def star_table(n: int = 100, seed: int = 1) -> Table:
    """A small catalogue with units, UCDs and descriptions on its columns."""
    ra, dec = random_positions(n, seed)
    table = Table()
    table["id"] = np.arange(1, n + 1, dtype=np.int64)
    table["RA"] = ra * u.deg
    table["DEC"] = dec * u.deg
    table["mag_g"] = np.linspace(5, 20, n).astype(np.float32) * u.mag
    table["name"] = [f"star {i}" for i in range(n)]
    table["flag"] = np.arange(n) % 2 == 0
    table["id"].description = "Running number"
    table["RA"].description = "Right ascension"
    table["DEC"].description = "Declination"
    table["mag_g"].description = "Magnitude in g"
    table["name"].description = "Designation"
    table["RA"].meta["ucd"] = "pos.eq.ra;meta.main"
    table["DEC"].meta["ucd"] = "pos.eq.dec;meta.main"
    table["mag_g"].meta["ucd"] = "phot.mag;em.opt.V"
    table["id"].meta["ucd"] = "meta.id;meta.main"
    table.meta["description"] = "Test stars"
    return table


def write(table: Table, path: Path) -> Path:
    """Write ``table`` in the format named by the extension."""
    suffix = path.suffix
    if suffix == ".fits":
        plain = table.copy()
        plain.meta.clear()  # FITS has no table description keyword
        hdu = fits.table_to_hdu(plain)
        for i, name in enumerate(table.colnames, start=1):  # what astropy does not write itself
            if table[name].meta.get("ucd"):
                hdu.header[f"TUCD{i}"] = table[name].meta["ucd"]
            if table[name].description:
                hdu.header[f"TCOMM{i}"] = table[name].description
        fits.HDUList([fits.PrimaryHDU(), hdu]).writeto(path)
    elif suffix in (".vot", ".xml"):
        table.write(path, format="votable")
    elif suffix == ".ecsv":
        table.write(path, format="ascii.ecsv")
    elif suffix == ".csv":
        table.write(path, format="ascii.csv")
    elif suffix == ".parquet":
        table.write(path, format="parquet")
    else:
        raise ValueError(suffix)
    return path


def parquet_positions(path: Path, n: int, seed: int = 2) -> Path:
    ra, dec = random_positions(n, seed)
    pq.write_table(pa.table({"source_id": np.arange(n, dtype=np.int64), "ra": ra, "dec": dec,
                             "mag": np.random.default_rng(seed).uniform(5, 20, n)}), path)
    return path


def bad_positions_table() -> Table:
    table = Table()
    table["id"] = np.arange(6)
    table["ra"] = MaskedColumn([10.0, np.nan, 400.0, 20.0, 30.0, -5.0], mask=[False, False, False, True, False, False])
    table["dec"] = [10.0, 5.0, 5.0, 5.0, 95.0, 0.0]
    return table
