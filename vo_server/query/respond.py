"""HTTP responses for a query plan: the query is started (and its first batch
fetched) before the response begins, so failures get a proper status and an
error document; afterwards rows stream and a late failure is reported inside
the VOTable."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.responses import Response, StreamingResponse

from vo_server.db.pools import Database
from vo_server.formats.votable import MIME_TYPE, error_document, votable_stream
from vo_server.query.run import QueryFailed, QueryPlan, QueryResult, run_query


async def start_query(db: Database, plan: QueryPlan, columnar: bool = False) -> QueryResult:
    """A running query (caller must ``await result.__aexit__(None, None, None)``);
    ``columnar`` for writers that use the binary COPY fast path (BINARY2)."""
    result = run_query(db, plan, columnar=columnar)
    await result.__aenter__()
    return result


def votable_error_response(message: str, status_code: int = 400) -> Response:
    return Response(error_document(message), status_code=status_code, media_type=MIME_TYPE)


async def votable_response(db: Database, plan: QueryPlan, serialization: str = "binary2",
                           error_status: int = 400, timeout_status: int = 408) -> Response:
    try:
        result = await start_query(db, plan, columnar=serialization == "binary2")
    except QueryFailed as exc:
        return votable_error_response(exc.message, timeout_status if exc.timeout else error_status)

    async def body() -> AsyncIterator[bytes]:
        try:
            async for chunk in votable_stream(result, serialization):
                yield chunk
        finally:
            await result.__aexit__(None, None, None)

    return StreamingResponse(body(), media_type=MIME_TYPE)
