"""Everything a sandbox run can be told, with defaults that make a useful demo."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from ..catalogue import Catalogue
from .clock import Clock, SystemClock
from .faults import FaultSpec
from .models import OrderStatusChange
from .webhook_push import ORDER_EVENTS, PushPolicy

__all__ = ["OrderHook", "SandboxConfig"]

OrderHook = Callable[[OrderStatusChange], Awaitable[None]]

DAY = 86_400


@dataclass
class SandboxConfig:
    seed: int = 1
    """Drives every generated id, token, order and fault draw: same seed, same sandbox."""
    apps: int = 1
    """Apps (app_key + app_secret) to seed; the first is the one credentials point to."""
    shops: int = 2
    """Shops per app."""
    orders: int = 200
    """Orders per shop created over the past ``history_days``."""
    goods: int = 12
    """Goods per shop (each with 1-3 SKUs)."""
    catalogue: Catalogue | None = None
    """The types the gateway knows; None loads ``_generated/catalogue.json`` on start."""
    rate_limit: int | None = None
    """Requests per second per app_key; None takes the catalogue's default_rate_limit."""
    type_rate_limits: dict[str, int] = field(default_factory=dict)
    """Per-type limits overriding the catalogue's ``rate_limit`` (type name -> per second)."""
    type_limits_enabled: bool = True
    """Apply the catalogue's per-type limits at all."""
    clock: Clock = field(default_factory=SystemClock)
    """Business time: orders, tokens, codes, the timestamp check, the Date header."""
    limiter_clock: Callable[[], float] = time.monotonic
    """Time for the rate-limit window (monotonic seconds)."""
    host: str = "127.0.0.1"
    port: int = 0
    """0 picks a free port."""
    tls: bool = False
    """Serve HTTPS with a self-signed certificate made at start (needs ``cryptography``);
    clients trust it through ``Sandbox.client_ssl_context()``. Cold connections then pay a
    handshake, as against the real gateway."""
    faults: FaultSpec = field(default_factory=FaultSpec)
    """Run-wide faults at start (change them later through ``Sandbox.faults``)."""
    timestamp_tolerance: int = 300
    require_data_type: bool = True
    """Answer 3000013 when ``data_type`` is absent (the docs list the code)."""
    region_id: int = 211
    token_lifetime: int = 365 * DAY
    code_lifetime: int = 600
    codes_per_shop: int = 2
    """Authorization codes seeded per shop for ``bg.open.accesstoken.create``."""
    history_days: float = 30.0
    order_arrival_per_hour: float = 4.0
    """New orders per shop per hour of (clock) time; 0 stops arrivals."""
    pending_seconds: int = 3600
    """How long a new order stays PENDING before it can ship (or is cancelled)."""
    cancel_rate: float = 0.05
    """Share of new orders the buyer cancels during the pending period."""
    ship_within: int = 2 * DAY
    """Time allowed to ship after confirmation (expectShipLatestTime)."""
    delivery_seconds: int = 3 * DAY
    """How long after shipment an order turns RECEIPTED."""
    label_delay: int = 1
    """Seconds of sandbox time a label purchase stays in progress (shippingLabelStatus 0)."""
    price_review_seconds: int = 0
    """Seconds of sandbox time a seller's price change stays under Temu's review (its price
    order in status 100, the SKU at its old price) before it is approved (201) and takes
    effect. 0 approves it at once."""
    label_failure_rate: float = 0.0
    """Share of label purchase attempts that fail (status 2); drawn per order and attempt."""
    label_fail_first: int = 0
    """Every package's first N purchase attempts fail (to see a retry happen)."""
    on_order_status_change: OrderHook | None = None
    """Awaited for every parent-order status change (the hook for webhook pushes)."""
    webhook_url: str | None = None
    """POST each order status change here as Temu's signed, encrypted webhooks (one URL for
    every app; each delivery is signed with its own app's secret). None pushes nothing."""
    webhook_events: tuple[str, ...] = ORDER_EVENTS
    """Event codes pushed on order changes (the app's subscription): by default
    ``bg_order_status_change_event`` per moved child order and, for a cancellation,
    ``bg_cancel_order_status_change``."""
    webhook_policy: PushPolicy = field(default_factory=PushPolicy)
    """Retries, reply time limit, drain time on close, the ``x-tm-timestamp`` clock."""
