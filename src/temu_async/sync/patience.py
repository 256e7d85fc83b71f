"""Reads a bulk sync sends again after the client gave up on a rate limit.

The client's retry budget protects a struggling gateway from retry storms, and an
interactive caller wants the error fast. A bulk sync of reads would rather wait:
a 4000004 means the request did not run, so after a pause it is sent again, through
the throttle (which the client already pushed back for the whole app).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from temu_async.client import ShopClient
from temu_async.errors import RateLimited

__all__ = ["RATE_LIMIT_ATTEMPTS", "patiently", "read_patiently"]

T = TypeVar("T")

log = logging.getLogger("temu_async.sync")

RATE_LIMIT_ATTEMPTS = 6


async def read_patiently(
    shop: ShopClient, type_name: str, params: dict[str, Any], attempts: int = RATE_LIMIT_ATTEMPTS
) -> Any:
    """``shop.call`` for an idempotent read, sent again (up to ``attempts``) on RateLimited."""
    return await patiently(lambda: shop.call(type_name, params), shop.name, type_name, attempts)


async def patiently(
    send: Callable[[], Awaitable[T]],
    shop_name: str,
    what: str,
    attempts: int = RATE_LIMIT_ATTEMPTS,
) -> T:
    """``await send()`` (an idempotent read, typed or not), again on RateLimited."""
    for attempt in range(1, attempts + 1):
        try:
            return await send()
        except RateLimited:
            if attempt == attempts:
                raise
            pause = 1.0 + random.random()
            log.info("shop %s: %s rate limited; again in %.1f s", shop_name, what, pause)
            await asyncio.sleep(pause)
    raise AssertionError("unreachable")
