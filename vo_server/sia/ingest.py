"""``vo-server ingest-images``: FITS images -> ivoa.obscore rows, their
footprint index, and a copy of each file under the collection's directory
(``<data_dir>/images/<collection>/``), from where /sia/files serves it.

Each file is one transaction: its rows (one per image HDU with a celestial
WCS) replace whatever that file had before, and its copy is moved into place
only after the rows are committed.  A file or HDU that cannot be described is
skipped with a reason; the rest of the batch loads.
"""

from __future__ import annotations

import hashlib
import logging
import math
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from urllib.parse import quote

import numpy as np
import psycopg
from astropy.io import fits
from astropy.utils.exceptions import AstropyWarning
from mocpy import MOC

from vo_server.config import Settings
from vo_server.db.target import DatabaseTarget
from vo_server.ingest.errors import IngestError
from vo_server.sia.headers import ImageRecord, SkippedHdu, describe_hdu
from vo_server.sky.footprints import footprint_ranges
from vo_server.sky.regions import merge_ranges

log = logging.getLogger(__name__)

COLLECTION_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
FITS_MAGIC = b"SIMPLE  ="
GZIP_MAGIC = b"\x1f\x8b"
OBSCORE_TABLE = ("ivoa", "obscore")
COLUMNS = ("dataproduct_type", "calib_level", "obs_collection", "obs_id", "obs_publisher_did", "access_url",
           "access_format", "access_estsize", "target_name", "s_ra", "s_dec", "s_fov", "s_region",
           "s_resolution", "s_xel1", "s_xel2", "t_min", "t_max", "t_exptime", "t_resolution", "t_xel",
           "em_min", "em_max", "em_res_power", "em_xel", "o_ucd", "pol_states", "pol_xel", "facility_name",
           "instrument_name", "s_region_dali")


@dataclass
class ImageIngestRequest:
    paths: list[Path]
    collection: str
    facility: str | None = None
    instrument: str | None = None
    calib_level: int = 1


@dataclass
class ImageIngestReport:
    collection: str
    files_loaded: list[str] = field(default_factory=list)
    rows: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)


def images_root(settings: Settings) -> Path:
    return (settings.data_dir / "images").resolve()


def collection_directory(settings: Settings, collection: str) -> Path:
    return images_root(settings) / collection


def candidate_files(paths: list[Path]) -> Iterator[tuple[Path, PurePosixPath]]:
    """(file, path relative to the collection) for every regular file named or under a named directory."""
    for path in paths:
        if path.is_dir():
            for root, dirs, files in os.walk(path):
                dirs.sort()
                for name in sorted(files):
                    full = Path(root) / name
                    yield full, PurePosixPath(full.relative_to(path).as_posix())
        else:
            yield path, PurePosixPath(path.name)


def fits_kind(path: Path) -> str | None:
    """'fits', 'fits.gz', or None for anything else (read from the first bytes, not the name)."""
    try:
        with path.open("rb") as f:
            head = f.read(len(FITS_MAGIC))
    except OSError:
        return None
    if head.startswith(FITS_MAGIC):
        return "fits"
    if head.startswith(GZIP_MAGIC):
        import gzip
        try:
            with gzip.open(path, "rb") as g:
                return "fits.gz" if g.read(len(FITS_MAGIC)).startswith(FITS_MAGIC) else None
        except (OSError, EOFError):
            return None
    return None


def stream_size(path: Path, kind: str) -> int:
    """Bytes of the FITS stream (decompressed for .gz, which also checks the gzip CRC)."""
    if kind == "fits":
        return path.stat().st_size
    import gzip
    total = 0
    with gzip.open(path, "rb") as g:
        for block in iter(lambda: g.read(1 << 20), b""):
            total += len(block)
    return total


def image_data_bytes(header: fits.Header) -> int:
    naxis = int(header.get("NAXIS", 0) or 0)
    count = 1
    for i in range(1, naxis + 1):
        count *= int(header.get(f"NAXIS{i}", 0) or 0)
    return count * abs(int(header.get("BITPIX", 8))) // 8 if naxis else 0


class TruncatedFits(ValueError):
    """The file ends before the data its headers declare."""


