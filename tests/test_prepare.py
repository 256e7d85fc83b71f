"""Prepare (check + encode in one walk) and the validation of call and app options.

Everything here is refused before a byte is sent: the tests call the step itself, and,
for the options, build the objects the caller would.
"""

from __future__ import annotations

import datetime
import decimal
import enum
import json
import math
import uuid
from typing import Any

import pytest

from temu_async.catalogue import Field, TypeSpec
from temu_async.client import TemuApp
from temu_async.errors import ParamError
from temu_async.options import CallOptions
from temu_async.prepare import MAX_DEPTH, Plan, prepare_params
from temu_async.retry import RetryBudget, RetryPolicy

CONFIRM = TypeSpec(
    type="bg.test.confirm",
    method="confirm",
    group="test",
    summary="A nested write.",
    idempotent=False,
    params=[
        Field(name="sendType", type="integer", required=True, enum={0: "single", 1: "split"}),
        Field(
            name="sendRequestList",
            type="list",
            items="object",
            required=True,
            min_items=1,
            fields=[
                Field(name="carrierId", type="long", required=True),
                Field(name="weight", type="number"),
                Field(name="extra", type="object"),
                Field(
                    name="orderSendInfoList",
                    type="list",
                    items="object",
                    fields=[Field(name="orderSn", type="string", required=True, max_length=8)],
                ),
            ],
        ),
        Field(name="anything", type="any"),
    ],
)
PLAN = Plan(CONFIRM)


def good(**extra: Any) -> dict[str, Any]:
    package: dict[str, Any] = {
        "carrierId": 1,
        "weight": 1.5,
        "orderSendInfoList": [{"orderSn": "O-1"}],
    }
    package.update(extra)
    return {"sendType": 0, "sendRequestList": [package]}


def refused(params: Any, plan: Plan | None = PLAN) -> ParamError:
    with pytest.raises(ParamError) as info:
        prepare_params(plan, params, api_type="bg.test.confirm")
    assert info.value.local
    return info.value


def test_sound_params_encode_once_into_the_wire_bytes() -> None:
    out = prepare_params(PLAN, good(), api_type="bg.test.confirm")
    assert list(out) == ["sendType", "sendRequestList"]
    assert out["sendType"] == b"0"
    assert json.loads(out["sendRequestList"]) == good()["sendRequestList"]
    assert b" " not in out["sendRequestList"]  # compact, as signed


class Colour(enum.IntEnum):
    RED = 1


@pytest.mark.parametrize(
    ("value", "type_name"),
    [
        ({1, 2}, "set"),
        (frozenset({1}), "frozenset"),
        (decimal.Decimal("1.5"), "Decimal"),
        (datetime.datetime(2024, 1, 1), "datetime"),
        (datetime.date(2024, 1, 1), "date"),
        (uuid.UUID(int=1), "UUID"),
        (object(), "object"),
        (complex(1, 2), "complex"),
    ],
)
def test_unsupported_python_types_are_refused_at_any_depth(value: Any, type_name: str) -> None:
    # Top level of an unknown type, deep inside a documented object, and in free-form data.
    assert refused({"when": value}, None).param == "when"
    deep = refused(good(extra={"a": [{"b": value}]}))
    assert deep.param == "sendRequestList[0].extra.a[0].b"
    assert f"unsupported type {type_name}" in deep.rule
    assert refused({**good(), "anything": {"x": (1, value)}}).param == "anything.x[1]"


def test_non_string_keys_are_refused_with_the_path_of_their_object() -> None:
    err = refused(good(extra={"inner": {1: 2}}))
    assert err.param == "sendRequestList[0].extra.inner"
    assert "keys must be strings, got int 1" in err.rule
    assert refused({"top": {"ok": {None: 1}}}, None).param == "top.ok"
    assert refused({1: "x"}, None).param == "1"


def test_catalogue_rules_name_the_dotted_path() -> None:
    lines = [{"orderSn": "O-123456789"}]
    err = refused(good(orderSendInfoList=lines))
    assert err.param == "sendRequestList[0].orderSendInfoList[0].orderSn"
    assert "at most 8 characters" in err.rule
    assert refused({"sendType": 0, "sendRequestList": [{}]}).param == (
        "sendRequestList[0].carrierId"
    )
    assert "is required" in refused({"sendType": 0, "sendRequestList": [{}]}).rule
    assert refused({"sendRequestList": good()["sendRequestList"]}).param == "sendType"
    assert "must be one of" in refused({**good(), "sendType": 7}).rule
    assert refused({**good(), "sendType": True}).rule.startswith("must be an integer")
    assert refused({**good(), "sendTyp": 0}).rule.startswith("is not a param of bg.test.confirm")


