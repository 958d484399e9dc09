"""TAP_UPLOAD: client tables loaded for the duration of one query or job.

``UPLOAD=name,uri`` (several per parameter separated by ';', or several
UPLOAD parameters); ``uri`` is ``param:PART`` (a multipart file part of the
same request) or an http(s) URL fetched with the size and time limits.
VOTable, CSV, FITS and Parquet are accepted.  Each set of uploads gets its
own schema ``tap_upload_<token>`` created by the owner, readable by the
query role only through an explicit grant, and dropped afterwards
(``vo_internal.tap_upload_schemas`` remembers it so a crash leaves nothing
behind for long).  Uploaded positions get the depth-29 ``hpx`` index, so a
crossmatch against an upload uses the index like any published table.
"""

from __future__ import annotations

import asyncio
import dataclasses
import re
import secrets
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import httpx
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
from psycopg import sql
from starlette.datastructures import UploadFile

from adql.catalog import TableInfo
from vo_server.catalog import Positions, table_info
from vo_server.config import Settings
from vo_server.db.target import DatabaseTarget
from vo_server.ingest.columns import column_name
from vo_server.ingest.errors import IngestError
from vo_server.ingest.loader import HPX_COLUMN, IngestRequest, copy_rows, prepare
from vo_server.metadata.ddl import create_table_sql
from vo_server.tap.errors import TapError

UPLOAD_SCHEMA = "TAP_UPLOAD"
NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,62}$")
SNIFF_BYTES = 65536


@dataclass(frozen=True)
class UploadSpec:
    name: str
    uri: str


@dataclass
class UploadSet:
    """Uploaded tables living in ``schema`` (physical) as ``TAP_UPLOAD.<name>``."""

    schema: str
    tables: list[TableInfo]


def parse_upload_specs(values: list[str]) -> list[UploadSpec]:
    specs: list[UploadSpec] = []
    seen: set[str] = set()
    for value in values:
        for item in value.split(";"):
            item = item.strip()
            if not item:
                continue
            name, comma, uri = item.partition(",")
            name, uri = name.strip(), uri.strip()
            if not comma or not uri:
                raise TapError(f"UPLOAD={item!r}: expected table-name,URI (e.g. mytable,param:part1)")
            if not NAME.match(name):
                raise TapError(f"UPLOAD table name {name!r} is not a valid ADQL name: letters, digits and _, "
                               "starting with a letter")
            if name.lower() in seen:
                raise TapError(f"UPLOAD table name {name!r} is given twice")
            seen.add(name.lower())
            specs.append(UploadSpec(name, uri))
    return specs


def check_sources(specs: list[UploadSpec], part_names: set[str]) -> None:
    """Refuse at once what cannot be fetched (before a job is queued)."""
    for spec in specs:
        scheme = spec.uri.split(":", 1)[0].lower()
        if scheme == "param":
            part = spec.uri.split(":", 1)[1]
            if part not in part_names:
                raise TapError(f"UPLOAD {spec.name}: the request has no file part named {part!r} "
                               f"(multipart/form-data with a part named {part!r} is needed for {spec.uri})")
        elif scheme not in ("http", "https"):
            raise TapError(f"UPLOAD {spec.name}: unsupported URI {spec.uri!r}; use param:PART or an http(s) URL")


async def save_part(upload: UploadFile, destination: Path, limit: int) -> None:
    size = 0
    await upload.seek(0)
    with destination.open("wb") as out:
        while chunk := await upload.read(1 << 20):
            size += len(chunk)
            if size > limit:
                raise TapError(f"upload {upload.filename or ''!r} exceeds the limit of {limit} bytes", status=413)
            out.write(chunk)


async def fetch_url(url: str, destination: Path, limit: int, timeout: float) -> None:
    size = 0
    try:
        async with asyncio.timeout(timeout), httpx.AsyncClient(timeout=timeout, follow_redirects=True,
                                                               max_redirects=5) as client:
            async with client.stream("GET", url) as response:
                if response.status_code != 200:
                    raise TapError(f"upload URL {url} answered HTTP {response.status_code}")
                with destination.open("wb") as out:
                    async for chunk in response.aiter_bytes():
                        size += len(chunk)
                        if size > limit:
                            raise TapError(f"upload from {url} exceeds the limit of {limit} bytes", status=413)
                        out.write(chunk)
    except TimeoutError:
        raise TapError(f"upload URL {url} did not deliver within {timeout:g} s") from None
    except httpx.HTTPError as exc:
        raise TapError(f"could not fetch upload URL {url}: {type(exc).__name__}: {exc}") from None


