"""The base of every generated API group (``shop.order``, ``shop.goods``, ...).

Generated methods gather their keyword arguments into a dict of wire names and hand
it here; everything else (checks, throttle, signing, retries, decoding) is the
client's one pipeline, shared with ``shop.call``.
"""

from __future__ import annotations

from collections.abc import Coroutine
from typing import TYPE_CHECKING, Any

import msgspec

if TYPE_CHECKING:
    from temu_async.client import ShopClient
    from temu_async.options import CallOptions

__all__ = ["Group"]


class Group:
    __slots__ = ("_shop",)

    def __init__(self, shop: ShopClient) -> None:
        self._shop = shop

    def __repr__(self) -> str:
        return f"<{type(self).__name__} of {self._shop!r}>"

    def _call(
        self,
        type_name: str,
        params: dict[str, Any],
        result_type: Any,
        options: CallOptions | None,
    ) -> Coroutine[Any, Any, Any]:
        # Unset arguments are None and are never sent (nor signed); nested Structs
        # become plain data in their wire names and declared field order.
        wire = {
            key: value if isinstance(value, (str, int, float, bool)) else _plain(value)
            for key, value in params.items()
            if value is not None
        }
        # The shop's coroutine itself, not one more wrapped around it (see TemuApp.execute).
        return self._shop.call(type_name, wire, result_type=result_type, options=options)


def _plain(value: Any) -> Any:
    # Bytes stay bytes, so the param checks refuse them by name instead of msgspec
    # quietly turning them into base64 text.
    return msgspec.to_builtins(value, str_keys=True, builtin_types=(bytes, bytearray, memoryview))
