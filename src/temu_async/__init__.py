"""temu-async: an asyncio SDK for the Temu Partner Platform Open API.

Importing the package is cheap: names load on first use (PEP 562), and the
generated API groups load only when a shop first touches them.
"""

from __future__ import annotations

import importlib

# `typing` costs ~10 ms to import; the package root needs it only for type checkers,
# which treat a name spelled TYPE_CHECKING as true.
TYPE_CHECKING = False

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "TemuApp": "temu_async.client",
    "ShopClient": "temu_async.client",
    "CallOptions": "temu_async.client",
    "RetryPolicy": "temu_async.retry",
    "RetryBudget": "temu_async.retry",
    "Limit": "temu_async.throttle",
    "LocalWindow": "temu_async.throttle",
    "RateBackend": "temu_async.throttle",
    "Throttle": "temu_async.throttle",
    "RedisWindow": "temu_async.redis_throttle",
    "TokenInfo": "temu_async.oauth",
    "sign": "temu_async.signing",
    "TemuError": "temu_async.errors",
    "ApiError": "temu_async.errors",
    "ParamError": "temu_async.errors",
    "SignatureError": "temu_async.errors",
    "UnknownTypeError": "temu_async.errors",
    "TimestampError": "temu_async.errors",
    "AuthError": "temu_async.errors",
    "AppKeyError": "temu_async.errors",
    "TokenError": "temu_async.errors",
    "ScopeError": "temu_async.errors",
    "RateLimited": "temu_async.errors",
    "ServerError": "temu_async.errors",
    "EnvironmentRestricted": "temu_async.errors",
    "BusinessError": "temu_async.errors",
    "TransportError": "temu_async.errors",
    "ConnectError": "temu_async.errors",
    "RequestTimeout": "temu_async.errors",
    "HTTPStatusError": "temu_async.errors",
    "MalformedResponse": "temu_async.errors",
    "ResponseDecodeError": "temu_async.errors",
    "OutcomeUnknown": "temu_async.errors",
    "ThrottleTimeout": "temu_async.errors",
}

__all__ = [
    "ApiError",
    "AppKeyError",
    "AuthError",
    "BusinessError",
    "CallOptions",
    "ConnectError",
    "EnvironmentRestricted",
    "HTTPStatusError",
    "Limit",
    "LocalWindow",
    "MalformedResponse",
    "OutcomeUnknown",
    "ParamError",
    "RateBackend",
    "RateLimited",
    "RedisWindow",
    "RequestTimeout",
    "ResponseDecodeError",
    "RetryBudget",
    "RetryPolicy",
    "ScopeError",
    "ServerError",
    "ShopClient",
    "SignatureError",
    "TemuApp",
    "TemuError",
    "Throttle",
    "ThrottleTimeout",
    "TimestampError",
    "TokenError",
    "TokenInfo",
    "TransportError",
    "UnknownTypeError",
    "sign",
]

if TYPE_CHECKING:
    from temu_async.client import CallOptions, ShopClient, TemuApp
    from temu_async.errors import (
        ApiError,
        AppKeyError,
        AuthError,
        BusinessError,
        ConnectError,
        EnvironmentRestricted,
        HTTPStatusError,
        MalformedResponse,
        OutcomeUnknown,
        ParamError,
        RateLimited,
        RequestTimeout,
        ResponseDecodeError,
        ScopeError,
        ServerError,
        SignatureError,
        TemuError,
        ThrottleTimeout,
        TimestampError,
        TokenError,
        TransportError,
        UnknownTypeError,
    )
    from temu_async.oauth import TokenInfo
    from temu_async.redis_throttle import RedisWindow
    from temu_async.retry import RetryBudget, RetryPolicy
    from temu_async.signing import sign
    from temu_async.throttle import Limit, LocalWindow, RateBackend, Throttle


if not TYPE_CHECKING:
    # Hidden from type checkers, so a misspelt name is their error, not an Any.
    def __getattr__(name: str) -> object:
        module = _EXPORTS.get(name)
        if module is None:
            raise AttributeError(f"module 'temu_async' has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
