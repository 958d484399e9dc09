"""TAP /async: the UWS 1.1 HTTP binding (job list with PHASE/AFTER/LAST
filters, job creation with optional PHASE=RUN, the job document with WAIT,
every child resource, PHASE=RUN/ABORT, DESTRUCTION, EXECUTIONDURATION,
DELETE and ACTION=DELETE, 303 redirects)."""

from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import time

from starlette.requests import Request
from starlette.responses import FileResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from vo_server.formats.votable import MIME_TYPE, error_document
from vo_server.tap.errors import TapError, error_response
from vo_server.tap.estimate import completion_quote, estimate_job
from vo_server.tap.jobs import ACTIVE_PHASES, PHASES, Job, JobStore, new_job_id
from vo_server.tap.params import RequestParams, read_params
from vo_server.tap.service import TapService
from vo_server.tap.uploads import check_sources, parse_upload_specs, save_part
from vo_server.tap.uws_xml import (
    HEAD,
    NAMESPACES,
    iso,
    job_document,
    job_list,
    parameters_element,
    results_element,
)

CONTROL_BODY_BYTES = 1_000_000  # bodies of phase/destruction/... POSTs (no files)
MAX_WAIT_SECONDS = 60.0
WAIT_POLL_SECONDS = 0.1
CONTROL_PARAMS = ("phase", "action", "destruction", "executionduration", "wait")
XML = "text/xml"


def _service(request: Request) -> TapService:
    return request.app.state.tap


def _base(request: Request) -> str:
    return _service(request).settings.public_url + "/tap/async"


def _store(request: Request) -> JobStore:
    return request.app.state.tap_jobs.store


def parse_datetime(value: str, what: str) -> dt.datetime:
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    try:
        parsed = dt.datetime.fromisoformat(text)
    except ValueError:
        raise TapError(f"{what}={value!r} is not an ISO 8601 date-time (e.g. 2030-01-01T00:00:00Z)") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def parse_destruction(value: str, service: TapService, creation: dt.datetime) -> dt.datetime:
    when = parse_datetime(value, "DESTRUCTION")
    if when <= dt.datetime.now(dt.UTC):
        raise TapError(f"DESTRUCTION={value!r} is in the past")
    latest = creation + dt.timedelta(seconds=service.settings.tap_async_destruction)
    return min(when, latest)


def parse_execution_duration(value: str, service: TapService) -> int:
    hard = service.settings.tap_async_execution_duration
    try:
        seconds = int(value.strip())
    except ValueError:
        raise TapError(f"EXECUTIONDURATION={value!r} is not a whole number of seconds") from None
    if seconds < 0:
        raise TapError(f"EXECUTIONDURATION={value!r} is negative")
    return hard if seconds == 0 or seconds > hard else seconds


def job_parameters(params: RequestParams) -> dict[str, list[str]]:
    return {name: values for name, values in params.values.items() if name not in CONTROL_PARAMS}


async def _load_job(request: Request) -> Job:
    job = await _store(request).get(request.path_params["job_id"])
    if job is None:
        raise TapError(f"no job {request.path_params['job_id']!r} (it may have been deleted or destroyed)",
                       status=404)
    return job


async def _quoted(request: Request, job: Job) -> Job:
    """``job`` ready for its quote: a QUEUED job's counts the jobs ahead,
    shared by every server process's workers (only the quote and the job
    document need it, not every child resource a WAIT loop polls)."""
    if job.phase == "QUEUED":
        settings = _service(request).settings
        slots = max(1, settings.tap_async_workers) * max(1, settings.workers)
        job.queue_wait_seconds = await _store(request).work_ahead(job) / slots
    return job