def describe_file(path: Path, kind: str = "fits") -> tuple[list[ImageRecord], list[str]]:
    """Records of every describable image HDU, and reasons for the HDUs skipped.
    Raises TruncatedFits (or astropy's error) for a file that is not whole."""
    records: list[ImageRecord] = []
    reasons: list[str] = []
    size = stream_size(path, kind)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", AstropyWarning)
        with fits.open(path, memmap=False, lazy_load_hdus=False, ignore_missing_simple=False) as hdul:
            for index, hdu in enumerate(hdul):
                end = hdul.fileinfo(index)["datLoc"] + image_data_bytes(hdu.header) if hdu.is_image else 0
                if end > size:
                    raise TruncatedFits(f"truncated: HDU {index} needs {end} bytes, the file has {size}")
                if not hdu.is_image:
                    continue
                try:
                    records.append(describe_hdu(hdul, index))
                except SkippedHdu as exc:
                    if int(hdu.header.get("NAXIS", 0) or 0) >= 2:
                        reasons.append(f"HDU {index}: {exc}")
    return records, reasons


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def publisher_did(settings: Settings, collection: str, relpath: PurePosixPath, hdu: int) -> str:
    suffix = f"[{hdu}]" if hdu else ""
    return f"{settings.authority}/obscore?{quote(collection)}/{quote(str(relpath))}{suffix}"


def access_url(settings: Settings, collection: str, relpath: PurePosixPath) -> str:
    return f"{settings.public_url}/sia/files/{quote(collection)}/{quote(str(relpath))}"


def content_type(kind: str) -> str:
    return "application/fits" if kind == "fits" else "application/gzip"


def _row(settings: Settings, request: ImageIngestRequest, relpath: PurePosixPath, record: ImageRecord,
         kind: str, size: int) -> dict:
    values = dict(record.values)
    values.update(
        calib_level=request.calib_level,
        obs_collection=request.collection,
        obs_id=str(relpath) + (f"[{record.hdu}]" if record.hdu else ""),
        obs_publisher_did=publisher_did(settings, request.collection, relpath, record.hdu),
        access_url=access_url(settings, request.collection, relpath),
        access_format=content_type(kind),
        access_estsize=max(1, math.ceil(size / 1024)),
    )
    if request.facility:
        values["facility_name"] = request.facility
    if request.instrument:
        values["instrument_name"] = request.instrument
    return values


def _store_file(conn: psycopg.Connection, settings: Settings, request: ImageIngestRequest, source: Path,
                relpath: PurePosixPath, kind: str, records: list[ImageRecord]) -> None:
    size = source.stat().st_size
    conn.execute(
        "INSERT INTO vo_internal.image_files (collection, relpath, source, content_type, size_bytes, sha256) "
        "VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (collection, relpath) DO UPDATE SET "
        "source = EXCLUDED.source, content_type = EXCLUDED.content_type, size_bytes = EXCLUDED.size_bytes, "
        "sha256 = EXCLUDED.sha256, ingested_at = now()",
        (request.collection, str(relpath), str(source.resolve()), content_type(kind), size, sha256_of(source)))
    conn.execute("DELETE FROM ivoa.obscore WHERE obs_publisher_did IN (SELECT obs_publisher_did FROM "
                 "vo_internal.image_hdus WHERE collection = %s AND relpath = %s)", (request.collection, str(relpath)))
    placeholders = ", ".join(f"%({c})s" for c in COLUMNS)
    with conn.cursor() as cur:
        for record in records:
            row = _row(settings, request, relpath, record, kind, size)
            cur.execute(f"INSERT INTO ivoa.obscore ({', '.join(COLUMNS)}) VALUES ({placeholders})", row)
            ranges = footprint_ranges(record.footprint)
            did = row["obs_publisher_did"]
            cur.executemany("INSERT INTO ivoa.obscore_footprint (obs_publisher_did, lo, hi) VALUES (%s, %s, %s)",
                            [(did, int(lo), int(hi)) for lo, hi in ranges])
            cur.execute("INSERT INTO vo_internal.image_hdus (obs_publisher_did, collection, relpath, hdu) "
                        "VALUES (%s, %s, %s, %s)", (did, request.collection, str(relpath), record.hdu))


