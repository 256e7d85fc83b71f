"""Business behaviour by type name; types not listed get a catalogue-shaped result."""

from __future__ import annotations

from . import auth, goods, logistics, misc, orders, prices
from .base import Call, Handler

__all__ = ["HANDLERS", "Call", "Handler"]

HANDLERS: dict[str, Handler] = {
    **auth.HANDLERS,
    **goods.HANDLERS,
    **prices.HANDLERS,
    **orders.HANDLERS,
    **logistics.HANDLERS,
    **misc.HANDLERS,
}
