"""Whatever arrives, the verifier answers with a delivery or a WebhookError, nothing else."""

from __future__ import annotations

import asyncio
import base64
from typing import Any

import msgspec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from temu_async.webhooks import (
    MalformedDeliveryError,
    RawEvent,
    WebhookDelivery,
    WebhookError,
    WebhookVerifier,
    build_push,
    encrypt_event,
    parse_event,
)

APP_KEY = "fuzz-app"
SECRET = "fuzz-secret-0123456789"
NOW_MS = 1_726_127_013_525
CODE = "bg_order_status_change_event"
NAMES = ["x-tm-app-key", "x-tm-event-code", "x-tm-timestamp", "x-tm-signature", "x-tm-ext-param"]


class Typed(msgspec.Struct, rename="camel"):
    order_sn: str
    order_status: int = 0


REGISTRY = {CODE: Typed}


def verifier() -> WebhookVerifier:
    return WebhookVerifier(APP_KEY, SECRET, clock=lambda: NOW_MS / 1000, registry=REGISTRY)


def outcome(headers: Any, body: bytes) -> WebhookDelivery | WebhookError:
    try:
        return verifier().verify(headers, body)
    except WebhookError as exc:
        return exc


# Header values: arbitrary text, including lone surrogates as aiohttp's surrogateescape makes.
header_values = st.one_of(
    st.text(),
    st.sampled_from([APP_KEY, CODE, str(NOW_MS), "{}", "0" * 64]),
    st.binary(max_size=30).map(lambda b: b.decode("utf-8", "surrogateescape")),
    st.text(st.characters(min_codepoint=0xD800, max_codepoint=0xDFFF), min_size=1, max_size=3),
)
headers_strategy = st.dictionaries(
    st.one_of(st.sampled_from(NAMES), st.text(max_size=10)), header_values, max_size=8
)
bodies = st.one_of(
    st.binary(max_size=300),
    st.builds(lambda s: msgspec.json.encode({"eventData": s}), st.text(max_size=80)),
    st.builds(lambda b: b'{"eventData":"' + b + b'"}', st.binary(max_size=40)),
    st.integers(1, 5000).map(lambda n: b'{"eventData":' * n),
    st.builds(
        lambda b: msgspec.json.encode({"eventData": base64.b64encode(b).decode()}),
        st.binary(max_size=80),
    ),
)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(headers=headers_strategy, body=bodies)
def test_arbitrary_headers_and_body(headers: dict[str, str], body: bytes) -> None:
    assert isinstance(outcome(headers, body), (WebhookDelivery, WebhookError))


@settings(max_examples=300, deadline=None)
@given(body=bodies, ext=header_values, signature=header_values)
def test_body_behind_headers_that_pass_the_cheap_checks(
    body: bytes, ext: str, signature: str
) -> None:
    # Right app key and a fresh timestamp, so the body really gets decoded and decrypted.
    headers = {
        "x-tm-app-key": APP_KEY,
        "x-tm-event-code": CODE,
        "x-tm-timestamp": str(NOW_MS),
        "x-tm-ext-param": ext,
        "x-tm-signature": signature,
    }
    assert isinstance(outcome(headers, body), WebhookError)


@settings(max_examples=300, deadline=None)
@given(
    replace=st.sampled_from(NAMES),
    value=header_values,
    flips=st.lists(st.tuples(st.integers(min_value=0), st.integers(1, 255)), max_size=3),
)
def test_mutated_valid_delivery_never_yields_another_payload(
    replace: str, value: str, flips: list[tuple[int, int]]
) -> None:
    payload = {"orderSn": "211-0001", "orderStatus": 2}
    push = build_push(APP_KEY, SECRET, CODE, payload, timestamp=NOW_MS)
    headers = dict(push.headers) | {replace: value}
    body = bytearray(push.body)
    for at, mask in flips:
        body[at % len(body)] ^= mask
    result = outcome(headers, bytes(body))
    assert isinstance(result, (WebhookDelivery, WebhookError))
    if isinstance(result, WebhookDelivery):
        # Only a change that leaves the signed content as it was can pass (e.g. a header
        # replaced by its own value, or unused low bits of the last base64 character).
        assert result.payload == payload
        assert result.event == Typed(order_sn="211-0001", order_status=2)
        assert headers[replace].strip().lower() == push.headers[replace].strip().lower()


# Authentic deliveries (right key, fresh, correctly signed) around arbitrary plaintext.
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
plaintexts = st.one_of(
    st.binary(max_size=200),
    json_values.map(msgspec.json.encode),
    st.dictionaries(
        st.sampled_from(["orderSn", "orderStatus", "mallId", "x"]), json_values, max_size=4
    ).map(msgspec.json.encode),
)


@settings(max_examples=300, deadline=None)
@given(plaintext=plaintexts, code=st.sampled_from([CODE, "bg_unknown", "x"]))
def test_authentic_delivery_of_any_plaintext(plaintext: bytes, code: str) -> None:
    push = build_push(APP_KEY, SECRET, code, plaintext, timestamp=NOW_MS)
    result = outcome(push.headers, push.body)
    if isinstance(result, WebhookError):
        # Authentic, so the only possible complaint is about the plaintext itself.
        assert isinstance(result, MalformedDeliveryError)
    else:
        assert result.payload == msgspec.json.decode(plaintext)


@settings(max_examples=200, deadline=None)
@given(plaintext=plaintexts, code=st.sampled_from([CODE, "other"]))
def test_parse_event_never_raises_anything_else(plaintext: bytes, code: str) -> None:
    try:
        event = parse_event(code, plaintext, REGISTRY)
    except MalformedDeliveryError:
        return
    assert isinstance(event, (Typed, RawEvent))
    if isinstance(event, RawEvent):
        assert event.data == msgspec.json.decode(plaintext)


@settings(max_examples=100, deadline=None)
@given(headers=headers_strategy, body=bodies)
def test_accept_path_too(headers: dict[str, str], body: bytes) -> None:
    async def go() -> object:
        try:
            return await verifier().accept(headers, body)
        except WebhookError as exc:
            return exc

    assert isinstance(asyncio.run(go()), (WebhookDelivery, WebhookError))


def test_valid_encrypted_body_with_wrong_signature_is_never_accepted() -> None:
    # A concrete anchor for the properties above: the fuzz strategies can produce this.
    body = msgspec.json.encode({"eventData": encrypt_event(b'{"orderSn":"1"}', SECRET)})
    headers = {
        "x-tm-app-key": APP_KEY,
        "x-tm-event-code": CODE,
        "x-tm-timestamp": str(NOW_MS),
        "x-tm-signature": "0" * 64,
    }
    assert isinstance(outcome(headers, body), WebhookError)
