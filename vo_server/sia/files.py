"""``/sia/files/{collection}/{path}``: the image files behind access_url.

Only files recorded by ingest are served: the client's path is looked up in
vo_internal.image_files (never joined to a directory first), and the file it
names must still resolve inside its collection's directory (a symlink placed
there later cannot lead out).  Responses carry Content-Type,
Content-Length, ETag and Last-Modified, honour If-None-Match /
If-Modified-Since (304) and byte Range requests (206/416).
"""

from __future__ import annotations

import email.utils
import os
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, Response

NOT_FOUND = "no such file in the published image collections"


async def published_file(request: Request, collection: str, relpath: str) -> tuple[Path, str] | None:
    """(absolute path, content type) of a published file, or None."""
    async with request.app.state.db.owner.connection() as conn:
        cur = await conn.execute(
            "SELECT c.directory, f.content_type FROM vo_internal.image_files f "
            "JOIN vo_internal.image_collections c ON c.name = f.collection "
            "WHERE f.collection = %s AND f.relpath = %s", (collection, relpath))
        row = await cur.fetchone()
    if row is None:
        return None
    directory = Path(row[0]).resolve()
    path = (directory / relpath).resolve()
    if not path.is_relative_to(directory) or not path.is_file():
        return None
    return path, row[1]


def _not_modified(request: Request, response: FileResponse) -> bool:
    etag = response.headers.get("etag")
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        tags = [t.strip().removeprefix("W/") for t in if_none_match.split(",")]
        return "*" in tags or etag in tags
    since = request.headers.get("if-modified-since")
    if since:
        try:
            since_time = email.utils.parsedate_to_datetime(since)
            modified = email.utils.parsedate_to_datetime(response.headers["last-modified"])
        except (TypeError, ValueError, KeyError):
            return False
        return modified <= since_time
    return False


async def serve_file(request: Request) -> Response:
    collection = request.path_params["collection"]
    relpath = request.path_params["path"]
    if "\x00" in relpath or relpath.startswith("/"):
        return PlainTextResponse(NOT_FOUND, status_code=404)
    found = await published_file(request, collection, relpath)
    if found is None:
        return PlainTextResponse(NOT_FOUND, status_code=404)
    path, media_type = found
    stat = os.stat(path)
    response = FileResponse(path, media_type=media_type, stat_result=stat,
                            filename=path.name, content_disposition_type="inline")
    if _not_modified(request, response):
        headers = {k: v for k, v in response.headers.items() if k in ("etag", "last-modified")}
        return Response(status_code=304, headers=headers)
    return response
