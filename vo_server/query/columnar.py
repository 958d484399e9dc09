"""The fast path for numeric results: ``COPY (query) TO STDOUT (FORMAT
binary)`` transcoded to VOTable BINARY2 with numpy, no Python object per value.

PostgreSQL's binary COPY writes every value big-endian, like BINARY2, but a
NULL value has no bytes, so rows would have different sizes.  The query is
therefore wrapped so that every column is non-null and of the exact width of
its VOTable datatype, with a boolean null flag beside it::

    SELECT coalesce(q.c0::float8, 0), q.c0 IS NULL, ... FROM (<query>) AS q (c0, ...)

Every row then has the same size, a batch of rows is a (rows, row bytes)
matrix, and a BINARY2 batch is the null bitmap (packed from the flags)
stacked beside column slices of that matrix.  Only results whose fields are
all scalar numbers or booleans take this path (``columnar_eligible``).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import Sequence
from typing import Any

import numpy as np
from psycopg import sql

from vo_server.formats.binary2 import fixed_count, is_variable
from vo_server.formats.fields import Field

# VOTable datatype -> (PostgreSQL cast, bytes in COPY, numpy dtype of the COPY bytes, zero literal)
FIXED = {
    "boolean": ("boolean", 1, "u1", "false"),
    "unsignedByte": ("int2", 2, ">i2", "0"),
    "short": ("int2", 2, ">i2", "0"),
    "int": ("int4", 4, ">i4", "0"),
    "long": ("int8", 8, ">i8", "0"),
    "float": ("float4", 4, ">f4", "0"),
    "double": ("float8", 8, ">f8", "0"),
}
SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
HEADER_FIXED = len(SIGNATURE) + 8  # signature, flags, header extension length


def columnar_eligible(fields: Sequence[Field], params: Any) -> bool:
    return bool(fields) and not params and all(
        f.datatype in FIXED and not is_variable(f) and fixed_count(f) == 1 for f in fields)


def copy_statement(query: str | sql.Composable, fields: Sequence[Field]) -> sql.Composed:
    inner = sql.SQL(query) if isinstance(query, str) else query
    names = [sql.Identifier(f"c{i}") for i in range(len(fields))]
    columns = []
    for name, field in zip(names, fields, strict=True):
        cast, _, _, zero = FIXED[field.datatype]
        columns.append(sql.SQL("coalesce(q.{}::{}, {}::{})").format(name, sql.SQL(cast), sql.SQL(zero), sql.SQL(cast)))
        columns.append(sql.SQL("q.{} IS NULL").format(name))
    return sql.SQL("COPY (SELECT {} FROM ({}) AS q ({})) TO STDOUT (FORMAT binary)").format(
        sql.SQL(", ").join(columns), inner, sql.SQL(", ").join(names))


class CopyRows:
    """Splits the binary COPY stream into fixed-size rows (a uint8 matrix per feed)."""

    def __init__(self, fields: Sequence[Field]):
        self.fields = list(fields)
        self.row_size = 2 + sum(4 + FIXED[f.datatype][1] + 4 + 1 for f in fields)
        self.pending = b""
        self.header_done = False
        self.finished = False
        offsets = []
        position = 2
        for f in fields:
            width = FIXED[f.datatype][1]
            offsets.append((position + 4, width, position + 4 + width + 4))  # (value, width, null flag)
            position += 4 + width + 4 + 1
        self.offsets = offsets

    def feed(self, data: bytes) -> np.ndarray:
        buffer = self.pending + bytes(data)
        if not self.header_done:
            if len(buffer) < HEADER_FIXED:
                self.pending = buffer
                return np.empty((0, self.row_size), dtype=np.uint8)
            if not buffer.startswith(SIGNATURE):
                raise ValueError("not a PostgreSQL binary COPY stream")
            extension = int.from_bytes(buffer[HEADER_FIXED - 4:HEADER_FIXED], "big")
            if len(buffer) < HEADER_FIXED + extension:
                self.pending = buffer
                return np.empty((0, self.row_size), dtype=np.uint8)
            buffer = buffer[HEADER_FIXED + extension:]
            self.header_done = True
        rows = len(buffer) // self.row_size  # the 2-byte trailer never completes a row
        matrix = np.frombuffer(buffer, dtype=np.uint8, count=rows * self.row_size).reshape(rows, self.row_size)
        self.pending = buffer[rows * self.row_size:]
        if self.pending[:2] == b"\xff\xff":
            self.finished = True
            self.pending = b""
        return matrix

    def nulls(self, matrix: np.ndarray) -> np.ndarray:
        return np.stack([matrix[:, flag] != 0 for _, _, flag in self.offsets], axis=1)

    def binary2(self, matrix: np.ndarray) -> bytes:
        """BINARY2 bytes of the rows of ``matrix``."""
        n = len(matrix)
        if n == 0:
            return b""
        nulls = self.nulls(matrix)
        parts = [np.packbits(nulls, axis=1, bitorder="big")]
        for i, (field, (start, width, _flag)) in enumerate(zip(self.fields, self.offsets, strict=True)):
            block = matrix[:, start:start + width]
            if field.datatype == "boolean":
                block = np.where(nulls[:, i], ord("?"), np.where(block[:, 0] != 0, ord("T"), ord("F")))
                block = block.astype(np.uint8).reshape(n, 1)
            elif field.datatype == "unsignedByte":
                block = block[:, 1:2]
            parts.append(block)
        return np.hstack(parts).tobytes()

    def tuples(self, matrix: np.ndarray) -> list[tuple]:
        """Python rows (for writers other than BINARY2)."""
        nulls = self.nulls(matrix)
        columns = []
        for i, (field, (start, width, _flag)) in enumerate(zip(self.fields, self.offsets, strict=True)):
            code = FIXED[field.datatype][2]
            values = np.ascontiguousarray(matrix[:, start:start + width]).view(code).reshape(-1)
            items = (values != 0).tolist() if field.datatype == "boolean" else values.tolist()
            columns.append([None if null else v for v, null in zip(items, nulls[:, i].tolist(), strict=True)])
        return list(zip(*columns, strict=True))


# Long-lived reader threads (starting a thread per query costs milliseconds on a busy host).
READERS = concurrent.futures.ThreadPoolExecutor(max_workers=16, thread_name_prefix="copy-reader")


class CopyProducer:
    """Reads the binary COPY on a blocking query-role connection in its own
    thread (psycopg's async COPY costs an event-loop round trip per row) and
    hands batches of rows to the event loop through a small queue.

    The thread owns the connection from checkout to return, so cancellation
    and clean-up never block the event loop: ``cancel`` interrupts the
    statement (the consumer then gets the database error), ``close`` tells
    the thread to stop and return the connection.
    """

    QUEUE_BATCHES = 4
    POLL_SECONDS = 0.2

    def __init__(self, pool: Any, statement: sql.Composable, rows: CopyRows, batch_rows: int,
                 statement_timeout: float | None):
        self.pool = pool
        self.statement = statement
        self.rows = rows
        self.batch_rows = batch_rows
        self.statement_timeout = statement_timeout
        self.items: queue.Queue = queue.Queue(maxsize=self.QUEUE_BATCHES)
        self.stopping = threading.Event()
        self.connection: Any = None
        self.running: concurrent.futures.Future | None = None

    def start(self) -> None:
        self.running = READERS.submit(self._run)

    def _put(self, item: tuple[str, Any]) -> None:
        while not self.stopping.is_set():
            try:
                self.items.put(item, timeout=self.POLL_SECONDS)
                return
            except queue.Full:
                continue

    def _read_matrix(self, copy: Any) -> np.ndarray | None:
        chunks = []
        read = copy.read
        for _ in range(self.batch_rows):
            data = read()
            if not data:
                break
            chunks.append(bytes(data))  # keeping libpq's buffers alive instead makes reading ~4x slower
        if not chunks:
            return None
        matrix = self.rows.feed(b"".join(chunks))
        return matrix if len(matrix) else self._read_matrix(copy)

    def _run(self) -> None:
        try:
            with self.pool.connection() as conn:
                self.connection = conn
                try:
                    if self.statement_timeout is not None:
                        conn.execute(sql.SQL("SET LOCAL statement_timeout = {}").format(
                            sql.Literal(max(1, int(self.statement_timeout * 1000)))))
                    with conn.cursor().copy(self.statement) as copy:
                        while not self.stopping.is_set():
                            matrix = self._read_matrix(copy)
                            if matrix is None:
                                break
                            self._put(("rows", matrix))
                        if self.stopping.is_set() and not self.rows.finished:
                            conn.cancel()  # the consumer stopped early: end the COPY now
                            raise _Stopped()
                finally:
                    self.connection = None
                    if not conn.closed:
                        conn.rollback()  # read-only: nothing to commit
            self._put(("end", None))
        except _Stopped:
            pass
        except Exception as exc:  # handed to the consumer, who turns it into QueryFailed
            self._put(("error", exc))

    def _next_item(self) -> tuple[str, Any]:
        while True:
            try:
                return self.items.get(timeout=self.POLL_SECONDS)
            except queue.Empty:
                if self.stopping.is_set() or (self.running is not None and self.running.done()):
                    return ("end", None)

    async def next(self) -> np.ndarray | None:
        """The next batch of rows; None at the end; raises the database's error."""
        try:
            kind, value = self.items.get_nowait()
        except queue.Empty:
            kind, value = await asyncio.to_thread(self._next_item)
        if kind == "error":
            raise value
        return value if kind == "rows" else None

    def cancel(self) -> None:
        conn = self.connection
        if conn is not None:
            try:
                conn.cancel()
            except Exception:  # noqa: BLE001 - best effort: the connection may be closing
                pass

    def close(self) -> None:
        self.stopping.set()


class _Stopped(Exception):
    """The consumer closed the producer before the end of the COPY."""
