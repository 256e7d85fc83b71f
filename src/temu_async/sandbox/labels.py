"""The sandbox's buy-shipping desk: shipping services, label purchases, documents.

A purchase (``bg.logistics.shipment.create``) makes a package at once and settles
it later, as Temu's is asynchronous: ``label_delay`` seconds of sandbox time after
the request, the package turns successful (1) or failed (2). Whether an attempt
fails is drawn from a generator seeded with the run seed, the package's first order
and the attempt number, so a run's outcome does not depend on the order in which
concurrent requests arrive. ``label_fail_first`` makes every package's first
attempts fail, for tests that need a retry to happen.

A successful package ships its orders at once, or with ``shipLater`` when its
``shipLaterLimitTime`` (hours) passes or the seller confirms it. Documents are
served at URLs that carry a random token, live for 10 minutes of sandbox time and
demand the five ``toa-*`` headers (see ``files.py``).
"""

from __future__ import annotations

import random
import secrets
from collections import Counter
from dataclasses import dataclass, field

__all__ = [
    "CHANNELS",
    "DOCUMENT_LIFETIME",
    "Document",
    "LabelDesk",
    "Line",
    "Package",
    "ShippingChannel",
]

DOCUMENT_LIFETIME = 600
"""Seconds a document URL stays valid (the fulfilment guide: 10 minutes)."""

IN_PROGRESS, SUCCESSFUL, FAILED = 0, 1, 2


@dataclass(frozen=True)
class ShippingChannel:
    channel_id: int
    ship_company_id: int
    company: str
    logistics_type: str
    base_cents: int
    cents_per_unit: int
    days: tuple[int, int]


# Cheaper is slower: a policy that picks "cheapest" and one that picks "fastest"
# choose differently.
CHANNELS: tuple[ShippingChannel, ...] = (
    ShippingChannel(410001, 699272611, "USPS", "USPS Ground Advantage", 450, 35, (4, 7)),
    ShippingChannel(410002, 699272612, "UPS", "UPS Ground", 790, 40, (2, 5)),
    ShippingChannel(410003, 699272613, "FedEx", "FedEx 2Day", 1290, 55, (1, 2)),
)


@dataclass
class Line:
    parent_order_sn: str
    order_sn: str
    quantity: int
    goods_id: int
    sku_id: int


@dataclass
class Package:
    package_sn: str
    mall_id: int
    lines: list[Line]
    request: dict[str, object]
    """The package's last purchase request (create or update), as sent."""
    ship_later: bool
    ship_later_hours: int
    status: int = IN_PROGRESS
    attempts: int = 1
    fail_reason: str = ""
    tracking_number: str = ""
    settled_at: int = 0
    shipped: bool = False


@dataclass
class Document:
    token: str
    package_sn: str
    mall_id: int
    document_type: str
    expires_at: int


@dataclass
class LabelDesk:
    seed: int
    delay: int = 1
    failure_rate: float = 0.0
    fail_first: int = 0
    packages: dict[str, Package] = field(default_factory=dict)
    documents: dict[str, Document] = field(default_factory=dict)
    create_requests: Counter[str] = field(default_factory=Counter)
    """order sn -> shipment.create requests that named it (refused ones included)."""
    purchases: Counter[str] = field(default_factory=Counter)
    """order sn -> how many packages were created for it (a second one is a double buy)."""
    downloads: Counter[str] = field(default_factory=Counter)
    """package sn -> documents served."""
    expire_next: int = 0
    """Issue the next N document URLs already expired (as if they waited 10 minutes)."""
    files_url: str = ""
    """Where document URLs point (set by the server once it knows its port)."""

    def __post_init__(self) -> None:
        if self.delay < 0 or self.fail_first < 0:
            raise ValueError("label_delay and label_fail_first must be >= 0")
        if not 0.0 <= self.failure_rate <= 1.0:
            raise ValueError(f"label_failure_rate: {self.failure_rate} is not in [0, 1]")

    def channel(self, channel_id: object) -> ShippingChannel | None:
        return next((c for c in CHANNELS if c.channel_id == channel_id), None)

    def quote(self, channel: ShippingChannel, weight: float) -> str:
        cents = channel.base_cents + int(channel.cents_per_unit * max(weight, 0.0))
        return f"{cents // 100}.{cents % 100:02d}"

    def outcome(self, package: Package) -> tuple[int, str]:
        if package.attempts <= self.fail_first:
            return FAILED, "The carrier refused the package dimensions (sandbox: fail_first)."
        first = package.lines[0].order_sn
        draw = random.Random(f"{self.seed}:label:{first}:{package.attempts}").random()
        if draw < self.failure_rate:
            return FAILED, "The carrier could not take the package now (sandbox: failure_rate)."
        return SUCCESSFUL, ""

    def tracking(self, package: Package) -> str:
        rng = random.Random(f"{self.seed}:tracking:{package.package_sn}:{package.attempts}")
        return "9400" + "".join(str(rng.randrange(10)) for _ in range(18))

    def issue(self, package: Package, document_type: str, now: int) -> str:
        token = secrets.token_hex(16)
        expires = now + DOCUMENT_LIFETIME
        if self.expire_next > 0:
            self.expire_next -= 1
            expires = now - 1
        self.documents[token] = Document(
            token=token,
            package_sn=package.package_sn,
            mall_id=package.mall_id,
            document_type=document_type,
            expires_at=expires,
        )
        return f"{self.files_url}/{token}"
