"""ObsCore values of one FITS image HDU, read from its header (and the
primary header, whose keywords extensions inherit).  Absent keywords give
NULL: nothing is invented."""

from __future__ import annotations

import datetime as dt
import math
import re
import warnings
from dataclasses import dataclass
from typing import Any

from astropy import units as u
from astropy.io import fits
from astropy.time import Time
from astropy.utils.exceptions import AstropyWarning
from astropy.wcs import WCS

from vo_server.sky.footprints import Footprint, FootprintError, image_footprint

SPEED_OF_LIGHT = 299_792_458.0  # m/s
STOKES_NAMES = {1: "I", 2: "Q", 3: "U", 4: "V", -1: "RR", -2: "LL", -3: "RL", -4: "LR",
                -5: "XX", -6: "YY", -7: "XY", -8: "YX"}
OLD_FITS_DATE = re.compile(r"^(\d\d)/(\d\d)/(\d\d)$")  # dd/mm/yy, years 19yy (FITS before 2000)


class SkippedHdu(Exception):
    """This HDU cannot be described (the message says why); others still can."""


@dataclass
class ImageRecord:
    """One ObsCore row's header-derived values (file-level ones are added by ingest)."""

    hdu: int
    footprint: Footprint
    values: dict[str, Any]


def merged_header(primary: fits.Header, header: fits.Header) -> fits.Header:
    """Extension header over the primary one (FITS INHERIT convention), for
    keywords such as DATE-OBS or TELESCOP that archives write only once."""
    if header is primary:
        return header
    merged = fits.Header()
    for card in primary.cards:
        if card.keyword and card.keyword not in ("", "COMMENT", "HISTORY") and not _is_structural(card.keyword):
            merged[card.keyword] = (card.value, card.comment)
    for card in header.cards:
        if card.keyword and card.keyword not in ("", "COMMENT", "HISTORY"):
            merged[card.keyword] = (card.value, card.comment)
    return merged


def _is_structural(keyword: str) -> bool:
    return keyword in ("SIMPLE", "EXTEND", "BITPIX", "GCOUNT", "PCOUNT", "XTENSION", "EXTNAME") or \
        keyword.startswith("NAXIS") or bool(re.match(r"^(CTYPE|CRVAL|CRPIX|CDELT|CUNIT|CROTA|PC|CD|PV|PS)\d", keyword))


def _text(header: fits.Header, *keys: str) -> str | None:
    for key in keys:
        value = header.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _number(header: fits.Header, *keys: str) -> float | None:
    for key in keys:
        value = header.get(key)
        if isinstance(value, bool):
            continue
        if isinstance(value, int | float) and math.isfinite(value):
            return float(value)
    return None


def _parse_date(value: str, time_of_day: str | None) -> Time | None:
    """FITS DATE-OBS forms: ISO (with or without time) and the old dd/mm/yy
    (with the time in a separate UT/TIME-OBS keyword)."""
    old = OLD_FITS_DATE.match(value)
    if old:
        day, month, year = (int(g) for g in old.groups())
        value = f"19{year:02d}-{month:02d}-{day:02d}"
    elif re.fullmatch(r"\d{8}", value):  # e.g. 19930417
        value = f"{value[:4]}-{value[4:6]}-{value[6:]}"
    if "T" not in value and time_of_day and re.fullmatch(r"\d\d:\d\d(:\d\d(\.\d*)?)?", time_of_day):
        value = f"{value}T{time_of_day}"
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyWarning)
            return Time(value, format="isot" if "T" in value else "iso", scale="utc")
    except ValueError:
        try:
            return Time(dt.date.fromisoformat(value).isoformat(), scale="utc")
        except ValueError:
            return None


