"""Shared by the label tests: a sandbox world with many orders waiting to ship."""

from __future__ import annotations

from typing import Any

from temu_async.sandbox import Sandbox, SandboxConfig
from temu_async.sandbox.models import UN_SHIPPING


def label_config(**overrides: Any) -> SandboxConfig:
    # Orders from the last ~5 hours: past their pending hour, none shipped yet (the
    # seeded history ships 0.2-1.5 days after confirmation), no new arrivals.
    base: dict[str, Any] = {
        "seed": 21,
        "shops": 1,
        "orders": 90,
        "history_days": 0.2,
        "order_arrival_per_hour": 0,
        "cancel_rate": 0.0,
        "label_delay": 0,
    }
    base.update(overrides)
    return SandboxConfig(**base)


def mall_id(sb: Sandbox) -> int:
    return sb.credentials.shops[0].mall_id


def unshipped(sb: Sandbox, n: int) -> list[str]:
    orders = sb.world.orders.shop(mall_id(sb)).by_sn.values()
    sns = sorted(o.parent_order_sn for o in orders if o.status == UN_SHIPPING)
    assert len(sns) >= n, f"the sandbox has only {len(sns)} orders waiting to ship"
    return sns[:n]


def child_sns(sb: Sandbox, parent_sns: list[str]) -> list[str]:
    out = []
    for sn in parent_sns:
        order = sb.world.orders.get(mall_id(sb), sn)
        assert order is not None
        out.extend(c.order_sn for c in order.children)
    return out
