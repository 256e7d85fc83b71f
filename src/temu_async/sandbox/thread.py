"""A sandbox served from its own thread and event loop, for the demo and the benchmark.

In the caller's loop the sandbox's work (building pages, the latency timers) would
delay the client's requests by a few milliseconds each, which is neither what a
remote gateway does nor fair to a rate-limit measurement. On its own loop it
behaves like a server elsewhere. Read its counters after the run.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from types import TracebackType

from .config import SandboxConfig
from .server import Sandbox

__all__ = ["SandboxThread"]


class SandboxThread:
    """``with SandboxThread(config) as sb: sb.url, sb.credentials, sb.counters``."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sandbox", daemon=True)
        self._sandbox: Sandbox | None = None

    def __enter__(self) -> Sandbox:
        self._thread.start()
        future: concurrent.futures.Future[Sandbox] = asyncio.run_coroutine_threadsafe(
            Sandbox(self.config).start(), self._loop
        )
        self._sandbox = future.result(timeout=60)
        return self._sandbox

    def __exit__(
        self, et: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._sandbox is not None:
            asyncio.run_coroutine_threadsafe(self._sandbox.close(), self._loop).result(timeout=30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()
