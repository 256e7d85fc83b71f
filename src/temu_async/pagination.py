"""``async for`` over any page-numbered list type.

The generator decorates every method whose catalogue entry has ``paginate`` data::

    @paginated(page="page_number", size="page_size", items=("page_items",),
               total=("total_item_num",), max_size=100, item=OrderListV2Item)
    async def list_v2(self, *, page_number: int | None = None, ...) -> OrderListV2Result

so that, besides the plain call, ``shop.order.list_v2.pages(...)`` yields each page's
result and ``shop.order.list_v2.items(...)`` yields the items across pages. The walk
starts at the given page (or the first), asks for the largest page size unless one is
given, and stops at a short or empty page or when the reported total is reached.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

__all__ = ["BoundPaginated", "Paginated", "paginated"]

P = ParamSpec("P")
R = TypeVar("R")
I = TypeVar("I")  # noqa: E741 - the item type


def _lookup(result: Any, path: Sequence[str]) -> Any:
    value = result
    for part in path:
        if value is None:
            return None
        value = value.get(part) if isinstance(value, dict) else getattr(value, part, None)
    return value


class BoundPaginated(Generic[P, R, I]):
    """A paginated method bound to a group: call it, or walk it."""

    __slots__ = ("_owner", "_spec")

    def __init__(self, owner: Any, spec: Paginated[P, R, I]) -> None:
        self._owner = owner
        self._spec = spec

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Awaitable[R]:
        return self._spec.fn(self._owner, *args, **kwargs)

    async def pages(self, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[R]:
        spec = self._spec
        params: dict[str, Any] = dict(kwargs)
        page = params.get(spec.page)
        page = spec.first_page if page is None else page
        size = params.get(spec.size)
        size = spec.max_size if size is None else size
        params[spec.size] = size
        seen = 0
        while True:
            params[spec.page] = page
            result = await spec.fn(self._owner, *args, **params)
            yield result
            items = _lookup(result, spec.items) or ()
            seen += len(items)
            total = _lookup(result, spec.total) if spec.total else None
            if len(items) < size or (isinstance(total, int) and seen >= total):
                return
            page += 1

    async def items(self, *args: P.args, **kwargs: P.kwargs) -> AsyncIterator[I]:
        async for result in self.pages(*args, **kwargs):
            for item in _lookup(result, self._spec.items) or ():
                yield item


class Paginated(Generic[P, R, I]):
    """Descriptor made by :func:`paginated`."""

    def __init__(
        self,
        fn: Callable[Concatenate[Any, P], Awaitable[R]],
        *,
        page: str,
        size: str,
        items: Sequence[str],
        total: Sequence[str] | None,
        max_size: int,
        first_page: int,
    ) -> None:
        self.fn = fn
        self.page = page
        self.size = size
        self.items = tuple(items)
        self.total = tuple(total) if total else None
        self.max_size = max_size
        self.first_page = first_page
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__
        self.__wrapped__ = fn

    @overload
    def __get__(self, owner: None, objtype: type[Any]) -> Paginated[P, R, I]: ...
    @overload
    def __get__(
        self, owner: object, objtype: type[Any] | None = None
    ) -> BoundPaginated[P, R, I]: ...
    def __get__(
        self, owner: object | None, objtype: type[Any] | None = None
    ) -> Paginated[P, R, I] | BoundPaginated[P, R, I]:
        if owner is None:
            return self
        return BoundPaginated(owner, self)


def paginated(
    *,
    page: str,
    size: str,
    items: Sequence[str],
    total: Sequence[str] | None = None,
    max_size: int = 100,
    first_page: int = 1,
    item: type[I],
) -> Callable[[Callable[Concatenate[Any, P], Awaitable[R]]], Paginated[P, R, I]]:
    """Mark a generated method as page-numbered (names are Python names/attributes)."""

    def wrap(fn: Callable[Concatenate[Any, P], Awaitable[R]]) -> Paginated[P, R, I]:
        return Paginated(
            fn,
            page=page,
            size=size,
            items=items,
            total=total,
            max_size=max_size,
            first_page=first_page,
        )

    return wrap