@pytest.mark.parametrize(
    ("value", "rule"),
    [
        (math.nan, "finite"),
        (math.inf, "finite"),
        (1e20, "exponent"),
        (1e-9, "exponent"),
        (b"x", "must be text"),
        (2**64, "64 bits"),
    ],
)
def test_wire_rules_on_free_form_values(value: Any, rule: str) -> None:
    err = refused({**good(), "anything": [{"v": value}]})
    assert err.param == "anything[0].v" and rule in err.rule


def test_json_native_subclasses_are_sent_as_their_values() -> None:
    out = prepare_params(None, {"c": Colour.RED, "f": 2.5, "t": (1, "a")}, api_type=None)
    assert out == {"c": b"1", "f": b"2.5", "t": b'[1,"a"]'}


def test_depth_and_self_reference_are_refused_by_name() -> None:
    loop: list[Any] = []
    loop.append(loop)
    err = refused({"loop": loop}, None)
    assert err.param == "loop" and "contains itself" in err.rule
    deep: Any = 1
    for _ in range(MAX_DEPTH + 1):
        deep = {"d": deep}
    assert refused({"deep": deep}, None).param == "deep"


def test_the_body_cap_names_the_param_that_makes_it_big() -> None:
    params = {"small": "x", "big": ["y" * 100] * 20}
    with pytest.raises(ParamError, match="over the 1500-byte limit") as info:
        prepare_params(None, params, api_type="bg.any.type", max_body_bytes=1500)
    assert info.value.param == "big"


def test_common_params_are_refused() -> None:
    assert refused({"access_token": "x"}, None).param == "access_token"


# --- options ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"timeout": -1}, "timeout"),
        ({"timeout": 0}, "timeout"),
        ({"timeout": math.nan}, "timeout"),
        ({"timeout": math.inf}, "timeout"),
        ({"timeout": "5"}, "timeout"),
        ({"max_wait": math.nan}, "max_wait"),
        ({"max_wait": -0.5}, "max_wait"),
        ({"max_retries": -1}, "max_retries"),
        ({"max_retries": 1.5}, "max_retries"),
        ({"max_retries": True}, "max_retries"),
        ({"allow_unknown": "yes"}, "allow_unknown"),
        ({"patient": 1}, "patient"),
    ],
)
def test_call_options_refuse_bad_values_by_name(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} must"):
        CallOptions(**kwargs)


def test_call_options_accept_sound_values() -> None:
    opts = CallOptions(timeout=0.5, max_wait=0, max_retries=0, patient=True)
    assert opts.max_wait == 0 and opts.patient
    assert not hasattr(opts, "__dict__")  # slotted: one small object per distinct option set


async def test_per_call_overrides_are_validated_too() -> None:
    async with TemuApp("app-key", "app-secret", base_url="http://127.0.0.1:9/x") as app:
        shop = app.shop("token-abc")
        with pytest.raises(ValueError, match=r"^timeout must"):
            await shop.call("bg.any.type", timeout=math.nan)
        with pytest.raises(TypeError, match="unknown call option"):
            await shop.call("bg.any.type", timeot=1)


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"timeout": -1}, "timeout"),
        ({"timeout": math.nan}, "timeout"),
        ({"connect_timeout": 0}, "connect_timeout"),
        ({"max_wait": math.nan}, "max_wait"),
        ({"max_wait": -1}, "max_wait"),
        ({"rate_limit": 0}, "rate_limit"),
        ({"rate_limit": -5}, "rate_limit"),
        ({"rate_limit": 2.5}, "rate_limit"),
        ({"connection_limit": 0}, "connection_limit"),
        ({"max_body_bytes": 0}, "max_body_bytes"),
    ],
)
def test_app_arguments_refuse_bad_values_by_name(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} must"):
        TemuApp("app-key", "app-secret", **kwargs)


@pytest.mark.parametrize(
    ("build", "name"),
    [
        (lambda: RetryPolicy(max_retries=-1), "max_retries"),
        (lambda: RetryPolicy(base_delay=math.nan), "base_delay"),
        (lambda: RetryPolicy(max_total_wait=math.inf), "max_total_wait"),
        (lambda: RetryPolicy(patient_max_wait=-1), "patient_max_wait"),
        (lambda: RetryBudget(ratio=-0.1), "RetryBudget ratio"),
        (lambda: RetryBudget(window=0), "RetryBudget window"),
        (lambda: RetryBudget(floor=-1), "RetryBudget floor"),
    ],
)
def test_retry_numbers_are_validated(build: Any, name: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} must"):
        build()


def test_budget_defaults_are_finagles() -> None:
    now = [0.0]
    budget = RetryBudget(clock=lambda: now[0])
    assert (budget.ratio, budget.per_second, budget.window) == (0.2, 10.0, 10.0)
    spent = 0
    while budget.try_spend():
        spent += 1
    assert spent == 100  # 10 per second over the 10 s window, with no traffic
    for _ in range(50):
        budget.record_first()
    assert [budget.try_spend() for _ in range(11)] == [True] * 10 + [False]  # 20 % of 50
