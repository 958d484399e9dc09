"""Errors of the TAP service, in the form DALI prescribes: an error VOTable
(QUERY_STATUS=ERROR, message as content) with an HTTP status saying whose
fault it is."""

from __future__ import annotations

from starlette.responses import Response

from vo_server.formats.votable import MIME_TYPE, error_document


class TapError(Exception):
    """A request the service refuses; ``status`` is the HTTP status to send
    (400 bad input, 404 unknown resource, 413 upload too large, 503 ...)."""

    def __init__(self, message: str, status: int = 400, timeout: bool = False):
        super().__init__(message)
        self.message = message
        self.status = status
        self.timeout = timeout


def error_response(error: TapError) -> Response:
    infos = [("TIMEOUT", "true")] if error.timeout else []
    return Response(error_document(error.message, infos), status_code=error.status, media_type=MIME_TYPE)
