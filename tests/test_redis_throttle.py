"""RedisWindow against a real redis-server on loopback (started by these tests)."""

from __future__ import annotations

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from redis.asyncio import Redis
from redis.exceptions import ResponseError
from redis_server import RedisServer, free_port, running_redis
from windows import max_in_window

from temu_async.errors import TemuError, ThrottleTimeout
from temu_async.redis_throttle import _SCRIPT_SHA, RedisUnavailable, RedisWindow, redis_key
from temu_async.throttle import Limit, LocalWindow, Throttle

pytestmark = pytest.mark.redis


async def grant_times(window: RedisWindow, limit: Limit, count: int) -> list[float]:
    """Reserve ``count`` slots one after the other, each written when it is due; return
    each slot's write time (this process's clock)."""
    times: list[float] = []
    for _ in range(count):
        slot = await window.reserve([limit], 60.0)
        await slot.until_due()
        slot.sent()
        times.append(time.monotonic())
        await window.flush()
    return times


async def delay_of(backend: RedisWindow, limits: list[Limit], max_wait: float) -> float:
    """Reserve a slot and count it written at once; return how far away it was."""
    slot = await backend.reserve(limits, max_wait)
    slot.sent()
    if isinstance(backend, RedisWindow):
        await backend.flush()
    return slot.delay


@pytest.fixture(scope="module")
def server() -> Iterator[RedisServer]:
    with running_redis() as srv:
        yield srv


@pytest.fixture
async def raw(server: RedisServer) -> AsyncIterator[Redis]:
    client = Redis.from_url(server.url, decode_responses=True)
    await client.flushall()
    await client.script_flush()
    yield client
    await client.aclose()


@pytest.fixture
async def window(server: RedisServer, raw: Redis) -> AsyncIterator[RedisWindow]:
    backend = RedisWindow(server.url)
    yield backend
    await backend.close()


# --- the key layout --------------------------------------------------------------------


def test_key_layout_puts_every_key_of_one_app_under_one_hash_tag() -> None:
    assert redis_key(Limit("app123", 20)) == "temu:{app123}:rate"
    own = Limit("app123", 5, api_type="bg.order.list.v2.get")
    assert redis_key(own) == "temu:{app123}:rate:bg.order.list.v2.get"
    assert redis_key(own, "prod", "sent") == "prod:{app123}:sent:bg.order.list.v2.get"
    assert redis_key(Limit("app123", 5, api_type="")) == "temu:{app123}:rate:"
    with pytest.warns(DeprecationWarning, match="pass the Limit"):
        assert redis_key("app123:bg.x") == "temu:{app123}:rate:bg.x"


async def test_limits_of_two_apps_in_one_reservation_are_refused(window: RedisWindow) -> None:
    with pytest.raises(ValueError, match="one app_key"):
        await delay_of(window, [Limit("app-a", 5), Limit("app-b", 5, api_type="bg.x")], 1.0)


@pytest.mark.parametrize(
    ("kwargs", "param"),
    [
        ({"margin": -0.1}, "margin"),
        ({"prefix": "a{b}"}, "prefix"),
        ({"prefix": ""}, "prefix"),
        ({"on_unavailable": "ignore"}, "on_unavailable"),
        ({"fallback_fraction": 0}, "fallback_fraction"),
        ({"fallback_fraction": 1.5}, "fallback_fraction"),
        ({"probe_interval": 0}, "probe_interval"),
        ({"timeout": 0}, "timeout"),
        ({"burst_fraction": 1.5}, "burst_fraction"),
        ({"pending_ttl": 0}, "pending_ttl"),
        ({"poll_interval": 0}, "poll_interval"),
    ],
)
def test_bad_settings_name_the_param(kwargs: dict[str, object], param: str) -> None:
    with pytest.raises(ValueError, match=param):
        RedisWindow("redis://127.0.0.1:1/0", **kwargs)  # type: ignore[arg-type]


def test_url_or_client_exactly_one() -> None:
    with pytest.raises(ValueError, match="exactly one of url"):
        RedisWindow()


def test_missing_redis_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "redis.asyncio", None)
    with pytest.raises(ImportError, match=r"pip install 'temu-async\[redis\]'"):
        RedisWindow("redis://127.0.0.1:1/0")


# --- the guarantee: never more than rate in any period --------------------------------


@pytest.mark.slow
async def test_cold_start_never_puts_more_than_rate_in_a_window(window: RedisWindow) -> None:
    limit = Limit("app-cold", 10, 1.0)
    times = await grant_times(window, limit, 22)
    assert max_in_window(times, 1.0) <= 10
    # A small burst (a quarter of the rate: 2), then paced (1 s + margin) / 10 apart.
    assert sum(1 for t in times if t - times[0] < 0.05) == 2
    assert sum(1 for t in times if t - times[0] < 1.0) == 10  # the budget is really used


