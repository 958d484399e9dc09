"""The stored positional index: nested HEALPix at depth 29 of (ra, dec)."""

from __future__ import annotations

import astropy.units as u
import cdshealpix.nested as healpix
import numpy as np
from astropy.coordinates import Latitude, Longitude
from mocpy import MOC

INDEX_DEPTH = 29


def hpx_index(ra: np.ndarray, dec: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Depth-29 nested index of each position, and the mask of valid positions.

    Positions that are NaN/inf or outside 0 <= ra <= 360, -90 <= dec <= 90
    are invalid: their index is 0 in the returned array and False in the mask
    (the caller stores NULL for them).
    """
    ra = np.asarray(ra, dtype=np.float64)
    dec = np.asarray(dec, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(ra) & np.isfinite(dec) & (ra >= 0) & (ra <= 360) & (dec >= -90) & (dec <= 90)
    index = np.zeros(ra.shape, dtype=np.int64)
    if valid.any():
        index[valid] = healpix.lonlat_to_healpix(
            Longitude(ra[valid] % 360.0, u.deg), Latitude(dec[valid], u.deg), INDEX_DEPTH).astype(np.int64)
    return index, valid


def coverage_moc(index: np.ndarray, order: int) -> MOC:
    """The MOC at ``order`` of the cells holding the given depth-29 indexes
    (sorted input, as ingest has it, takes a linear pass instead of a sort)."""
    shifted = np.asarray(index, dtype=np.int64) >> (2 * (INDEX_DEPTH - order))
    if len(shifted) > 1 and not np.all(shifted[1:] >= shifted[:-1]):
        shifted = np.sort(shifted)
    keep = np.ones(len(shifted), dtype=bool)
    keep[1:] = shifted[1:] != shifted[:-1]
    cells = shifted[keep].astype(np.uint64)
    return MOC.from_healpix_cells(cells, np.full(cells.shape, order, dtype=np.uint8), order)


def empty_moc(order: int) -> MOC:
    return MOC.from_healpix_cells(np.array([], dtype=np.uint64), np.array([], dtype=np.uint8), order)
