"""The generated client, end to end against a loopback gateway.

Every type of the committed catalogue is called through its typed method: the gateway
checks the signature and the ``type``, sees the required params, and answers with a
result shaped by the catalogue (plus a field the catalogue does not know). The typed
result must hold exactly the data that was sent back.
"""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import AsyncIterator
from typing import Any

import msgspec
import pytest
from tiny_gateway import TinyGateway, fail, ok

from temu_async import catalogue as model
from temu_async.client import ShopClient, TemuApp
from temu_async.errors import ApiError, ParamError

CATALOGUE = model.load()
TYPES = CATALOGUE.types
BIG_ID = 2**53 + 7  # not exactly representable as a float: proves ids stay ints


# --- catalogue-shaped sample data -----------------------------------------------------------


def sample_param(f: model.Field, kind: str | None = None) -> Any:
    """A value that satisfies every rule the catalogue sets on the field."""
    kind = kind or f.type
    if f.enum and f.enum_closed and kind in ("integer", "long", "string"):
        return next(iter(f.enum))
    if kind in ("integer", "long"):
        value = 1 if f.minimum is None else f.minimum
        return value if f.maximum is None else min(value, f.maximum)
    if kind == "string":
        return "x"
    if kind == "boolean":
        return True
    if kind == "number":
        return 1.0 if f.minimum is None else float(f.minimum)
    if kind == "any":
        return "x"
    if kind == "object":
        return {c.name: sample_param(c) for c in f.fields or () if c.required}
    if kind == "list":
        n = max(1, f.min_items or 1)
        if f.max_items is not None:
            n = min(n, f.max_items)
        item = f.items or "any"
        if item == "object":
            return [{c.name: sample_param(c) for c in f.fields or () if c.required}] * n
        if item == "list":
            return [[]] * n
        return [sample_param(f, item)] * n
    raise AssertionError(kind)


def sample_value(f: model.Field, kind: str | None = None, *, extra: bool = True) -> Any:
    """A server answer for a response field (objects carry one undocumented field)."""
    kind = kind or f.type
    if kind in ("integer", "long"):
        return BIG_ID
    if kind == "string":
        return f"v-{f.name}"
    if kind == "boolean":
        return True
    if kind == "number":
        return 12.5
    if kind == "any":
        return {"free": [1, "two"]}
    if kind == "object":
        return sample_object(f.fields, extra=extra) if f.fields else {"free": 1}
    if kind == "list":
        item = f.items or "any"
        if item == "object":
            return [sample_object(f.fields, extra=extra) if f.fields else {"free": 1}]
        if item == "list":
            return [[1, 2]]
        return [sample_value(f, item, extra=extra)]
    raise AssertionError(kind)


def sample_object(fields: list[model.Field] | None, *, extra: bool = True) -> dict[str, Any]:
    out = {f.name: sample_value(f, extra=extra) for f in fields or ()}
    if extra:
        out["zzNotInTheCatalogue"] = {"nested": True}
    return out


def sample_result(t: model.TypeSpec, *, extra: bool = True) -> Any:
    if t.result_type == "object" and t.response:
        return sample_object(t.response, extra=extra)
    if t.result_type == "list" and t.response:
        return [sample_object(t.response, extra=extra)]
    if t.result_type == "scalar":
        return True
    return {"anything": [1, {"a": "b"}]}


def python_names(cls: type, method: str) -> list[str]:
    """The keyword names of a generated method, in catalogue order (before ``options``)."""
    sig = inspect.signature(inspect.unwrap(getattr(cls, method)))
    return [p for p in sig.parameters if p not in ("self", "options", "params")]


# --- fixtures ------------------------------------------------------------------------------


@pytest.fixture
async def shop(gateway: TinyGateway) -> AsyncIterator[ShopClient]:
    app = TemuApp(
        gateway.app_key,
        gateway.app_secret,
        base_url=gateway.url,
        rate_limit=1000,
        check_region=False,
    )
    yield app.shop("test-token")
    await app.close()


def _group(shop: ShopClient, t: model.TypeSpec) -> Any:
    return getattr(shop, t.group)


# --- every type --------------------------------------------------------------------------


