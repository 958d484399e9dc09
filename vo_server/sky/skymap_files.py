"""Reading gravitational-wave sky maps (HEALPix FITS) into ranked tiles.

Accepted: multi-order maps (ORDERING=NUNIQ: UNIQ, PROBDENSITY [, DISTMU,
DISTSIGMA, DISTNORM]) and flat maps (NESTED or RING, PROB [, DIST*]).  Flat
maps become multi-order: four sibling pixels merge into their parent when
they are identical (lossless), or when all four lie beyond the
``EXACT_LEVEL`` credible level (there the parent holds their summed
probability, so every quantity at credible levels <= EXACT_LEVEL is exactly
the full-resolution one; far tails cost few rows).

Tiles are ranked by descending probability density (ties: descending UNIQ,
as ``ligo.skymap.postprocess.crossmatch`` orders them), with cumulative
probability and area, so a credible region is a prefix of the ranking.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from astropy.io import fits

from vo_server.sky.hpx import INDEX_DEPTH

DISTANCE_COLUMNS = ("DISTMU", "DISTSIGMA", "DISTNORM")
EXACT_LEVEL = 0.9999
NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}\Z")
SR_TO_DEG2 = (180 / math.pi) ** 2
NORMALISATION_TOLERANCE = 1e-3


class SkymapError(ValueError):
    """The file is not a usable HEALPix sky map, or the request is invalid."""


@dataclass
class SkymapTiles:
    """A sky map as ranked tiles; arrays are in rank order (0 = densest)."""

    uniq: np.ndarray
    probdensity: np.ndarray           # per steradian
    distmu: np.ndarray | None
    distsigma: np.ndarray | None
    distnorm: np.ndarray | None
    meta: dict[str, object] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    @property
    def order(self) -> np.ndarray:
        return (np.floor(np.log2(self.uniq.astype(np.float64) / 4) / 2)).astype(np.int64)

    @property
    def ipix(self) -> np.ndarray:
        return self.uniq - 4 * (np.int64(1) << (2 * self.order))

    @property
    def area_sr(self) -> np.ndarray:
        return 4 * math.pi / (12 * 4.0 ** self.order)

    @property
    def prob(self) -> np.ndarray:
        return self.probdensity * self.area_sr

    @property
    def ranges(self) -> tuple[np.ndarray, np.ndarray]:
        shift = 2 * (INDEX_DEPTH - self.order)
        return self.ipix << shift, (self.ipix + 1) << shift

    @property
    def cum_prob(self) -> np.ndarray:
        return np.cumsum(self.prob)

    @property
    def cum_area_deg2(self) -> np.ndarray:
        return np.cumsum(self.area_sr) * SR_TO_DEG2

    def credible_area(self, level: float) -> float:
        """Area (deg²) of the greedy credible region, interpolated as ligo.skymap does."""
        return float(np.interp(level, np.pad(self.cum_prob, (1, 0)), np.pad(self.cum_area_deg2, (1, 0))))

    @property
    def has_distance(self) -> bool:
        return self.distmu is not None


def check_name(name: str) -> str:
    if not NAME_PATTERN.match(name or ""):
        raise SkymapError(f"sky map name {name!r} must be 1-64 letters, digits or _.+- "
                          "starting with a letter or digit, e.g. GW170817")
    return name


def _header_meta(header: fits.Header, primary: fits.Header) -> dict[str, object]:
    def get(key: str) -> object:
        value = header.get(key, primary.get(key))
        return None if value is None or (isinstance(value, str) and not value.strip()) else value

    meta: dict[str, object] = {
        "object": get("OBJECT"), "date_obs": get("DATE-OBS"), "instruments": get("INSTRUME"),
        "creator": get("CREATOR"), "origin": get("ORIGIN"), "reference": get("REFERENC"),
    }
    for key in ("DISTMEAN", "DISTSTD"):
        value = get(key)
        meta[key.lower()] = float(value) if isinstance(value, int | float) and math.isfinite(value) else None
    return meta


def _column(data: fits.FITS_rec, names: dict[str, str], name: str) -> np.ndarray | None:
    if name not in names:
        return None
    return np.asarray(data[names[name]], dtype=np.float64).ravel()


def _nest_from_ring(nside: int, values: list[np.ndarray | None]) -> list[np.ndarray | None]:
    """Reorder flat RING arrays to NESTED (pixel centres map one to one)."""
    import astropy.units as u
    import cdshealpix.nested as nested
    import cdshealpix.ring as ring

    depth = int(math.log2(nside))
    ring_ipix = np.arange(12 * nside * nside, dtype=np.uint64)
    lon, lat = ring.healpix_to_lonlat(ring_ipix, nside)
    nest_ipix = nested.lonlat_to_healpix(lon.to(u.deg), lat.to(u.deg), depth).astype(np.int64)
    out: list[np.ndarray | None] = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        reordered = np.empty_like(v)
        reordered[nest_ipix] = v
        out.append(reordered)
    return out


def _flat_to_multiorder(prob: np.ndarray, dist: list[np.ndarray | None], depth: int
                        ) -> tuple[np.ndarray, np.ndarray, list[np.ndarray | None]]:
    """Merge sibling pixels level by level (see module docstring).

    Returns UNIQ, probability per tile (not density) and the distance layers
    (probability-weighted means where tail pixels merged)."""
    ranked = np.sort(prob)[::-1]
    cum = np.cumsum(ranked)
    cut = int(np.searchsorted(cum, EXACT_LEVEL * cum[-1], side="left"))
    threshold = ranked[min(cut, len(ranked) - 1)]
    ipix = np.arange(len(prob), dtype=np.int64)
    level_prob, level_dist = prob, list(dist)
    tail = prob < threshold
    out_uniq, out_prob = [], []
    out_dist: list[list[np.ndarray]] = [[] for _ in dist]

    def emit(d: int, mask: np.ndarray) -> None:
        out_uniq.append(4 * (np.int64(1) << (2 * d)) + ipix[mask])
        out_prob.append(level_prob[mask])
        for i, layer in enumerate(level_dist):
            if layer is not None:
                out_dist[i].append(layer[mask])

    for d in range(depth, 0, -1):
        _, inverse, counts = np.unique(ipix >> 2, return_inverse=True, return_counts=True)
        in_group = counts[inverse] == 4
        groups_prob = level_prob[in_group].reshape(-1, 4)
        same = np.all(groups_prob == groups_prob[:, :1], axis=1)
        for layer in level_dist:
            if layer is not None:
                g = layer[in_group].reshape(-1, 4)
                same &= np.all((g == g[:, :1]) | (np.isnan(g) & np.isnan(g[:, :1])), axis=1)
        all_tail = np.all(tail[in_group].reshape(-1, 4), axis=1)
        merge = same | all_tail
        merging = np.zeros(len(ipix), dtype=bool)
        merging[np.nonzero(in_group)[0].reshape(-1, 4)[merge].ravel()] = True
        emit(d, ~merging)
        if not merge.any():
            ipix = ipix[:0]
            break
        children = level_prob[merging].reshape(-1, 4)
        new_dist: list[np.ndarray | None] = []
        for layer in level_dist:
            if layer is None:
                new_dist.append(None)
                continue
            g = layer[merging].reshape(-1, 4)
            finite = np.isfinite(g)
            weights = np.where(finite, children, 0.0)
            total = weights.sum(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                mean = np.where(total > 0, np.sum(np.where(finite, g, 0.0) * weights, axis=1) / total, g[:, 0])
            new_dist.append(mean)
        ipix = ipix[merging][::4] >> 2
        tail = np.all(tail[merging].reshape(-1, 4), axis=1)
        level_prob = children.sum(axis=1)
        level_dist = new_dist
    if len(ipix):
        emit(0, np.ones(len(ipix), dtype=bool))
    uniq = np.concatenate(out_uniq)
    layers = [None if layer is None else np.concatenate(out_dist[i]) for i, layer in enumerate(dist)]
    return uniq, np.concatenate(out_prob), layers


def read_skymap(path: Path) -> SkymapTiles:
    """Read a HEALPix FITS sky map; raise SkymapError with a clear reason otherwise."""
    try:
        hdus = fits.open(path, memmap=False)
    except (OSError, ValueError) as exc:
        raise SkymapError(f"{path.name}: not a readable FITS file ({exc})") from exc
    with hdus:
        table_hdu = next((h for h in hdus[1:] if isinstance(h, fits.BinTableHDU)), None)
        if table_hdu is None:
            raise SkymapError(f"{path.name}: no binary table: not a HEALPix sky map")
        header = table_hdu.header
        if str(header.get("PIXTYPE", "")).strip().upper() != "HEALPIX":
            raise SkymapError(f"{path.name}: PIXTYPE is {header.get('PIXTYPE')!r}, not HEALPIX")
        names = {n.upper(): n for n in table_hdu.columns.names}
        ordering = str(header.get("ORDERING", "")).strip().upper()
        data = table_hdu.data
        meta = _header_meta(header, hdus[0].header)
        warnings: list[str] = []
        if ordering == "NUNIQ" or "UNIQ" in names:
            tiles = _read_multiorder(path, data, names)
        elif ordering in ("NESTED", "RING"):
            tiles = _read_flat(path, data, names, header, ordering)
        else:
            raise SkymapError(f"{path.name}: ORDERING {ordering!r} is not NUNIQ, NESTED or RING")
    uniq, density, layers = tiles
    if not np.all(np.isfinite(density)):
        bad = int((~np.isfinite(density)).sum())
        raise SkymapError(f"{path.name}: {bad} pixels have a NaN or infinite probability; "
                          "fix the map (or set them to 0) before ingesting")
    if np.any(density < 0):
        raise SkymapError(f"{path.name}: {int((density < 0).sum())} pixels have a negative probability")
    order = (np.floor(np.log2(uniq.astype(np.float64) / 4) / 2)).astype(np.int64)
    area = 4 * math.pi / (12 * 4.0 ** order)
    total = float(np.sum(density * area))
    if total <= 0:
        raise SkymapError(f"{path.name}: the probabilities sum to {total}: nothing to localise")
    if abs(total - 1) > NORMALISATION_TOLERANCE:
        warnings.append(f"the probabilities summed to {total:.6g}, not 1: normalised")
    density = density / total
    if not np.all(np.diff(np.sort(uniq)) > 0):
        raise SkymapError(f"{path.name}: UNIQ values repeat")
    rank = np.lexsort((-uniq, -density))  # density desc, then uniq desc (ligo.skymap's order)
    layers = [None if v is None else v[rank] for v in layers]
    return SkymapTiles(uniq[rank], density[rank], *layers, meta=meta, warnings=warnings)


def _read_multiorder(path: Path, data: fits.FITS_rec, names: dict[str, str]):
    if "UNIQ" not in names or "PROBDENSITY" not in names:
        raise SkymapError(f"{path.name}: a multi-order map needs UNIQ and PROBDENSITY columns "
                          f"(found {', '.join(names.values())})")
    uniq = np.asarray(data[names["UNIQ"]], dtype=np.int64).ravel()
    if np.any(uniq < 4):
        raise SkymapError(f"{path.name}: UNIQ values below 4 are not valid NUNIQ indexes")
    order = np.floor(np.log2(uniq.astype(np.float64) / 4) / 2).astype(np.int64)
    if order.max() > INDEX_DEPTH:
        raise SkymapError(f"{path.name}: orders above {INDEX_DEPTH} are not supported")
    lo = (uniq - 4 * (np.int64(1) << (2 * order))) << (2 * (INDEX_DEPTH - order))
    hi = lo + (np.int64(1) << (2 * (INDEX_DEPTH - order)))
    sorted_idx = np.argsort(lo)
    if np.any(lo[sorted_idx][1:] < hi[sorted_idx][:-1]):
        raise SkymapError(f"{path.name}: tiles overlap: not a valid multi-order map")
    density = np.asarray(data[names["PROBDENSITY"]], dtype=np.float64).ravel()
    layers = [_column(data, names, c) for c in DISTANCE_COLUMNS]
    if any(v is None for v in layers):
        layers = [None, None, None]
    return uniq, density, layers


def _read_flat(path: Path, data: fits.FITS_rec, names: dict[str, str], header: fits.Header, ordering: str):
    prob_name = next((n for n in ("PROB", "PROBABILITY", "PROBDENSITY") if n in names), None)
    if prob_name is None:
        prob_name = next(iter(names), None)
        if prob_name is None:
            raise SkymapError(f"{path.name}: no columns")
    prob = np.asarray(data[names[prob_name]], dtype=np.float64).ravel()
    npix = len(prob)
    nside = int(header.get("NSIDE", 0) or 0) or int(round(math.sqrt(npix / 12)))
    if 12 * nside * nside != npix:
        raise SkymapError(f"{path.name}: {npix} pixels is not 12*NSIDE^2 for NSIDE {nside}")
    if nside & (nside - 1):
        raise SkymapError(f"{path.name}: NSIDE {nside} is not a power of two: HEALPix NESTED "
                          "and multi-order maps need one")
    depth = int(math.log2(nside))
    layers = [_column(data, names, c) for c in DISTANCE_COLUMNS]
    if any(v is None for v in layers):
        layers = [None, None, None]
    if not np.all(np.isfinite(prob)):
        raise SkymapError(f"{path.name}: {int((~np.isfinite(prob)).sum())} pixels have a NaN or infinite "
                          "probability; fix the map (or set them to 0) before ingesting")
    if ordering == "RING":
        prob, *layers = _nest_from_ring(nside, [prob, *layers])
    if prob_name == "PROBDENSITY":
        prob = prob * (4 * math.pi / npix)
    uniq, probs, layers = _flat_to_multiorder(prob, layers, depth)
    order = (np.floor(np.log2(uniq.astype(np.float64) / 4) / 2)).astype(np.int64)
    density = probs / (4 * math.pi / (12 * 4.0 ** order))
    return uniq, density, layers