async def test_after_idle_the_window_still_holds(window: RedisWindow, raw: Redis) -> None:
    limit = Limit("app-idle", 5, 0.3)
    first = await grant_times(window, limit, 12)
    await asyncio.sleep(0.4)
    assert await raw.exists(redis_key(limit)) == 0  # idle: nothing left behind
    second = await grant_times(window, limit, 12)
    assert max_in_window(first + second, 0.3) <= 5
    assert max_in_window(second, 0.3) == 5  # and the budget is really used


async def test_fair_throttle_over_redis_holds_the_window(server: RedisServer, raw: Redis) -> None:
    throttle = Throttle(RedisWindow(server.url))
    limit = Limit("app-throttle", 10, 0.5)
    granted: list[float] = []

    async def one(shop: str) -> None:
        await throttle.acquire([limit], shop)
        granted.append(time.monotonic())

    await asyncio.gather(*(one(f"shop{i % 3}") for i in range(30)))
    await throttle.close()
    assert len(granted) == 30
    assert max_in_window(granted, 0.5) <= 10


# --- several limits: all or nothing ----------------------------------------------------


async def test_a_full_limit_blocks_the_other_from_being_consumed(
    window: RedisWindow, raw: Redis
) -> None:
    app = Limit("app-multi", 2, 10.0)  # one slot every 5.0125 s
    own = Limit("app-multi", 100, 1.0, "bg.type")  # one slot every 10.25 ms
    app_key, own_key = redis_key(app), redis_key(own)

    assert await delay_of(window, [app, own], 1.0) == 0.0
    committed = (await raw.get(app_key), await raw.get(own_key))
    assert None not in committed

    with pytest.raises(ThrottleTimeout):
        await delay_of(window, [app, own], 1.0)
    assert (await raw.get(app_key), await raw.get(own_key)) == committed

    # The type's own limit alone was not consumed by the refused attempt.
    assert await delay_of(window, [own], 1.0) < 0.05

    # A combined reservation takes the later slot and consumes both limits at it: the
    # type's own pace moves past it (less its burst of 25, which may go 24 intervals
    # ahead of the pace).
    wait = await delay_of(window, [app, own], 10.0)
    assert wait == pytest.approx(5.0125, abs=0.15)
    own_next = wait + 0.01025 - 24 * 0.01025
    assert await delay_of(window, [own], 10.0) == pytest.approx(own_next, abs=0.15)


# --- max_wait --------------------------------------------------------------------------


async def test_max_wait_raises_and_commits_nothing(window: RedisWindow, raw: Redis) -> None:
    limit = Limit("app-wait", 1, 2.0)
    key = redis_key(limit)
    assert await delay_of(window, [limit], 0.0) == 0.0
    before = await raw.get(key)

    with pytest.raises(ThrottleTimeout, match=r"max_wait=0\.50") as caught:
        await delay_of(window, [limit], 0.5)
    assert isinstance(caught.value, TemuError)
    assert await raw.get(key) == before

    # Had the refused call committed, this would be 4.05 s away, not 2.025 s.
    assert await delay_of(window, [limit], 5.0) == pytest.approx(2.025, abs=0.15)


# --- penalties -------------------------------------------------------------------------


async def test_penalty_pushes_back_every_other_client(server: RedisServer, raw: Redis) -> None:
    one, other = RedisWindow(server.url), RedisWindow(server.url)
    try:
        app, own = Limit("app-pen", 20), Limit("app-pen", 30, api_type="bg.type")
        await one.penalize([app, own], 1.5)

        with pytest.raises(ThrottleTimeout):
            await delay_of(other, [app], 0.5)
        assert await delay_of(other, [own], 5.0) == pytest.approx(1.5, abs=0.15)

        # A shorter penalty never shortens a longer one.
        await one.penalize([app], 0.1)
        assert await delay_of(other, [app], 5.0) == pytest.approx(1.5, abs=0.15)
    finally:
        await one.close()
        await other.close()


# --- expiry ----------------------------------------------------------------------------


async def test_keys_expire_once_their_slot_has_passed(window: RedisWindow, raw: Redis) -> None:
    app, own = Limit("app-ttl", 10, 0.5), Limit("app-ttl", 10, 0.5, "bg.type")
    await delay_of(window, [app, own], 1.0)
    assert sorted(await raw.keys("temu:{app-ttl}:*")) == [
        "temu:{app-ttl}:rate",
        "temu:{app-ttl}:rate:bg.type",
        "temu:{app-ttl}:sent",
        "temu:{app-ttl}:sent:bg.type",
    ]
    assert 0 < await raw.pttl("temu:{app-ttl}:rate") <= 60  # 52.5 ms interval
    # The write log: as long as its newest write can matter (period + margin).
    assert 400 < await raw.pttl("temu:{app-ttl}:sent") <= 527
    await asyncio.sleep(0.6)
    assert await raw.keys("temu:{app-ttl}:*") == []

    await window.penalize([app], 0.3)
    # The penalty, plus the pace's burst allowance (one 52.5 ms interval), which must not
    # let the app back early.
    assert 250 < await raw.pttl("temu:{app-ttl}:rate") <= 302 + 53
    await asyncio.sleep(0.4)
    assert await raw.keys("temu:{app-ttl}:*") == []


