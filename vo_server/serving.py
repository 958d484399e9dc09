"""Running the HTTP server in one or several processes (``vo-server serve``).

One Python process serialises every request's Python work (HTTP, ADQL
translation, result encoding), so with many concurrent clients it is the
bottleneck.  ``serve`` runs ``workers`` uvicorn processes on one listening
socket.  What must happen once happens in the parent before the workers
start: the embedded PostgreSQL is started (and stopped by the parent when it
exits), migrations are applied, demo data loaded.  Each worker builds its own
app (``app_from_environment``) with its own connection pools, async-job
workers and housekeeping; they share everything else through PostgreSQL
(jobs are claimed with ``FOR UPDATE SKIP LOCKED``, a job and its files are
destroyed only by the process whose ``DELETE ... RETURNING`` got the row).

The parent hands the effective settings and database target to the workers
in the environment variable ``WORKER_STATE_VARIABLE`` (uvicorn starts
workers with the ``spawn`` method, so they inherit the environment, not
Python objects).
"""

from __future__ import annotations

import json
import math
import os
import socket
from dataclasses import asdict, fields, replace
from pathlib import Path
from typing import Any

from starlette.applications import Starlette

from vo_server.config import Settings
from vo_server.db.target import DatabaseTarget

WORKER_STATE_VARIABLE = "_VO_SERVER_WORKER_STATE"
MAX_AUTO_WORKERS = 4  # beyond this, per-process pools and job workers cost more connections than they gain


def worker_count(settings: Settings) -> int:
    """``settings.workers``, or for 0 one process per CPU core (at most ``MAX_AUTO_WORKERS``)."""
    if settings.workers > 0:
        return settings.workers
    return max(1, min(os.cpu_count() or 1, MAX_AUTO_WORKERS))


def encode_state(settings: Settings, target: DatabaseTarget) -> str:
    values = {name: str(value) if isinstance(value, Path) else value for name, value in asdict(settings).items()}
    return json.dumps({"settings": values, "target": asdict(target)})


def decode_state(text: str) -> tuple[Settings, DatabaseTarget]:
    state: dict[str, Any] = json.loads(text)
    values = dict(state["settings"])
    for f in fields(Settings):
        if "Path" in str(f.type) and values.get(f.name) is not None:
            values[f.name] = Path(values[f.name])
    return Settings(**values), DatabaseTarget(**state["target"])


def app_from_environment() -> Starlette:
    """The app of one server process (uvicorn factory): the parent's settings
    and already upgraded database, with pools of its own."""
    from vo_server.app import create_app
    from vo_server.cli import setup_logging

    text = os.environ.get(WORKER_STATE_VARIABLE)
    if not text:
        raise RuntimeError(f"{WORKER_STATE_VARIABLE} is not set: start the server with `vo-server serve`")
    settings, target = decode_state(text)
    setup_logging(settings)  # a spawned worker starts with no logging configuration
    return create_app(settings, target)


def tcp_listener(config) -> socket.socket:  # noqa: ANN001 - uvicorn.Config
    """uvicorn's shared listening socket, re-wrapped as explicitly TCP.

    uvicorn creates it with protocol 0; sockets accepted from it inherit
    that, and asyncio only sets TCP_NODELAY on sockets whose protocol is
    IPPROTO_TCP.  Without TCP_NODELAY a response written as headers + body
    waits for the client's delayed ACK: ~40 ms per small query."""
    sock = config.bind_socket()
    if sock.family in (socket.AF_INET, socket.AF_INET6) and sock.proto == 0:
        sock = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
        sock.set_inheritable(True)
    return sock


def serve(settings: Settings, target: DatabaseTarget) -> None:
    """Serve until SIGTERM/SIGINT; returns after every worker has shut down
    (in-flight requests get ``shutdown_timeout`` seconds, running async jobs
    are requeued: see ``vo_server.tap.worker``)."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    workers = worker_count(settings)
    # the workers see the actual process count (they size their connection pools by it)
    os.environ[WORKER_STATE_VARIABLE] = encode_state(replace(settings, workers=workers), target)
    config = uvicorn.Config(f"{__name__}:app_from_environment", factory=True, workers=workers,
                            host=settings.host, port=settings.port, log_level=settings.log_level.lower(),
                            proxy_headers=True, timeout_graceful_shutdown=max(1, math.ceil(settings.shutdown_timeout)))
    try:
        if workers == 1:
            uvicorn.Server(config).run()
        else:
            Multiprocess(config, sockets=[tcp_listener(config)]).run()
    except KeyboardInterrupt:  # uvicorn re-raises Ctrl-C after its graceful shutdown: a normal stop
        pass
