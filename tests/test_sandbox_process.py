"""The sandbox in a child process: it starts, serves real HTTP, reports its counters,
refuses a bad config by name, and goes away with its parent's handle."""

from __future__ import annotations

import asyncio

import pytest

from temu_async import RateLimited, TemuApp
from temu_async.retry import RetryPolicy
from temu_async.sandbox.process import SandboxProcess


async def test_a_child_sandbox_serves_counts_and_refuses_past_its_limit() -> None:
    with SandboxProcess(
        shops=2, orders=5, rate_limit=3, order_arrival_per_hour=0.0, history_days=0.25
    ) as sb:
        info = sb.info
        assert len(info.shops) == 2
        assert sb.order_count() == info.orders == 10
        # The client's own limit is out of the way, so the child's 3/s is what refuses.
        async with TemuApp(
            info.app_key,
            info.app_secret,
            base_url=info.url,
            rate_limit=1000,
            retry=RetryPolicy(max_retries=0),
        ) as app:
            shop = app.shop(info.shops[0].token)
            outcomes = await asyncio.gather(
                *(shop.order.list_v2(page_size=10) for _ in range(5)), return_exceptions=True
            )
        refused = [o for o in outcomes if isinstance(o, RateLimited)]
        assert len(refused) == 2, outcomes
        counters = sb.counters()
        assert counters["rejections"] == {"4000004": 2}
        assert counters["admitted"] == 3
        sb.reset()
        assert sb.counters()["admitted"] == 0
        assert sb.shippable(info.shops[0].mall_id, 1)[0]["lines"]
        pid_alive = sb._proc.poll() is None
    assert pid_alive
    assert sb._proc.poll() is not None, "the child outlived its handle"


def test_a_bad_config_field_is_named() -> None:
    with pytest.raises(RuntimeError, match=r"bad sandbox config: .*'colour'"):
        SandboxProcess(colour="blue")
