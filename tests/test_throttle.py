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

    await asyncio.gather(*(one() for _ in range(25)))  # cold start
    await asyncio.sleep(1.2)
    await asyncio.gather(*(one() for _ in range(25)))  # after idling
    await throttle.close()
    assert len(grants) == 50
    assert max_in_window(grants) <= 10
    # A full bucket would have granted all 10 at once on the cold start: here only the
    # small burst (a quarter of the rate) goes at once, then grants are paced
    # (1 s + margin) / 10 apart, as the Redis backend's.
    assert sum(1 for t in grants[:25] if t - grants[0] < 0.05) == 2
    assert max_in_window(grants, 0.099) <= 2


async def test_one_shops_bulk_job_does_not_starve_another_shop() -> None:
    throttle = Throttle()
    limit = Limit("app", 20)
    order: list[str] = []

    async def call(shop: str) -> None:
        slot = await throttle.admit([limit], shop)
        order.append(shop)  # in the order granted (slots due at one instant may leave in any)
        await slot.until_due()
        slot.sent()

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
    own = Limit("app", 3, api_type="bg.x")
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
        (await backend.reserve([limit], 60.0)).sent()
    assert 0.02 < backend.margin < 0.0203


async def test_an_idle_throttle_grants_at_once_but_never_lets_a_newcomer_overtake() -> None:
    # Nobody waiting and a slot free: the grant is immediate. Once someone waits, a
    # newcomer queues behind them even when its own limits have room, exactly as
    # it would if every grant went through the dispatcher.
    throttle = Throttle(LocalWindow())
    app, own = Limit("app", 1000), Limit("app", 1, api_type="slow.type")
    assert await throttle.acquire([app, own], "x") == 0.0
    order: list[str] = []

    async def one(limits: list[Limit], tenant: str) -> float:
        slot = await throttle.admit(limits, tenant)
        order.append(tenant)  # in the order granted
        await slot.until_due()
        slot.sent()
        return slot.waited

    queued = asyncio.create_task(one([app, own], "x"))  # ~1 s for the type's own limit
    await asyncio.sleep(0.05)
    newcomer = await one([app], "y")  # the app limit alone has room
    assert order == ["x", "y"]
    assert await queued >= 0.9
    assert newcomer >= 0.85
    await throttle.close()


def test_limits_are_keyed_by_app_and_type_values_and_the_old_string_form_is_deprecated() -> None:
    assert Limit("app", 20).key == ("app", None)
    assert Limit("app", 5, api_type="bg.x").key == ("app", "bg.x")
    # An app_key is a value, not a string to split: "app:bg.x" as a type stays whole.
    assert Limit("app", 5, api_type="a:b").key == ("app", "a:b")
    with pytest.warns(DeprecationWarning, match="api_type"):
        old = Limit("app:bg.x", 5)
    assert old.key == ("app", "bg.x")
    with pytest.raises(ValueError, match="app_key"):
        Limit("", 5)


async def test_a_slot_counts_from_its_write_not_from_its_grant() -> None:
    # Granted at t=0, written only at t=0.7 (its connection was slow to open): the
    # window must count it at 0.7.
    now = {"t": 0.0}
    window = LocalWindow(margin=0.0, clock=lambda: now["t"])
    limit = Limit("app", 2)
    first = window.grant_now([limit])
    assert first is not None
    assert window.pending(limit) == 1
    now["t"] = 0.5
    second = window.grant_now([limit])  # paced 0.5 s apart: due now
    assert second is not None
    second.sent()  # written at 0.5
    now["t"] = 0.7
    first.sent()  # written at 0.7
    assert window.pending(limit) == 0
    # The two most recent writes are at 0.5 and 0.7: the next slot is free 1 s after the
    # older one. Counted at its grant (0.0), the first slot would have freed it at 1.0.
    assert window.earliest([limit]) == pytest.approx(1.5)


async def test_while_every_place_is_held_by_unwritten_slots_nothing_is_granted() -> None:
    now = {"t": 0.0}
    window = LocalWindow(margin=0.0, clock=lambda: now["t"])
    limit = Limit("app", 2)
    held = [await window.reserve([limit], 5.0) for _ in range(2)]
    assert [s.delay for s in held] == [0.0, pytest.approx(0.5)]
    now["t"] = 3.0  # long past any pace: only the unwritten slots hold the window
    assert window.grant_now([limit]) is None
    assert window.earliest([limit]) == float("inf")
    waiting = asyncio.create_task(window.reserve([limit], 5.0))
    await asyncio.sleep(0.01)
    assert not waiting.done()
    held[0].release()  # never written: its place is free again at once
    third = await waiting
    assert third.delay == 0.0
    held[1].sent()
    third.sent()
    # Both written at 3.0: the next slot waits a full period from there.
    assert window.earliest([limit]) == pytest.approx(4.0)


async def test_an_unwritten_slot_times_out_naming_the_cause() -> None:
    window = LocalWindow()
    limit = Limit("app", 1)
    held = await window.reserve([limit], 1.0)
    with pytest.raises(ThrottleTimeout, match="not yet written"):
        await window.reserve([limit], 0.05)
    held.release()


async def test_a_slot_granted_to_a_caller_that_was_cancelled_is_given_back() -> None:
    throttle = Throttle()
    limit = Limit("app", 1)
    await throttle.acquire([limit])
    waiting = asyncio.create_task(throttle.admit([limit]))
    await asyncio.sleep(0.01)
    waiting.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiting
    # Let the dispatcher come to the cancelled waiter's turn (about 1 s away).
    await asyncio.sleep(1.1)
    backend = throttle.backend
    assert isinstance(backend, LocalWindow)
    assert backend.pending(limit) == 0
    await throttle.close()