def exposure_seconds(header: fits.Header) -> float | None:
    """EXPTIME (seconds by convention), else EXPOSURE, whose unit is taken from
    its comment when that says minutes (as DSS plates do)."""
    value = _number(header, "EXPTIME")
    if value is not None:
        return value
    value = _number(header, "EXPOSURE", "TELAPSE")
    if value is None:
        return None
    key = "EXPOSURE" if "EXPOSURE" in header else "TELAPSE"
    comment = header.comments[key].lower() if key in header else ""
    if "minute" in comment:
        return value * 60.0
    if re.search(r"\bhours?\b", comment):
        return value * 3600.0
    return value


def time_bounds(header: fits.Header, exptime: float | None) -> tuple[float | None, float | None]:
    """(t_min, t_max) in MJD: MJD-OBS/DATE-OBS for the start, MJD-END/DATE-END
    for the end, else start + exposure time."""
    date = _text(header, "DATE-OBS", "DATE-BEG")
    start = None
    if date and "T" in date:  # a full ISO date-time is more precise than a rounded MJD-OBS
        parsed = _parse_date(date, None)
        start = float(parsed.mjd) if parsed is not None else None
    if start is None:
        start = _number(header, "MJD-OBS", "MJD-BEG", "MJDSTART")
    if start is None and date:
        parsed = _parse_date(date, _text(header, "TIME-OBS", "UT", "UTSTART"))
        start = float(parsed.mjd) if parsed is not None else None
    end = _number(header, "MJD-END")
    if end is None:
        date = _text(header, "DATE-END")
        parsed = _parse_date(date, _text(header, "TIME-END", "UTEND")) if date else None
        end = float(parsed.mjd) if parsed is not None else None
    if end is None and start is not None and exptime is not None:
        end = start + exptime / 86400.0
    if start is not None and end is not None and end < start:
        start, end = end, start
    return start, end


def _axis_edges(wcs: WCS, axis: int, n: int) -> tuple[float, float] | None:
    """World values at the outer pixel edges of one non-celestial axis."""
    crval = wcs.wcs.crval[axis]
    cdelt = wcs.wcs.cdelt[axis] * (wcs.wcs.get_pc()[axis, axis] if wcs.wcs.has_pc() else 1.0)
    if wcs.wcs.has_cd():
        cdelt = wcs.wcs.cd[axis, axis]
    crpix = wcs.wcs.crpix[axis]
    lo = crval + (0.5 - crpix) * cdelt
    hi = crval + (n + 0.5 - crpix) * cdelt
    if not (math.isfinite(lo) and math.isfinite(hi)):
        return None
    return (min(lo, hi), max(lo, hi))


def spectral_bounds(wcs: WCS, header: fits.Header) -> tuple[float | None, float | None, int | None]:
    """(em_min, em_max) in metres and em_xel from a spectral WCS axis (even a
    degenerate one, as radio images carry), else (None, None, None)."""
    for axis, ctype in enumerate(wcs.wcs.ctype):
        kind = ctype[:4].upper()
        if kind not in ("FREQ", "WAVE", "AWAV", "ENER", "VRAD", "WAVN"):
            continue
        if kind in ("VRAD",):
            return None, None, None
        n = int(header.get(f"NAXIS{axis + 1}", 1) or 1)
        edges = _axis_edges(wcs, axis, n)
        if edges is None:
            return None, None, None
        unit_name = wcs.wcs.cunit[axis].to_string() or {"FREQ": "Hz", "ENER": "J", "WAVN": "1/m"}.get(kind, "m")
        try:
            quantity = u.Quantity(edges, u.Unit(unit_name))
            metres = quantity.to(u.m, equivalencies=u.spectral())
        except (ValueError, u.UnitsError):
            return None, None, None
        lo, hi = sorted(float(v) for v in metres.value)
        if not (lo > 0 and math.isfinite(hi)):
            return None, None, None
        return lo, hi, n
    return None, None, None


