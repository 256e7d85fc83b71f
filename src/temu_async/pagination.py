"""``async for`` over any paged list type: by page number, or by a cursor the server hands back.

The generator decorates every method whose catalogue entry has ``paginate`` data::

    @paginated(page="page_number", size="page_size", items=("page_items",),
               total=("total_item_num",), max_size=100, item=OrderListV2Item)
    async def list_v2(self, *, page_number: int | None = None, ...) -> OrderListV2Result

    @paginated(cursor="page_token", next_cursor=("pagination", "next_token"),
               size="page_size", items=("goods_list",), max_size=100, item=...)
    async def list_retrieve(self, *, page_token: str | None = None, ...) -> ...

so that, besides the plain call, ``shop.order.list_v2.pages(...)`` yields each page's
result and ``shop.order.list_v2.items(...)`` yields the items across pages. A numbered walk
starts at the given page (or the first) and stops at a short or empty page or when the
reported total is reached; a cursor walk starts at the given cursor (or none) and sends
the one each answer names until an answer names none (or the same one again), or holds
no items. Both ask for the largest page size unless one is given.

The bound method and its ``.pages`` / ``.items`` carry the generated method's real
signature and docstring, so ``help()``, ``inspect.signature`` and IDEs show the params.
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from types import GenericAlias
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
    # A paginated method bound to a group: call it, or walk it. It presents itself as the
    # method it wraps (name, signature, docstring; ``__get__`` makes inspect and pydoc
    # treat it as a routine), which is what ``help(shop.order.list_v2)`` shows.

    __slots__ = ("_owner", "_spec")

    def __init__(self, owner: Any, spec: Paginated[P, R, I]) -> None:
        self._owner = owner
        self._spec = spec

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Awaitable[R]:
        return self._spec.fn(self._owner, *args, **kwargs)

    def __get__(self, owner: object, objtype: type[Any] | None = None) -> BoundPaginated[P, R, I]:
        return self

    def __repr__(self) -> str:
        return f"<paginated method {self._spec.__qualname__} of {self._owner!r}>"

    @property
    def __signature__(self) -> inspect.Signature:
        return self._spec.signature()

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]
        return self._spec.__doc__

    @property
    def __name__(self) -> str:
        return self._spec.__name__

    @property
    def pages(self) -> Callable[P, AsyncIterator[R]]:
        """Each page's result, one after the other (same params as the method)."""
        return _Walk(self, "pages")

    @property
    def items(self) -> Callable[P, AsyncIterator[I]]:
        """Each item of each page, one after the other (same params as the method)."""
        return _Walk(self, "items")

    async def _pages(self, *args: Any, **kwargs: Any) -> AsyncIterator[R]:
        spec = self._spec
        params: dict[str, Any] = dict(kwargs)
        size = params.get(spec.size)
        size = spec.max_size if size is None else size
        params[spec.size] = size
        seen = 0
        if spec.cursor is not None:
            assert spec.next_cursor is not None
            sent: set[object] = set()
            while True:
                sent.add(params.get(spec.cursor))
                result = await spec.fn(self._owner, *args, **params)
                yield result
                items = _lookup(result, spec.items) or ()
                seen += len(items)
                nxt = _lookup(result, spec.next_cursor)
                # A repeated cursor would walk the same pages forever.
                if not items or nxt in (None, "") or nxt in sent or self._all(result, seen):
                    return
                params[spec.cursor] = nxt
        page = params.get(spec.page) if spec.page else None
        page = spec.first_page if page is None else page
        while True:
            if spec.page is not None:
                params[spec.page] = page
            result = await spec.fn(self._owner, *args, **params)
            yield result
            items = _lookup(result, spec.items) or ()
            seen += len(items)
            if len(items) < size or self._all(result, seen):
                return
            page += 1

    def _all(self, result: Any, seen: int) -> bool:
        total = _lookup(result, self._spec.total) if self._spec.total else None
        return isinstance(total, int) and seen >= total

    async def _items(self, *args: Any, **kwargs: Any) -> AsyncIterator[I]:
        async for result in self._pages(*args, **kwargs):
            for item in _lookup(result, self._spec.items) or ():
                yield item