# --- the script cache ------------------------------------------------------------------


async def test_script_flush_mid_run_is_recovered(window: RedisWindow, raw: Redis) -> None:
    limit = Limit("app-flush", 1, 1.0)
    assert await delay_of(window, [limit], 5.0) == 0.0
    assert await raw.script_exists(_SCRIPT_SHA) == [True]

    await raw.script_flush()
    assert await raw.script_exists(_SCRIPT_SHA) == [False]
    # Reloaded, and the state from before the flush still counts.
    assert await delay_of(window, [limit], 5.0) == pytest.approx(1.025, abs=0.15)
    assert await raw.script_exists(_SCRIPT_SHA) == [True]


# --- Redis Cluster: the hash tag keeps one app's keys in one slot ----------------------


async def test_works_on_a_cluster_where_untagged_keys_would_cross_slots() -> None:
    from redis.asyncio.cluster import RedisCluster

    with running_redis("--cluster-enabled", "yes", "--cluster-config-file", "nodes.conf") as srv:
        admin = Redis.from_url(srv.url)
        await admin.execute_command("CLUSTER", "ADDSLOTSRANGE", "0", "16383")
        for _ in range(500):  # a lone node declares itself ok after about 2 s
            if b"cluster_state:ok" in await admin.execute_command("CLUSTER", "INFO"):
                break
            await asyncio.sleep(0.02)
        else:
            pytest.fail("the one-node cluster never reached cluster_state:ok")
        # Without the tag, the two keys of one reservation live in different slots.
        with pytest.raises(ResponseError, match="same slot"):
            await admin.eval("return 1", 2, "temu:app-c:rate", "temu:app-c:rate:bg.type")
        await admin.aclose()

        cluster = RedisCluster(host="127.0.0.1", port=srv.port)
        backend = RedisWindow(client=cluster)
        app, own = Limit("app-c", 1, 1.0), Limit("app-c", 5, 1.0, "bg.type")
        assert await delay_of(backend, [app, own], 5.0) == 0.0
        assert await delay_of(backend, [app, own], 5.0) == pytest.approx(1.025, abs=0.15)
        await backend.penalize([app, own], 3.0)
        assert await delay_of(backend, [own], 5.0) == pytest.approx(3.0, abs=0.15)
        await backend.close()  # not ours: the cluster client stays open
        assert await cluster.ping()
        await cluster.aclose()


# --- Redis unreachable -----------------------------------------------------------------


async def test_fail_closed_names_the_url_without_credentials() -> None:
    port = free_port()  # nobody listens here
    backend = RedisWindow(f"redis://admin:s3cret@127.0.0.1:{port}/2?password=s3cret", timeout=0.5)
    with pytest.raises(RedisUnavailable) as caught:
        await delay_of(backend, [Limit("app-down", 20)], 5.0)
    err = caught.value
    assert isinstance(err, TemuError)
    assert f"redis://127.0.0.1:{port}/2" in str(err)
    for text in (str(err), repr(err), repr(backend)):
        assert "s3cret" not in text
        assert "admin" not in text
    with pytest.raises(RedisUnavailable):
        await backend.penalize([Limit("app-down", 20)], 1.0)
    await backend.close()


async def test_fallback_counts_locally_at_a_fraction_and_returns_to_redis(
    caplog: pytest.LogCaptureFixture,
) -> None:
    srv = RedisServer()
    srv.start()
    backend = RedisWindow(
        srv.url,
        on_unavailable="fallback_local",
        fallback_fraction=0.5,
        probe_interval=0.3,
        timeout=0.5,
    )
    raw = Redis.from_url(srv.url, decode_responses=True)
    limit = Limit("app-fb", 4, 1.0)
    key = redis_key(limit)
    try:
        assert await delay_of(backend, [limit], 5.0) == 0.0
        assert await raw.exists(key) == 1
        await raw.aclose()

        srv.halt()
        caplog.set_level(logging.INFO, logger="temu_async.redis_throttle")
        # Locally at 2 per second, paced: one slot now, the next half a period later,
        # the third a full period (+ margin) after the first.
        waits = [await delay_of(backend, [limit], 5.0) for _ in range(3)]
        assert backend.degraded
        assert waits[0] == 0.0
        assert waits[1] == pytest.approx(0.5, abs=0.1)
        assert waits[2] == pytest.approx(1.025, abs=0.15)
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert len(warnings) == 1
        assert srv.url in warnings[0].getMessage()

        srv.start()  # same port, empty data
        await asyncio.sleep(0.35)  # the next probe is due
        raw = Redis.from_url(srv.url, decode_responses=True)
        assert await raw.exists(key) == 0
        await delay_of(backend, [limit], 5.0)
        assert not backend.degraded
        assert await raw.exists(key) == 1  # counted in Redis again
        assert any("answers again" in r.getMessage() for r in caplog.records)
    finally:
        await raw.aclose()
        await backend.close()
        srv.stop()