def _redirect(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


def handles_errors(handler):  # noqa: ANN001, ANN201 - decorator for Starlette endpoints
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except TapError as exc:
            return error_response(exc)
    wrapped.__name__ = handler.__name__
    return wrapped


@handles_errors
async def jobs_endpoint(request: Request) -> Response:
    service = _service(request)
    params = await read_params(request, service.settings.tap_upload_max_bytes)
    if request.method == "POST":
        return await create_job(request, params)
    phases = [p.strip().upper() for p in params.all("PHASE")]
    unknown = [p for p in phases if p not in PHASES]
    if unknown:
        raise TapError(f"PHASE={unknown[0]!r} is not a UWS phase: use one of {', '.join(PHASES)}")
    after = parse_datetime(params.get("AFTER"), "AFTER") if params.get("AFTER") else None
    last = None
    if params.get("LAST") is not None:
        try:
            last = int(params.get("LAST") or "")
        except ValueError:
            last = -1
        if last < 1:
            raise TapError(f"LAST={params.get('LAST')!r}: give a positive number of jobs")
    jobs = await _store(request).list(phases, after, last)
    return Response(job_list(jobs, _base(request)), media_type=XML)


async def create_job(request: Request, params: RequestParams) -> Response:
    service = _service(request)
    settings = service.settings
    # Query parameters (LANG, QUERY, MAXREC, RESPONSEFORMAT) are checked when the job runs: UWS
    # accepts a job and reports what is wrong with it as phase ERROR with the error document.
    specs = parse_upload_specs(params.all("UPLOAD"))
    check_sources(specs, set(params.files))
    phase = params.get("PHASE")
    if phase is not None and phase.strip().upper() not in ("RUN", ""):
        raise TapError(f"PHASE={phase!r} on job creation: only PHASE=RUN is allowed")
    now = dt.datetime.now(dt.UTC)
    destruction = now + dt.timedelta(seconds=settings.tap_async_destruction)
    if params.get("DESTRUCTION"):
        destruction = parse_destruction(params.get("DESTRUCTION") or "", service, now)
    duration = settings.tap_async_execution_duration
    if params.get("EXECUTIONDURATION"):
        duration = parse_execution_duration(params.get("EXECUTIONDURATION") or "", service)
    job_id = new_job_id()
    stored: dict[str, str] = {}
    if params.files:
        directory = settings.data_dir / "uploads" / job_id
        directory.mkdir(parents=True, exist_ok=True)
        try:
            for i, (part, upload) in enumerate(params.files.items()):
                path = (directory / f"part{i}").resolve()
                await save_part(upload, path, settings.tap_upload_max_bytes)
                stored[part] = str(path)
        except BaseException:
            shutil.rmtree(directory, ignore_errors=True)
            raise
    run = phase is not None and phase.strip().upper() == "RUN"
    parameters = job_parameters(params)
    await _store(request).create(job_id, parameters, stored, params.get("RUNID"), duration, destruction, run,
                                 estimated_seconds=await estimate_job(service, parameters))
    if run:
        request.app.state.tap_jobs.notify()
    return _redirect(f"{_base(request)}/{job_id}")


@handles_errors
async def job_endpoint(request: Request) -> Response:
    service = _service(request)
    if request.method == "DELETE":
        return await delete_job(request)
    params = await read_params(request, service.settings.tap_upload_max_bytes)
    if request.method == "POST":
        return await update_job(request, params)
    job = await _load_job(request)
    wait = params.get("WAIT")
    if wait is not None:
        job = await wait_for_change(request, job, wait, params.get("PHASE"))
    return Response(job_document(await _quoted(request, job), _base(request)), media_type=XML)


async def wait_for_change(request: Request, job: Job, wait: str, phase: str | None) -> Job:
    """UWS 1.1 blocking: return when the phase changes or WAIT seconds pass
    (-1: the server's maximum); only active phases block."""
    try:
        seconds = float(wait)
    except ValueError:
        raise TapError(f"WAIT={wait!r} is not a number of seconds") from None
    if seconds < 0 and seconds != -1:
        raise TapError(f"WAIT={wait!r}: give a number of seconds >= 0, or -1 to wait as long as the server allows")
    if phase is not None and phase.strip().upper() not in PHASES:
        raise TapError(f"PHASE={phase!r} is not a UWS phase")
    if job.phase not in ACTIVE_PHASES or (phase is not None and job.phase != phase.strip().upper()):
        return job
    limit = MAX_WAIT_SECONDS if seconds == -1 else min(seconds, MAX_WAIT_SECONDS)
    deadline = time.monotonic() + limit
    store = _store(request)
    while time.monotonic() < deadline:
        await asyncio.sleep(min(WAIT_POLL_SECONDS, max(0.0, deadline - time.monotonic())))
        current = await store.get(job.job_id)
        if current is None:
            raise TapError(f"job {job.job_id!r} was deleted while waiting", status=404)
        if current.phase != job.phase:
            return current
    return await store.get(job.job_id) or job


async def update_job(request: Request, params: RequestParams) -> Response:
    job = await _load_job(request)
    service = _service(request)
    store = _store(request)
    base = _base(request)
    action = params.get("ACTION")
    if action is not None:
        if action.strip().upper() != "DELETE":
            raise TapError(f"ACTION={action!r}: only ACTION=DELETE is defined")
        await request.app.state.tap_jobs.destroy(job.job_id)
        return _redirect(base)
    if params.get("PHASE") is not None:
        await change_phase(request, job, params.get("PHASE") or "")
    if params.get("DESTRUCTION") is not None:
        await store.set_destruction(job.job_id, parse_destruction(params.get("DESTRUCTION") or "", service,
                                                                   job.creation_time))
    if params.get("EXECUTIONDURATION") is not None:
        await _set_duration(store, job, parse_execution_duration(params.get("EXECUTIONDURATION") or "", service))
    extra = job_parameters(params)
    if extra:
        if job.phase != "PENDING":
            raise TapError(f"job {job.job_id} is {job.phase}: parameters can only change while PENDING",
                           status=409)
        merged = dict(job.parameters)
        merged.update(extra)
        await store.set_parameters(job.job_id, merged, await estimate_job(service, merged))
    return _redirect(f"{base}/{job.job_id}")


async def _set_duration(store: JobStore, job: Job, seconds: int) -> None:
    if not await store.set_execution_duration(job.job_id, seconds):
        raise TapError(f"job {job.job_id} is {job.phase}: the execution duration can only change while PENDING",
                       status=409)


async def change_phase(request: Request, job: Job, phase: str) -> None:
    value = phase.strip().upper()
    store = _store(request)
    if value == "RUN":
        if await store.queue(job.job_id):
            request.app.state.tap_jobs.notify()
    elif value == "ABORT":
        await store.abort(job.job_id)
    else:
        raise TapError(f"PHASE={phase!r}: use PHASE=RUN or PHASE=ABORT")


async def delete_job(request: Request) -> Response:
    job = await _load_job(request)
    await request.app.state.tap_jobs.destroy(job.job_id)
    return _redirect(_base(request))


@handles_errors
async def phase_endpoint(request: Request) -> Response:
    if request.method == "POST":
        params = await read_params(request, CONTROL_BODY_BYTES)
        job = await _load_job(request)
        phase = params.get("PHASE")
        if phase is None:
            raise TapError("missing PHASE: use PHASE=RUN or PHASE=ABORT")
        await change_phase(request, job, phase)
        return _redirect(f"{_base(request)}/{job.job_id}")
    return PlainTextResponse((await _load_job(request)).phase)


async def _posted_value(request: Request, name: str) -> str:
    """The value of the one parameter a UWS child-resource POST must carry."""
    value = (await read_params(request, CONTROL_BODY_BYTES)).get(name)
    if value is None:
        raise TapError(f"missing {name}")
    return value


@handles_errors
async def execution_duration_endpoint(request: Request) -> Response:
    job = await _load_job(request)
    if request.method == "POST":
        value = await _posted_value(request, "EXECUTIONDURATION")
        await _set_duration(_store(request), job, parse_execution_duration(value, _service(request)))
        return _redirect(f"{_base(request)}/{job.job_id}")
    return PlainTextResponse(str(job.execution_duration))


@handles_errors
async def destruction_endpoint(request: Request) -> Response:
    job = await _load_job(request)
    if request.method == "POST":
        value = await _posted_value(request, "DESTRUCTION")
        await _store(request).set_destruction(job.job_id, parse_destruction(value, _service(request),
                                                                            job.creation_time))
        return _redirect(f"{_base(request)}/{job.job_id}")
    return PlainTextResponse(iso(job.destruction))


@handles_errors
async def quote_endpoint(request: Request) -> Response:
    """UWS 1.1: when the job is expected to complete; empty when unknown."""
    return PlainTextResponse(iso(completion_quote(await _quoted(request, await _load_job(request)))))


@handles_errors
async def owner_endpoint(request: Request) -> Response:
    await _load_job(request)
    return PlainTextResponse("")  # anonymous service: no owner


@handles_errors
async def error_endpoint(request: Request) -> Response:
    job = await _load_job(request)
    if job.phase not in ("ERROR", "ABORTED") or not job.error_message:
        raise TapError(f"job {job.job_id} is {job.phase}: it has no error", status=404)
    infos = [("TIMEOUT", "true")] if job.error_timeout else []
    return Response(error_document(job.error_message, infos), media_type=MIME_TYPE)


@handles_errors
async def parameters_endpoint(request: Request) -> Response:
    if request.method == "POST":
        return await update_job(request, await read_params(request, _service(request).settings.tap_upload_max_bytes))
    job = await _load_job(request)
    return Response(HEAD + parameters_element(job, " " + NAMESPACES) + "\n", media_type=XML)


@handles_errors
async def results_endpoint(request: Request) -> Response:
    job = await _load_job(request)
    return Response(HEAD + results_element(job, _base(request), " " + NAMESPACES) + "\n", media_type=XML)


@handles_errors
async def result_endpoint(request: Request) -> Response:
    job = await _load_job(request)
    if request.path_params["result_id"] != "result" or job.phase != "COMPLETED" or not job.result_path:
        raise TapError(f"job {job.job_id} ({job.phase}) has no result {request.path_params['result_id']!r}",
                       status=404)
    return FileResponse(job.result_path, media_type=job.result_mime)


def routes() -> list[BaseRoute]:
    return [
        Route("/async", jobs_endpoint, methods=["GET", "POST"]),
        Route("/async/{job_id}", job_endpoint, methods=["GET", "POST", "DELETE"]),
        Route("/async/{job_id}/phase", phase_endpoint, methods=["GET", "POST"]),
        Route("/async/{job_id}/executionduration", execution_duration_endpoint, methods=["GET", "POST"]),
        Route("/async/{job_id}/destruction", destruction_endpoint, methods=["GET", "POST"]),
        Route("/async/{job_id}/quote", quote_endpoint),
        Route("/async/{job_id}/owner", owner_endpoint),
        Route("/async/{job_id}/error", error_endpoint),
        Route("/async/{job_id}/parameters", parameters_endpoint, methods=["GET", "POST"]),
        Route("/async/{job_id}/results", results_endpoint),
        Route("/async/{job_id}/results/{result_id}", result_endpoint),
    ]
