"""The demo images (real third-party FITS files) and synthetic FITS files for edge cases."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from astropy.io import fits

DEMO_IMAGES = Path(__file__).resolve().parents[2] / "vo_server" / "demo" / "images"

# file -> the HDU holding the image
IMAGE_HDUS = {
    "apogee_sip_wcs.fits": 0,
    "cfht_megaprime_g_sa110.fits": 0,
    "dss_14.29.56-62.41.05.fits.gz": 0,
    "dss_horsehead.fits": 0,
    "irsa_dust_m51.fits": 0,
    "ukidss_m1_zpn.fits": 1,
    "vla_first_J105007+304037.fits": 0,
}


def demo_files() -> list[Path]:
    return [DEMO_IMAGES / name for name in sorted(IMAGE_HDUS)]


def tan_header(ctype: tuple[str, str] = ("RA---TAN", "DEC--TAN"), crval: tuple[float, float] = (150.0, 2.0),
               cdelt: float = 1e-3, n: int = 64, cards: dict[str, object] | None = None) -> fits.Header:
    header = fits.Header()
    header["NAXIS"] = 2
    header["NAXIS1"] = n
    header["NAXIS2"] = n
    header["CTYPE1"], header["CTYPE2"] = ctype
    header["CRVAL1"], header["CRVAL2"] = crval
    header["CRPIX1"] = header["CRPIX2"] = (n + 1) / 2
    header["CDELT1"], header["CDELT2"] = -cdelt, cdelt
    for key, value in (cards or {}).items():
        header[key] = value
    return header


def write_image(path: Path, header: fits.Header, n: int = 64) -> Path:
    fits.PrimaryHDU(np.zeros((n, n), dtype=np.float32), header=header).writeto(path, overwrite=True)
    return path
