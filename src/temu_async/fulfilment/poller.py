"""One poller for every label purchase in flight: few ``result.get`` calls, not one each.

Packages waiting for their purchase to settle register here; a single task asks
``bg.logistics.shipment.result.get`` about all of them, ``batch`` package numbers per
call, and hands each package its answer once ``shippingLabelStatus`` is 1 or 2. The
pause between rounds grows from ``initial`` to ``maximum`` and starts over when a
new package joins, so the first answer for a fresh purchase is not held back by old
slow ones.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from temu_async.client import ShopClient
from temu_async.errors import TemuError

__all__ = ["ResultPoller"]

RESULT = "bg.logistics.shipment.result.get"


class ResultPoller:
    def __init__(
        self, shop: ShopClient, *, initial: float, maximum: float, batch: int = 20
    ) -> None:
        self.shop = shop
        self.initial = initial
        self.maximum = maximum
        self.batch = batch
        self.rounds = 0
        self._waiting: dict[str, list[asyncio.Future[dict[str, Any]]]] = {}
        self._joined = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def settled(self, package_sn: str) -> dict[str, Any]:
        """The package's result entry once its purchase succeeded or failed."""
        future: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._waiting.setdefault(package_sn, []).append(future)
        self._joined.set()
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        return await future

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    def _prune(self) -> None:
        for sn in [sn for sn, fs in self._waiting.items() if all(f.done() for f in fs)]:
            del self._waiting[sn]

    async def _run(self) -> None:
        try:
            await self._rounds()
        except BaseException as exc:
            # Nobody may wait forever on a poller that died.
            failure = exc if isinstance(exc, Exception) else asyncio.CancelledError()
            for futures in self._waiting.values():
                for future in futures:
                    if not future.done():
                        future.set_exception(failure)
            raise

    async def _rounds(self) -> None:
        delay = self.initial
        while True:
            self._prune()
            if not self._waiting:
                return
            self._joined.clear()
            sns = list(self._waiting)
            self.rounds += 1
            for start in range(0, len(sns), self.batch):
                await self._ask(sns[start : start + self.batch])
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._joined.wait(), timeout=delay)
            delay = self.initial if self._joined.is_set() else min(delay * 1.6, self.maximum)

    async def _ask(self, sns: list[str]) -> None:
        try:
            result = await self.shop.call(RESULT, {"packageSnList": sns})
        except TemuError as exc:
            # Whoever waits for these packages decides what the failure means.
            for sn in sns:
                for future in self._waiting.get(sn, []):
                    if not future.done():
                        future.set_exception(exc)
            return
        for item in result.get("packageInfoResultList") or []:
            if item.get("shippingLabelStatus") not in (1, 2):
                continue
            for future in self._waiting.get(str(item.get("packageSn")), []):
                if not future.done():
                    future.set_result(dict(item))
