"""Fulfilment on top of the API: buy-shipping labels and self-shipment confirms.

Both are writes that must never run twice (a second label is a second charge; a
second confirm can attach a tracking number twice), so each step's state lives in
a :class:`~temu_async.fulfilment.store.FulfilmentStore` that is written before and
after every write the gateway sees.
"""

from __future__ import annotations

from temu_async.fulfilment.labels import LabelOptions, LabelPipeline, LabelRow, buy_labels
from temu_async.fulfilment.policy import Cheapest, Fastest, Given, Parcel
from temu_async.fulfilment.ship_csv import ConfirmRow, confirm_shipments, read_ship_csv
from temu_async.fulfilment.sqlite_store import SqliteFulfilmentStore
from temu_async.fulfilment.store import FulfilmentRecord, FulfilmentStore

__all__ = [
    "Cheapest",
    "ConfirmRow",
    "Fastest",
    "FulfilmentRecord",
    "FulfilmentStore",
    "Given",
    "LabelOptions",
    "LabelPipeline",
    "LabelRow",
    "Parcel",
    "SqliteFulfilmentStore",
    "buy_labels",
    "confirm_shipments",
    "read_ship_csv",
]
