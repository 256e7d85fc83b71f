"""How a package is described and which shipping service it gets.

A :class:`Parcel` is the size and weight the API takes as decimal strings; a policy
picks among the channels ``bg.logistics.shippingservices.get`` offers: the cheapest
(lowest ``estimatedAmount``), the fastest (fewest days in ``estimatedText``, whose
upper bound counts), or a given channel and carrier.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from temu_async.errors import ParamError

__all__ = ["Cheapest", "Fastest", "Given", "Parcel", "ServicePolicy", "choose_service"]

_DECIMAL = re.compile(r"^\d+(\.\d+)?$")


@dataclass(frozen=True)
class Parcel:
    """Size and weight of a package, as the API takes them (decimal strings)."""

    weight: str
    length: str
    width: str
    height: str
    weight_unit: str = "lb"
    dimension_unit: str = "in"

    def __post_init__(self) -> None:
        for name in ("weight", "length", "width", "height"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _DECIMAL.match(value) or float(value) <= 0:
                raise ValueError(f"Parcel.{name} must be a positive decimal string, got {value!r}")

    def wire(self) -> dict[str, str]:
        return {
            "weight": self.weight,
            "weightUnit": self.weight_unit,
            "length": self.length,
            "width": self.width,
            "height": self.height,
            "dimensionUnit": self.dimension_unit,
        }


@dataclass(frozen=True)
class Cheapest:
    """The service with the lowest ``estimatedAmount``."""


@dataclass(frozen=True)
class Fastest:
    """The service with the fewest days in ``estimatedText`` (its upper bound)."""


@dataclass(frozen=True)
class Given:
    """This channel and carrier; refused locally when the package is not offered it."""

    channel_id: int
    ship_company_id: int


ServicePolicy = Cheapest | Fastest | Given


def choose_service(policy: ServicePolicy, channels: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The channel the policy picks among ``onlineChannelDtoList``."""
    if not channels:
        raise ParamError(None, "no shipping service is offered for this package")
    if isinstance(policy, Given):
        for channel in channels:
            if (
                channel.get("channelId") == policy.channel_id
                and channel.get("shipCompanyId") == policy.ship_company_id
            ):
                return dict(channel)
        offered = ", ".join(str(c.get("channelId")) for c in channels)
        raise ParamError(
            "policy",
            f"channel {policy.channel_id} is not offered for this package (offered: {offered})",
        )
    if isinstance(policy, Fastest):
        best = min(channels, key=lambda c: (_days(c), _price(c)))
    else:
        best = min(channels, key=lambda c: (_price(c), _days(c)))
    return dict(best)


def _price(channel: dict[str, Any]) -> Decimal:
    try:
        return Decimal(str(channel.get("estimatedAmount")))
    except InvalidOperation:
        return Decimal("Infinity")


def _days(channel: dict[str, Any]) -> float:
    numbers = [int(n) for n in re.findall(r"\d+", str(channel.get("estimatedText") or ""))]
    return float(max(numbers)) if numbers else float("inf")
