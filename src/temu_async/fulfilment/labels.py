"""Buy shipping labels for a batch of orders, resumably, never buying one twice.

The buy-shipping flow (fulfilment guide): pick a warehouse and a shipping service
(``bg.logistics.shippingservices.get``), buy (``bg.logistics.shipment.create``,
asynchronous), poll ``bg.logistics.shipment.result.get`` until
``shippingLabelStatus`` is 1 (bought) or 2 (failed), buy again after a failure with
``bg.logistics.shipment.update``, then fetch the label's signed URL
(``bg.logistics.shipment.document.get``) and download it.

One package per parent order. Its record in the store moves through phases::

    creating -> created -> (updating -> created)* -> bought -> downloaded
                        \\-> failed (attempts used up)
    creating -> refused (the gateway said no: nothing was bought; a later run plans
                         the order afresh)

Orders with nothing to ship (still pending, cancelled, shipped) are reported as
``skipped`` and not recorded, so a later run looks at them again.

``creating`` and ``updating`` are intents, committed *before* the write is sent.
A record found in ``creating`` (a killed run, or an ``OutcomeUnknown``) is settled
by looking the order's packages up (``bg.order.detail.v2.get`` then
``result.get``) before anything else; only when no package holds its orders, and the
intent is older than ``resend_after`` (so the first request cannot still be on its
way), is the purchase sent again. That is what "never twice" rests on.
"""

from __future__ import annotations

import asyncio
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from temu_async.client import ShopClient
from temu_async.download import SignedUrlRefused
from temu_async.errors import ApiError, OutcomeUnknown, ParamError, TemuError
from temu_async.fulfilment.policy import (
    Cheapest,
    Fastest,
    Given,
    Parcel,
    ServicePolicy,
    choose_service,
)
from temu_async.fulfilment.poller import ResultPoller
from temu_async.fulfilment.store import FulfilmentRecord, FulfilmentStore

__all__ = [
    "Cheapest",
    "Fastest",
    "Given",
    "LabelOptions",
    "LabelPipeline",
    "LabelRow",
    "Parcel",
    "ServicePolicy",
    "buy_labels",
]

log = logging.getLogger("temu_async.fulfilment")

KIND = "label"
UN_SHIPPING = 2
_DONE = frozenset({"downloaded", "failed", "refused", "skipped"})
_REPLAN = "refused"


@dataclass
class LabelOptions:
    parcel: Parcel | Callable[[dict[str, Any]], Parcel]
    """One parcel for every order, or a function of the order's list entry."""
    policy: ServicePolicy = field(default_factory=Cheapest)
    warehouse_id: str | None = None
    """None: the shop's default warehouse that can buy labels."""
    max_attempts: int = 3
    """Purchases per package: the create plus up to ``max_attempts - 1`` updates."""
    ship_later: bool = False
    ship_later_hours: int | None = None
    document_type: str = "SHIPPING_LABEL_PDF"
    concurrency: int = 8
    poll_initial: float = 0.5
    poll_max: float = 10.0
    poll_timeout: float = 900.0
    """Give up waiting for one purchase after this long (a rerun keeps waiting)."""
    resend_after: float = 120.0
    """An intent whose package cannot be found is sent again only once it is this old."""
    url_refreshes: int = 2
    """Fresh URLs asked for when a download is refused (expired)."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be >= 1")
        if self.concurrency < 1:
            raise ValueError("concurrency must be >= 1")
        if self.document_type not in ("SHIPPING_LABEL_PDF", "SHIPPING_LABEL_PNG"):
            raise ValueError("document_type must be SHIPPING_LABEL_PDF or SHIPPING_LABEL_PNG")
        if self.ship_later_hours is not None and not self.ship_later:
            raise ValueError("ship_later_hours needs ship_later=True")


@dataclass
class LabelRow:
    """One parent order's outcome, as the report shows it."""

    parent_order_sn: str
    outcome: str
    """downloaded, failed, refused, skipped, pending (a rerun continues) or error."""
    package_sn: str = ""
    tracking_number: str = ""
    attempts: int = 0
    service: str = ""
    """The carrier chosen, and its quoted price (``estimatedAmount``) when planned."""
    price: str = ""
    label: str = ""
    message: str = ""


