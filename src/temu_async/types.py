"""The generated request Structs, result Structs and webhook events, all in one namespace.

``from temu_async.types import FulfillmentShipmentConfirmV2SendRequestParam`` imports only
the group module that defines that name (``temu_async._generated.fulfillment``), so this
namespace stays cheap however many API types the catalogue holds. The map of names lives
in the generated ``type_index``; this file never changes when the catalogue does.
"""

from __future__ import annotations

import importlib

from temu_async._generated.type_index import MODULES, RENAMED

TYPE_CHECKING = False
if TYPE_CHECKING:
    from temu_async._generated.type_index import *  # noqa: F403  (names for type checkers)
else:
    # Hidden from type checkers, so a misspelt name is their error, not an Any.
    def __getattr__(name: str) -> object:
        module = MODULES.get(name)
        if module is None:
            raise AttributeError(
                f"module 'temu_async.types' has no attribute {name!r} "
                "(names follow the group and method: see docs/api.md)"
            )
        value = getattr(importlib.import_module(module), name)
        if name not in RENAMED:  # a deprecated name is looked up (and warns) every time
            globals()[name] = value
        return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(MODULES))