def _copy_into(source: Path, destination: Path) -> Path | None:
    """Copy to a temporary name beside ``destination``; None if it is already the same file."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    if destination.exists() and destination.resolve() == source.resolve():
        return None
    fd, tmp = tempfile.mkstemp(prefix=".ingest-", dir=destination.parent)
    os.close(fd)
    shutil.copyfile(source, tmp)
    return Path(tmp)


def ingest_images(target: DatabaseTarget, settings: Settings, request: ImageIngestRequest,
                  progress: Callable[[int], None] | None = None) -> ImageIngestReport:
    if not COLLECTION_NAME.match(request.collection):
        raise IngestError(f"collection name {request.collection!r}: use letters, digits, '_', '.', '-' "
                          "(at most 64, starting with a letter or digit)")
    if not 0 <= request.calib_level <= 4:
        raise IngestError(f"--calib-level must be 0..4 (ObsCore calib_level), not {request.calib_level}")
    missing = [str(p) for p in request.paths if not p.exists()]
    if missing:
        raise IngestError(f"no such file or directory: {', '.join(missing)}")
    report = ImageIngestReport(request.collection)
    directory = collection_directory(settings, request.collection)
    with psycopg.connect(target.owner_dsn) as conn:
        conn.execute(
            "INSERT INTO vo_internal.image_collections (name, directory) VALUES (%s, %s) "
            "ON CONFLICT (name) DO UPDATE SET directory = EXCLUDED.directory, updated_at = now()",
            (request.collection, str(directory)))
        conn.commit()
        for source, relpath in candidate_files(request.paths):
            if progress:
                progress(1)
            if any(part.startswith(".") for part in relpath.parts):
                report.skipped.append((str(source), "hidden file"))
                continue
            kind = fits_kind(source)
            if kind is None:
                report.skipped.append((str(source), "not a FITS file"))
                continue
            try:
                records, reasons = describe_file(source, kind)
            except Exception as exc:  # astropy's parser on untrusted bytes: any failure skips the file
                report.skipped.append((str(source), f"unreadable FITS: {str(exc).splitlines()[0] if str(exc) else type(exc).__name__}"))
                continue
            if not records:
                report.skipped.append((str(source), "; ".join(reasons) or "no image HDU"))
                continue
            report.skipped += [(str(source), reason) for reason in reasons]
            tmp = _copy_into(source, directory / relpath)
            try:
                with conn.transaction():
                    _store_file(conn, settings, request, source, relpath, kind, records)
            except BaseException:
                if tmp is not None:
                    tmp.unlink(missing_ok=True)
                raise
            if tmp is not None:
                os.replace(tmp, directory / relpath)
            report.files_loaded.append(str(source))
            report.rows += len(records)
        _record_coverage(conn, settings)
        conn.commit()
    return report


def _record_coverage(conn: psycopg.Connection, settings: Settings) -> None:
    """Row count and coverage MOC of ivoa.obscore in vo_internal.published_tables
    (the landing page and registry records read them from there)."""
    order = settings.coverage_order
    # From the stored ranges (mocpy coarsens them to the order): enumerating cells in SQL would
    # generate 786k rows for one all-sky footprint at order 8.
    ranges = np.array(conn.execute("SELECT lo, hi FROM ivoa.obscore_footprint ORDER BY lo").fetchall(),
                      dtype=np.int64).reshape(-1, 2)
    ranges = merge_ranges(ranges[:, 0], ranges[:, 1]).astype(np.uint64)
    moc = MOC.from_depth29_ranges(order, ranges)
    rows = conn.execute("SELECT count(*) FROM ivoa.obscore").fetchone()[0]
    conn.execute(
        "INSERT INTO vo_internal.published_tables (schema_name, table_name, row_count, "
        "coverage_order, coverage_moc, sky_fraction, source) VALUES ('ivoa', 'obscore', %s, %s, "
        "%s, %s, 'vo-server ingest-images') ON CONFLICT (schema_name, table_name) DO UPDATE SET "
        "row_count = EXCLUDED.row_count, coverage_order = EXCLUDED.coverage_order, "
        "coverage_moc = EXCLUDED.coverage_moc, sky_fraction = EXCLUDED.sky_fraction, updated_at = now()",
        (rows, order, moc.to_string(format="ascii"), float(moc.sky_fraction)))
    conn.execute("ANALYZE ivoa.obscore")
    conn.execute("ANALYZE ivoa.obscore_footprint")
