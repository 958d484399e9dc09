"""Streaming VOTable writer for query results (BINARY2, BINARY or TABLEDATA;
version 1.4 by default, 1.5 on request), and the DALI error document.

VOTable 1.5 keeps the 1.3 namespace and every element we write; what
changes for our documents is the ``version`` attribute (its additions, e.g.
COOSYS ``refposition`` and MIVOT annotations, are optional).

The document is produced as chunks: the header with FIELDs once, then each
batch of rows encoded as it arrives, then the trailer, which carries
QUERY_STATUS=OVERFLOW when the row limit cut the result, or ERROR when the
query failed after output had started.
"""

from __future__ import annotations

import base64
import datetime as dt
from collections.abc import AsyncIterator, Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from vo_server.formats.binary2 import INTEGER_NULLS, encode_rows, fixed_count, is_variable
from vo_server.formats.fields import Field
from vo_server.query.run import QueryFailed, QueryResult

VOTABLE_NS = "http://www.ivoa.net/xml/VOTable/v1.3"
SERIALIZATIONS = ("binary2", "binary", "tabledata")
MIME_TYPE = "application/x-votable+xml"

VERSIONS = ("1.4", "1.5")
DEFAULT_VERSION = "1.4"  # what every client reads; 1.5 is asked for with RESPONSEFORMAT


def document_head(version: str = DEFAULT_VERSION) -> str:
    if version not in VERSIONS:
        raise ValueError(f"VOTable version {version!r} is not one of {VERSIONS}")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<VOTABLE version="{version}" xmlns="{VOTABLE_NS}" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" '
            f'xsi:schemaLocation="{VOTABLE_NS} http://www.ivoa.net/xml/VOTable/v1.3">\n')


HEAD = document_head()


def _attrs(**values: str | None) -> str:
    return "".join(f" {k}={quoteattr(v)}" for k, v in values.items() if v)


def info(name: str, value: str, content: str | None = None) -> str:
    if content is None:
        return f"<INFO{_attrs(name=name, value=value)}/>\n"
    return f"<INFO{_attrs(name=name, value=value)}>{escape(content)}</INFO>\n"


def _is_icrs_position(field: Field) -> bool:
    return bool(field.ucd) and field.ucd.lower().startswith(("pos.eq.ra", "pos.eq.dec"))


def field_element(field: Field, ref: str | None = None, declare_null: bool = False) -> str:
    """A FIELD; ``declare_null`` adds <VALUES null> to integer scalars (BINARY has no null bitmap)."""
    attrs = _attrs(name=field.name, datatype=field.datatype, arraysize=field.arraysize, xtype=field.xtype,
                   unit=field.unit, ucd=field.ucd, utype=field.utype, ref=ref)
    inner = f"<DESCRIPTION>{escape(field.description)}</DESCRIPTION>" if field.description else ""
    if declare_null and field.datatype in INTEGER_NULLS and fixed_count(field) == 1 and not is_variable(field):
        inner += f'<VALUES null="{INTEGER_NULLS[field.datatype]}"/>'
    if inner:
        return f"<FIELD{attrs}>{inner}</FIELD>\n"
    return f"<FIELD{attrs}/>\n"


DATA_OPEN = {"binary2": '<DATA><BINARY2><STREAM encoding="base64">\n',
             "binary": '<DATA><BINARY><STREAM encoding="base64">\n', "tabledata": "<DATA><TABLEDATA>\n"}
DATA_CLOSE = {"binary2": "</STREAM></BINARY2></DATA>\n", "binary": "</STREAM></BINARY></DATA>\n",
              "tabledata": "</TABLEDATA></DATA>\n"}


def header(fields: Sequence[Field], infos: Sequence[tuple[str, str]], serialization: str,
           version: str = DEFAULT_VERSION) -> str:
    parts = [document_head(version), '<RESOURCE type="results">\n', info("QUERY_STATUS", "OK")]
    parts += [info(name, value) for name, value in infos]
    has_positions = any(_is_icrs_position(f) for f in fields)
    if has_positions:
        parts.append('<COOSYS ID="coosys_icrs" system="ICRS"/>\n')
    parts.append("<TABLE>\n")
    parts += [field_element(f, "coosys_icrs" if _is_icrs_position(f) else None, serialization == "binary")
              for f in fields]
    parts.append(DATA_OPEN[serialization])
    return "".join(parts)


def _cell(value: Any) -> str:
    if value is None:
        return "<TD/>"
    if isinstance(value, bool):
        return "<TD>T</TD>" if value else "<TD>F</TD>"
    if isinstance(value, list | tuple):
        return "<TD>" + " ".join("NaN" if v is None else repr(float(v)) if isinstance(v, float) else str(v)
                                 for v in value) + "</TD>"
    if isinstance(value, dt.datetime | dt.date):
        return f"<TD>{value.isoformat()}</TD>"
    if isinstance(value, float):
        return f"<TD>{value!r}</TD>" if value == value else "<TD>NaN</TD>"
    return f"<TD>{escape(str(value))}</TD>"


def tabledata_rows(rows: Sequence[Sequence[Any]]) -> str:
    return "".join("<TR>" + "".join(_cell(v) for v in row) + "</TR>\n" for row in rows)


class Base64Stream:
    """base64 across batches: carry the bytes that do not fill a 3-byte group."""

    def __init__(self) -> None:
        self.pending = b""

    def feed(self, data: bytes) -> bytes:
        data = self.pending + data
        cut = len(data) - len(data) % 3
        self.pending = data[cut:]
        # one line per batch (base64.encodebytes' 76-character lines cost a Python loop per line)
        return base64.b64encode(data[:cut]) + b"\n" if cut else b""

    def flush(self) -> bytes:
        tail, self.pending = self.pending, b""
        return base64.b64encode(tail) + b"\n" if tail else b""


async def votable_stream(result: QueryResult, serialization: str = "binary2",
                         version: str = DEFAULT_VERSION) -> AsyncIterator[bytes]:
    """The VOTable of a running query, chunk by chunk."""
    plan = result.plan
    yield header(plan.fields, plan.infos, serialization, version).encode()
    encoder = Base64Stream()
    failure: QueryFailed | None = None
    try:
        if result.columnar and serialization == "binary2":
            async for encoded in result.binary2_batches():
                yield encoder.feed(encoded)
        else:
            async for batch in result.batches():
                if serialization != "tabledata":
                    yield encoder.feed(encode_rows(plan.fields, batch, null_bitmap=serialization == "binary2"))
                else:
                    yield tabledata_rows(batch).encode()
    except QueryFailed as exc:
        failure = exc
    tail = [encoder.flush().decode(), DATA_CLOSE[serialization], "</TABLE>\n"]
    if failure is not None:
        tail.append(info("QUERY_STATUS", "ERROR", failure.message))
    elif result.overflow:
        tail.append(info("QUERY_STATUS", "OVERFLOW"))
    tail.append("</RESOURCE>\n</VOTABLE>\n")
    yield "".join(tail).encode()


def error_document(message: str, infos: Sequence[tuple[str, str]] = ()) -> bytes:
    """DALI error VOTable: QUERY_STATUS=ERROR with the message as content."""
    extra = "".join(info(name, value) for name, value in infos)
    return (HEAD + '<RESOURCE type="results">\n' + info("QUERY_STATUS", "ERROR", message) + extra +
            "</RESOURCE>\n</VOTABLE>\n").encode()
