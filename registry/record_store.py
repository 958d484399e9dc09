"""The registry's record state in ``vo_internal.registry_records``.

Records are (re)built from the metadata by ``synchronise``, which the OAI
endpoint calls at the start of every request that does not continue a list
(a harvest's first page, GetRecord, Identify...).  Why there and not at
ingest: the sources of records are several (ingest, the YAML files applied at
upgrade, services registered at start-up, future sky-map loads, a changed
setting) and several processes (CLI, server) change them; checking one cheap
fingerprint of all sources at request time catches every change without each
of those places having to remember to notify the registry.  Pages that
continue a list (resumptionToken) read the stored records only.

A record's datestamp (OAI) and ``updated`` (VOResource) move only when its
rendered content changes: the hash of the renderings, made with a fixed
placeholder date, is compared with the stored one.  A record that stops being
produced becomes a tombstone (deleted, payloads dropped) and stays one.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import psycopg
from lxml import etree

from registry.datacite import render_datacite
from registry.dates import utc_seconds
from registry.dublin_core import render_dublin_core
from registry.model import RegistryResource
from registry.sources import RECORD_SOURCES, RecordContext, RecordSource
from registry.voresource import render_voresource

log = logging.getLogger(__name__)

SYNC_LOCK_ID = 0x766F5F726567  # "vo_reg"
RENDERING_VERSION = "1"  # bump when renderers change output, so every record is re-dated
PLACEHOLDER_DATE = datetime(1970, 1, 1, tzinfo=UTC)

# metadataPrefix -> stored payload column
PAYLOAD_COLUMNS = {"ivo_vor": "ivo_vor", "oai_dc": "oai_dc", "oai_datacite": "oai_datacite"}


@dataclass
class SyncReport:
    skipped: bool = False
    added: int = 0
    changed: int = 0
    deleted: int = 0
    unchanged: int = 0


def render_payloads(res: RegistryResource, created: datetime, updated: datetime) -> tuple[str, str, str]:
    """(ivo_vor, oai_dc, oai_datacite) XML of a record, without XML declarations.

    VOResource children are unqualified; the OAI-PMH envelope puts its own
    elements in the default namespace, so the record root undeclares it
    (``xmlns=""``) or its children would be read as OAI-PMH elements."""
    vor = etree.tostring(render_voresource(res, created, updated), encoding="unicode")
    vor = vor.replace("<ri:Resource ", '<ri:Resource xmlns="" ', 1)
    dc = etree.tostring(render_dublin_core(res, created, updated), encoding="unicode")
    datacite = etree.tostring(render_datacite(res, created, updated), encoding="unicode")
    return vor, dc, datacite


def content_hash(res: RegistryResource, created: datetime) -> str:
    digest = hashlib.sha256(RENDERING_VERSION.encode())
    for payload in render_payloads(res, created, PLACEHOLDER_DATE):
        digest.update(payload.encode())
    digest.update(json.dumps(list(res.set_specs)).encode())
    return digest.hexdigest()


def sources_fingerprint(conn: psycopg.Connection, ctx: RecordContext, sources: Sequence[RecordSource]) -> str:
    parts = [RENDERING_VERSION] + [f"{s.name}:{s.fingerprint(conn, ctx)}" for s in sources]
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def synchronise(conn: psycopg.Connection, ctx: RecordContext, sources: Sequence[RecordSource] | None = None,
                force: bool = False) -> SyncReport:
    """Bring the stored records up to date with the metadata (one transaction;
    concurrent callers serialise on an advisory lock)."""
    sources = RECORD_SOURCES if sources is None else sources
    report = SyncReport()
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SYNC_LOCK_ID,))
        fingerprint = sources_fingerprint(conn, ctx, sources)
        stored, now = conn.execute("SELECT source_fingerprint, date_trunc('second', statement_timestamp()) "
                                   "FROM vo_internal.registry_state").fetchone()
        if stored == fingerprint and not force:
            report.skipped = True
            return report
        now = utc_seconds(now)
        existing = {row[0]: row[1:] for row in conn.execute(
            "SELECT identifier, content_hash, deleted, created FROM vo_internal.registry_records")}
        seen: set[str] = set()
        for source in sources:
            for res in source.resources(conn, ctx):
                if res.identifier in seen:
                    log.warning("registry: %s produced twice (source %s); the first record is kept",
                                res.identifier, source.name)
                    continue
                seen.add(res.identifier)
                previous = existing.get(res.identifier)
                created = utc_seconds(res.created or (previous[2] if previous else now))
                digest = content_hash(res, created)
                if previous and previous[0] == digest and not previous[1]:
                    report.unchanged += 1
                    continue
                if previous:
                    report.changed += 1
                else:
                    report.added += 1
                vor, dc, datacite = render_payloads(res, created, now)
                conn.execute(
                    "INSERT INTO vo_internal.registry_records (identifier, resource_type, set_specs, content_hash, "
                    "datestamp, created, deleted, ivo_vor, oai_dc, oai_datacite) "
                    "VALUES (%s, %s, %s, %s, %s, %s, false, %s, %s, %s) ON CONFLICT (identifier) DO UPDATE SET "
                    "resource_type = EXCLUDED.resource_type, set_specs = EXCLUDED.set_specs, "
                    "content_hash = EXCLUDED.content_hash, datestamp = EXCLUDED.datestamp, "
                    "created = EXCLUDED.created, deleted = false, ivo_vor = EXCLUDED.ivo_vor, "
                    "oai_dc = EXCLUDED.oai_dc, oai_datacite = EXCLUDED.oai_datacite",
                    (res.identifier, res.resource_type, list(res.set_specs), digest, now, created, vor, dc, datacite))
        gone = [identifier for identifier, (_h, deleted, _c) in existing.items()
                if identifier not in seen and not deleted]
        if gone:
            conn.execute("UPDATE vo_internal.registry_records SET deleted = true, datestamp = %s, content_hash = '', "
                         "ivo_vor = NULL, oai_dc = NULL, oai_datacite = NULL WHERE identifier = ANY(%s)", (now, gone))
            report.deleted = len(gone)
        conn.execute("UPDATE vo_internal.registry_state SET source_fingerprint = %s, synced_at = %s",
                     (fingerprint, now))
    if report.added or report.changed or report.deleted:
        log.info("registry: %d records added, %d changed, %d deleted", report.added, report.changed, report.deleted)
    return report
