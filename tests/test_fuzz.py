"""Whatever the gateway answers and whatever a caller passes, out comes a result or a TemuError.

Fuzzed here: the envelope decoder (``temu_async.decode``, the app's decode step) on arbitrary bytes, arbitrary
JSON and arbitrary envelopes, untyped, into a hand-made Struct and into a generated
result model (which also exercises the lossless-conform fallback); and the signer
on arbitrary nested params. The webhook verifier and parser have their own fuzz
suite (``test_webhooks_fuzz.py``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from temu_async import TemuApp
from temu_async._generated.order import OrderListV2Result
from temu_async.catalogue import Catalogue, ErrorCode, Field, TypeSpec
from temu_async.errors import (
    ApiError,
    MalformedResponse,
    ParamError,
    ResponseDecodeError,
    TemuError,
    TransportError,
)
from temu_async.signing import sign
from temu_async.wire import build_body, encode_params

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SECRET = "fuzz-secret-0123456789abcdef"


class Item(msgspec.Struct):
    sku_id: int
    name: str = ""


class Result(msgspec.Struct):
    total: int
    items: list[Item] = []
    flag: bool | None = None


FUZZ_TYPE = TypeSpec(
    type="bg.fuzz.read",
    method="read",
    group="fuzz",
    summary="A typed read.",
    idempotent=True,
    response=[
        Field(name="total", type="integer"),
        Field(
            name="items",
            type="list",
            items="object",
            fields=[Field(name="sku_id", type="long"), Field(name="name", type="string")],
        ),
        Field(name="flag", type="boolean"),
    ],
    errors={150010005: "Try again later"},
    retryable_errors=[150010005],
)
CATALOGUE = Catalogue(
    errors=[
        ErrorCode(code=4000004, name="RATE", message="rate", category="rate_limited"),
        ErrorCode(code=3000001, name="SIGN", message="sign", category="signature"),
        ErrorCode(code=3000000, name="BAD_PARAMS", message="bad", category="params"),
    ],
    types=[FUZZ_TYPE],
)


@pytest.fixture(scope="module")
def apps() -> Iterator[tuple[TemuApp, TemuApp]]:
    # Nothing is ever sent: the transport's session is made on first use only.
    url = "http://127.0.0.1:9/openapi/router"
    small = TemuApp("fuzz-key", SECRET, base_url=url, catalogue=CATALOGUE)
    real = TemuApp("fuzz-key", SECRET, base_url=url)
    yield small, real


# Scalars JSON can carry, including the awkward ones: huge ints, floats that overflow
# msgspec's int fields, strings of digits (the conform path turns them into ints).
json_scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=12)
    | st.from_regex(r"-?[0-9]{1,22}", fullmatch=True)
)
json_values = st.recursive(
    json_scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(["total", "items", "sku_id", "name", "flag", "x"])
            | st.text(max_size=5),
            inner,
            max_size=5,
        )
    ),
    max_leaves=20,
)
codes = (
    st.none()
    | st.sampled_from([1000000, 4000004, 3000001, 3000000, 150010005, 7000000])
    | st.integers()
    | st.booleans()
    | st.text(max_size=8)
    | st.floats(allow_nan=False)
)
envelopes = st.fixed_dictionaries(
    {},
    optional={
        "success": st.booleans() | st.none() | st.integers(-1, 2) | st.text(max_size=5),
        "errorCode": codes,
        "errorMsg": st.none() | st.text(max_size=20) | st.integers(),
        "requestId": st.none() | st.text(max_size=10) | st.integers(),
        "result": json_values,
        "extra": json_values,
    },
)
statuses = st.sampled_from([200, 200, 200, 201, 204, 301, 400, 403, 429, 500, 502, 503, 504])
result_types: list[Any] = [Any, Result, dict[str, Any], list[int], int]


def _decode(app: TemuApp, body: bytes, status: int, type_name: str, result_type: Any) -> Any:
    return app.pipeline.decoder.decode(type_name, result_type, status, body, "application/json")


def _outcome(app: TemuApp, body: bytes, status: int, type_name: str, result_type: Any) -> Any:
    """Decode; a TemuError is a fine outcome, any other exception fails the test."""
    try:
        return _decode(app, body, status, type_name, result_type)
    except TemuError as exc:
        str(exc), repr(exc)  # the texts themselves must not raise either
        return exc


@FUZZ
@given(body=st.binary(max_size=200), status=statuses, which=st.integers(0, 4))
def test_decoder_on_arbitrary_bytes(
    apps: tuple[TemuApp, TemuApp], body: bytes, status: int, which: int
) -> None:
    outcome = _outcome(apps[0], body, status, "bg.fuzz.read", result_types[which])
    if status != 200:
        assert isinstance(outcome, TransportError)


@FUZZ
@given(value=json_values, status=statuses, which=st.integers(0, 4))
def test_decoder_on_arbitrary_json(
    apps: tuple[TemuApp, TemuApp], value: Any, status: int, which: int
) -> None:
    body = msgspec.json.encode(value)
    outcome = _outcome(apps[0], body, status, "bg.fuzz.read", result_types[which])
    if status == 200 and not isinstance(value, dict):
        assert isinstance(outcome, MalformedResponse)


@FUZZ
@given(env=envelopes, which=st.integers(0, 4), type_name=st.sampled_from(["bg.fuzz.read", "x.y"]))
def test_decoder_on_arbitrary_envelopes(
    apps: tuple[TemuApp, TemuApp], env: dict[str, Any], which: int, type_name: str
) -> None:
    outcome = _outcome(apps[0], msgspec.json.encode(env), 200, type_name, result_types[which])
    code = env.get("errorCode")
    if "success" not in env:
        assert isinstance(outcome, MalformedResponse)
    elif env["success"] is not True or (type(code) is int and code != 1000000):
        assert isinstance(outcome, TemuError), "a refusal must not read as a result"
        if type(code) is int and isinstance(outcome, ApiError):
            assert outcome.code == code  # the server's code is kept


@FUZZ
@given(result=json_values, wrap=st.booleans())
def test_decoder_into_a_generated_result_model(
    apps: tuple[TemuApp, TemuApp], result: Any, wrap: bool
) -> None:
    # The real catalogue's order list: typed decode, then the conform fallback.
    if wrap:
        result = {"totalItemNum": result, "pageItems": [{"parentOrderMap": result}]}
    body = msgspec.json.encode({"success": True, "errorCode": 1000000, "result": result})
    outcome = _outcome(apps[1], body, 200, "bg.order.list.v2.get", OrderListV2Result)
    assert outcome is None or isinstance(outcome, (OrderListV2Result, ResponseDecodeError))


def test_decoder_handles_deep_nesting(apps: tuple[TemuApp, TemuApp]) -> None:
    deep = b'{"success":true,"errorCode":1000000,"result":' + b"[" * 5000 + b"]" * 5000 + b"}"
    for result_type in result_types:
        outcome = _outcome(apps[0], deep, 200, "bg.fuzz.read", result_type)
        assert result_type is not Result or isinstance(outcome, TemuError)


def test_typed_mismatch_of_a_known_type_conforms_digit_strings(
    apps: tuple[TemuApp, TemuApp],
) -> None:
    # The control for the fuzz above: a lossless mismatch decodes, a lossy one is reported.
    body = b'{"success":true,"errorCode":1000000,"result":{"total":"12","items":[]}}'
    assert _decode(apps[0], body, 200, "bg.fuzz.read", Result) == Result(total=12, items=[])
    lossy = b'{"success":true,"errorCode":1000000,"result":{"total":"twelve"}}'
    with pytest.raises(ResponseDecodeError) as info:
        _decode(apps[0], lossy, 200, "bg.fuzz.read", Result)
    assert info.value.raw == {"total": "twelve"}


# --- the signer ------------------------------------------------------------------------

# Text with everything, lone surrogates included (the default strategy leaves them out).
any_text = st.text(st.characters(exclude_categories=()), max_size=10)
leaves = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats()
    | any_text
    | st.binary(max_size=4)
    | st.decimals(allow_nan=False, places=2, max_value=10**6, min_value=-(10**6))
)
nested = st.recursive(
    leaves,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.tuples(inner, inner)
        | st.dictionaries(any_text | st.integers(0, 9), inner, max_size=3)
    ),
    max_leaves=12,
)
param_maps = st.dictionaries(any_text | st.integers(0, 3), nested, max_size=5)
_SIGN = re.compile(r"[0-9A-F]{32}")


@FUZZ
@given(params=param_maps, secret=st.text(min_size=1, max_size=40))
def test_signer_on_arbitrary_nested_params(params: dict[Any, Any], secret: str) -> None:
    try:
        signature = sign(params, secret)
    except ParamError as exc:
        assert exc.local and exc.param
        str(exc), repr(exc)
        return
    assert _SIGN.fullmatch(signature)
    # What was signed can be sent: the body is valid JSON holding every non-None param.
    body = json.loads(build_body(encode_params(params)))
    assert set(body) == {k for k, v in params.items() if v is not None}


@FUZZ
@given(params=param_maps)
def test_signer_is_deterministic_and_order_independent(params: dict[Any, Any]) -> None:
    try:
        first = sign(params, SECRET)
    except ParamError:
        return
    reordered = dict(reversed(list(params.items())))
    assert sign(reordered, SECRET) == first
