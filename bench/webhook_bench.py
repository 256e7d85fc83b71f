"""How fast the durable webhook receiver acknowledges, at a steady 200 deliveries per second.

Temu counts a delivery as received only on HTTP 200 within 500 ms. The receiver
(:class:`temu_async.webhooks.WebhookReceiver`) verifies, decrypts, claims the event in its
SQLite replay cache, stores it in its SQLite inbox and answers; its processor runs the
callback meanwhile in the same process. The receiver runs in a process of its own; this one
sends pre-built, signed deliveries (one in ten a repeat of an earlier event, restamped) on a
fixed schedule and measures each acknowledgement's latency.

Run: ``.venv/bin/python bench/webhook_bench.py [--rate 200] [--seconds 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

APP_KEY = "bench-app"
SECRET = "bench-secret-0123456789abcdef"
CODE = "bg_order_status_change_event"


async def _serve(db: str) -> None:
    from aiohttp import web

    from temu_async.webhooks import InboxEvent, WebhookReceiver

    async def on_event(event: InboxEvent) -> None:
        await asyncio.sleep(0)  # the work itself is not what is measured

    receiver = WebhookReceiver(APP_KEY, SECRET, on_event, db=db)
    app = web.Application()
    app.router.add_post("/hook", receiver.handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0).start()
    await receiver.start(poll_interval=0.2)
    print("PORT", runner.addresses[0][1], flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)
    counts = receiver.inbox.counts()
    print("DONE", counts["done"], "RECEIVED", receiver.received, "REPEATS", receiver.repeats)
    await receiver.close()
    await runner.cleanup()


async def _send(port: int, rate: float, seconds: float) -> dict[str, Any]:
    import aiohttp

    from temu_async.webhooks import build_push

    total = int(rate * seconds)
    now_ms = int(time.time() * 1000)
    pushes = []
    for i in range(total):
        event = i if i % 10 else max(0, i - 5)  # every tenth repeats an earlier event
        payload = {"parentOrderSn": f"PO-{event:06d}", "orderStatus": 2, "updateTime": event}
        pushes.append(build_push(APP_KEY, SECRET, CODE, payload, timestamp=now_ms + i))
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    url = f"http://127.0.0.1:{port}/hook"
    async with aiohttp.ClientSession() as http:

        async def one(push: Any) -> None:
            started = time.perf_counter()
            async with http.post(url, data=push.body, headers=push.headers) as resp:
                await resp.read()
                statuses[resp.status] = statuses.get(resp.status, 0) + 1
            latencies.append(time.perf_counter() - started)

        start = time.perf_counter()
        tasks = []
        for i, push in enumerate(pushes):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(push)))
        await asyncio.gather(*tasks)
    latencies.sort()
    return {
        "deliveries": total,
        "rate": rate,
        "statuses": statuses,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "max_ms": latencies[-1] * 1000,
    }


def measure(rate: float = 200.0, seconds: float = 10.0) -> dict[str, Any]:
    """Start a receiver process, send ``rate`` deliveries/s for ``seconds``, return figures."""
    with tempfile.TemporaryDirectory(prefix="temu-webhook-bench-") as tmp:
        proc = subprocess.Popen(
            [sys.executable, __file__, "--serve", str(Path(tmp) / "hooks.sqlite")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert proc.stdin is not None and proc.stdout is not None
        try:
            line = proc.stdout.readline()
            if not line.startswith("PORT "):
                raise RuntimeError(f"the receiver did not start: {line!r}")
            result = asyncio.run(_send(int(line.split()[1]), rate, seconds))
            time.sleep(0.5)  # let the processor finish the last events
        finally:
            proc.stdin.close()
            tail = proc.stdout.read()
            proc.wait(timeout=30)
        done = tail.split()
        if len(done) >= 6:
            result["processed"] = int(done[1])
            result["stored"] = int(done[3])
            result["repeats"] = int(done[5])
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=200.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--serve", metavar="DB", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        asyncio.run(_serve(args.serve))
        return
    r = measure(args.rate, args.seconds)
    print(
        f"{r['deliveries']} deliveries at {r['rate']:g}/s: ack p50 {r['p50_ms']:.1f} ms, "
        f"p99 {r['p99_ms']:.1f} ms, max {r['max_ms']:.1f} ms; statuses {r['statuses']}; "
        f"stored {r.get('stored')}, repeats {r.get('repeats')}, processed {r.get('processed')}"
    )


if __name__ == "__main__":
    main()