def sniff_format(path: Path) -> str:
    """File format from the content; XML with entity declarations is refused
    (entity expansion attacks), VOTable needs no DTD."""
    with path.open("rb") as f:
        head = f.read(SNIFF_BYTES)
    if head.startswith(b"SIMPLE  ="):
        return "fits"
    if head.startswith(b"PAR1"):
        return "parquet"
    stripped = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if stripped.startswith(b"<"):
        if b"<!ENTITY" in head.upper() or b"<!DOCTYPE" in head.upper():
            raise TapError("the uploaded XML declares a DOCTYPE/entities, which VOTable uploads may not use")
        return "votable"
    if stripped.startswith(b"# %ECSV"):
        return "ecsv"
    return "csv"


KEPT_XTYPES = {"timestamp": ("char", "unicodeChar"), "point": ("double", "float"),
               "circle": ("double", "float"), "polygon": ("double", "float")}


def apply_votable_xtypes(path: Path, columns: list) -> None:
    """astropy's Table drops FIELD xtypes: take the DALI ones (timestamp,
    point, circle, polygon) from the VOTable itself, so an uploaded timestamp
    stays a timestamp in queries."""
    import warnings

    from astropy.io.votable import parse_single_table

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        fields = parse_single_table(str(path), verify="ignore").fields
    xtypes = {column_name(f.name): f.xtype for f in fields if f.xtype}
    for column in columns:
        xtype = xtypes.get(column.name)
        if xtype in KEPT_XTYPES and column.datatype in KEPT_XTYPES[xtype]:
            column.xtype = xtype


def typed_timestamps(spec: UploadSpec, columns: list, data: pa.Table) -> pa.Table:
    """Text columns declared xtype=timestamp become Arrow timestamps (stored as
    PostgreSQL timestamp, so time comparisons work in queries)."""
    for column in columns:
        if column.xtype == "timestamp" and pa.types.is_string(data.column(column.name).type):
            values = pc.replace_substring_regex(data.column(column.name), r"Z$", "")
            try:
                cast = values.cast(pa.timestamp("us"))
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise TapError(f"UPLOAD {spec.name}: column {column.name} is declared xtype=timestamp but "
                               f"holds a value that is not an ISO 8601 time ({exc})") from None
            data = data.set_column(data.column_names.index(column.name), column.name, cast)
    return data


def load_tables(target: DatabaseTarget, files: list[tuple[UploadSpec, Path]], max_rows: int,
                schema: str) -> list[TableInfo]:
    """Create ``schema`` and one table per upload (blocking; owner connection)."""
    prepared = []
    for spec, path in files:
        fmt = sniff_format(path)
        try:
            table, data, _source, report = prepare(IngestRequest(path=path, table=f"tap_upload.{spec.name.lower()}",
                                                                  format=fmt))
        except IngestError as exc:
            raise TapError(f"UPLOAD {spec.name}: {exc}".replace(str(path), spec.uri)) from None
        if fmt == "votable":
            apply_votable_xtypes(path, table.columns)
            data = typed_timestamps(spec, table.columns, data)
        if data.num_rows > max_rows:
            raise TapError(f"UPLOAD {spec.name}: {data.num_rows} rows, more than the limit of {max_rows}",
                           status=413)
        table.schema = schema
        prepared.append((table, data, report))
    try:
        return _create_tables(target, prepared, schema)
    except psycopg.Error as exc:
        diag = getattr(exc, "diag", None)
        message = diag.message_primary if diag is not None and diag.message_primary else str(exc).splitlines()[0]
        raise TapError(f"the uploaded table could not be stored: {message}") from None