@pytest.mark.parametrize("t", TYPES, ids=[t.type for t in TYPES])
async def test_every_type_is_callable_and_typed(
    t: model.TypeSpec, gateway: TinyGateway, shop: ShopClient
) -> None:
    group = _group(shop, t)
    seen: list[dict[str, Any]] = []

    def answer(body: dict[str, Any], n: int) -> dict[str, Any]:
        seen.append(body)
        if body["type"] != t.type:
            return fail(3000003, f"wrong type {body['type']}")
        missing = [p.name for p in t.params if p.required and p.name not in body]
        if missing:
            return fail(3000000, f"missing {missing}")
        return ok(sample_result(t))

    gateway.script = answer
    if t.deprecated:
        warnings.simplefilter("ignore", DeprecationWarning)
    if not t.documented:
        result = await getattr(group, t.method)(someParam=5)
        assert seen[0]["someParam"] == 5
        assert result == sample_result(t)
        return
    names = python_names(type(group), t.method)
    assert len(names) == len(t.params)
    kwargs = {py: sample_param(f) for py, f in zip(names, t.params, strict=True) if f.required}
    result = await getattr(group, t.method)(**kwargs)
    assert len(seen) == 1
    for f in t.params:
        if f.required:
            assert seen[0][f.name] == sample_param(f)
    expected = sample_result(t, extra=False)
    if t.result_type in ("object", "list") and t.response:
        # A Struct (or a list of them): unknown fields dropped, every documented one kept,
        # back to wire names through the renames.
        one = result if t.result_type == "object" else result[0]
        assert isinstance(one, msgspec.Struct)
        assert one.__struct_config__.omit_defaults
        assert msgspec.to_builtins(result) == expected
    else:
        assert result == sample_result(t)


def test_every_group_is_a_typed_property_of_the_shop_client() -> None:
    groups = sorted({t.group for t in TYPES})
    for g in groups:
        prop = inspect.getattr_static(ShopClient, g)
        assert isinstance(prop, functools.cached_property)
        # Annotated with the group's own class, so editors complete its methods.
        assert prop.func.__annotations__["return"].endswith("Group")


async def test_group_objects_are_cached_per_shop(shop: ShopClient) -> None:
    g = TYPES[0].group
    assert getattr(shop, g) is getattr(shop, g)


# --- pagination, deprecation, params, against the real catalogue ------------------------


def _paginated() -> list[model.TypeSpec]:
    return [
        t
        for t in TYPES
        if t.paginate
        and t.paginate.page is not None
        and t.response
        and t.result_type == "object"
        and "." not in t.paginate.items
    ]


def _cursor_paged() -> list[model.TypeSpec]:
    return [t for t in TYPES if t.paginate and t.paginate.cursor]


def test_types_paged_by_cursor_are_marked_in_the_catalogue() -> None:
    assert {"temu.local.goods.list.retrieve", "temu.local.sku.list.retrieve"} <= {
        t.type for t in _cursor_paged()
    }


@pytest.mark.parametrize("t", _cursor_paged(), ids=lambda t: t.type)
async def test_cursor_pages_follow_the_cursor_each_answer_names(
    t: model.TypeSpec, gateway: TinyGateway, shop: ShopClient
) -> None:
    pg = t.paginate
    assert pg is not None and pg.cursor and pg.next and t.response is not None
    items_field = next(f for f in t.response if f.name == pg.items)
    one = sample_value(items_field)[0]
    sent: list[tuple[Any, Any]] = []
    chain: dict[Any, str] = {None: "c1", "c1": "c2", "c2": ""}  # "" after c2: the end
    head, tail = pg.next.split(".")

    def answer(body: dict[str, Any], n: int) -> dict[str, Any]:
        cursor = body.get(pg.cursor)
        sent.append((cursor, body[pg.size]))
        return ok({pg.items: [one, one], head: {tail: chain[cursor]}})

    gateway.script = answer
    group = _group(shop, t)
    names = dict(zip([p.name for p in t.params], python_names(type(group), t.method), strict=True))
    kwargs = {names[f.name]: sample_param(f) for f in t.params if f.required}
    method = getattr(group, t.method)
    pages = [page async for page in method.pages(**kwargs)]
    assert sent == [(None, pg.max_size), ("c1", pg.max_size), ("c2", pg.max_size)]
    assert len(pages) == 3
    items = [item async for item in method.items(**kwargs)]
    assert len(items) == 6 and all(isinstance(i, msgspec.Struct) for i in items)
    # A gateway that names the same cursor again ends the walk instead of looping.
    chain["c1"] = "c1"
    sent.clear()
    assert len([page async for page in method.pages(**kwargs)]) == 2
    assert [c for c, _ in sent] == [None, "c1"]


