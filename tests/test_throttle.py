from __future__ import annotations

import asyncio
import itertools
import time

import pytest
from windows import max_in_window

from temu_async.errors import ThrottleTimeout
from temu_async.throttle import Limit, LocalWindow, Throttle


def test_max_in_window_helper_counts_what_it_should() -> None:
    assert max_in_window([0.0, 0.5, 0.99, 1.0, 1.5]) == 3
    assert max_in_window([0.0] * 5 + [2.0]) == 5


@pytest.mark.slow
async def test_100_callers_for_3_seconds_never_exceed_20_per_second() -> None:
    throttle = Throttle()
    limit = Limit("app", 20)
    grants: list[float] = []
    start = time.monotonic()
    stop_at = start + 3.0

    async def caller() -> None:
        while True:
            await throttle.acquire([limit], "shop")
            now = time.monotonic()
            if now >= stop_at:
                return
            grants.append(now)

    await asyncio.gather(*(caller() for _ in range(100)))
    await throttle.close()
    assert max_in_window(grants) <= 20
    assert len(grants) / 3.0 >= 18


async def test_cold_start_and_after_idle_hold_the_window() -> None:
    throttle = Throttle()
    limit = Limit("app", 10)
    grants: list[float] = []

    async def one() -> None:
        await throttle.acquire([limit])
        grants.append(time.monotonic())

    await asyncio.gather(*(one() for _ in range(25)))  # cold start: 10, 10, 5
    await asyncio.sleep(1.2)
    await asyncio.gather(*(one() for _ in range(25)))  # after idling
    await throttle.close()
    assert len(grants) == 50
    assert max_in_window(grants) <= 10
    # A full bucket would have granted all 10 at once on the cold start: here only the
    # small burst (a quarter of the rate) goes at once, then grants are paced 0.1 s apart.
    assert sum(1 for t in grants[:25] if t - grants[0] < 0.05) == 2
    assert max_in_window(grants, 0.099) <= 2


async def test_one_shops_bulk_job_does_not_starve_another_shop() -> None:
    throttle = Throttle()
    limit = Limit("app", 20)
    order: list[str] = []

    async def call(shop: str) -> None:
        await throttle.acquire([limit], shop)
        order.append(shop)

    bulk = [asyncio.ensure_future(call("bulk")) for _ in range(60)]
    await asyncio.sleep(0.3)  # the bulk job is being served and has dozens queued
    served_before = len(order)
    assert order == ["bulk"] * served_before and served_before < 20
    single = [asyncio.ensure_future(call("single")) for _ in range(5)]
    await asyncio.gather(*bulk, *single)
    await throttle.close()
    # Round robin: from the moment it queues, the single shop alternates with the bulk
    # job, instead of waiting behind its forty-odd queued calls.
    positions = [i for i, shop in enumerate(order) if shop == "single"]
    assert positions[0] <= served_before + 3
    assert [b - a for a, b in itertools.pairwise(positions)] == [2, 2, 2, 2]
    assert throttle.stats.per_tenant == {"bulk": 60, "single": 5}


async def test_type_limit_and_app_limit_both_apply() -> None:
    throttle = Throttle()
    app = Limit("app", 20)
    own = Limit("app:bg.x", 3)
    grants: list[float] = []

    async def call() -> None:
        await throttle.acquire([app, own])
        grants.append(time.monotonic())

    await asyncio.gather(*(call() for _ in range(7)))
    await throttle.close()
    assert max_in_window(grants) <= 3


async def test_penalty_pushes_the_next_grant_back() -> None:
    throttle = Throttle()
    limit = Limit("app", 20)
    await throttle.acquire([limit])
    await throttle.penalize([limit], 0.4)
    before = time.monotonic()
    await throttle.acquire([limit])
    assert time.monotonic() - before >= 0.39
    await throttle.close()


async def test_max_wait_raises_and_commits_nothing() -> None:
    backend = LocalWindow()
    throttle = Throttle(backend, max_wait=0.2)
    limit = Limit("app", 2)
    await throttle.acquire([limit], max_wait=5)
    await throttle.acquire([limit], max_wait=5)
    with pytest.raises(ThrottleTimeout, match="max_wait"):
        await throttle.acquire([limit])
    # Nothing was committed by the refused call: a generous wait gets the next slot
    # about one period after the first grant, not two.
    before = time.monotonic()
    await throttle.acquire([limit], max_wait=5)
    assert time.monotonic() - before < 1.5
    await throttle.close()


async def test_cancelled_waiter_leaves_the_queue() -> None:
    throttle = Throttle()
    limit = Limit("app", 1)
    await throttle.acquire([limit])
    waiting = asyncio.ensure_future(throttle.acquire([limit]))
    await asyncio.sleep(0.05)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    await throttle.close()


async def test_a_rate_limit_rejection_widens_the_margin_which_then_decays() -> None:
    backend = LocalWindow(margin=0.02, max_margin=0.05)
    limit = Limit("app", 1000)
    assert backend.margin == 0.02
    await backend.penalize([limit], 0.0)
    assert backend.margin == pytest.approx(0.04)
    await backend.penalize([limit], 0.0)
    await backend.penalize([limit], 0.0)
    assert backend.margin == pytest.approx(0.05)  # capped
    for _ in range(1000):
        await backend.reserve([limit], 60.0)
    assert 0.02 < backend.margin < 0.0203


async def test_an_idle_throttle_grants_at_once_but_never_lets_a_newcomer_overtake() -> None:
    # Nobody waiting and a slot free: the grant is immediate. Once someone waits, a
    # newcomer queues behind them even when its own limits have room, exactly as
    # it would if every grant went through the dispatcher.
    throttle = Throttle(LocalWindow(burst_fraction=1.0))
    app, own = Limit("app", 1000), Limit("app:slow.type", 1)
    assert await throttle.acquire([app, own], "x") == 0.0
    order: list[str] = []

    async def one(limits: list[Limit], tenant: str) -> float:
        waited = await throttle.acquire(limits, tenant)
        order.append(tenant)
        return waited

    queued = asyncio.create_task(one([app, own], "x"))  # ~1 s for the type's own limit
    await asyncio.sleep(0.05)
    newcomer = await one([app], "y")  # the app limit alone has room
    assert order == ["x", "y"]
    assert await queued >= 0.9
    assert newcomer >= 0.85
    await throttle.close()


async def test_a_slot_is_counted_from_when_its_caller_goes_on_not_when_it_was_due() -> None:
    # The dispatcher hands the turn over at t=1.0; the caller's task only runs later (the
    # loop was busy: here the clock reads 1.3 by then). The window must count the slot
    # at 1.3, when the request really leaves, or the next window would open 0.3 s early.
    base = {"t": 0.0}
    handed_over: list[asyncio.Future[float]] = []

    def clock() -> float:
        late = bool(handed_over) and handed_over[0].done()
        return base["t"] + (0.3 if late else 0.0)

    window = LocalWindow(margin=0.0, burst_fraction=1.0, clock=clock)
    throttle = Throttle(window, clock=clock)
    limit = Limit("app", 1)
    assert await throttle.acquire([limit]) == 0.0  # t=0, straight through
    second = asyncio.create_task(throttle.acquire([limit]))
    await asyncio.sleep(0)  # it queues: the next slot is at 1.0
    (queue,) = throttle._queues.values()
    handed_over.append(queue[0].future)
    base["t"] = 1.0  # the slot is due now: no real sleep in the dispatcher
    await second
    assert window.earliest([limit]) == pytest.approx(2.3)
    await throttle.close()
