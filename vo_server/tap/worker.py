"""Executing async jobs.

Each server process runs ``tap_async_workers`` workers.  A worker claims a
QUEUED job with ``FOR UPDATE SKIP LOCKED`` and, in the same transaction,
takes a session advisory lock on it held for the whole execution: the lock
is how any process tells a live execution from one whose process died (a
crash or restart releases the lock), and such jobs are turned into ERROR
with a message instead of staying EXECUTING forever.

A graceful stop (SIGTERM, Ctrl-C: ``stop``) puts the jobs this process is
executing back in the queue (QUEUED, partial results removed) before their
locks are released, so the next server (or another process) runs them again;
only a process that dies without stopping leaves ERROR jobs behind.

While a job runs, a watcher checks every ``WATCH_SECONDS`` whether the job
was aborted or deleted, or ran past its execution duration, and then
cancels the PostgreSQL statement and the writer.  Housekeeping (orphans,
destruction of expired jobs and their result files, stale upload schemas)
runs every ``HOUSEKEEPING_SECONDS`` in every process.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import shutil
import socket
import time
from pathlib import Path

import psycopg

from vo_server.query.run import QueryFailed, QueryResult, run_query
from vo_server.tap.errors import TapError
from vo_server.tap.estimate import estimate_seconds
from vo_server.tap.jobs import Job, JobStore
from vo_server.tap.params import RequestParams, parse_query_request
from vo_server.tap.service import TapService
from vo_server.tap.uploads import UploadSet, drop_stale_schemas, load_uploads, parse_upload_specs, release

log = logging.getLogger(__name__)

WATCH_SECONDS = 0.25
IDLE_POLL_SECONDS = 1.0
HOUSEKEEPING_SECONDS = 5.0
LOCK_NAMESPACE = 0x7461  # "ta": first key of the two-key advisory lock


def job_lock_sql(function: str) -> str:
    return f"SELECT {function}({LOCK_NAMESPACE}, hashtext(%s))"


def results_dir(service: TapService, job_id: str) -> Path:
    return service.settings.data_dir / "results" / job_id


class JobRunner:
    def __init__(self, service: TapService):
        self.service = service
        self.store = JobStore(service.db)
        self.worker_id = f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        self.wakeup = asyncio.Event()
        self.tasks: list[asyncio.Task] = []
        self.stopping = False

    async def start(self) -> None:
        for i in range(max(1, self.service.settings.tap_async_workers)):
            self.tasks.append(asyncio.create_task(self._work(), name=f"tap-worker-{i}"))
        self.tasks.append(asyncio.create_task(self._housekeeping(), name="tap-housekeeping"))

    async def stop(self) -> None:
        self.stopping = True
        for task in self.tasks:
            task.cancel()
        for task in self.tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def notify(self) -> None:
        """A job was queued: wake the workers now rather than at the next poll."""
        self.wakeup.set()

    async def _work(self) -> None:
        while not self.stopping:
            try:
                claimed = await self._claim()
            except (psycopg.Error, OSError) as exc:
                log.warning("could not claim a job: %s", exc)
                claimed = None
            if claimed is None:
                self.wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), IDLE_POLL_SECONDS)
                continue
            job, lock_conn = claimed
            try:
                await self._execute(job)
            except asyncio.CancelledError:
                if self.stopping:  # graceful stop: still holding the job's lock, give the job back
                    await asyncio.shield(self._requeue(job.job_id))
                raise
            except Exception:
                log.exception("job %s failed unexpectedly", job.job_id)
                await self._finish(job.job_id, "ERROR", error="internal error while executing the job")
            finally:
                with contextlib.suppress(psycopg.Error):
                    await lock_conn.execute(job_lock_sql("pg_advisory_unlock"), (job.job_id,))
                await lock_conn.close()

    async def _claim(self) -> tuple[Job, psycopg.AsyncConnection] | None:
        async with self.service.db.owner.connection() as pooled:
            cur = await pooled.execute("SELECT EXISTS (SELECT 1 FROM vo_internal.uws_jobs WHERE phase = 'QUEUED')")
            row = await cur.fetchone()
            if not row or not row[0]:
                return None
        conn = await psycopg.AsyncConnection.connect(self.service.db.target.owner_dsn)
        claimed: str | None = None
        try:
            async with conn.transaction():
                cur = await conn.execute(
                    "SELECT job_id FROM vo_internal.uws_jobs WHERE phase = 'QUEUED' ORDER BY queued_time "
                    "LIMIT 1 FOR UPDATE SKIP LOCKED")
                row = await cur.fetchone()
                if row is None:
                    await conn.close()
                    return None
                await conn.execute(job_lock_sql("pg_advisory_lock"), (row[0],))
                await conn.execute(
                    "UPDATE vo_internal.uws_jobs SET phase = 'EXECUTING', start_time = now(), worker = %s, "
                    "version = version + 1 WHERE job_id = %s", (self.worker_id, row[0]))
            claimed = row[0]
            await conn.set_autocommit(True)
            job = await self.store.get(claimed)
        except asyncio.CancelledError:
            if claimed is not None:  # claimed, then stopped before running it
                await asyncio.shield(self._requeue(claimed))
            await conn.close()
            raise
        except BaseException:
            await conn.close()
            raise
        if job is None:
            await conn.close()
            return None
        return job, conn

    async def _requeue(self, job_id: str) -> None:
        """EXECUTING -> QUEUED for a job of this process that did not finish
        because the server is stopping; its partial result is removed."""
        try:
            async with self.service.db.owner.connection() as conn:
                cur = await conn.execute(
                    "UPDATE vo_internal.uws_jobs SET phase = 'QUEUED', start_time = NULL, worker = NULL, "
                    "version = version + 1 WHERE job_id = %s AND phase = 'EXECUTING' AND worker = %s",
                    (job_id, self.worker_id))
                requeued = cur.rowcount > 0
        except (psycopg.Error, OSError) as exc:
            log.warning("could not requeue job %s on shutdown (it will become ERROR): %s", job_id, exc)
            return
        shutil.rmtree(results_dir(self.service, job_id), ignore_errors=True)
        if requeued:
            log.info("job %s requeued: the server is stopping", job_id)

    async def _finish(self, job_id: str, phase: str, error: str | None = None, timeout: bool = False,
                      result: tuple[str, str, int, bool] | None = None) -> bool:
        path, mime, rows, overflow = result or (None, None, None, None)
        async with self.service.db.owner.connection() as conn:
            cur = await conn.execute(
                "UPDATE vo_internal.uws_jobs SET phase = %s, end_time = now(), error_message = %s, "
                "error_timeout = %s, result_path = %s, result_mime = %s, result_rows = %s, result_overflow = %s, "
                "version = version + 1 WHERE job_id = %s AND phase = 'EXECUTING'",
                (phase, error, timeout, path, mime, rows, overflow, job_id))
            return cur.rowcount > 0

    async def _execute(self, job: Job) -> None:
        service = self.service
        settings = service.settings
        params = RequestParams(values={k: list(v) for k, v in job.parameters.items()})
        uploads: UploadSet | None = None
        holder: dict[str, QueryResult] = {}
        directory = results_dir(service, job.job_id)
        try:
            query = parse_query_request(params, settings.tap_max_rec, settings.tap_max_rec_limit)
            limit = job.execution_duration or None
            started = time.monotonic()
            uploads = await load_uploads(settings, service.db.target, parse_upload_specs(query.uploads), {},
                                         job_id=job.job_id, stored={k: Path(v) for k, v in job.upload_parts.items()})
            plan = await service.plan(query, uploads, statement_timeout=limit)
            await self.store.set_estimate(job.job_id, await estimate_seconds(service.db, plan))  # uploads known now
            directory.mkdir(parents=True, exist_ok=True)
            target = directory / f"result.{query.output.extension}"
            work = asyncio.create_task(self._write(plan, query.output.stream, target, holder,
                                                   query.output.columnar))
            try:
                stop_reason = await self._watch(job, work, started, limit, holder)
            except asyncio.CancelledError:  # the server is stopping: stop the statement and the writer
                if (result := holder.get("result")) is not None:
                    result.cancel()
                work.cancel()
                with contextlib.suppress(asyncio.CancelledError, QueryFailed, Exception):
                    await work
                raise
            if stop_reason is not None:
                with contextlib.suppress(asyncio.CancelledError, QueryFailed, Exception):
                    await work
                if stop_reason == "timeout":
                    await self._finish(job.job_id, "ERROR", timeout=True,
                                       error=f"the job ran longer than its execution duration of "
                                             f"{job.execution_duration} s and was cancelled")
                return
            rows, overflow = work.result()
            done = await self._finish(job.job_id, "COMPLETED",
                                      result=(str(target), query.output.mime, rows, overflow))
            if not done and await self.store.get(job.job_id) is None:
                shutil.rmtree(directory, ignore_errors=True)  # deleted while running
        except TapError as exc:
            await self._finish(job.job_id, "ERROR", error=exc.message, timeout=exc.timeout)
        except QueryFailed as exc:
            message = exc.message
            if exc.timeout:
                message = (f"the job ran longer than its execution duration of {job.execution_duration} s and "
                           "was cancelled by the database (statement timeout)")
            await self._finish(job.job_id, "ERROR", error=message, timeout=exc.timeout)
        finally:
            await release(service.db.target, uploads)

    async def _write(self, plan, writer, target: Path,  # noqa: ANN001
                     holder: dict[str, QueryResult], columnar: bool) -> tuple[int, bool]:
        """Run the query and write the result file; (rows, overflow)."""
        partial = target.with_suffix(target.suffix + ".part")
        result = run_query(self.service.db, plan, columnar=columnar)
        holder["result"] = result
        async with result:
            with partial.open("wb") as out:
                async for chunk in writer(result):
                    out.write(chunk)
        partial.rename(target)
        return result.rows_sent, result.overflow

    async def _watch(self, job: Job, work: asyncio.Task, started: float, limit: int | None,
                     holder: dict[str, QueryResult]) -> str | None:
        """Wait for ``work``; cancel it if the job is aborted/deleted or runs too long.
        Returns None when the work finished by itself, else why it was stopped."""
        while True:
            done, _ = await asyncio.wait({work}, timeout=WATCH_SECONDS)
            if done:
                return None
            reason = None
            if limit is not None and time.monotonic() - started > limit:
                reason = "timeout"
            else:
                current = await self.store.get(job.job_id)
                if current is None or current.phase != "EXECUTING":
                    reason = "aborted"
            if reason is not None:
                result = holder.get("result")
                if result is not None:
                    result.cancel()
                work.cancel()
                return reason

    async def _housekeeping(self) -> None:
        while not self.stopping:
            try:
                await self.recover_orphans()
                await self.destroy_expired()
                await asyncio.to_thread(drop_stale_schemas, self.service.db.target,
                                        2 * self.service.settings.statement_timeout + 60)
            except (psycopg.Error, OSError) as exc:
                log.warning("TAP housekeeping failed: %s", exc)
            await asyncio.sleep(HOUSEKEEPING_SECONDS)

    async def recover_orphans(self) -> list[str]:
        """EXECUTING jobs whose executing process is gone become ERROR."""
        recovered = []
        async with self.service.db.owner.connection() as conn:
            cur = await conn.execute("SELECT job_id FROM vo_internal.uws_jobs WHERE phase = 'EXECUTING'")
            for (job_id,) in await cur.fetchall():
                got = await (await conn.execute(job_lock_sql("pg_try_advisory_lock"), (job_id,))).fetchone()
                if not got or not got[0]:
                    continue
                try:
                    cur2 = await conn.execute(
                        "UPDATE vo_internal.uws_jobs SET phase = 'ERROR', end_time = now(), version = version + 1, "
                        "error_message = 'the server process executing this job stopped (restart or crash) "
                        "before it finished; submit the job again' WHERE job_id = %s AND phase = 'EXECUTING'",
                        (job_id,))
                    if cur2.rowcount:
                        recovered.append(job_id)
                finally:
                    await conn.execute(job_lock_sql("pg_advisory_unlock"), (job_id,))
        for job_id in recovered:
            log.warning("job %s was executing in a process that stopped: now ERROR", job_id)
        return recovered

    async def destroy_expired(self) -> None:
        for job_id in await self.store.expired():
            await self.destroy(job_id)

    async def destroy(self, job_id: str) -> bool:
        """Delete the job and its files (a running execution notices and stops)."""
        job = await self.store.delete(job_id)
        if job is None:
            return False
        shutil.rmtree(results_dir(self.service, job_id), ignore_errors=True)
        uploads_dir = self.service.settings.data_dir / "uploads" / job_id
        shutil.rmtree(uploads_dir, ignore_errors=True)
        return True