class _Unresolved(Exception):
    """An intent's package is not found yet and the intent is too recent to resend."""


class LabelPipeline:
    def __init__(
        self,
        shop: ShopClient,
        store: FulfilmentStore,
        out_dir: str | Path,
        options: LabelOptions,
        *,
        on_row: Callable[[LabelRow], Awaitable[None] | None] | None = None,
    ) -> None:
        self.shop = shop
        self.store = store
        self.out_dir = Path(out_dir)
        self.options = options
        self.on_row = on_row
        self._warehouse: str | None = None
        self._resent: set[str] = set()
        """Intents this run already sent again after an empty lookup (once per run)."""
        # Writes and lookups take a slot; waiting for a purchase to settle does not, so
        # a slow carrier does not hold the next orders back.
        self._gate = asyncio.Semaphore(options.concurrency)
        self._poller = ResultPoller(shop, initial=options.poll_initial, maximum=options.poll_max)
        self._warehouse_lock = asyncio.Lock()

    # ---- the batch ---------------------------------------------------------------
    async def run(self, parent_order_sns: Iterable[str]) -> list[LabelRow]:
        sns = list(dict.fromkeys(check_order_sn(sn) for sn in parent_order_sns))
        self.out_dir.mkdir(parents=True, exist_ok=True)
        # Orders never started, or refused last time (nothing was bought then), are
        # planned from scratch: their current state decides.
        fresh = []
        for sn in sns:
            record = await self.store.get(KIND, self.shop.name, sn)
            if record is None or record.phase == _REPLAN:
                fresh.append(sn)
        orders = await self._orders(fresh)

        async def one(sn: str) -> LabelRow:
            try:
                row = await self._package(sn, orders.get(sn))
            except TemuError as exc:
                row = await self._row_for_error(sn, exc)
            except Exception as exc:
                # An answer of an unexpected shape, a full disk: this order stops where
                # its record says, the others carry on.
                log.exception("%s: unexpected failure", sn)
                row = await self._row_for_error(sn, exc)
            if self.on_row is not None:
                maybe = self.on_row(row)
                if maybe is not None:
                    await maybe
            return row

        try:
            return list(await asyncio.gather(*(one(sn) for sn in sns)))
        finally:
            await self._poller.close()

    async def _row_for_error(self, sn: str, exc: Exception) -> LabelRow:
        record = await self.store.get(KIND, self.shop.name, sn)
        if isinstance(exc, TemuError):
            log.warning("%s: %s", sn, exc)
            message = str(exc)
        else:
            message = f"{type(exc).__name__}: {exc}"
        return self._row(record, sn, outcome="error", message=message)

    async def _orders(self, sns: Sequence[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        for start in range(0, len(sns), 20):
            part = list(sns[start : start + 20])
            page = await self.shop.call(
                "bg.order.list.v2.get",
                {"pageNumber": 1, "pageSize": 100, "parentOrderSnList": part},
            )
            for item in page.get("pageItems") or []:
                found[item["parentOrderMap"]["parentOrderSn"]] = item
        return found

    # ---- one package ---------------------------------------------------------------
    async def _package(self, sn: str, order: dict[str, Any] | None) -> LabelRow:
        record = await self.store.get(KIND, self.shop.name, sn)
        if record is None or record.phase == _REPLAN:
            async with self._gate:
                record = await self._plan(sn, order)
                if record.phase == "skipped":
                    return self._row(record, sn)
                await self._create(record)
        while record.phase not in _DONE:
            phase = record.phase
            if phase == "created":
                item = await self._poll(record)
                if item is None:
                    return self._row(
                        record, sn, outcome="pending", message="label purchase still in progress"
                    )
                async with self._gate:
                    await self._settled(record, item)
                continue
            async with self._gate:
                if phase == "creating":
                    try:
                        await self._resolve_create(record)
                    except _Unresolved:
                        return self._row(
                            record,
                            sn,
                            outcome="pending",
                            message="the purchase may be on its way; a later run looks it up again",
                        )
                elif phase == "new":
                    await self._create(record)
                elif phase == "updating":
                    await self._resolve_update(record)
                elif phase == "bought":
                    await self._fetch_label(record)
                else:
                    raise RuntimeError(f"{sn}: unknown phase {phase!r} in the store")
        return self._row(record, sn)

    def _row(
        self,
        record: FulfilmentRecord | None,
        sn: str,
        *,
        outcome: str | None = None,
        message: str | None = None,
    ) -> LabelRow:
        data = record.data if record is not None else {}
        return LabelRow(
            parent_order_sn=sn,
            outcome=outcome or (record.phase if record is not None else "error"),
            package_sn=data.get("package_sn", ""),
            tracking_number=data.get("tracking_number", ""),
            attempts=int(data.get("attempts", 0)),
            service=data.get("service", ""),
            price=str(data.get("price", "")),
            label=data.get("label", ""),
            message=message if message is not None else data.get("message", ""),
        )

    async def _save(self, record: FulfilmentRecord, phase: str, **data: Any) -> None:
        record.phase = phase
        record.data.update(data)
        await self.store.save(record)

    async def _plan(self, sn: str, order: dict[str, Any] | None) -> FulfilmentRecord:
        record = FulfilmentRecord(KIND, self.shop.name, sn, "new")
        if order is None:
            # Not saved: a later run looks again (the order may be in another shop's list).
            record.phase, record.data["message"] = "skipped", "order not found in this shop"
            return record
        lines = [
            {
                "quantity": child["quantity"],
                "orderSn": child["orderSn"],
                "parentOrderSn": sn,
                "goodsId": child["goodsId"],
                "skuId": child["skuId"],
            }
            for child in order.get("orderList") or []
            if child.get("orderStatus") == UN_SHIPPING
        ]
        if not lines:
            status = order["parentOrderMap"].get("parentOrderStatus")
            # Not saved: an order still pending now can be shipped in a later run.
            record.phase = "skipped"
            record.data["message"] = f"nothing to ship (order status {status})"
            return record
        parcel = self.options.parcel
        if callable(parcel):
            parcel = parcel(order)
        warehouse = await self._warehouse_id()
        channel = await self._choose_service(warehouse, lines, parcel)
        request = {
            "warehouseId": warehouse,
            "shipCompanyId": channel["shipCompanyId"],
            "channelId": channel["channelId"],
            **parcel.wire(),
            "interlineShipCompanyList": [],
            "sendSubRequestList": [],
            "orderSendInfoList": lines,
        }
        record.data.update(
            request=request,
            attempts=0,
            service=channel.get("shippingCompanyName", ""),
            price=channel.get("estimatedAmount", ""),
        )
        return record

    async def _warehouse_id(self) -> str:
        async with self._warehouse_lock:
            if self._warehouse is None:
                answer = await self.shop.call(
                    "bg.logistics.warehouse.list.get", {"returnEnableBuyShippingLabelOnly": True}
                )
                houses = [
                    w
                    for w in answer.get("warehouseList") or []
                    if w.get("enableBuyShippingLabel", True)
                ]
                wanted = self.options.warehouse_id
                if wanted is not None:
                    if all(w.get("warehouseId") != wanted for w in houses):
                        raise ParamError(
                            "warehouse_id",
                            f"{wanted!r} is not a warehouse of this shop that can buy labels",
                        )
                    self._warehouse = wanted
                elif not houses:
                    raise ParamError(None, "the shop has no warehouse that can buy labels")
                else:
                    default = [w for w in houses if w.get("defaultWarehouse")]
                    self._warehouse = str((default or houses)[0]["warehouseId"])
            return self._warehouse

    async def _choose_service(
        self, warehouse: str, lines: list[dict[str, Any]], parcel: Parcel
    ) -> dict[str, Any]:
        answer = await self.shop.call(
            "bg.logistics.shippingservices.get",
            {
                "warehouseId": warehouse,
                "shipOrderInfoList": [
                    {
                        "orderSn": x["orderSn"],
                        "parentOrderSn": x["parentOrderSn"],
                        "quantity": x["quantity"],
                    }
                    for x in lines
                ],
                **parcel.wire(),
            },
        )
        return choose_service(self.options.policy, answer.get("onlineChannelDtoList") or [])

    # ---- the writes -----------------------------------------------------------------
    async def _create(self, record: FulfilmentRecord) -> None:
        opts = self.options
        params: dict[str, Any] = {"sendType": 0, "sendRequestList": [record.data["request"]]}
        if opts.ship_later:
            params["shipLater"] = True
            if opts.ship_later_hours is not None:
                params["shipLaterLimitTime"] = str(opts.ship_later_hours)
        await self._save(record, "creating", intent_at=time.time(), attempts=1)
        try:
            answer = await self.shop.call("bg.logistics.shipment.create", params)
        except OutcomeUnknown as exc:
            log.warning("%s: create outcome unknown (%s); looking it up", record.key, exc)
            return  # the record stays "creating": the loop resolves it next
        except ApiError as exc:
            if exc.retryable:
                # Rate limited or "try again later" past the retries: nothing ran.
                await self._save(record, "new", message=str(exc))
                raise
            # The gateway answered with a refusal: nothing was bought.
            await self._save(record, "refused", message=str(exc))
            return
        except TemuError as exc:
            # Not sent at all (throttle wait, connection refused): back to square one.
            await self._save(record, "new", message=str(exc))
            raise
        sns = answer.get("packageSnList") or []
        if len(sns) != 1:
            # Cannot tell which package is ours: let the lookup decide.
            log.warning("%s: create answered %d package numbers", record.key, len(sns))
            return
        await self._save(record, "created", package_sn=sns[0], message="")

    async def _resolve_create(self, record: FulfilmentRecord) -> None:
        package = await self._find_package(record)
        if package is not None:
            log.info("%s: found package %s of an earlier purchase", record.key, package)
            await self._save(record, "created", package_sn=package, message="")
            return
        if record.key in self._resent:
            # Sent again already in this run and still unknown: leave it to a later run
            # rather than loop against a gateway that keeps losing answers.
            raise _Unresolved
        age = time.time() - float(record.data.get("intent_at", 0))
        wait = self.options.resend_after - age
        if wait > 0:
            if wait > 30:
                raise _Unresolved
            await asyncio.sleep(wait)
            package = await self._find_package(record)
            if package is not None:
                await self._save(record, "created", package_sn=package, message="")
                return
        log.info("%s: no package holds its orders; the purchase never happened", record.key)
        self._resent.add(record.key)
        await self._create(record)

    async def _find_package(self, record: FulfilmentRecord) -> str | None:
        """The package that holds this record's orders, from the order's own package list."""
        detail = await self.shop.call("bg.order.detail.v2.get", {"parentOrderSn": record.key})
        candidates = list(
            dict.fromkeys(
                info["packageSn"]
                for child in detail.get("orderList") or []
                for info in child.get("packageSnInfo") or []
                if info.get("packageSn")
            )
        )
        if not candidates and self.options.ship_later:
            # A package bought to ship later is also listed among the unshipped ones.
            page = await self.shop.call(
                "bg.order.unshipped.package.get",
                {"pageNumber": 1, "pageSize": 50, "parentOrderSnList": [record.key]},
            )
            candidates = [
                str(p["packageSn"])
                for p in page.get("unshippedPackage") or []
                if p.get("packageSn")
            ]
        if not candidates:
            return None
        ours = {x["orderSn"] for x in record.data["request"]["orderSendInfoList"]}
        result = await self.shop.call(
            "bg.logistics.shipment.result.get", {"packageSnList": candidates}
        )
        for item in result.get("packageInfoResultList") or []:
            held = {x.get("orderSn") for x in item.get("orderSendInfoList") or []}
            if held & ours:
                return str(item["packageSn"])
        return None

    async def _status(self, record: FulfilmentRecord) -> dict[str, Any]:
        package = record.data["package_sn"]
        result = await self.shop.call(
            "bg.logistics.shipment.result.get", {"packageSnList": [package]}
        )
        for item in result.get("packageInfoResultList") or []:
            if item.get("packageSn") == package:
                return dict(item)
        raise ApiError(f"package {package} is missing from the result", api_type="result.get")

    async def _poll(self, record: FulfilmentRecord) -> dict[str, Any] | None:
        """The settled result entry; None when it did not settle within ``poll_timeout``."""
        try:
            return await asyncio.wait_for(
                self._poller.settled(record.data["package_sn"]), self.options.poll_timeout
            )
        except asyncio.TimeoutError:
            return None

    async def _settled(self, record: FulfilmentRecord, item: dict[str, Any]) -> None:
        if item.get("shippingLabelStatus") == 1:
            tracking = item.get("trackingNumber") or ""
            await self._save(record, "bought", tracking_number=tracking, message="")
        else:
            await self._after_failure(record, item.get("failReasonText") or "")

    async def _after_failure(self, record: FulfilmentRecord, reason: str) -> None:
        attempts = int(record.data.get("attempts", 1))
        if attempts >= self.options.max_attempts:
            await self._save(
                record, "failed", message=f"purchase failed {attempts} time(s): {reason}"
            )
            return
        await self._save(record, "updating", attempts=attempts + 1, message=reason)
        await self._send_update(record)

    async def _send_update(self, record: FulfilmentRecord) -> None:
        request = dict(record.data["request"])
        request.pop("sendSubRequestList", None)
        request["packageSn"] = record.data["package_sn"]
        try:
            await self.shop.call(
                "bg.logistics.shipment.update", {"retrySendPackageRequestList": [request]}
            )
        except OutcomeUnknown:
            return  # "updating" stays: the status tells next round whether it landed
        except ApiError as exc:
            if exc.retryable:
                raise  # nothing ran; "updating" stays and a rerun sends it again
            await self._save(record, "failed", message=f"buying again was refused: {exc}")
            return
        await self._save(record, "created")

    async def _resolve_update(self, record: FulfilmentRecord) -> None:
        item = await self._status(record)
        if item.get("shippingLabelStatus") == 2:
            # Still failed: the update did not land (or landed and failed already, in
            # which case buying again is what is wanted anyway).
            await self._send_update(record)
        else:
            await self._save(record, "created")

    # ---- the label file --------------------------------------------------------------
    async def _fetch_label(self, record: FulfilmentRecord) -> None:
        package = record.data["package_sn"]
        ext = "pdf" if self.options.document_type == "SHIPPING_LABEL_PDF" else "png"
        dest = self.out_dir / f"{record.key}_{package}.{ext}"
        refused: SignedUrlRefused | None = None
        for _ in range(self.options.url_refreshes + 1):
            answer = await self.shop.call(
                "bg.logistics.shipment.document.get",
                {"documentType": self.options.document_type, "packageSnList": [package]},
            )
            urls = [
                u["url"]
                for u in answer.get("shippingLabelUrlList") or []
                if u.get("packageSn") == package and u.get("url")
            ]
            if not urls:
                warning = "; ".join(answer.get("warningMessage") or []) or "no URL returned"
                raise ApiError(f"no label document for {package}: {warning}")
            try:
                await self.shop.download(urls[0], dest)
            except SignedUrlRefused as exc:
                refused = exc
                log.info("%s: label URL refused (%s); asking for a fresh one", record.key, exc)
                continue
            await self._save(record, "downloaded", label=str(dest), message="")
            return
        assert refused is not None
        raise refused


_SN = re.compile(r"[A-Za-z0-9_.:-]{1,64}", re.ASCII)


def check_order_sn(sn: object) -> str:
    """A parent order number as Temu writes them (``PO-211-...``), or a ParamError."""
    if not isinstance(sn, str) or not _SN.fullmatch(sn):
        shown = repr(sn)[:50]
        raise ParamError(
            "orders", f"{shown} is not a parent order number (letters, digits, - _ . :)"
        )
    return sn


async def buy_labels(
    shop: ShopClient,
    store: FulfilmentStore,
    parent_order_sns: Iterable[str],
    out_dir: str | Path,
    options: LabelOptions,
    *,
    on_row: Callable[[LabelRow], Awaitable[None] | None] | None = None,
) -> list[LabelRow]:
    """Buy and download labels for ``parent_order_sns``; see :class:`LabelPipeline`."""
    pipeline = LabelPipeline(shop, store, out_dir, options, on_row=on_row)
    return await pipeline.run(parent_order_sns)
