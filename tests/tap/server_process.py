"""``vo-server serve`` as a real child process (several workers, signals,
crashes), on a test module's database."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import psutil

from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent.parent


class ServeProcess:
    """``vo-server serve --workers N`` with ``env`` (e.g. the ``cli_env`` fixture)."""

    def __init__(self, env: dict[str, str], workers: int, **settings: str):
        self.port = free_port()
        self.env = {**env, "VO_SERVER_PORT": str(self.port), "PYTHONPATH": str(ROOT),
                    **{f"VO_SERVER_{k.upper()}": v for k, v in settings.items()}}
        self.workers = workers
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> ServeProcess:
        self.process = subprocess.Popen([sys.executable, "-m", "vo_server.cli", "serve", "--workers",
                                         str(self.workers)], env=self.env, cwd=ROOT,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                        start_new_session=True)  # its own process group, as from a terminal
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(self.url + "/tap/availability", timeout=2).status_code == 200 and \
                        len(self.server_processes()) >= self.workers:
                    return self
            except httpx.TransportError:
                pass
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.process.stderr.read().decode()[-3000:]}")
            if time.monotonic() > deadline:
                self.kill()
                raise RuntimeError("server did not start")
            time.sleep(0.2)

    def __exit__(self, *exc: object) -> None:
        if self.process is not None and self.process.poll() is None:
            self.stop()

    def server_processes(self) -> list[psutil.Process]:
        """The processes that serve requests: the workers, or the process itself when it is the only one."""
        assert self.process is not None
        if self.workers == 1:
            return [psutil.Process(self.process.pid)]
        children = psutil.Process(self.process.pid).children()
        return [c for c in children if "spawn_main" in " ".join(c.cmdline())]

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 60, group: bool = False) -> int:
        """Send ``sig`` to the server (``group``: to all its processes at once, as Ctrl-C in a terminal does)."""
        assert self.process is not None
        if group:
            os.killpg(self.process.pid, sig)
        else:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        finally:
            self.process.stderr.close()

    def kill(self) -> None:
        """SIGKILL the server and its workers, as a crash or the OOM killer would."""
        assert self.process is not None
        with_children = [psutil.Process(self.process.pid), *psutil.Process(self.process.pid).children()]
        for proc in with_children:
            try:
                proc.kill()
            except psutil.NoSuchProcess:
                pass
        self.process.wait(timeout=30)
        self.process.stderr.close()