def _create_tables(target: DatabaseTarget, prepared: list, schema: str) -> list[TableInfo]:
    infos: list[TableInfo] = []
    with psycopg.connect(target.owner_dsn) as conn:
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        for table, data, report in prepared:
            conn.execute(create_table_sql(table))
            copy_rows(conn, schema, table.name, data, None, freeze=False)
            hpx = HPX_COLUMN if report.ra_column and report.dec_column else None
            if hpx:
                conn.execute(sql.SQL("CREATE INDEX ON {} ({})").format(sql.Identifier(schema, table.name),
                                                                       sql.Identifier(hpx)))
            conn.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(schema, table.name)))
            table.schema = UPLOAD_SCHEMA
            info = table_info(table, Positions(report.ra_column, report.dec_column, hpx))
            infos.append(dataclasses.replace(info, sql_schema=schema))
        role = sql.Identifier(target.query_role)
        conn.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(schema), role))
        conn.execute(sql.SQL("GRANT SELECT ON ALL TABLES IN SCHEMA {} TO {}").format(sql.Identifier(schema), role))
        conn.commit()
    return infos


def drop_schema(target: DatabaseTarget, schema: str) -> None:
    with psycopg.connect(target.owner_dsn, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.execute("DELETE FROM vo_internal.tap_upload_schemas WHERE schema_name = %s", (schema,))


def register_schema(target: DatabaseTarget, schema: str, job_id: str | None) -> None:
    with psycopg.connect(target.owner_dsn, autocommit=True) as conn:
        conn.execute("INSERT INTO vo_internal.tap_upload_schemas (schema_name, job_id) VALUES (%s, %s)",
                     (schema, job_id))


def drop_stale_schemas(target: DatabaseTarget, older_than_seconds: float) -> int:
    """Drop upload schemas left by a crash: sync ones older than the limit,
    job ones whose job is gone or finished."""
    with psycopg.connect(target.owner_dsn, autocommit=True) as conn:
        stale = [r[0] for r in conn.execute(
            "SELECT u.schema_name FROM vo_internal.tap_upload_schemas u "
            "LEFT JOIN vo_internal.uws_jobs j ON j.job_id = u.job_id "
            "WHERE (u.job_id IS NULL AND u.created_at < now() - make_interval(secs => %s)) "
            "OR (u.job_id IS NOT NULL AND (j.job_id IS NULL OR j.phase NOT IN ('QUEUED', 'EXECUTING')))",
            (older_than_seconds,))]
    for schema in stale:
        drop_schema(target, schema)
    return len(stale)


async def load_uploads(settings: Settings, target: DatabaseTarget, specs: list[UploadSpec],
                       files: dict[str, UploadFile], job_id: str | None = None,
                       stored: dict[str, Path] | None = None) -> UploadSet | None:
    """Fetch and load the uploads; the caller must ``release`` the result.
    ``stored`` gives saved copies of param: parts (async jobs)."""
    if not specs:
        return None
    check_sources(specs, set(files if stored is None else stored))
    workdir = Path(tempfile.mkdtemp(prefix="vo-upload-"))
    schema = f"tap_upload_{secrets.token_hex(6)}"
    try:
        local: list[tuple[UploadSpec, Path]] = []
        for i, spec in enumerate(specs):
            path = workdir / f"upload{i}"
            scheme, _, rest = spec.uri.partition(":")
            if scheme.lower() == "param":
                if stored is not None:
                    shutil.copyfile(stored[rest], path)
                else:
                    await save_part(files[rest], path, settings.tap_upload_max_bytes)
            else:
                await fetch_url(spec.uri, path, settings.tap_upload_max_bytes, settings.tap_upload_fetch_timeout)
            local.append((spec, path))
        await asyncio.to_thread(register_schema, target, schema, job_id)
        try:
            tables = await asyncio.to_thread(load_tables, target, local, settings.tap_upload_max_rows, schema)
        except BaseException:
            await asyncio.to_thread(drop_schema, target, schema)
            raise
        return UploadSet(schema, tables)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


async def release(target: DatabaseTarget, uploads: UploadSet | None) -> None:
    if uploads is not None:
        await asyncio.to_thread(drop_schema, target, uploads.schema)
