"""What a business handler gets: the parsed body, the caller's shop, the time."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ...catalogue import TypeSpec
from ..codes import BusinessError
from ..models import OrderStatusChange, Shop, Token
from ..world import World

__all__ = ["Call", "Handler", "int_param", "page_params", "str_list"]


@dataclass
class Call:
    world: World
    spec: TypeSpec
    body: Mapping[str, Any]
    app_key: str
    token: Token | None
    """None only for ``bg.open.accesstoken.create`` (its token is the code)."""
    now: int
    changes: list[OrderStatusChange] = field(default_factory=list)

    @property
    def shop(self) -> Shop:
        assert self.token is not None
        return self.world.shops[self.token.mall_id]

    @property
    def mall_id(self) -> int:
        assert self.token is not None
        return self.token.mall_id


Handler = Callable[[Call], Any]


def int_param(body: Mapping[str, Any], name: str, default: int | None = None) -> int | None:
    value = body.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int):
        # The catalogue check catches this for documented params; the handler still
        # refuses rather than guess when a catalogue is looser than the handler.
        raise BusinessError(3000000, f"BAD_PARAMS: {name}: expected integer")
    return value


def str_list(body: Mapping[str, Any], name: str) -> list[str]:
    value = body.get(name)
    if value is None:
        return []
    if not isinstance(value, list):
        raise BusinessError(3000000, f"BAD_PARAMS: {name}: expected list")
    return [str(v) for v in value]


def page_params(
    body: Mapping[str, Any], page: str, size: str, default_size: int = 10, max_size: int = 100
) -> tuple[int, int]:
    number = int_param(body, page, 1) or 1
    per = int_param(body, size, default_size) or default_size
    return max(1, number), max(1, min(per, max_size))


def paged(items: list[Any], number: int, per: int) -> list[Any]:
    start = (number - 1) * per
    return items[start : start + per]
