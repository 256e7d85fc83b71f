"""The durable receiver against the sandbox's pusher on Temu's real schedule (fake clock).

Every test runs a real aiohttp server on loopback with :class:`WebhookReceiver` mounted, and
the sandbox POSTs signed, encrypted deliveries to it over HTTP.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from sandbox_support import small_catalogue

from temu_async.sandbox import Sandbox, SandboxConfig
from temu_async.sandbox.clock import ManualClock
from temu_async.sandbox.webhook_push import ORDER_STATUS_EVENT, TEMU_RETRY_DELAYS, PushPolicy
from temu_async.webhooks import InboxEvent, WebhookInbox, WebhookReceiver, build_push

MINUTE = 60
HOUR = 3600


class Served:
    """A WebhookReceiver behind a real loopback HTTP server; records every callback run."""

    def __init__(self, db: Path, clock: ManualClock | None = None) -> None:
        self.db = db
        self.clock = clock
        self.runs: list[str] = []
        self.fail_next = 0
        self.receiver: WebhookReceiver | None = None
        self._runner: web.AppRunner | None = None
        self._key: tuple[str, str] | None = None
        self.url = ""

    async def _on_event(self, event: InboxEvent) -> None:
        if self.fail_next > 0:
            self.fail_next -= 1
            raise RuntimeError("downstream is unavailable")
        self.runs.append(event.event_id)

    def mount(self, app_key: str, secret: str, **kw: Any) -> WebhookReceiver:
        if self.clock is not None:
            kw.setdefault("clock", self.clock.now)
        self._key = (app_key, secret)
        self.receiver = WebhookReceiver(app_key, secret, self._on_event, db=self.db, **kw)
        return self.receiver

    async def _route(self, request: web.Request) -> web.StreamResponse:
        assert self.receiver is not None, "mount() first"
        return await self.receiver.handler(request)

    async def start(self, port: int = 0) -> Served:
        app = web.Application()
        app.router.add_post("/hook", self._route)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", port).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/hook"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
        if self.receiver is not None:
            await self.receiver.close()


@pytest.fixture
async def served(tmp_path: Path) -> AsyncIterator[Served]:
    s = await Served(tmp_path / "hooks.sqlite", ManualClock()).start()
    try:
        yield s
    finally:
        await s.close()


def _sandbox(url: str, timeline: ManualClock, *, restamp: bool) -> Sandbox:
    policy = PushPolicy(
        retry_delays=TEMU_RETRY_DELAYS, timeline=timeline, restamp=restamp, reply_within=5.0
    )
    return Sandbox(
        SandboxConfig(
            seed=3,
            shops=1,
            orders=5,
            catalogue=small_catalogue(),
            clock=ManualClock(),
            rate_limit=10_000,
            webhook_url=url,
            webhook_policy=policy,
        )
    )


def _events(n: int) -> list[dict[str, Any]]:
    return [
        {
            "mallId": 634418212175626,
            "parentOrderSn": f"PO-211-{i // 2:04d}",
            "orderSn": f"211-{i // 2:04d}-1",
            "orderStatus": 1 + i % 2,  # two events per order: another status is a new event
            "updateTime": 1_726_000_000 + i,
        }
        for i in range(n)
    ]


@pytest.mark.parametrize("restamp", [False, True], ids=["keeps-timestamp", "restamped"])
async def test_receiver_down_15_minutes_then_back_every_event_processed_once(
    served: Served, restamp: bool
) -> None:
    assert served.clock is not None
    async with _sandbox(served.url, served.clock, restamp=restamp) as sb:
        app = sb.credentials.apps[0]
        receiver = served.mount(app.app_key, app.app_secret)
        pusher = sb.webhooks
        pusher.set_receiver_down(True)
        for payload in _events(20):
            pusher.enqueue(app.app_key, ORDER_STATUS_EVENT, payload)
        await pusher.advance(15 * MINUTE)  # first tries, and the 2 min and 12 min retries
        assert receiver.received == 0 and pusher.sent == 0
        assert pusher.retried == 2 * 20
        pusher.set_receiver_down(False)
        # The receiver is back; 5 of its acknowledgements get lost on the way, so Temu sends
        # those events once more (as it does after a late 200).
        pusher.lose_acks(5)
        await pusher.advance(2 * HOUR)
        assert pusher.pending == 0 and pusher.sent == 20 and pusher.failed == 0
        assert pusher.acks_lost == 5
        # The 42-minute retry carried the first stamp (42 min old) unless restamped.
        assert receiver.received == 20 and receiver.repeats == 5
        assert await receiver.processor.run_once() == 20
        assert await receiver.processor.run_once() == 0
    counts = Counter(served.runs)
    assert len(counts) == 20 and set(counts.values()) == {1}


async def test_a_delivery_older_than_the_horizon_is_refused_over_http(served: Served) -> None:
    assert served.clock is not None
    receiver = served.mount("app-key-1", "secret-0123456789abcdef")
    now_ms = int(served.clock.now() * 1000)

    async with aiohttp.ClientSession() as http:
        for age, status in ((29 * HOUR, 200), (31 * HOUR, 400)):
            push = build_push(
                "app-key-1",
                "secret-0123456789abcdef",
                ORDER_STATUS_EVENT,
                {"parentOrderSn": f"PO-{age}", "orderStatus": 2},
                timestamp=now_ms - age * 1000,
            )
            async with http.post(served.url, data=push.body, headers=push.headers) as resp:
                assert resp.status == status, await resp.text()
    assert receiver.received == 1


async def test_a_replay_is_not_run_again_across_a_receiver_restart(tmp_path: Path) -> None:
    db = tmp_path / "hooks.sqlite"
    push = build_push("k", "secret-0123456789abcdef", ORDER_STATUS_EVENT, {"parentOrderSn": "P1"})
    first = await Served(db).start()
    first.mount("k", "secret-0123456789abcdef")
    async with aiohttp.ClientSession() as http:
        async with http.post(first.url, data=push.body, headers=push.headers) as resp:
            assert resp.status == 200
        assert first.receiver is not None
        assert await first.receiver.processor.run_once() == 1
        await first.close()

        second = await Served(db).start()
        second.mount("k", "secret-0123456789abcdef")
        restamped = build_push(
            "k", "secret-0123456789abcdef", ORDER_STATUS_EVENT, {"parentOrderSn": "P1"}
        )
        for p in (push, restamped):
            async with http.post(second.url, data=p.body, headers=p.headers) as resp:
                assert resp.status == 200
        assert second.receiver is not None
        assert second.receiver.repeats == 2 and second.receiver.received == 0
        assert await second.receiver.processor.run_once() == 0
        await second.close()
    assert first.runs and not second.runs


async def test_failing_callback_is_retried_then_kept_as_a_dead_letter_and_replayable(
    served: Served,
) -> None:
    assert served.clock is not None
    clock = served.clock
    receiver = served.mount("k", "secret-0123456789abcdef", retry_delays=(10.0, 60.0))
    push = build_push(
        "k",
        "secret-0123456789abcdef",
        ORDER_STATUS_EVENT,
        {"parentOrderSn": "P9"},
        timestamp=int(clock.now() * 1000),
    )
    async with (
        aiohttp.ClientSession() as http,
        http.post(served.url, data=push.body, headers=push.headers) as resp,
    ):
        assert resp.status == 200
    served.fail_next = 3
    proc, inbox = receiver.processor, receiver.inbox
    assert await proc.run_once() == 1  # run 1 fails
    assert await proc.run_once() == 0  # not due for 10 s
    clock.advance(10)
    assert await proc.run_once() == 1  # run 2 fails
    clock.advance(60)
    assert await proc.run_once() == 1  # run 3 fails: no delays left
    [dead] = inbox.list("dead")
    assert dead.attempts == 3 and dead.last_error == "RuntimeError: downstream is unavailable"
    assert dead.event_id == dead.delivery.event_id
    assert inbox.replay(dead.event_id)
    assert await proc.run_once() == 1
    assert served.runs == [dead.event_id]
    assert inbox.counts() == {"pending": 0, "running": 0, "done": 1, "dead": 0}


async def test_a_callback_cut_short_runs_again_once_its_lease_runs_out(tmp_path: Path) -> None:
    clock = ManualClock()
    started: list[str] = []
    gate = asyncio.Event()

    async def slow(event: InboxEvent) -> None:
        started.append(event.event_id)
        await gate.wait()

    receiver = WebhookReceiver(
        "k", "secret-0123456789abcdef", slow, db=tmp_path / "h.sqlite", clock=clock.now
    )
    delivery = receiver.verifier.verify(
        *(lambda p: (p.headers, p.body))(
            build_push(
                "k",
                "secret-0123456789abcdef",
                ORDER_STATUS_EVENT,
                {"parentOrderSn": "P7"},
                timestamp=int(clock.now() * 1000),
            )
        )
    )
    assert receiver.inbox.add(delivery)
    task = asyncio.create_task(receiver.processor.run_once())
    while not started:
        await asyncio.sleep(0.001)
    task.cancel()  # the process "dies" mid-callback
    with pytest.raises(asyncio.CancelledError):
        await task
    assert receiver.inbox.counts()["running"] == 1
    assert await receiver.processor.run_once() == 0  # still leased to the dead run
    clock.advance(receiver.processor.lease + 1)
    gate.set()
    assert await receiver.processor.run_once() == 1
    assert started == [delivery.event_id, delivery.event_id]
    assert receiver.inbox.counts()["done"] == 1
    await receiver.close()


@pytest.mark.redis
async def test_two_receiver_processes_sharing_redis_run_an_event_once(tmp_path: Path) -> None:
    from redis_server import running_redis

    here = Path(__file__).parent
    secret = "secret-0123456789abcdef"
    with running_redis() as redis:
        procs, ports = [], []
        for name in ("a", "b"):
            proc = subprocess.Popen(
                [
                    sys.executable,
                    str(here / "webhook_receiver_proc.py"),
                    "k",
                    secret,
                    str(tmp_path / f"{name}.sqlite"),
                    redis.url,
                    str(tmp_path / f"{name}.log"),
                ],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                env={**os.environ, "PYTHONPATH": str(here)},
            )
            assert proc.stdout is not None
            line = proc.stdout.readline().decode()
            assert line.startswith("PORT "), line
            procs.append(proc)
            ports.append(int(line.split()[1]))
        try:
            first = build_push("k", secret, ORDER_STATUS_EVENT, {"parentOrderSn": "P5"})
            again = build_push("k", secret, ORDER_STATUS_EVENT, {"parentOrderSn": "P5"})
            async with aiohttp.ClientSession() as http:
                for port, p in ((ports[0], first), (ports[1], again), (ports[1], first)):
                    url = f"http://127.0.0.1:{port}/hook"
                    async with http.post(url, data=p.body, headers=p.headers) as resp:
                        assert resp.status == 200
            deadline = asyncio.get_running_loop().time() + 10
            log_a = tmp_path / "a.log"
            while not log_a.exists() and asyncio.get_running_loop().time() < deadline:
                await asyncio.sleep(0.05)
        finally:
            for proc in procs:
                assert proc.stdin is not None
                proc.stdin.close()
                proc.wait(timeout=10)
    runs = [
        line
        for name in ("a", "b")
        if (tmp_path / f"{name}.log").exists()
        for line in (tmp_path / f"{name}.log").read_text().split()
    ]
    assert len(runs) == 1
    assert not (tmp_path / "b.log").exists()


async def test_order_events_sync_their_shop_and_the_poll_covers_events_that_never_came(
    tmp_path: Path,
) -> None:
    from temu_async import TemuApp
    from temu_async.sync import OrderSyncOptions, SqliteStore
    from temu_async.webhooks.reconcile import OrderReconciler

    served = await Served(tmp_path / "hooks.sqlite").start()
    business = ManualClock()
    config = SandboxConfig(
        seed=11,
        shops=2,
        orders=30,
        catalogue=small_catalogue(),
        clock=business,
        rate_limit=10_000,
        order_arrival_per_hour=3,
        webhook_url=served.url,
        webhook_policy=PushPolicy(retry_delays=(0.05,), reply_within=5.0),
    )
    async with Sandbox(config) as sb:
        creds = sb.credentials
        app_cred = creds.apps[0]
        app = TemuApp(
            creds.app_key, creds.app_secret, region="global", base_url=sb.url, rate_limit=1000
        )
        shops = {s.mall_id: app.shop(s.access_token, name=f"mall-{s.mall_id}") for s in creds.shops}

        def world() -> dict[str, dict[str, tuple[int, int]]]:
            return {
                f"mall-{m}": {sn: (o.updated, o.status) for sn, o in shop.by_sn.items()}
                for m, shop in sb.world.orders.shops.items()
            }

        with SqliteStore(tmp_path / "orders.sqlite") as store:
            reconciler = OrderReconciler(
                shops,
                store,
                options=OrderSyncOptions(page_size=50, overlap=0),
                debounce=0.05,
                clock=business.now,
            )
            receiver = served.mount(app_cred.app_key, app_cred.app_secret)
            served_runs = served.runs

            async def on_event(event: InboxEvent) -> None:
                served_runs.append(event.event_id)
                await reconciler.on_event(event)

            receiver.processor.on_event = on_event
            await reconciler.poll()
            assert {n: store.order_versions(n) for n in world()} == world()

            # Orders change; the sandbox pushes the events; each shop is synced once soon.
            business.advance(3 * HOUR)
            changes = await sb.advance()
            assert changes and await sb.webhooks.drain(10.0)
            syncs_before = reconciler.syncs
            assert await receiver.processor.run_once() == receiver.received
            await reconciler.settle()
            assert {n: store.order_versions(n) for n in world()} == world()
            changed_shops = {c.mall_id for c in changes}
            assert reconciler.events_seen > len(changed_shops)  # several events ...
            assert reconciler.syncs - syncs_before == 1  # ... one sync of their shops
            assert all(summary.ok for summary in reconciler.summaries)

            # Changes whose events never arrive: only the periodic poll sees them.
            sb.set_webhook_url(None)
            business.advance(3 * HOUR)
            assert await sb.advance()
            assert {n: store.order_versions(n) for n in world()} != world()
            await reconciler.poll()
            assert {n: store.order_versions(n) for n in world()} == world()
        await app.close()
    await served.close()


async def test_cli_lists_the_inbox_and_replays_a_dead_letter(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from temu_async.cli import main

    db = tmp_path / "hooks.sqlite"

    async def broken(event: InboxEvent) -> None:
        raise RuntimeError("the ERP is down")

    receiver = WebhookReceiver("k", "secret-0123456789abcdef", broken, db=db, retry_delays=())
    push = build_push("k", "secret-0123456789abcdef", ORDER_STATUS_EVENT, {"parentOrderSn": "P3"})
    delivery = receiver.verifier.verify(push.headers, push.body)
    assert receiver.inbox.add(delivery)
    assert await receiver.processor.run_once() == 1
    await receiver.close()

    assert main(["webhooks", "list", "--db", str(db), "--state", "dead"]) == 0
    out = capsys.readouterr().out
    assert "dead 1" in out and delivery.event_id in out and "the ERP is down" in out
    assert main(["webhooks", "list", "--db", str(db), "--json"]) == 0
    row = json.loads(capsys.readouterr().out)
    assert row["event_id"] == delivery.event_id and row["payload"] == {"parentOrderSn": "P3"}

    assert main(["webhooks", "replay", "--db", str(db), delivery.event_id, "nope"]) == 1
    out = capsys.readouterr().out
    assert "due again" in out and "nope: not replayed: no such event" in out
    with WebhookInbox(db) as inbox:
        assert inbox.counts()["pending"] == 1
    assert main(["webhooks", "list", "--db", str(tmp_path / "missing.sqlite")]) == 2
    assert "no such inbox file" in capsys.readouterr().err
