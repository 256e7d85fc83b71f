"""Every generated method shows its params and documentation to inspect, help() and IDEs.

Checked on the bound methods a user reaches (``shop.<group>.<method>``), paginated ones and
their ``.pages`` / ``.items`` included, against the catalogue the code was generated from.
"""

from __future__ import annotations

import inspect
import pydoc
import re
from pathlib import Path
from typing import Any

import pytest

from codegen.load import load_catalogue
from temu_async import catalogue as model
from temu_async.client import ShopClient, TemuApp
from temu_async.field_rules import describe, rule_text, type_text, unit_text, with_unit

# The spec as written (catalogue.json sorts enum keys; docstrings keep the spec's order).
TYPES = load_catalogue(Path(__file__).resolve().parent.parent / "spec").types


def _flat(text: str | None) -> str:
    return " ".join((text or "").split())


@pytest.fixture(scope="module")
def shop() -> ShopClient:
    # Building a client sends nothing: the methods are only inspected here.
    return TemuApp("app-key", "app-secret").shop("token")


def _method(shop: ShopClient, t: model.TypeSpec) -> Any:
    return getattr(getattr(shop, t.group), t.method)


@pytest.mark.parametrize("t", TYPES, ids=lambda t: t.type)
def test_signature_and_docstring_come_from_the_catalogue(
    shop: ShopClient, t: model.TypeSpec
) -> None:
    method = _method(shop, t)
    sig = inspect.signature(method)
    params = list(sig.parameters.values())
    assert "self" not in sig.parameters
    assert params[-1 if t.documented else -2].name == "options"
    doc = _flat(inspect.getdoc(method))
    assert _flat(t.summary) in doc
    assert f"Wire type ``{t.type}``" in doc
    if t.doc_url:
        assert t.doc_url in doc
    for code in t.errors:
        assert f"{code}:" in doc
    if not t.documented:
        assert params[-1].kind is inspect.Parameter.VAR_KEYWORD
        return
    business = params[:-1]
    assert len(business) == len(t.params)
    for p, f in zip(business, t.params, strict=True):
        assert p.kind is inspect.Parameter.KEYWORD_ONLY
        assert p.annotation is not inspect.Parameter.empty, p
        assert (p.default is inspect.Parameter.empty) == f.required, p
        # Each param's words and rules (unit, enum meanings, bounds) are in the Args.
        assert f"{p.name}: ``{f.name}``" in doc
        for text in (_flat(with_unit(f)), _flat(rule_text(f))):
            assert text.lower() in doc.lower(), (p.name, text)
    assert sig.return_annotation is not inspect.Signature.empty
    if t.paginate is not None:
        assert "Paginated" in doc
        for walk in (method.pages, method.items):
            walked = inspect.signature(walk)
            assert list(walked.parameters.values()) == params
            assert "AsyncIterator" in str(walked.return_annotation)
            assert _flat(t.summary) in _flat(inspect.getdoc(walk))


def test_help_shows_a_paginated_method_like_a_function(shop: ShopClient) -> None:
    t = next(t for t in TYPES if t.paginate is not None and t.documented)
    method = _method(shop, t)
    text = pydoc.render_doc(method, renderer=pydoc.plaintext)
    first_param = next(iter(inspect.signature(method).parameters))
    assert re.search(rf"^{t.method}\(\*, {first_param}: ", text, re.M), text[:300]
    assert _flat(t.summary) in _flat(text)
    items = pydoc.render_doc(method.items, renderer=pydoc.plaintext)
    assert re.search(rf"^items\(\*, {first_param}: ", items, re.M), items[:300]


def test_result_struct_fields_carry_their_descriptions(shop: ShopClient) -> None:
    checked = 0
    for t in TYPES:
        if not t.response or t.result_type != "object" or not t.documented:
            continue
        # The result Struct is what the method says it returns.
        fn = inspect.unwrap(getattr(type(getattr(shop, t.group)), t.method))
        cls = inspect.signature(fn).return_annotation
        assert isinstance(cls, type), (t.type, cls)
        source = _flat(inspect.getsource(cls)).replace('\\"', '"')
        for f in t.response:
            text = _flat(describe(f, received=True))
            if text:
                assert text in source, (cls.__name__, f.name, text)
                checked += 1
    assert checked > 100, checked


def test_units_and_rules_read_as_one_line() -> None:
    f = model.Field(
        name="createdAt",
        type="long",
        summary="When it was placed.",
        unit="epoch_ms",
        minimum=0,
    )
    assert unit_text("epoch_ms") == "Unit: milliseconds since the Unix epoch."
    assert unit_text("yyyy-MM-dd") == "Format: yyyy-MM-dd."
    assert unit_text(None) == ""
    assert describe(f) == "When it was placed. Unit: milliseconds since the Unix epoch. (>= 0)"
    assert with_unit(model.Field(name="at", type="long", unit="epoch_s")) == (
        "Unit: seconds since the Unix epoch."
    )
    assert type_text(model.Field(name="fee", type="object", shape="Money")) == "Money"
    lines = model.Field(name="lines", type="list", items="object", shape="OrderSendInfo")
    assert type_text(lines) == "list[OrderSendInfo]"
    assert type_text(model.Field(name="ids", type="list", items="long")) == "list[long]"
    status = model.Field(name="status", type="integer", enum={1: "open", 2: "shut"})
    assert rule_text(status) == "one of 1 (open), 2 (shut)"
    assert rule_text(status, received=True) == "known values 1 (open), 2 (shut)"