@pytest.mark.parametrize("t", _paginated()[:3], ids=lambda t: t.type)
async def test_pages_and_items_walk_every_page(
    t: model.TypeSpec, gateway: TinyGateway, shop: ShopClient
) -> None:
    pg = t.paginate
    assert pg is not None and t.response is not None
    items_field = next(f for f in t.response if f.name == pg.items)
    total = 7
    pages_asked: list[tuple[int, int]] = []

    def answer(body: dict[str, Any], n: int) -> dict[str, Any]:
        page, size = body[pg.page], body[pg.size]
        pages_asked.append((page, size))
        start = (page - pg.first_page) * size
        count = max(0, min(size, total - start))
        one = sample_value(items_field)[0]
        result: dict[str, Any] = {pg.items: [one] * count}
        if pg.total:
            result[pg.total.split(".")[-1]] = total
        return ok(result)

    gateway.script = answer
    group = _group(shop, t)
    names = dict(zip([p.name for p in t.params], python_names(type(group), t.method), strict=True))
    kwargs: dict[str, Any] = {
        names[f.name]: sample_param(f)
        for f in t.params
        if f.required and f.name not in (pg.page, pg.size)
    }
    kwargs[names[pg.size]] = 3
    method = getattr(group, t.method)
    pages = [page async for page in method.pages(**kwargs)]
    assert pages_asked == [(pg.first_page + i, 3) for i in range(3)]
    assert len(pages) == 3
    pages_asked.clear()
    items = [item async for item in method.items(**kwargs)]
    assert len(items) == total
    assert all(isinstance(i, msgspec.Struct) for i in items)


async def test_a_deprecated_type_warns_and_names_its_replacement(
    gateway: TinyGateway, shop: ShopClient
) -> None:
    t = next(t for t in TYPES if t.deprecated and t.replaced_by)
    group = _group(shop, t)
    names = python_names(type(group), t.method)
    kwargs = {py: sample_param(f) for py, f in zip(names, t.params, strict=True) if f.required}
    gateway.script = lambda body, n: ok(sample_result(t))
    with pytest.warns(DeprecationWarning, match=t.replaced_by):
        await getattr(group, t.method)(**kwargs)
    assert "Deprecated" in (getattr(type(group), t.method).__doc__ or "")


async def test_a_per_type_rate_limit_reaches_the_client(shop: ShopClient) -> None:
    # The client reads the type's own limit from catalogue.json, on top of the app's.
    t = next(t for t in TYPES if t.rate_limit)
    assert t.rate_limit is not None
    spec = model.types_by_name()[t.type]
    limits = shop.app.limits_for(t.type, spec)
    assert sorted(limit.rate for limit in limits) == sorted([1000, t.rate_limit.per_second])


async def test_api_errors_surface_through_typed_methods(
    gateway: TinyGateway, shop: ShopClient
) -> None:
    t = next(t for t in TYPES if t.errors and t.documented and t.idempotent)
    code, message = next(iter(t.errors.items()))
    gateway.script = lambda body, n: fail(code, message)
    group = _group(shop, t)
    names = python_names(type(group), t.method)
    kwargs = {py: sample_param(f) for py, f in zip(names, t.params, strict=True) if f.required}
    with pytest.raises(ApiError) as info:
        await getattr(group, t.method)(**kwargs, options=None)
    assert info.value.code == code


def _first(pred: Any) -> tuple[model.TypeSpec, model.Field]:
    for t in TYPES:
        for f in t.params:
            if t.documented and pred(f):
                return t, f
    raise AssertionError("no such param in the catalogue")


def _kwargs_without(t: model.TypeSpec, cls: type, skip: str) -> tuple[dict[str, Any], str]:
    names = python_names(cls, t.method)
    kwargs = {
        py: sample_param(f)
        for py, f in zip(names, t.params, strict=True)
        if f.required and f.name != skip
    }
    return kwargs, names[[p.name for p in t.params].index(skip)]


@pytest.mark.parametrize(
    ("rule", "pred", "bad"),
    [
        (
            "must be one of",
            lambda f: f.type == "integer" and f.enum and f.enum_closed,
            lambda f: max(f.enum) + 1000,
        ),
        (
            "must be <=",
            lambda f: f.type == "integer" and f.maximum is not None,
            lambda f: f.maximum + 1,
        ),
        (
            "must hold at most",
            lambda f: f.type == "list" and f.items in ("string", "long") and f.max_items,
            lambda f: [sample_param(f, f.items)] * (f.max_items + 1),
        ),
        ("is required", lambda f: f.required, lambda f: None),
    ],
    ids=["enum", "maximum", "list-length", "required-none"],
)
async def test_bad_params_raise_before_anything_is_sent(
    rule: str, pred: Any, bad: Any, gateway: TinyGateway, shop: ShopClient
) -> None:
    t, f = _first(pred)
    group = _group(shop, t)
    kwargs, py = _kwargs_without(t, type(group), f.name)
    kwargs[py] = bad(f)
    with pytest.raises(ParamError, match=rule) as info:
        await getattr(group, t.method)(**kwargs)
    assert info.value.param == f.name
    assert gateway.bodies == []


async def test_a_missing_required_keyword_is_a_type_error(shop: ShopClient) -> None:
    t, f = _first(lambda f: f.required)
    group = _group(shop, t)
    kwargs, _ = _kwargs_without(t, type(group), f.name)
    with pytest.raises(TypeError, match="required keyword-only argument"):
        await getattr(group, t.method)(**kwargs)
