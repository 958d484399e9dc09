"""The cost floor of HTTP on this machine, for bench/tap_latency.py: a server
in the same stack as ours (uvicorn, the same process count, the shared socket
with TCP_NODELAY from ``vo_server.serving.tcp_listener``) that answers every
request with fixed bytes (a response our server gave), doing no other work.
What 16 concurrent clients wait for it is latency no server code can remove.

    python bench/http_floor.py PORT WORKERS BODY_FILE
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import uvicorn
from uvicorn.supervisors import Multiprocess

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from vo_server.serving import tcp_listener  # noqa: E402

BODY = Path(os.environ["HTTP_FLOOR_BODY"]).read_bytes() if "HTTP_FLOOR_BODY" in os.environ else b""
HEADERS = [(b"content-type", b"application/x-votable+xml"), (b"content-length", str(len(BODY)).encode())]


async def app(scope, receive, send) -> None:  # noqa: ANN001 - raw ASGI
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):  # read the whole request, as any server must
        pass
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


if __name__ == "__main__":
    port, workers, body = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
    os.environ["HTTP_FLOOR_BODY"] = body  # the worker processes import this module afresh
    config = uvicorn.Config("http_floor:app", host="127.0.0.1", port=port, workers=workers, log_level="warning",
                            access_log=False)
    if workers == 1:
        uvicorn.Server(config).run()
    else:
        Multiprocess(config, sockets=[tcp_listener(config)]).run()
