"""How a user tests their own code against the sandbox with the pytest fixture."""

from __future__ import annotations

import aiohttp
import pytest
from sandbox_support import call, small_catalogue

from temu_async.sandbox import ManualClock, Sandbox, SandboxConfig

pytest_plugins = ["temu_async.sandbox.pytest_plugin"]


@pytest.fixture
def temu_sandbox_config() -> SandboxConfig:
    # A user would normally keep the generated catalogue (the default); this suite
    # brings its own small one so it runs before catalogue.json exists.
    return SandboxConfig(seed=99, orders=200, catalogue=small_catalogue(), clock=ManualClock())


async def count_unshipped(session: aiohttp.ClientSession, sb: Sandbox) -> int:
    """Stand-in for the user's own code under test."""
    got = await call(session, sb, "bg.order.list.v2.get", {"parentOrderStatus": 2, "pageSize": 1})
    return int(got["result"]["totalItemNum"])


async def test_my_sync_sees_unshipped_orders(temu_sandbox: Sandbox) -> None:
    assert temu_sandbox.url.startswith("http://127.0.0.1:")
    assert len(temu_sandbox.credentials.shops) == 2
    async with aiohttp.ClientSession() as session:
        n = await count_unshipped(session, temu_sandbox)
    expected = sum(
        o.status == 2
        for o in temu_sandbox.world.orders.shop(
            temu_sandbox.credentials.shops[0].mall_id
        ).by_sn.values()
    )
    assert n == expected > 0
