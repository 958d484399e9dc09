"""Reading TAP request parameters as DALI says: names case-insensitive,
from the query string and the body (urlencoded or multipart), several
values per name kept in order; multipart file parts kept for uploads."""

from __future__ import annotations

from dataclasses import dataclass, field

from starlette.datastructures import UploadFile
from starlette.requests import Request

from vo_server.formats.registry import OutputFormat, find_format, format_names
from vo_server.tap.errors import TapError

LANGUAGES = ("ADQL", "ADQL-2.0", "ADQL-2.1")
MAX_FORM_FIELDS = 1000


@dataclass
class RequestParams:
    """All parameters (lower-case name -> values) and the uploaded file parts (by part name)."""

    values: dict[str, list[str]] = field(default_factory=dict)
    files: dict[str, UploadFile] = field(default_factory=dict)

    def get(self, name: str) -> str | None:
        found = self.values.get(name.lower())
        return found[-1] if found else None

    def all(self, name: str) -> list[str]:
        return list(self.values.get(name.lower(), []))

    def add(self, name: str, value: str) -> None:
        self.values.setdefault(name.lower(), []).append(value)


async def read_params(request: Request, max_upload_bytes: int) -> RequestParams:
    params = RequestParams()
    for name, value in request.query_params.multi_items():
        params.add(name, value)
    if request.method != "POST":
        return params
    content_type = request.headers.get("content-type", "").lower()
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > max_upload_bytes + 1_000_000:
        raise TapError(f"request body of {int(length)} bytes exceeds the upload limit of {max_upload_bytes} bytes",
                       status=413)
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        try:
            form = await request.form(max_files=64, max_fields=MAX_FORM_FIELDS,
                                      max_part_size=max_upload_bytes + 1)
        except Exception as exc:  # malformed multipart body: starlette raises several kinds
            raise TapError(f"could not read the request body: {exc}") from None
        for name, value in form.multi_items():
            if isinstance(value, UploadFile):
                if value.size is not None and value.size > max_upload_bytes:
                    raise TapError(f"upload part {name!r} has {value.size} bytes, more than the limit of "
                                   f"{max_upload_bytes} bytes", status=413)
                params.files[name] = value
            else:
                params.add(name, value)
    elif content_type and not content_type.startswith("text/plain"):
        body = await request.body()
        if body:
            raise TapError(f"unsupported request body type {content_type!r}: use "
                           "application/x-www-form-urlencoded or multipart/form-data")
    return params


@dataclass(frozen=True)
class QueryRequest:
    """A validated TAP query request."""

    query: str
    lang: str
    max_rec: int
    output: OutputFormat
    uploads: list[str]
    run_id: str | None


def check_request(params: RequestParams) -> None:
    request = params.get("REQUEST")
    if request is not None and request.strip().lower() != "doquery":
        raise TapError(f"REQUEST={request!r} is not supported: TAP 1.1 needs no REQUEST (or REQUEST=doQuery)")


def parse_query_request(params: RequestParams, default_max_rec: int, max_rec_limit: int) -> QueryRequest:
    check_request(params)
    lang = params.get("LANG")
    if lang is None or not lang.strip():
        raise TapError("missing parameter LANG: use LANG=ADQL")
    if lang.strip().upper() not in LANGUAGES:
        raise TapError(f"unsupported query language LANG={lang!r}: this service supports {', '.join(LANGUAGES)}")
    query = params.get("QUERY")
    if query is None or not query.strip():
        raise TapError("missing parameter QUERY: give the ADQL query to run")
    return QueryRequest(query=query, lang=lang.strip().upper(),
                        max_rec=parse_max_rec(params.get("MAXREC"), default_max_rec, max_rec_limit),
                        output=parse_format(params), uploads=params.all("UPLOAD"), run_id=params.get("RUNID"))


def parse_max_rec(value: str | None, default: int, limit: int) -> int:
    """MAXREC as DALI says: a non-negative integer; larger than the hard limit means the limit."""
    if value is None or not value.strip():
        return default
    try:
        number = int(value.strip())
    except ValueError:
        raise TapError(f"MAXREC={value!r} is not an integer: give a number of rows >= 0") from None
    if number < 0:
        raise TapError(f"MAXREC={value!r} is negative: give a number of rows >= 0")
    return min(number, limit)


def parse_format(params: RequestParams) -> OutputFormat:
    value = params.get("RESPONSEFORMAT")
    if value is None:
        value = params.get("FORMAT")
    found = find_format(value)
    if found is None:
        raise TapError(f"unsupported RESPONSEFORMAT={value!r}: use one of {', '.join(format_names())} "
                       "(or their MIME types)")
    return found
