"""CSV (RFC 4180, with header) and TSV (IANA text/tab-separated-values)
writers, streamed batch by batch.

Neither format has a place for metadata, so a truncated (OVERFLOW) or failed
result is reported in a last line beginning with ``#`` (documented in
docs/tap.md): a silent truncation would be worse than a comment line.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator

from vo_server.formats.values import text_value
from vo_server.query.run import QueryFailed, QueryResult


def status_line(result: QueryResult, failure: QueryFailed | None) -> str:
    if failure is not None:
        return f"# QUERY_STATUS=ERROR: {failure.message}\r\n"
    if result.overflow:
        return (f"# QUERY_STATUS=OVERFLOW: the result was truncated after {result.rows_sent} rows "
                "(MAXREC); ask for more rows or narrow the query\r\n")
    return ""


async def csv_stream(result: QueryResult) -> AsyncIterator[bytes]:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([f.name for f in result.plan.fields])
    yield buffer.getvalue().encode()
    failure: QueryFailed | None = None
    try:
        async for batch in result.batches():
            buffer.seek(0)
            buffer.truncate()
            writer.writerows([[text_value(v) for v in row] for row in batch])
            yield buffer.getvalue().encode()
    except QueryFailed as exc:
        failure = exc
    tail = status_line(result, failure)
    if tail:
        yield tail.encode()


def _tsv_cell(value: object) -> str:
    text = text_value(value)
    if "\t" in text or "\n" in text or "\r" in text or "\\" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


async def tsv_stream(result: QueryResult) -> AsyncIterator[bytes]:
    yield ("\t".join(f.name for f in result.plan.fields) + "\r\n").encode()
    failure: QueryFailed | None = None
    try:
        async for batch in result.batches():
            yield "".join("\t".join(_tsv_cell(v) for v in row) + "\r\n" for row in batch).encode()
    except QueryFailed as exc:
        failure = exc
    tail = status_line(result, failure)
    if tail:
        yield tail.encode()