class _Walk:
    # ``.pages`` / ``.items`` of a bound paginated method: a callable that shows the
    # method's params (and what it yields) to inspect, help() and IDEs.

    __slots__ = ("_bound", "_kind")

    def __init__(self, bound: BoundPaginated[Any, Any, Any], kind: str) -> None:
        self._bound = bound
        self._kind = kind

    def __call__(self, *args: Any, **kwargs: Any) -> AsyncIterator[Any]:
        walk = self._bound._pages if self._kind == "pages" else self._bound._items
        return walk(*args, **kwargs)

    def __get__(self, owner: object, objtype: type[Any] | None = None) -> _Walk:
        return self

    def __repr__(self) -> str:
        return f"<{self._kind} of {self._bound!r}>"

    @property
    def __signature__(self) -> inspect.Signature:
        return self._bound._spec.signature(self._kind)

    @property
    def __doc__(self) -> str | None:  # type: ignore[override]
        spec = self._bound._spec
        what = "each page's result" if self._kind == "pages" else "each item of every page"
        how = (
            "sending the cursor each answer names" if spec.cursor is not None else "page after page"
        )
        head = (
            f"Walk ``{spec.__name__}``: yields {what}, {how}. Takes the same params; the "
            "page size defaults to the largest. The method's own documentation follows.\n\n"
        )
        return head + (spec.__doc__ or "")

    @property
    def __name__(self) -> str:
        return self._kind


class Paginated(Generic[P, R, I]):
    """Descriptor made by :func:`paginated`."""

    def __init__(
        self,
        fn: Callable[Concatenate[Any, P], Awaitable[R]],
        *,
        page: str | None,
        size: str,
        items: Sequence[str],
        total: Sequence[str] | None,
        max_size: int,
        first_page: int,
        cursor: str | None = None,
        next_cursor: Sequence[str] | None = None,
        item: type[Any] = object,
    ) -> None:
        if (page is None) == (cursor is None) or (cursor is None) != (next_cursor is None):
            raise TypeError("paginated: give `page`, or `cursor` with `next_cursor`")
        self.fn = fn
        self.page = page
        self.cursor = cursor
        self.next_cursor = tuple(next_cursor) if next_cursor else None
        self.size = size
        self.items = tuple(items)
        self.total = tuple(total) if total else None
        self.max_size = max_size
        self.first_page = first_page
        self.item = item
        self.__doc__ = fn.__doc__
        self.__name__ = fn.__name__
        self.__qualname__ = fn.__qualname__
        self.__wrapped__ = fn
        self._signatures: dict[str, inspect.Signature] = {}

    def signature(self, kind: str = "call") -> inspect.Signature:
        """The method's signature without ``self`` (for ``.pages``/``.items``: what they yield)."""
        sig = self._signatures.get(kind)
        if sig is None:
            full = inspect.signature(self.fn)
            sig = full.replace(parameters=list(full.parameters.values())[1:])
            if kind == "pages":
                sig = sig.replace(
                    return_annotation=GenericAlias(AsyncIterator, full.return_annotation)
                )
            elif kind == "items":
                sig = sig.replace(return_annotation=GenericAlias(AsyncIterator, self.item))
            self._signatures[kind] = sig
        return sig

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
    page: str | None = None,
    size: str,
    items: Sequence[str],
    total: Sequence[str] | None = None,
    max_size: int = 100,
    first_page: int = 1,
    cursor: str | None = None,
    next_cursor: Sequence[str] | None = None,
    item: type[I],
) -> Callable[[Callable[Concatenate[Any, P], Awaitable[R]]], Paginated[P, R, I]]:
    """Mark a generated method as paged (names are Python names/attributes).

    By page number: ``page``. By cursor: ``cursor`` (the param that carries it) and
    ``next_cursor`` (where the answer names the next one).
    """

    def wrap(fn: Callable[Concatenate[Any, P], Awaitable[R]]) -> Paginated[P, R, I]:
        return Paginated(
            fn,
            page=page,
            size=size,
            items=items,
            total=total,
            max_size=max_size,
            first_page=first_page,
            cursor=cursor,
            next_cursor=next_cursor,
            item=item,
        )

    return wrap