async def test_fail_closed_recovers_by_itself_when_redis_is_back() -> None:
    srv = RedisServer()
    srv.start()
    backend = RedisWindow(srv.url, timeout=0.5)
    limit = Limit("app-back", 20)
    try:
        await delay_of(backend, [limit], 5.0)
        srv.halt()
        with pytest.raises(RedisUnavailable):
            await delay_of(backend, [limit], 5.0)
        srv.start()  # the pool's old connections are dead; the next call needs no help
        assert await delay_of(backend, [limit], 5.0) == 0.0
    finally:
        await backend.close()
        srv.stop()


async def test_something_else_on_the_port_is_unavailable_not_a_crash() -> None:
    async def http_only(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(100)
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(http_only, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    backend = RedisWindow(f"redis://127.0.0.1:{port}/0", timeout=0.5)
    try:
        with pytest.raises(RedisUnavailable, match=f"127.0.0.1:{port}"):
            await delay_of(backend, [Limit("app-http", 20)], 5.0)
    finally:
        await backend.close()
        server.close()
        await server.wait_closed()


# --- slots count from their write --------------------------------------------------------


async def test_unwritten_slots_hold_the_window_until_written_or_released(
    window: RedisWindow,
) -> None:
    limit = Limit("app-pending", 2, 1.0)
    held = [await window.reserve([limit], 5.0) for _ in range(2)]
    # Two slots admitted, neither written: their write times are unknown, so there is
    # no third slot however long the pace says it is.
    with pytest.raises(ThrottleTimeout, match="not yet written"):
        await window.reserve([limit], 0.2)
    held[0].release()
    await window.flush()
    third = await window.reserve([limit], 5.0)  # the released place, at the pace
    assert third.delay < 1.1
    held[1].sent()
    third.sent()
    await window.flush()


async def test_a_late_write_counts_at_its_write_time(window: RedisWindow) -> None:
    limit = Limit("app-late", 2, 1.0)
    late = await window.reserve([limit], 5.0)
    on_time = await window.reserve([limit], 5.0)
    await asyncio.sleep(on_time.delay)
    on_time.sent()
    await asyncio.sleep(0.4)  # the first request's connection is slow to open
    late.sent()
    await window.flush()
    # The window's two writes are ~0.51 s and ~0.91 s after the first grant: the next
    # slot comes a period (+ margin) after the older write, not after the first grant.
    nxt = await window.reserve([limit], 5.0)
    assert nxt.delay == pytest.approx(1.025 - 0.4, abs=0.15)
    nxt.release()


async def test_a_dead_holders_slot_frees_itself_after_pending_ttl(
    server: RedisServer, raw: Redis
) -> None:
    backend = RedisWindow(server.url, pending_ttl=0.3)
    limit = Limit("app-dead", 1, 0.2)
    try:
        await backend.reserve([limit], 1.0)  # never written nor released: its holder died
        with pytest.raises(ThrottleTimeout):
            await backend.reserve([limit], 0.1)
        slot = await backend.reserve([limit], 2.0)  # once the held slot has expired
        slot.release()
    finally:
        await backend.close()


async def test_local_and_redis_pace_a_cold_start_alike(window: RedisWindow) -> None:
    # The same limit, reserved back to back from a cold start: the same schedule of
    # slots from both backends (a quarter of the rate now, then (period + margin) / rate
    # apart).
    limit = Limit("app-same", 10, 1.0)
    local = LocalWindow()
    schedules: list[list[float]] = []
    for backend in (local, window):
        started = time.monotonic()
        slots, schedule = [], []
        for _ in range(8):
            asked = time.monotonic() - started
            slot = await backend.reserve([limit], 5.0)
            slots.append(slot)
            schedule.append(asked + slot.delay)
        schedules.append(schedule)
        for slot in slots:
            slot.release()
    await window.flush()
    expected = [max(0, i - 1) * 0.1025 for i in range(8)]  # a burst of 2, then paced
    for schedule in schedules:
        assert schedule == pytest.approx(expected, abs=0.03)
