"""A real redis-server on a free loopback port, for the tests that need Redis.

Nothing is persisted (``--save ''``, ``--appendonly no``) and everything lives in a
temporary directory that is removed on :meth:`RedisServer.stop`. When the binary is
missing the test is skipped with a reason saying how to get it (``make test``
installs Debian's ``redis-server`` through ``.ci/install-redis`` first, when it runs
as root or with password-less sudo).
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["RedisServer", "free_cluster_port", "free_port", "redis_binary", "running_redis"]


def redis_binary() -> str:
    """The redis-server path, or skip the test saying why."""
    path = shutil.which("redis-server")
    if path is None:
        pytest.skip(
            "redis-server is not installed: run .ci/install-redis as root (or `make test` as "
            "root, which does), or install Debian's redis-server"
        )
    return path


def free_port() -> int:
    """A loopback TCP port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _bindable(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_cluster_port() -> int:
    """A free port whose cluster bus port (port + 10000, so port <= 55535) is free too."""
    for _ in range(200):
        port = free_port()
        if port <= 55535 and _bindable(port + 10000):
            return port
    raise RuntimeError("found no free port pair for a redis cluster node")


def _ping(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False


class RedisServer:
    """Start, stop and restart (on the same port) one redis-server process."""

    def __init__(self, *extra_args: str, port: int | None = None) -> None:
        self.binary = redis_binary()
        cluster = "--cluster-enabled" in extra_args
        self.port = port or (free_cluster_port() if cluster else free_port())
        self.extra_args = extra_args
        self._dir: Path | None = None
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self, timeout: float = 10.0) -> None:
        if self.running:
            return
        if self._dir is None:
            self._dir = Path(tempfile.mkdtemp(prefix="temu-redis-"))
        args = [
            self.binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            "--dir",
            str(self._dir),
            "--logfile",
            str(self._dir / "redis.log"),
            *self.extra_args,
        ]
        self._proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        deadline = time.monotonic() + timeout
        while not _ping(self.port):
            if self._proc.poll() is not None:
                err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
                log = self._dir / "redis.log"
                text = log.read_text(errors="replace")[-2000:] if log.exists() else ""
                raise RuntimeError(f"redis-server exited at start: {err}{text}")
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"redis-server did not answer PING on port {self.port}")
            time.sleep(0.02)

    def halt(self) -> None:
        """Stop the process but keep the port and directory, for a later :meth:`start`."""
        proc, self._proc = self._proc, None
        if proc is None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
        if proc.stderr is not None:
            proc.stderr.close()

    def stop(self) -> None:
        self.halt()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = None


@contextlib.contextmanager
def running_redis(*extra_args: str) -> Iterator[RedisServer]:
    server = RedisServer(*extra_args)
    server.start()
    try:
        yield server
    finally:
        server.stop()
