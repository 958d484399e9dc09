"""How long an async job will take, for its UWS quote (UWS 1.1 section
2.2.3.4: when the job is expected to complete; nil when the service cannot
tell).

The estimate is PostgreSQL's own plan (``EXPLAIN``, planning only: no row
is read) turned into seconds: the total cost times ``SECONDS_PER_COST_UNIT``
plus the rows to send times ``SECONDS_PER_ROW`` plus a fixed overhead.  The
constants were measured with ``bench/tap_common.py``'s 1e6-row table on the
2-core development machine (cost units: 1-13 us, median ~3 us; rows: ~2 us
each through the writer); a quote is an order of magnitude, not a promise.
The execution duration bounds it: a job never runs longer than that.
"""

from __future__ import annotations

import datetime as dt
import logging

import psycopg

from vo_server.db.pools import Database
from vo_server.query.run import QueryPlan
from vo_server.tap.errors import TapError
from vo_server.tap.jobs import FINAL_PHASES, Job
from vo_server.tap.params import RequestParams, parse_query_request
from vo_server.tap.service import TapService

log = logging.getLogger(__name__)

SECONDS_PER_COST_UNIT = 3e-6
SECONDS_PER_ROW = 2e-6
OVERHEAD_SECONDS = 0.05
EXPLAIN_TIMEOUT_MS = 5000


async def estimate_seconds(db: Database, plan: QueryPlan) -> float | None:
    """Estimated run time of ``plan`` from PostgreSQL's plan, as the query
    role; None when PostgreSQL cannot plan it (the job will report why)."""
    try:
        async with db.query.connection() as conn:
            try:
                await conn.execute(f"SET LOCAL statement_timeout = {EXPLAIN_TIMEOUT_MS}")
                cur = await conn.execute(psycopg.sql.SQL("EXPLAIN (FORMAT JSON) ") + _as_sql(plan.sql), plan.params)
                row = await cur.fetchone()
            finally:
                await conn.rollback()
    except psycopg.Error as exc:
        log.debug("no estimate: %s", exc)
        return None
    top = row[0][0]["Plan"]
    rows = float(top.get("Plan Rows", 0))
    if plan.max_rows is not None:
        rows = min(rows, plan.max_rows + 1)
    return OVERHEAD_SECONDS + float(top["Total Cost"]) * SECONDS_PER_COST_UNIT + rows * SECONDS_PER_ROW


def _as_sql(text: str | psycopg.sql.Composable) -> psycopg.sql.Composable:
    return text if isinstance(text, psycopg.sql.Composable) else psycopg.sql.SQL(text)  # generated SQL, not user text


def completion_quote(job: Job, now: dt.datetime | None = None) -> dt.datetime | None:
    """When ``job`` is expected to complete: its end time once final; for an
    active job the estimate counted from its start (EXECUTING, never in the
    past) or from now (not started yet; a QUEUED job also waits
    ``queue_wait_seconds`` for the jobs ahead), at most its execution
    duration."""
    if job.phase in FINAL_PHASES:
        return job.end_time
    if job.estimated_seconds is None:
        return None
    now = now or dt.datetime.now(dt.UTC)
    seconds = job.estimated_seconds
    if job.execution_duration > 0:
        seconds = min(seconds, job.execution_duration)
    if job.phase == "EXECUTING" and job.start_time is not None:
        return max(job.start_time + dt.timedelta(seconds=seconds), now)  # late: expected any moment now
    if job.phase == "QUEUED":
        seconds += job.queue_wait_seconds
    return now + dt.timedelta(seconds=seconds)


async def estimate_job(service: TapService, parameters: dict[str, list[str]]) -> float | None:
    """The estimate for a job's parameters before it runs; None for a job
    with uploads (its tables exist only once it runs: the worker estimates
    it then) or whose query does not translate (it will end in ERROR)."""
    if parameters.get("upload"):
        return None
    settings = service.settings
    try:
        query = parse_query_request(RequestParams(values=parameters), settings.tap_max_rec,
                                    settings.tap_max_rec_limit)
        plan = await service.plan(query)
    except TapError:
        return None
    return await estimate_seconds(service.db, plan)
