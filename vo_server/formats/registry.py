"""Output formats: what a client may put in RESPONSEFORMAT (short names,
MIME types, IVOA identifiers), the MIME type we answer with, and the writer.
TAPRegExt capabilities and the TAP/SCS/SIA parameter parsing both read this
one list."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from functools import partial

from vo_server.formats.fits import fits_stream
from vo_server.formats.json_table import json_stream
from vo_server.formats.parquet import parquet_stream
from vo_server.formats.text import csv_stream, tsv_stream
from vo_server.formats.votable import votable_stream
from vo_server.query.run import QueryResult

Writer = Callable[[QueryResult], AsyncIterator[bytes]]


@dataclass(frozen=True)
class OutputFormat:
    """``mime`` is the Content-Type we send and publish; ``aliases`` are the
    other RESPONSEFORMAT values accepted (case-insensitive)."""

    name: str
    mime: str
    aliases: tuple[str, ...]
    extension: str
    writer: Writer
    ivo_id: str | None = None
    description: str = ""
    votable: bool = False
    columnar: bool = False  # the writer uses the binary COPY fast path when the result allows it

    def stream(self, result: QueryResult) -> AsyncIterator[bytes]:
        return self.writer(result)


_TAPREGEXT = "ivo://ivoa.net/std/TAPRegExt#"

FORMATS: tuple[OutputFormat, ...] = (
    OutputFormat("votable", "application/x-votable+xml", (
        "votable", "votable/b2", "votableb2", "application/x-votable+xml;serialization=binary2",
        "application/x-votable+xml; serialization=binary2", "text/xml", "application/xml", "votable/binary2"),
        "vot", partial(votable_stream, serialization="binary2"), _TAPREGEXT + "output-votable-binary2",
        "VOTable 1.4, BINARY2 serialisation (default)", votable=True, columnar=True),
    OutputFormat("votable1.5", "application/x-votable+xml;version=1.5", (
        "votable1.5", "votable/1.5", "votable/b2;version=1.5", "application/x-votable+xml;version=1.5",
        "application/x-votable+xml;serialization=binary2;version=1.5",
        "application/x-votable+xml;version=1.5;serialization=binary2"),
        "vot", partial(votable_stream, serialization="binary2", version="1.5"), _TAPREGEXT + "output-votable-binary2",
        "VOTable 1.5, BINARY2 serialisation", votable=True, columnar=True),
    OutputFormat("votable/td", "application/x-votable+xml;serialization=TABLEDATA", (
        "votable/td", "votabletd", "application/x-votable+xml;serialization=tabledata",
        "application/x-votable+xml; serialization=tabledata", "text/xml;serialization=tabledata"),
        "vot", partial(votable_stream, serialization="tabledata"), _TAPREGEXT + "output-votable-td",
        "VOTable 1.4, TABLEDATA (XML) serialisation", votable=True),
    OutputFormat("votable/b", "application/x-votable+xml;serialization=BINARY", (
        "votable/b", "votableb", "votable/binary", "application/x-votable+xml;serialization=binary",
        "application/x-votable+xml; serialization=binary"),
        "vot", partial(votable_stream, serialization="binary"), _TAPREGEXT + "output-votable-binary",
        "VOTable 1.4, BINARY serialisation", votable=True),
    OutputFormat("csv", "text/csv;header=present", ("csv", "text/csv", "text/csv; header=present"),
                 "csv", csv_stream, None, "comma-separated values with a header line"),
    OutputFormat("tsv", "text/tab-separated-values", ("tsv", "text/tsv", "text/tab-separated-values"),
                 "tsv", tsv_stream, None, "tab-separated values with a header line"),
    OutputFormat("fits", "application/fits", ("fits", "application/x-fits-bintable", "image/fits"),
                 "fits", fits_stream, None, "FITS binary table"),
    OutputFormat("json", "application/json", ("json", "text/json"),
                 "json", json_stream, None, "JSON: column metadata and rows (see the TAP documentation)"),
    OutputFormat("parquet", "application/vnd.apache.parquet", (
        "parquet", "vo-parquet", "voparquet", "application/x-parquet", "application/parquet"),
        "parquet", parquet_stream, None, "VOParquet: Parquet with the VOTable metadata"),
)

DEFAULT_FORMAT = FORMATS[0]


def _key(value: str) -> str:
    return "".join(value.lower().split())


_BY_NAME = {_key(a): f for f in FORMATS for a in (f.name, f.mime, *f.aliases)}


def find_format(value: str | None) -> OutputFormat | None:
    """The format a RESPONSEFORMAT/FORMAT value asks for (None/'' = default); None if unknown."""
    if value is None or not value.strip():
        return DEFAULT_FORMAT
    return _BY_NAME.get(_key(value))


def format_names() -> list[str]:
    return [f.name for f in FORMATS]
