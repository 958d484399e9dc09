"""The OAI-PMH 2.0 protocol: arguments, verbs, errors and response documents.

Framework-independent: ``OaiProvider.respond(arguments)`` takes the request's
(name, value) pairs and returns the response body as a list of text chunks
(one page of records at most, so memory is bounded by the page size).  Every
bad request yields an OAI-PMH ``<error>`` document (HTTP 200), never an
exception.  OAI-PMH elements are in the default namespace (the
openarchives.org validator is not namespace-aware).
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from xml.sax.saxutils import escape, quoteattr

import psycopg
from psycopg import sql

from registry.dates import (
    SECONDS_GRANULARITY,
    DateArgumentError,
    format_datestamp,
    now_seconds,
    parse_oai_date,
)
from registry.model import SETS
from registry.record_store import PAYLOAD_COLUMNS, synchronise
from registry.resumption import BadResumptionToken, ListPosition, decode_token, encode_token
from registry.sources import RecordContext
from vo_server.db.pools import Database

log = logging.getLogger(__name__)

OAI_NS = "http://www.openarchives.org/OAI/2.0/"
XSI_NS = "http://www.w3.org/2001/XMLSchema-instance"
OAI_SCHEMA_LOCATION = f"{OAI_NS} http://www.openarchives.org/OAI/2.0/OAI-PMH.xsd"

METADATA_FORMATS: dict[str, tuple[str, str]] = {  # prefix -> (schema, namespace)
    "ivo_vor": ("http://www.ivoa.net/xml/RegistryInterface/RegistryInterface-v1.0.xsd",
                "http://www.ivoa.net/xml/RegistryInterface/v1.0"),
    "oai_dc": ("http://www.openarchives.org/OAI/2.0/oai_dc.xsd", "http://www.openarchives.org/OAI/2.0/oai_dc/"),
    "oai_datacite": ("http://schema.datacite.org/meta/kernel-4/metadata.xsd", "http://datacite.org/schema/kernel-4"),
}
assert set(METADATA_FORMATS) == set(PAYLOAD_COLUMNS)
# Characters XML 1.0 cannot carry (control characters, lone surrogates, U+FFFE/U+FFFF).
XML_ILLEGAL = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class VerbArguments:
    required: frozenset[str]
    optional: frozenset[str]
    exclusive: str | None = None  # an argument that must come alone (resumptionToken)


VERBS: dict[str, VerbArguments] = {
    "Identify": VerbArguments(frozenset(), frozenset()),
    "ListMetadataFormats": VerbArguments(frozenset(), frozenset({"identifier"})),
    "ListSets": VerbArguments(frozenset(), frozenset(), "resumptionToken"),
    "ListIdentifiers": VerbArguments(frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}),
                                     "resumptionToken"),
    "ListRecords": VerbArguments(frozenset({"metadataPrefix"}), frozenset({"from", "until", "set"}),
                                 "resumptionToken"),
    "GetRecord": VerbArguments(frozenset({"identifier", "metadataPrefix"}), frozenset()),
}


class OaiError(Exception):
    """An OAI-PMH error condition: ``code`` is one of the protocol's error codes."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ListQuery:
    verb: str
    metadata_prefix: str
    set_spec: str | None
    from_arg: str | None
    until_arg: str | None
    from_time: datetime | None
    until_time: datetime | None
    after: str = ""
    cursor: int = 0


def _x(value: object) -> str:
    return escape(str(value))


