"""The JSON result shape (documented in docs/tap.md)::

    {"columns": [{"name", "datatype", "arraysize", "xtype", "unit", "ucd",
                  "utype", "description"}, ...],
     "data": [[v, ...], ...],
     "status": "OK" | "OVERFLOW" | "ERROR",
     "message": "... (ERROR only)",
     "infos": {"QUERY": "...", ...}}

Values: numbers, strings, true/false, null (also for NaN); timestamps as
ISO 8601 strings; points/polygons as arrays of numbers.  Streamed: the rows
are written as they arrive and the status comes last.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import asdict

from vo_server.formats.values import json_value
from vo_server.query.run import QueryFailed, QueryResult


async def json_stream(result: QueryResult) -> AsyncIterator[bytes]:
    plan = result.plan
    columns = [{k: v for k, v in asdict(f).items() if v is not None} for f in plan.fields]
    yield ('{"columns": ' + json.dumps(columns) + ', "data": [\n').encode()
    failure: QueryFailed | None = None
    first = True
    try:
        async for batch in result.batches():
            text = ",\n".join(json.dumps([json_value(v) for v in row], allow_nan=False) for row in batch)
            yield (text if first else ",\n" + text).encode()
            first = False
    except QueryFailed as exc:
        failure = exc
    tail: dict[str, object] = {"status": "ERROR" if failure else "OVERFLOW" if result.overflow else "OK"}
    if failure is not None:
        tail["message"] = failure.message
    tail["infos"] = dict(plan.infos)
    yield ("\n], " + json.dumps(tail)[1:] + "\n").encode()
