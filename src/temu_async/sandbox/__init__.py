"""A local fake Temu gateway for tests, demos and benchmarks.

``async with Sandbox(SandboxConfig(seed=7)) as sb:`` starts an aiohttp server on
127.0.0.1 (free port), seeded with apps, shops, goods, prices and orders; point a
client at ``sb.url`` with ``sb.credentials``. It checks requests the way the real
gateway does (PROTOCOL.md), limits them per second per app_key, and can inject
faults (``sb.faults``). See ``pytest_plugin`` for the ``temu_sandbox`` fixture, and
``SandboxThread`` to serve it from its own thread (as a remote gateway would be).
"""

from __future__ import annotations

from .catalogue_source import CATALOGUE_PATH, CatalogueMissing, load_catalogue
from .clock import Clock, ManualClock, SystemClock
from .config import OrderHook, SandboxConfig
from .counters import Counters
from .credentials import AppCredentials, SandboxCredentials, ShopCredentials
from .faults import Faults, FaultSpec
from .limiter import max_in_window
from .models import OrderStatusChange
from .server import ROUTER_PATH, Sandbox
from .signature import expected_sign
from .thread import SandboxThread
from .webhook_push import TEMU_RETRY_DELAYS, PushOutcome, PushPolicy, WebhookPusher

__all__ = [
    "CATALOGUE_PATH",
    "ROUTER_PATH",
    "TEMU_RETRY_DELAYS",
    "AppCredentials",
    "CatalogueMissing",
    "Clock",
    "Counters",
    "FaultSpec",
    "Faults",
    "ManualClock",
    "OrderHook",
    "OrderStatusChange",
    "PushOutcome",
    "PushPolicy",
    "Sandbox",
    "SandboxConfig",
    "SandboxCredentials",
    "SandboxThread",
    "ShopCredentials",
    "SystemClock",
    "WebhookPusher",
    "expected_sign",
    "load_catalogue",
    "max_in_window",
]
