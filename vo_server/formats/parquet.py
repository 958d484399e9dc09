"""VOParquet writer: Apache Parquet whose file metadata carries the VOTable
description of the columns (IVOA VOParquet convention: keys
``IVOA.VOTable-Parquet.version`` and ``IVOA.VOTable-Parquet.content``), so
TOPCAT/STILTS and astropy recover units, UCDs and xtypes.

Row groups are written as rows arrive and flushed to the client; the
VOTable metadata (with QUERY_STATUS, OVERFLOW included) goes into the footer.
"""

from __future__ import annotations

import io
from collections.abc import AsyncIterator

import pyarrow.parquet as pq

from vo_server.formats.arrow import arrow_schema, record_batch
from vo_server.formats.votable import HEAD, field_element, info
from vo_server.query.run import QueryFailed, QueryResult

ROW_GROUP_ROWS = 65536
MIME_TYPE = "application/vnd.apache.parquet"


class ChunkSink(io.RawIOBase):
    """A write-only file that hands what was written to the caller in chunks."""

    def __init__(self) -> None:
        self.chunks: list[bytes] = []
        self.position = 0

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:  # type: ignore[override]
        self.chunks.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def drain(self) -> bytes:
        out, self.chunks = b"".join(self.chunks), []
        return out


def votable_metadata(result: QueryResult, failure: QueryFailed | None) -> str:
    plan = result.plan
    status = info("QUERY_STATUS", "ERROR", failure.message) if failure else info(
        "QUERY_STATUS", "OVERFLOW" if result.overflow else "OK")
    return (HEAD + '<RESOURCE type="results">\n' + status + "".join(info(n, v) for n, v in plan.infos) +
            "<TABLE>\n" + "".join(field_element(f) for f in plan.fields) + "</TABLE>\n</RESOURCE>\n</VOTABLE>\n")


async def parquet_stream(result: QueryResult) -> AsyncIterator[bytes]:
    fields = result.plan.fields
    schema = arrow_schema(fields)
    sink = ChunkSink()
    writer = pq.ParquetWriter(sink, schema, compression="zstd")
    pending: list = []
    pending_rows = 0
    failure: QueryFailed | None = None

    def flush() -> None:
        nonlocal pending, pending_rows
        if pending:
            writer.write_batch(record_batch(schema, fields, pending), row_group_size=ROW_GROUP_ROWS)
        pending, pending_rows = [], 0

    try:
        async for batch in result.batches():
            pending.extend(batch)
            pending_rows += len(batch)
            if pending_rows >= ROW_GROUP_ROWS:
                flush()
                chunk = sink.drain()
                if chunk:
                    yield chunk
    except QueryFailed as exc:
        failure = exc
    flush()
    writer.add_key_value_metadata({"IVOA.VOTable-Parquet.version": "1.0",
                                   "IVOA.VOTable-Parquet.content": votable_metadata(result, failure)})
    writer.close()
    yield sink.drain()
