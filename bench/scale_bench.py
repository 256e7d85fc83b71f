"""Many apps in one process: N apps x 2 shops, each app limited to 20/s, 40 calls in flight.

One client process drives N ``TemuApp``\\ s (distinct app_keys, 2 shops each, 40 calls in
flight per app) against a lean gateway in ANOTHER process that counts strictly per
app_key in a sliding 1-second window (the sandbox's ``SlidingWindow``) and answers
4000004 beyond it. Reported per N: successful calls per second as a share of
``N x 20``, the gateway's rejections (start-up included: the window counts from the
first request), the most requests it admitted and saw arrive for one app_key in any
1 s, and the client's garbage-collector time (total and the longest pause, from
``gc.callbacks``), since a collection that stalls the loop is one way requests bunch,
and the client's CPU time per successful call.

The gateway is deliberately small (aiohttp's low-level server, one msgspec decode of
``app_key``, a canned answer after ``--latency-ms``): the client is what is measured,
and a slow gateway would blur its arrival times with its own loop lag.

``--tuned`` runs the client with the collector tuned as the README advises for hundreds of
apps per process (``gc.set_threshold(100_000, 10, 10)``, :data:`TUNED_GC`): every call keeps
a few dozen objects alive across a young collection (its queued coroutine, aiohttp's
request and response), so at the default threshold of 700 they are promoted, and full
collections over the whole heap run a few times a second. Each young collection walks what
the calls in flight hold, whatever its threshold, so a high one means fewer collections of
about the same size: at 200 apps, 20,000 still spent about 1 s in 20 on them, 100,000 spends
under 0.1 s, for at most that many more objects waiting to be collected.

Run: ``.venv/bin/python bench/scale_bench.py [--apps 10,100,200] [--duration 20] [--tuned]``.
``--tls`` serves the gateway over TLS (self-signed, trusted by the client), so every
app's first connections pay a handshake, as against the real gateway. ``--redis URL``
counts every app's budget in that Redis (``RedisWindow``) instead of in the process.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import ssl
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Any

LIMIT = 20
SHOPS = 2
IN_FLIGHT = 40
LATENCY_MS = 100.0
TYPE = "bg.logistics.companies.get"
REGION_ID = 211
APPS = (10, 100, 200)
TUNED_GC = (100_000, 10, 10)
"""The collector thresholds the README advises for hundreds of apps in one process."""

_OK = (
    b'{"success":true,"errorCode":1000000,"errorMsg":"","requestId":"scale",'
    b'"result":[{"logisticsServiceProviderId":1,"logisticsServiceProviderName":"Scale Carrier"}]}'
)
_LIMITED = (
    b'{"success":false,"errorCode":4000004,"errorMsg":"RATE_LIMIT_EXCEED_EXCEPTION",'
    b'"requestId":"scale-limited"}'
)


# --- the gateway (child process) ------------------------------------------------------------


def _max_in_window(times: list[float], window: float = 1.0) -> int:
    best = lo = 0
    for hi, t in enumerate(times):  # arrival order is time order
        while times[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


async def _gateway(rate: int, latency: float, tls: bool) -> None:
    import msgspec
    from aiohttp import web

    from temu_async.sandbox.limiter import SlidingWindow

    class Head(msgspec.Struct):
        app_key: str = ""

    decode = msgspec.json.Decoder(Head).decode
    windows: dict[str, SlidingWindow] = {}
    arrivals: dict[str, list[float]] = {}
    admitted: dict[str, list[float]] = {}
    rejected: list[float] = []
    started = [0.0]

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        if request.method == "GET":
            return web.json_response(
                {
                    "received": sum(len(a) for a in arrivals.values()),
                    "rejections": len(rejected),
                    "rejected_at": [round(t - started[0], 3) for t in rejected],
                    "max_in_window": max((_max_in_window(a) for a in admitted.values()), default=0),
                    "max_arrivals_in_window": max(
                        (_max_in_window(a) for a in arrivals.values()), default=0
                    ),
                }
            )
        if request.path == "/reset":
            windows.clear()
            arrivals.clear()
            admitted.clear()
            rejected.clear()
            return web.json_response({"ok": True})
        # Counted when the request is here, before its body is read, as a gateway would.
        now = time.monotonic()
        app_key = decode(await request.read()).app_key
        window = windows.get(app_key)
        if window is None:
            if not windows:
                started[0] = now
            window = windows[app_key] = SlidingWindow(rate)
            arrivals[app_key] = []
            admitted[app_key] = []
        arrivals[app_key].append(now)
        if window.has_room(now):
            window.admit(now)
            admitted[app_key].append(now)
            body = _OK
        else:
            rejected.append(now)
            body = _LIMITED
        if latency:
            await asyncio.sleep(latency)
        return web.Response(body=body, content_type="application/json")

    context = None
    cert_pem = None
    if tls:
        from temu_async.sandbox.tls import self_signed

        identity = self_signed()
        context, cert_pem = identity.server_context(), identity.cert_pem.decode("ascii")
    server = web.Server(handle, access_log=None)
    loop = asyncio.get_running_loop()
    listener = await loop.create_server(server, "127.0.0.1", 0, ssl=context, backlog=4096)
    port = listener.sockets[0].getsockname()[1]
    # No cyclic collector here: its pauses would hold arrivals back and then stamp them
    # together, bunching what the client spaced (its garbage is freed by refcounting, and
    # what cycles remain for a few minutes' run is small).
    gc.collect()
    gc.freeze()
    gc.disable()
    scheme = "https" if context is not None else "http"
    url = f"{scheme}://127.0.0.1:{port}/openapi/router"
    print(json.dumps({"url": url, "cert_pem": cert_pem}), flush=True)
    await loop.run_in_executor(None, sys.stdin.read)  # serve until the parent goes
    listener.close()


# --- the client (this process) --------------------------------------------------------------


@dataclass
class Run:
    apps: int
    duration: float
    tuned: bool = False
    """The client ran with :data:`TUNED_GC` (else the interpreter's default thresholds)."""
    floor: bool = False
    """aiohttp alone drove the load (:func:`_drive_floor`), not temu-async."""
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    rejections: int = 0
    rejected_at: list[float] = field(default_factory=list)
    """Seconds after the first request at which the gateway refused one."""
    received: int = 0
    max_in_window: int = 0
    max_arrivals_in_window: int = 0
    max_written_in_window: int = 0
    """The most requests the client wrote for one app in any 1 s (its own count)."""
    gc_seconds: float = 0.0
    gc_longest: float = 0.0
    gc_full: int = 0
    cpu_seconds: float = 0.0
    """CPU time of the client process during the run."""

    @property
    def cpu_per_call_us(self) -> float:
        return self.cpu_seconds / max(1, self.ok) * 1e6

    @property
    def share(self) -> float:
        return self.ok / self.duration / (self.apps * LIMIT)


class GCTimer:
    """Time spent in the collector while installed (gc.callbacks): CPU time of this
    thread in total (robust to a loaded machine), and the longest pause in wall time
    (what the event loop, and every request waiting on it, saw)."""

    def __init__(self) -> None:
        self.total = 0.0
        self.longest = 0.0
        self.full = 0
        self._cpu = 0.0
        self._wall = 0.0

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._cpu = time.thread_time()
            self._wall = time.perf_counter()
            return
        self.total += time.thread_time() - self._cpu
        self.longest = max(self.longest, time.perf_counter() - self._wall)
        if info.get("generation") == 2:
            self.full += 1

    def __enter__(self) -> GCTimer:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def _recording_window(redis_url: str | None = None) -> Any:
    """The client's own rate backend, also keeping every write time (the client's side of
    the count: when the gateway refuses what the client never sent too fast, the bunching
    happened on the way or in the gateway). A LocalWindow, or with ``redis_url`` a
    RedisWindow on that Redis."""
    from temu_async.throttle import LocalWindow, Slot

    base: type[Any] = LocalWindow
    kwargs: dict[str, Any] = {}
    if redis_url is not None:
        from temu_async.redis_throttle import RedisWindow

        base = RedisWindow
        kwargs = {"url": redis_url, "prefix": f"scale-{time.time_ns()}"}

    class RecordingWindow(base):  # type: ignore[misc,valid-type]
        def __init__(self) -> None:
            super().__init__(**kwargs)
            self.written: list[float] = []

        def stamp(self, slot: Slot) -> None:
            super().stamp(slot)
            self.written.append(time.monotonic())

    return RecordingWindow()


async def _run_for(tasks: list[asyncio.Task[None]], duration: float, run: Run) -> None:
    """Let the callers run for ``duration``, then stop them; ``run.ok`` keeps only the calls
    that finished within the duration."""
    await asyncio.sleep(duration)
    counted = run.ok
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    run.ok = counted


async def _drive(
    url: str,
    apps: int,
    duration: float,
    run: Run,
    ssl_context: Any,
    redis_url: str | None = None,
) -> None:
    import aiohttp

    from temu_async import TemuApp
    from temu_async.errors import TemuError

    clients = []
    windows = []
    for i in range(apps):
        windows.append(_recording_window(redis_url))
        session = None
        if ssl_context is not None:
            connector = aiohttp.TCPConnector(limit=100, ssl=ssl_context)
            session = aiohttp.ClientSession(connector=connector)
        clients.append(
            TemuApp(
                f"scale-app-{i:04d}",
                f"scale-secret-{i:04d}-0123456789",
                region="us",
                base_url=url,
                rate_limit=LIMIT,
                session=session,
                throttle_backend=windows[-1],
            )
        )

    async def worker(shop: Any) -> None:
        while True:
            try:
                # The generated method, as users call it (typed params and result).
                await shop.logistics.companies(region_id=REGION_ID)
            except TemuError as exc:
                kind = str(getattr(exc, "code", None) or type(exc).__name__)
                run.errors[kind] = run.errors.get(kind, 0) + 1
            else:
                run.ok += 1

    tasks = []
    for app in clients:
        shops = [app.shop(f"scale-token-{app.app_key}-{s}") for s in range(SHOPS)]
        for n in range(IN_FLIGHT):
            tasks.append(asyncio.create_task(worker(shops[n % SHOPS])))
    await _run_for(tasks, duration, run)
    run.max_written_in_window = max(_max_in_window(w.written) for w in windows)
    for app in clients:
        session = app.transport._session if ssl_context is not None else None
        await app.close()
        if session is not None:
            await session.close()


async def _drive_floor(url: str, apps: int, duration: float, run: Run, ssl_context: Any) -> None:
    """aiohttp alone at the same load: per app a session and IN_FLIGHT callers POSTing a
    fixed body, paced by one shared "next send" time per app, (1 s + 25 ms) / LIMIT apart
    as the throttle paces, with no checks, signing, decoding, retries or counting at the
    wire. What this reaches is what the transport itself allows on this machine."""
    import aiohttp

    step = 1.025 / LIMIT
    sessions = []
    for _ in range(apps):
        connector = aiohttp.TCPConnector(limit=100, ssl=ssl_context if ssl_context else True)
        sessions.append(aiohttp.ClientSession(connector=connector))

    async def worker(session: aiohttp.ClientSession, body: bytes, pace: list[float]) -> None:
        loop = asyncio.get_running_loop()
        while True:
            now = loop.time()
            at = pace[0] = max(pace[0] + step, now)
            if at > now:
                await asyncio.sleep(at - now)
            async with session.post(url, data=body) as resp:
                answer = await resp.read()
            if answer == _OK:
                run.ok += 1
            else:
                run.errors["4000004"] = run.errors.get("4000004", 0) + 1

    tasks = []
    for i, session in enumerate(sessions):
        body = json.dumps({"app_key": f"floor-app-{i:04d}", "type": TYPE}).encode()
        pace = [asyncio.get_running_loop().time() - step]
        for _ in range(IN_FLIGHT):
            tasks.append(asyncio.create_task(worker(session, body, pace)))
    await _run_for(tasks, duration, run)
    for session in sessions:
        await session.close()


def measure(
    apps: tuple[int, ...] = APPS,
    duration: float = 20.0,
    *,
    tls: bool = False,
    redis_url: str | None = None,
    tuned: bool = False,
    floor: bool = False,
) -> list[Run]:
    """One run per N in ``apps``; ``tuned``: with the collector at :data:`TUNED_GC`;
    ``floor``: aiohttp alone at the same load and pacing (:func:`_drive_floor`)."""
    import urllib.request

    results = []
    with contextlib.ExitStack() as stack:
        cmd = [sys.executable, __file__, "--serve", f"--latency-ms={LATENCY_MS}"]
        if tls:
            cmd.append("--tls")
        proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        stack.callback(proc.wait, 15)
        assert proc.stdin is not None and proc.stdout is not None
        stack.callback(proc.stdin.close)
        first = json.loads(proc.stdout.readline())
        url = first["url"]
        context = None
        if first["cert_pem"] is not None:
            context = ssl.create_default_context(cadata=first["cert_pem"])
        base = url.rsplit("/openapi", 1)[0]

        def admin(path: str, method: str = "GET") -> dict[str, Any]:
            req = urllib.request.Request(
                base + path, method=method, data=b"" if method == "POST" else None
            )
            with urllib.request.urlopen(req, timeout=30, context=context) as resp:
                answer: dict[str, Any] = json.loads(resp.read())
                return answer

        for n in apps:
            time.sleep(1.1)  # nothing of the last run left in any window
            admin("/reset", "POST")
            run = Run(n, duration, tuned, floor)
            gc.collect()
            thresholds = gc.get_threshold()
            if tuned:
                gc.set_threshold(*TUNED_GC)
            cpu = time.process_time()
            try:
                with GCTimer() as timer:
                    if floor:
                        asyncio.run(_drive_floor(url, n, duration, run, context))
                    else:
                        asyncio.run(_drive(url, n, duration, run, context, redis_url))
            finally:
                gc.set_threshold(*thresholds)
            run.cpu_seconds = time.process_time() - cpu
            run.gc_seconds, run.gc_longest, run.gc_full = timer.total, timer.longest, timer.full
            seen = admin("/counters")
            run.rejections = seen["rejections"]
            run.rejected_at = seen["rejected_at"]
            run.received = seen["received"]
            run.max_in_window = seen["max_in_window"]
            run.max_arrivals_in_window = seen["max_arrivals_in_window"]
            results.append(run)
    return results


def print_results(results: list[Run], tls: bool = False) -> None:
    if not results:
        return
    print(
        f"scale: N apps x {SHOPS} shops in one process, {LIMIT}/s per app, {IN_FLIGHT} in flight "
        f"per app, {LATENCY_MS:.0f} ms latency, {results[0].duration:.0f} s"
        + (", TLS" if tls else "")
        + (f", collector tuned {TUNED_GC}" if results[0].tuned else "")
        + (", aiohttp alone (the floor)" if results[0].floor else "")
    )
    print(
        f"  {'apps':>5} {'÷ limit':>8} {'ok/s':>8} {'4000004':>8} {'max adm/1s':>10} "
        f"{'max arr/1s':>10} {'max sent/1s':>11} {'gc s':>6} {'gc max ms':>9} {'full gc':>7} {'cpu µs/call':>11}"
    )
    for r in results:
        print(
            f"  {r.apps:>5} {r.share:8.3f} {r.ok / r.duration:8.1f} {r.rejections:8d} "
            f"{r.max_in_window:10d} {r.max_arrivals_in_window:10d} {r.max_written_in_window:11d} "
            f"{r.gc_seconds:6.2f} "
            f"{r.gc_longest * 1000:9.1f} {r.gc_full:7d} {r.cpu_per_call_us:11.0f}"
        )
        if r.errors:
            print(f"        client errors: {r.errors}")
        if r.rejected_at:
            early = sum(1 for t in r.rejected_at if t < 2.0)
            print(f"        rejections in the first 2 s: {early}; at {r.rejected_at[:12]} ...")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--apps", default=",".join(map(str, APPS)))
    parser.add_argument("--duration", type=float, default=20.0, help="seconds per N")
    parser.add_argument("--tls", action="store_true", help="serve the gateway over TLS")
    parser.add_argument(
        "--redis", default=None, metavar="URL", help="count each app's budget in this Redis"
    )
    parser.add_argument(
        "--tuned", action="store_true", help=f"tune the client's collector: {TUNED_GC}"
    )
    parser.add_argument(
        "--floor", action="store_true", help="drive the load with aiohttp alone (no temu-async)"
    )
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--latency-ms", type=float, default=LATENCY_MS, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_gateway(LIMIT, args.latency_ms / 1000, args.tls))
        return 0
    apps = tuple(int(a) for a in args.apps.split(",") if a.strip())
    runs = measure(
        apps, args.duration, tls=args.tls, redis_url=args.redis, tuned=args.tuned, floor=args.floor
    )
    print_results(runs, args.tls)
    return 0


if __name__ == "__main__":
    sys.exit(main())