class OaiProvider:
    """Answers OAI-PMH requests from the stored records (``vo_internal.registry_records``)."""

    def __init__(self, db: Database, ctx: RecordContext, base_url: str, token_lifetime: float):
        self.db = db
        self.ctx = ctx
        self.base_url = base_url
        self.page_size = ctx.page_size
        self.token_lifetime = token_lifetime
        self._secret: bytes | None = None

    # --- request handling ------------------------------------------------------------------

    async def respond(self, arguments: Sequence[tuple[str, str]]) -> list[str]:
        """The response document for a request's arguments (always an OAI-PMH document)."""
        try:
            verb, args = self._check_arguments(arguments)
        except OaiError as exc:
            return self._document([], [exc])
        try:
            if "resumptionToken" not in args:
                await self.synchronise()
            body = await getattr(self, f"_{verb}")(args)
        except OaiError as exc:
            return self._document(arguments, [exc])
        return self._document(arguments, body=body)

    def error_document(self, code: str, message: str) -> list[str]:
        """An error response for a request whose arguments could not even be read."""
        return self._document([], [OaiError(code, message)])

    def _check_arguments(self, arguments: Sequence[tuple[str, str]]) -> tuple[str, dict[str, str]]:
        for name, value in arguments:  # checked first: such text cannot be echoed in an XML response
            if XML_ILLEGAL.search(name) or XML_ILLEGAL.search(value):
                code = "badVerb" if name == "verb" else "badArgument"
                raise OaiError(code, "an argument contains characters that are not allowed in XML")
        names = [name for name, _ in arguments]
        verbs = [value for name, value in arguments if name == "verb"]
        if not verbs:
            raise OaiError("badVerb", "the verb argument is missing")
        if len(verbs) > 1:
            raise OaiError("badVerb", "the verb argument is repeated")
        verb = verbs[0]
        if verb not in VERBS:
            raise OaiError("badVerb", f"{verb!r} is not an OAI-PMH verb; legal verbs are {', '.join(VERBS)}")
        spec = VERBS[verb]
        args = {name: value for name, value in arguments if name != "verb"}
        repeated = sorted({n for n in names if names.count(n) > 1})
        if repeated:
            raise OaiError("badArgument", f"argument(s) repeated: {', '.join(repeated)}")
        allowed = spec.required | spec.optional | ({spec.exclusive} if spec.exclusive else set())
        unknown = sorted(set(args) - allowed)
        if unknown:
            raise OaiError("badArgument", f"illegal argument(s) for {verb}: {', '.join(unknown)}")
        empty = sorted(n for n, v in args.items() if v == "")
        if empty:
            raise OaiError("badArgument", f"argument(s) without a value: {', '.join(empty)}")
        if spec.exclusive and spec.exclusive in args:
            if len(args) > 1:
                raise OaiError("badArgument", f"{spec.exclusive} is an exclusive argument: give it alone")
            return verb, args
        missing = sorted(spec.required - set(args))
        if missing:
            raise OaiError("badArgument", f"{verb} needs the argument(s) {', '.join(missing)}")
        return verb, args

    # --- state -----------------------------------------------------------------------------

    async def synchronise(self) -> None:
        """Rebuild changed records before answering (see ``registry.record_store``).  A failure
        is logged and the stored records are served: a broken provider must not stop harvests."""
        try:
            await asyncio.to_thread(self._synchronise_blocking)
        except Exception:  # noqa: BLE001 - logged, the registry keeps serving what it has
            log.exception("registry: could not rebuild records; serving the stored ones")

    def _synchronise_blocking(self) -> None:
        with psycopg.connect(self.db.target.owner_dsn) as conn:
            synchronise(conn, self.ctx)

    async def _token_secret(self) -> bytes:
        if self._secret is None:
            async with self.db.owner.connection() as conn:
                cur = await conn.execute("SELECT token_secret FROM vo_internal.registry_state")
                self._secret = bytes((await cur.fetchone())[0])
        return self._secret

    # --- verbs -----------------------------------------------------------------------------

    async def _Identify(self, args: dict[str, str]) -> list[str]:
        meta = self.ctx.resource
        async with self.db.owner.connection() as conn:
            cur = await conn.execute("SELECT min(datestamp) FROM vo_internal.registry_records")
            earliest = (await cur.fetchone())[0] or now_seconds()
            cur = await conn.execute("SELECT ivo_vor FROM vo_internal.registry_records "
                                     "WHERE identifier = %s AND NOT deleted", (self.ctx.registry_id,))
            registry_row = await cur.fetchone()
        parts = [
            "<Identify>",
            f"<repositoryName>{_x(meta.title)}</repositoryName>",
            f"<baseURL>{_x(self.base_url)}</baseURL>",
            "<protocolVersion>2.0</protocolVersion>",
            f"<adminEmail>{_x(meta.contact_email or '')}</adminEmail>",
            f"<earliestDatestamp>{format_datestamp(earliest)}</earliestDatestamp>",
            "<deletedRecord>persistent</deletedRecord>",
            f"<granularity>{SECONDS_GRANULARITY}</granularity>",
        ]
        if registry_row and registry_row[0]:  # IVOA Registry Interface: Identify carries the vg:Registry record
            parts.append(f"<description>{registry_row[0]}</description>")
        parts.append("</Identify>")
        return parts

    async def _ListMetadataFormats(self, args: dict[str, str]) -> list[str]:
        if "identifier" in args:
            await self._record_row(args["identifier"], None)
        formats = "".join(
            f"<metadataFormat><metadataPrefix>{prefix}</metadataPrefix><schema>{schema}</schema>"
            f"<metadataNamespace>{namespace}</metadataNamespace></metadataFormat>"
            for prefix, (schema, namespace) in METADATA_FORMATS.items())
        return [f"<ListMetadataFormats>{formats}</ListMetadataFormats>"]

    async def _ListSets(self, args: dict[str, str]) -> list[str]:
        if "resumptionToken" in args:
            raise OaiError("badResumptionToken", "ListSets returns every set at once and issues no resumptionToken")
        sets = "".join(f"<set><setSpec>{_x(spec)}</setSpec><setName>{_x(name)}</setName></set>"
                       for spec, name in SETS.items())
        return [f"<ListSets>{sets}</ListSets>"]

    async def _GetRecord(self, args: dict[str, str]) -> list[str]:
        prefix = self._check_prefix(args["metadataPrefix"])
        identifier, datestamp, deleted, set_specs, payload = await self._record_row(args["identifier"], prefix)
        return ["<GetRecord>", self._record(identifier, datestamp, deleted, set_specs, payload), "</GetRecord>"]

    async def _ListIdentifiers(self, args: dict[str, str]) -> list[str]:
        return await self._list("ListIdentifiers", args)

    async def _ListRecords(self, args: dict[str, str]) -> list[str]:
        return await self._list("ListRecords", args)

    # --- helpers ---------------------------------------------------------------------------

    def _check_prefix(self, prefix: str) -> str:
        if prefix not in METADATA_FORMATS:
            raise OaiError("cannotDisseminateFormat",
                           f"metadataPrefix {prefix!r} is not supported; use one of {', '.join(METADATA_FORMATS)}")
        return prefix

    async def _record_row(self, identifier: str, prefix: str | None) -> tuple:
        payload = sql.Identifier(PAYLOAD_COLUMNS[prefix]) if prefix else sql.SQL("NULL")
        query = sql.SQL("SELECT identifier, datestamp, deleted, set_specs, {} FROM vo_internal.registry_records "
                        "WHERE identifier = %s").format(payload)
        async with self.db.owner.connection() as conn:
            cur = await conn.execute(query, (identifier,))
            row = await cur.fetchone()
        if row is None:
            raise OaiError("idDoesNotExist", f"no record has the identifier {identifier!r}")
        return row

    def _list_query(self, verb: str, args: dict[str, str], secret: bytes) -> ListQuery:
        if "resumptionToken" in args:
            try:
                pos = decode_token(args["resumptionToken"], secret, time.time())
            except BadResumptionToken as exc:
                raise OaiError("badResumptionToken", str(exc)) from exc
            if pos.verb != verb:
                raise OaiError("badResumptionToken", f"this resumptionToken continues {pos.verb}, not {verb}")
            query = self._parse_list_arguments(verb, pos.metadata_prefix, pos.set_spec, pos.from_, pos.until)
            return replace(query, after=pos.after, cursor=pos.cursor)
        prefix = self._check_prefix(args["metadataPrefix"])
        return self._parse_list_arguments(verb, prefix, args.get("set"), args.get("from"), args.get("until"))

    def _parse_list_arguments(self, verb: str, prefix: str, set_spec: str | None, from_arg: str | None,
                              until_arg: str | None) -> ListQuery:
        try:
            from_time, from_granularity = parse_oai_date(from_arg) if from_arg else (None, None)
            until_time, until_granularity = parse_oai_date(until_arg, end_of_day=True) if until_arg else (None, None)
        except DateArgumentError as exc:
            raise OaiError("badArgument", f"{exc}; this repository's granularity is {SECONDS_GRANULARITY}") from exc
        if from_granularity and until_granularity and from_granularity != until_granularity:
            raise OaiError("badArgument", "from and until have different granularities")
        if from_time and until_time and from_time > until_time:
            raise OaiError("badArgument", "from is later than until")
        return ListQuery(verb, prefix, set_spec, from_arg, until_arg, from_time, until_time)

    async def _list(self, verb: str, args: dict[str, str]) -> list[str]:
        secret = await self._token_secret()
        query = self._list_query(verb, args, secret)
        with_payload = verb == "ListRecords"
        payload = sql.Identifier(PAYLOAD_COLUMNS[query.metadata_prefix]) if with_payload else sql.SQL("NULL")
        where = sql.SQL("(%(from)s::timestamptz IS NULL OR datestamp >= %(from)s) "
                        "AND (%(until)s::timestamptz IS NULL OR datestamp <= %(until)s) "
                        "AND (%(set)s::text IS NULL OR %(set)s = ANY(set_specs))")
        params = {"from": query.from_time, "until": query.until_time, "set": query.set_spec,
                  "after": query.after, "limit": self.page_size + 1}
        async with self.db.owner.connection() as conn:
            cur = await conn.execute(sql.SQL(
                "SELECT identifier, datestamp, deleted, set_specs, {} FROM vo_internal.registry_records "
                "WHERE {} AND identifier > %(after)s ORDER BY identifier LIMIT %(limit)s").format(payload, where),
                params)
            rows = await cur.fetchall()
            more = len(rows) > self.page_size
            rows = rows[:self.page_size]
            total = None
            if more or query.cursor:
                cur = await conn.execute(sql.SQL(
                    "SELECT count(*) FROM vo_internal.registry_records WHERE {}").format(where), params)
                total = (await cur.fetchone())[0]
        if not rows:
            if query.cursor:  # the list shrank under the harvester (records re-dated); end it cleanly
                return [f"<{verb}>", self._token_element(None, total or query.cursor, query.cursor), f"</{verb}>"]
            raise OaiError("noRecordsMatch", "no records match the request's from, until and set")
        parts = [f"<{verb}>"]
        for identifier, datestamp, deleted, set_specs, body in rows:
            header = self._header(identifier, datestamp, deleted, set_specs)
            parts.append(self._record(identifier, datestamp, deleted, set_specs, body) if with_payload else header)
        if total is not None:
            token, expires = None, None
            if more:
                expires = int(time.time() + self.token_lifetime)
                token = encode_token(ListPosition(verb, query.metadata_prefix, query.set_spec, query.from_arg,
                                                  query.until_arg, rows[-1][0], query.cursor + len(rows), expires),
                                     secret)
            parts.append(self._token_element(token, total, query.cursor, expires))
        parts.append(f"</{verb}>")
        return parts

    @staticmethod
    def _token_element(token: str | None, total: int, cursor: int, expires: int | None = None) -> str:
        attrs = f' completeListSize="{total}" cursor="{cursor}"'
        if expires is not None:
            attrs = f' expirationDate="{format_datestamp(datetime.fromtimestamp(expires, UTC))}"' + attrs
        return f"<resumptionToken{attrs}>{_x(token or '')}</resumptionToken>"

    @staticmethod
    def _header(identifier: str, datestamp: datetime, deleted: bool, set_specs: list[str]) -> str:
        status = ' status="deleted"' if deleted else ""
        specs = "".join(f"<setSpec>{_x(s)}</setSpec>" for s in set_specs)
        return (f"<header{status}><identifier>{_x(identifier)}</identifier>"
                f"<datestamp>{format_datestamp(datestamp)}</datestamp>{specs}</header>")

    def _record(self, identifier: str, datestamp: datetime, deleted: bool, set_specs: list[str],
                payload: str | None) -> str:
        header = self._header(identifier, datestamp, deleted, set_specs)
        if deleted or payload is None:
            return f"<record>{header}</record>"
        return f"<record>{header}<metadata>{payload}</metadata></record>"

    def _document(self, arguments: Sequence[tuple[str, str]], errors: Sequence[OaiError] = (),
                  body: list[str] | None = None) -> list[str]:
        """The OAI-PMH envelope.  After badVerb/badArgument the request element carries no attributes."""
        plain = any(e.code in ("badVerb", "badArgument") for e in errors)
        attrs = "" if plain else "".join(f" {name}={quoteattr(value)}" for name, value in arguments)
        head = (f'<?xml version="1.0" encoding="UTF-8"?>\n'
                f'<OAI-PMH xmlns="{OAI_NS}" xmlns:xsi="{XSI_NS}" xsi:schemaLocation="{OAI_SCHEMA_LOCATION}">'
                f"<responseDate>{format_datestamp(now_seconds())}</responseDate>"
                f"<request{attrs}>{_x(self.base_url)}</request>")
        errs = [f'<error code="{e.code}">{_x(e.message)}</error>' for e in errors]
        return [head, *errs, *(body or []), "</OAI-PMH>\n"]
