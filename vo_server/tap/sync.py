"""TAP /sync: run the query now and stream the result.

Everything that can fail before the first byte (parameters, uploads, ADQL,
the database accepting the query and producing the first batch) is answered
with the DALI error document and a proper status; afterwards rows stream and
a late failure is reported inside the result (QUERY_STATUS=ERROR)."""

from __future__ import annotations

from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from vo_server.query.respond import start_query
from vo_server.query.run import QueryFailed, QueryResult
from vo_server.tap.errors import TapError, error_response
from vo_server.tap.params import parse_query_request, read_params
from vo_server.tap.service import TapService
from vo_server.tap.uploads import UploadSet, load_uploads, parse_upload_specs, release

TIMEOUT_STATUS = 408
SMALL_RESULT_BYTES = 256 * 1024


def query_failed(exc: QueryFailed) -> TapError:
    return TapError(exc.message, status=TIMEOUT_STATUS if exc.timeout else 400, timeout=exc.timeout)


async def sync_query(request: Request) -> Response:
    service: TapService = request.app.state.tap
    settings = service.settings
    uploads: UploadSet | None = None
    try:
        params = await read_params(request, settings.tap_upload_max_bytes)
        query = parse_query_request(params, settings.tap_max_rec, settings.tap_max_rec_limit)
        specs = parse_upload_specs(query.uploads)
        uploads = await load_uploads(settings, service.db.target, specs, params.files)
        plan = await service.plan(query, uploads)
        result = await start_query(service.db, plan, columnar=query.output.columnar)
    except TapError as exc:
        await release(service.db.target, uploads)
        return error_response(exc)
    except QueryFailed as exc:
        await release(service.db.target, uploads)
        return error_response(query_failed(exc))
    except BaseException:
        await release(service.db.target, uploads)  # never leave an upload schema behind
        raise
    body = _stream(service, query.output.stream, result, uploads)
    return await small_or_streaming(body, query.output.mime)


async def small_or_streaming(body: AsyncIterator[bytes], media_type: str) -> Response:
    """A result that ends within ``SMALL_RESULT_BYTES`` goes out as one body
    with Content-Length (no chunked encoding, no streaming task: the common
    small query is noticeably cheaper); a larger one streams, starting with
    what was already read."""
    head: list[bytes] = []
    size = 0
    try:
        async for chunk in body:
            head.append(chunk)
            size += len(chunk)
            if size > SMALL_RESULT_BYTES:
                return StreamingResponse(_prefixed(head, body), media_type=media_type)
    except BaseException:
        await body.aclose()  # releases the query connection and the upload schema now
        raise
    return Response(b"".join(head), media_type=media_type)


async def _prefixed(head: list[bytes], rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    for chunk in head:
        yield chunk
    async for chunk in rest:
        yield chunk


async def _stream(service: TapService, writer, result: QueryResult,  # noqa: ANN001
                  uploads: UploadSet | None) -> AsyncIterator[bytes]:
    try:
        async for chunk in writer(result):
            yield chunk
    finally:
        await result.__aexit__(None, None, None)
        await release(service.db.target, uploads)