def polarization(wcs: WCS, header: fits.Header) -> tuple[str | None, int | None]:
    for axis, ctype in enumerate(wcs.wcs.ctype):
        if ctype.upper().startswith("STOKES"):
            n = int(header.get(f"NAXIS{axis + 1}", 1) or 1)
            values = [wcs.wcs.crval[axis] + (i + 1 - wcs.wcs.crpix[axis]) * wcs.wcs.cdelt[axis] for i in range(n)]
            names = [STOKES_NAMES.get(int(round(v))) for v in values]
            if all(names):
                return "/" + "/".join(names) + "/", n
            return None, n
    return None, None


def celestial_shape(header: fits.Header, wcs: WCS) -> tuple[int, int]:
    axes = wcs.wcs.lng, wcs.wcs.lat
    return int(header.get(f"NAXIS{axes[0] + 1}", 0) or 0), int(header.get(f"NAXIS{axes[1] + 1}", 0) or 0)


def describe_hdu(hdul: fits.HDUList, index: int) -> ImageRecord:
    """ObsCore values of image HDU ``index``; SkippedHdu says why it has none."""
    hdu = hdul[index]
    header = hdu.header
    if int(header.get("NAXIS", 0) or 0) < 2:
        raise SkippedHdu("no image data (NAXIS < 2)")
    context = merged_header(hdul[0].header, header)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyWarning)
            wcs = WCS(header, hdul)
    except (ValueError, KeyError, MemoryError, fits.VerifyError, SyntaxError) as exc:
        raise SkippedHdu(f"invalid WCS: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}") from exc
    except Exception as exc:  # wcslib raises its own exception classes (InconsistentAxisTypesError, ...)
        raise SkippedHdu(f"invalid WCS: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}") from exc
    if not wcs.has_celestial:
        raise SkippedHdu("no celestial WCS (CTYPEi RA/DEC, GLON/GLAT, ... missing)")
    nx, ny = celestial_shape(header, wcs)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AstropyWarning)
            footprint = image_footprint(wcs, nx, ny)
    except FootprintError as exc:
        raise SkippedHdu(str(exc)) from exc
    except Exception as exc:  # wcslib errors on projection (e.g. singular matrix) are not ValueErrors
        raise SkippedHdu(f"the WCS cannot be evaluated: {type(exc).__name__}: {exc}") from exc
    beam = _number(header, "BMAJ")  # radio: beam major axis FWHM, degrees
    exptime = exposure_seconds(context)
    t_min, t_max = time_bounds(context, exptime)
    em_min, em_max, em_xel = spectral_bounds(wcs, header)
    pol_states, pol_xel = polarization(wcs, header)
    n_extra = [int(header.get(f"NAXIS{i + 1}", 1) or 1) for i in range(int(header["NAXIS"]))
               if i not in (wcs.wcs.lng, wcs.wcs.lat)]
    is_cube = any(n > 1 for n in n_extra)
    values: dict[str, Any] = {
        "dataproduct_type": "cube" if is_cube else "image",
        "target_name": _text(context, "OBJECT", "TARGET", "TARGNAME"),
        "s_ra": footprint.center_ra,
        "s_dec": footprint.center_dec,
        "s_fov": footprint.fov,
        "s_region": footprint.stcs,
        "s_region_dali": footprint.dali,
        "s_resolution": beam * 3600.0 if beam is not None and beam > 0 else None,
        "s_xel1": nx,
        "s_xel2": ny,
        "t_min": t_min,
        "t_max": t_max,
        "t_exptime": exptime,
        "t_resolution": None,
        "t_xel": None,
        "em_min": em_min,
        "em_max": em_max,
        "em_res_power": None,
        "em_xel": em_xel,
        "o_ucd": None,
        "pol_states": pol_states,
        "pol_xel": pol_xel,
        "facility_name": _text(context, "TELESCOP", "OBSERVAT"),
        "instrument_name": _text(context, "INSTRUME", "DETECTOR"),
    }
    return ImageRecord(index, footprint, values)
