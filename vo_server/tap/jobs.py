"""Async job records (UWS 1.1) in ``vo_internal.uws_jobs``: creation,
reading, phase transitions.  Every phase change is a single conditional
UPDATE, so concurrent requests and workers (in several processes) cannot
leave a job in an impossible state."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from vo_server.db.pools import Database

ACTIVE_PHASES = ("PENDING", "QUEUED", "EXECUTING")
FINAL_PHASES = ("COMPLETED", "ERROR", "ABORTED")
PHASES = ("PENDING", "QUEUED", "EXECUTING", "COMPLETED", "ERROR", "ABORTED", "UNKNOWN", "HELD", "SUSPENDED",
          "ARCHIVED")
COLUMNS = ("job_id, run_id, owner_id, phase, parameters, upload_parts, creation_time, queued_time, start_time, "
           "end_time, execution_duration, destruction, error_message, error_timeout, result_path, result_mime, "
           "result_rows, result_overflow, worker, version, estimated_seconds")


@dataclass
class Job:
    job_id: str
    run_id: str | None
    owner_id: str | None
    phase: str
    parameters: dict[str, list[str]]
    upload_parts: dict[str, str]
    creation_time: dt.datetime
    queued_time: dt.datetime | None
    start_time: dt.datetime | None
    end_time: dt.datetime | None
    execution_duration: int
    destruction: dt.datetime
    error_message: str | None
    error_timeout: bool
    result_path: str | None
    result_mime: str | None
    result_rows: int | None
    result_overflow: bool | None
    worker: str | None
    version: int
    estimated_seconds: float | None  # run time estimated from the query plan (the UWS quote)
    queue_wait_seconds: float = 0.0  # QUEUED: estimated wait for the jobs ahead (not stored; see work_ahead)

    @classmethod
    def of(cls, row: dict[str, Any]) -> Job:
        return cls(**row)


def new_job_id() -> str:
    return secrets.token_hex(10)


class JobStore:
    def __init__(self, db: Database):
        self.db = db

    async def create(self, job_id: str, parameters: dict[str, list[str]], upload_parts: dict[str, str],
                     run_id: str | None, execution_duration: int, destruction: dt.datetime, run: bool,
                     estimated_seconds: float | None = None) -> None:
        async with self.db.owner.connection() as conn:
            await conn.execute(
                "INSERT INTO vo_internal.uws_jobs (job_id, run_id, parameters, upload_parts, execution_duration, "
                "destruction, phase, queued_time, estimated_seconds) VALUES (%s, %s, %s, %s, %s, %s, %s, "
                "CASE WHEN %s THEN now() END, %s)",
                (job_id, run_id, Jsonb(parameters), Jsonb(upload_parts), execution_duration, destruction,
                 "QUEUED" if run else "PENDING", run, estimated_seconds))

    async def get(self, job_id: str) -> Job | None:
        async with self.db.owner.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"SELECT {COLUMNS} FROM vo_internal.uws_jobs WHERE job_id = %s", (job_id,))
            row = await cur.fetchone()
        return Job.of(row) if row else None

    async def list(self, phases: list[str], after: dt.datetime | None, last: int | None) -> list[Job]:
        conditions, params = [], []
        if phases:
            conditions.append("phase = ANY(%s)")
            params.append(phases)
        else:
            conditions.append("phase <> 'ARCHIVED'")
        if after is not None:
            conditions.append("creation_time > %s")
            params.append(after)
        query = f"SELECT {COLUMNS} FROM vo_internal.uws_jobs WHERE {' AND '.join(conditions)} "
        if last is not None:
            query += "ORDER BY creation_time DESC LIMIT %s"
            params.append(last)
        else:
            query += "ORDER BY creation_time"
        async with self.db.owner.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(query, params)
            return [Job.of(r) for r in await cur.fetchall()]

    async def work_ahead(self, job: Job) -> float:
        """Estimated seconds of work before ``job`` can start: what remains
        of the executing jobs plus the QUEUED jobs queued before it (each
        estimate capped by its execution duration; unknown ones count 0)."""
        async with self.db.owner.connection() as conn:
            cur = await conn.execute(
                "SELECT coalesce(sum(CASE WHEN phase = 'EXECUTING' THEN greatest(0, least(estimated_seconds, "
                "nullif(execution_duration, 0)) - extract(epoch FROM now() - start_time)) "
                "ELSE least(estimated_seconds, nullif(execution_duration, 0)) END), 0)::float8 "
                "FROM vo_internal.uws_jobs WHERE job_id <> %s AND (phase = 'EXECUTING' "
                "OR (phase = 'QUEUED' AND (queued_time, job_id) < (%s, %s)))",
                (job.job_id, job.queued_time, job.job_id))
            row = await cur.fetchone()
        return float(row[0]) if row else 0.0

    async def _update(self, query: str, params: tuple) -> bool:
        async with self.db.owner.connection() as conn:
            cur = await conn.execute(query, params)
            return cur.rowcount > 0

    async def queue(self, job_id: str) -> bool:
        """PENDING (or HELD) -> QUEUED."""
        return await self._update(
            "UPDATE vo_internal.uws_jobs SET phase = 'QUEUED', queued_time = now(), version = version + 1 "
            "WHERE job_id = %s AND phase IN ('PENDING', 'HELD')", (job_id,))

    async def abort(self, job_id: str) -> bool:
        return await self._update(
            "UPDATE vo_internal.uws_jobs SET phase = 'ABORTED', end_time = now(), version = version + 1, "
            "error_message = 'aborted by the client' WHERE job_id = %s AND phase IN ('PENDING', 'QUEUED', "
            "'EXECUTING', 'HELD', 'SUSPENDED')", (job_id,))

    async def set_parameters(self, job_id: str, parameters: dict[str, list[str]],
                             estimated_seconds: float | None) -> bool:
        return await self._update(
            "UPDATE vo_internal.uws_jobs SET parameters = %s, estimated_seconds = %s, version = version + 1 "
            "WHERE job_id = %s AND phase = 'PENDING'", (Jsonb(parameters), estimated_seconds, job_id))

    async def set_estimate(self, job_id: str, seconds: float | None) -> bool:
        """Not a phase change: ``version`` (what WAIT watches) stays."""
        return await self._update(
            "UPDATE vo_internal.uws_jobs SET estimated_seconds = %s WHERE job_id = %s", (seconds, job_id))

    async def set_execution_duration(self, job_id: str, seconds: int) -> bool:
        return await self._update(
            "UPDATE vo_internal.uws_jobs SET execution_duration = %s, version = version + 1 "
            "WHERE job_id = %s AND phase = 'PENDING'", (seconds, job_id))

    async def set_destruction(self, job_id: str, when: dt.datetime) -> bool:
        return await self._update(
            "UPDATE vo_internal.uws_jobs SET destruction = %s, version = version + 1 WHERE job_id = %s",
            (when, job_id))

    async def delete(self, job_id: str) -> Job | None:
        async with self.db.owner.connection() as conn:
            cur = conn.cursor(row_factory=dict_row)
            await cur.execute(f"DELETE FROM vo_internal.uws_jobs WHERE job_id = %s RETURNING {COLUMNS}",
                              (job_id,))
            row = await cur.fetchone()
        return Job.of(row) if row else None

    async def expired(self) -> list[str]:
        async with self.db.owner.connection() as conn:
            cur = await conn.execute("SELECT job_id FROM vo_internal.uws_jobs WHERE destruction < now()")
            return [r[0] for r in await cur.fetchall()]
