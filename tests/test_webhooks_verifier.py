"""WebhookVerifier: every check refuses what it should, with the right error and no secrets."""

from __future__ import annotations

import asyncio
import base64
import sys
from typing import Any

import msgspec
import pytest

from temu_async.webhooks import (
    AppKeyMismatchError,
    DecryptionError,
    InvalidSignatureError,
    MalformedDeliveryError,
    MemoryReplayCache,
    RawEvent,
    ReplayCache,
    ReplayError,
    StaleTimestampError,
    WebhookError,
    WebhookPush,
    WebhookVerifier,
    build_push,
    default_registry,
    encrypt_event,
    event_identity,
    parse_event,
    sign_event,
)
from temu_async.webhooks.verifier import TEMU_RETRY_SCHEDULE

APP_KEY = "app-key-under-test"
SECRET = "s3cret-0123456789abcdef"
NOW_MS = 1_726_127_013_525
CODE = "bg_order_status_change_event"
PAYLOAD: dict[str, Any] = {
    "mallId": 634418212175626,
    "parentOrderSn": "PO-211-0001",
    "orderSn": "211-0001",
    "orderStatus": 2,
    "updateTime": 1726127013,
}


class OrderStatusChanged(msgspec.Struct, rename="camel", kw_only=True):
    mall_id: int
    parent_order_sn: str
    order_sn: str
    order_status: int
    update_time: int


REGISTRY = {CODE: OrderStatusChanged}


def clock_at(ms: int) -> Any:
    return lambda: ms / 1000


def verifier(**kw: Any) -> WebhookVerifier:
    kw.setdefault("clock", clock_at(NOW_MS))
    kw.setdefault("registry", {})
    return WebhookVerifier(APP_KEY, SECRET, **kw)


def push(payload: Any = PAYLOAD, **kw: Any) -> WebhookPush:
    kw.setdefault("timestamp", NOW_MS)
    return build_push(
        kw.pop("app_key", APP_KEY), kw.pop("secret", SECRET), kw.pop("code", CODE), payload, **kw
    )


def with_header(p: WebhookPush, name: str, value: str | None) -> dict[str, str]:
    headers = dict(p.headers)
    if value is None:
        headers.pop(name)
    else:
        headers[name] = value
    return headers


# -- the happy path ---------------------------------------------------------------------------


def test_valid_delivery_is_parsed() -> None:
    d = verifier().verify(push().headers, push().body)
    assert d.app_key == APP_KEY
    assert d.event_code == CODE
    assert d.timestamp == NOW_MS
    assert d.ext_param == "{}"
    assert d.payload == PAYLOAD
    assert d.event == RawEvent(code=CODE, data=PAYLOAD)


def test_header_names_are_case_insensitive() -> None:
    p = push()
    upper = {k.upper(): v for k, v in p.headers.items()}
    assert verifier().verify(upper, p.body).payload == PAYLOAD


def test_known_event_is_typed() -> None:
    d = verifier(registry=REGISTRY).verify(push().headers, push().body)
    assert isinstance(d.event, OrderStatusChanged)
    assert d.event.parent_order_sn == "PO-211-0001"
    assert d.event.mall_id == 634418212175626


def test_unknown_event_is_raw_never_an_error() -> None:
    p = push({"whatever": [1, 2]}, code="bg_brand_new_event")
    d = verifier(registry=REGISTRY).verify(p.headers, p.body)
    assert d.event == RawEvent(code="bg_brand_new_event", data={"whatever": [1, 2]})


def test_known_event_with_an_unexpected_shape_falls_back_to_raw() -> None:
    p = push({"mallId": "not a number"})
    d = verifier(registry=REGISTRY).verify(p.headers, p.body)
    assert isinstance(d.event, RawEvent)
    assert d.event.data == {"mallId": "not a number"}
    assert d.event.mismatch  # says why


def test_numbers_sent_as_strings_still_type() -> None:
    p = push(PAYLOAD | {"mallId": "634418212175626"})
    d = verifier(registry=REGISTRY).verify(p.headers, p.body)
    assert isinstance(d.event, OrderStatusChanged)
    assert d.event.mall_id == 634418212175626


def test_missing_ext_param_is_signed_as_absent() -> None:
    # Temu's reference verifier leaves blank params out of the signed text.
    plaintext = msgspec.json.encode(PAYLOAD)
    headers = {
        "x-tm-app-key": APP_KEY,
        "x-tm-event-code": CODE,
        "x-tm-timestamp": str(NOW_MS),
        "x-tm-signature": sign_event(
            SECRET,
            event_data=plaintext,
            app_key=APP_KEY,
            event_code=CODE,
            timestamp=NOW_MS,
            ext_param="",
        ),
    }
    body = msgspec.json.encode({"eventData": encrypt_event(plaintext, SECRET)})
    d = verifier().verify(headers, body)
    assert d.ext_param == ""


def test_upper_case_signature_is_accepted() -> None:
    p = push()
    headers = with_header(p, "x-tm-signature", p.headers["x-tm-signature"].upper())
    assert verifier().verify(headers, p.body).payload == PAYLOAD


def test_delivery_id_is_stable_for_the_same_delivery_and_not_the_signature() -> None:
    p = push()
    a = verifier().verify(p.headers, p.body)
    b = verifier().verify(p.headers, p.body)
    other = push(timestamp=NOW_MS + 1)
    c = verifier().verify(other.headers, other.body)
    assert a.delivery_id == b.delivery_id != c.delivery_id
    assert a.delivery_id not in p.headers["x-tm-signature"]


# -- refusals ---------------------------------------------------------------------------------


def test_tampered_signature() -> None:
    p = push()
    s = p.headers["x-tm-signature"]
    bad = s[:-1] + ("0" if s[-1] != "0" else "1")
    with pytest.raises(InvalidSignatureError):
        verifier().verify(with_header(p, "x-tm-signature", bad), p.body)


def test_signature_that_is_not_hex() -> None:
    p = push()
    with pytest.raises(InvalidSignatureError):
        verifier().verify(with_header(p, "x-tm-signature", "nope"), p.body)


def test_tampered_body_same_keys_other_payload() -> None:
    # A validly encrypted body whose plaintext differs from what was signed.
    p = push()
    body = msgspec.json.encode(
        {"eventData": encrypt_event(msgspec.json.encode(PAYLOAD | {"orderStatus": 3}), SECRET)}
    )
    with pytest.raises(InvalidSignatureError):
        verifier().verify(p.headers, body)


def test_tampered_ciphertext_bytes() -> None:
    p = push()
    blob = bytearray(base64.b64decode(msgspec.json.decode(p.body)["eventData"]))
    blob[3] ^= 0x01  # CBC: garbles block 0 and flips one bit of block 1
    body = msgspec.json.encode({"eventData": base64.b64encode(bytes(blob)).decode()})
    with pytest.raises((InvalidSignatureError, DecryptionError)):
        verifier().verify(p.headers, body)


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("x-tm-timestamp", str(NOW_MS + 1)),
        ("x-tm-event-code", "bg_aftersales_status_change"),
        ("x-tm-ext-param", '{"x":1}'),
    ],
)
def test_tampered_signed_header(header: str, value: str) -> None:
    p = push()
    with pytest.raises(InvalidSignatureError):
        verifier().verify(with_header(p, header, value), p.body)


def test_wrong_app_key_is_refused_before_decrypting() -> None:
    p = push(app_key="someone-elses-app", secret="0000000000000000")
    with pytest.raises(AppKeyMismatchError, match="someone-elses-app"):
        verifier().verify(p.headers, p.body)


def test_right_app_key_wrong_secret() -> None:
    p = push(secret="another-secret-with-enough-bytes")
    with pytest.raises((InvalidSignatureError, DecryptionError)):
        verifier().verify(p.headers, p.body)


@pytest.mark.parametrize("offset_s", [301, 10**7])
def test_future_timestamp_beyond_the_skew_tolerance(offset_s: int) -> None:
    p = push(timestamp=NOW_MS + offset_s * 1000)
    with pytest.raises(StaleTimestampError, match=r"ahead of .*tolerance 300"):
        verifier().verify(p.headers, p.body)


@pytest.mark.parametrize("offset_s", [-30 * 3600 - 1, -40 * 3600, -(10**7)])
def test_timestamp_older_than_the_retry_schedule(offset_s: int) -> None:
    p = push(timestamp=NOW_MS + offset_s * 1000)
    with pytest.raises(StaleTimestampError, match=r"retry schedule .*max_age 108000"):
        verifier().verify(p.headers, p.body)


# A retry that kept its first stamp arrives after 2 min, 12 min, 42 min, ... up to ~28 h.
@pytest.mark.parametrize(
    "offset_s", [-12 * 60, -20 * 3600, -sum(TEMU_RETRY_SCHEDULE), -299, 0, 299]
)
def test_timestamp_inside_the_window(offset_s: float) -> None:
    ts = NOW_MS + int(offset_s * 1000)
    p = push(timestamp=ts)
    assert verifier().verify(p.headers, p.body).timestamp == ts


def test_max_age_and_tolerance_are_configurable() -> None:
    old = push(timestamp=NOW_MS - 30_000)
    with pytest.raises(StaleTimestampError):
        verifier(max_age=10).verify(old.headers, old.body)
    assert verifier(max_age=3600).verify(old.headers, old.body).payload == PAYLOAD
    ahead = push(timestamp=NOW_MS + 30_000)
    with pytest.raises(StaleTimestampError):
        verifier(tolerance=10).verify(ahead.headers, ahead.body)
    assert verifier(tolerance=60).verify(ahead.headers, ahead.body).payload == PAYLOAD


def test_timestamp_in_seconds_is_stale_not_silently_accepted() -> None:
    p = push(timestamp=NOW_MS // 1000)
    with pytest.raises(StaleTimestampError, match="milliseconds"):
        verifier().verify(p.headers, p.body)


@pytest.mark.parametrize(
    "name", ["x-tm-app-key", "x-tm-event-code", "x-tm-timestamp", "x-tm-signature"]
)
def test_missing_required_header(name: str) -> None:
    p = push()
    with pytest.raises(MalformedDeliveryError, match=name):
        verifier().verify(with_header(p, name, None), p.body)


@pytest.mark.parametrize("value", ["-1", "12.5", "1e12", "٣٣٣", "9" * 40])
def test_unreadable_timestamp(value: str) -> None:
    p = push()
    with pytest.raises(MalformedDeliveryError, match="x-tm-timestamp"):
        verifier().verify(with_header(p, "x-tm-timestamp", value), p.body)


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[]", b'{"eventData": 5}', b'{"other": "x"}', b"[" * 100_000, b'"\xff"'],
)
def test_malformed_body(body: bytes) -> None:
    with pytest.raises(MalformedDeliveryError, match="eventData"):
        verifier().verify(push().headers, body)


def test_undecryptable_body() -> None:
    body = b'{"eventData": "!!!"}'
    with pytest.raises(DecryptionError):
        verifier().verify(push().headers, body)


def test_decryption_and_signature_failures_look_the_same_to_the_sender() -> None:
    assert DecryptionError.status == InvalidSignatureError.status
    assert DecryptionError.reason == InvalidSignatureError.reason


@pytest.mark.parametrize("plaintext", [b"[1,2]", b"not json", b"\xff\xfe", b'{"a":' * 5000])
def test_authentic_but_malformed_plaintext(plaintext: bytes) -> None:
    p = push(plaintext)
    with pytest.raises(MalformedDeliveryError, match="decrypted eventData"):
        verifier().verify(p.headers, p.body)


def test_every_refusal_is_a_webhook_error_with_a_status() -> None:
    for cls in (
        AppKeyMismatchError,
        DecryptionError,
        InvalidSignatureError,
        MalformedDeliveryError,
        ReplayError,
        StaleTimestampError,
    ):
        assert issubclass(cls, WebhookError)
        assert 400 <= cls.status < 500
        assert cls.reason


# -- replay -----------------------------------------------------------------------------------


async def test_replay_is_refused() -> None:
    v = verifier()
    p = push()
    await v.accept(p.headers, p.body)
    with pytest.raises(ReplayError):
        await v.accept(p.headers, p.body)


async def test_the_same_event_stamped_anew_is_a_replay() -> None:
    # A retry that Temu re-stamps carries a new timestamp and so a new signature: it is
    # still the same event and must not be processed twice.
    v = verifier()
    first = await v.accept(push().headers, push().body)
    again = push(timestamp=NOW_MS + 120_000)
    with pytest.raises(ReplayError, match="already accepted"):
        await v.accept(again.headers, again.body)
    assert first.event_id == event_identity(APP_KEY, CODE, PAYLOAD)


async def test_a_later_event_of_the_same_order_is_a_new_event() -> None:
    v = verifier()
    await v.accept(push().headers, push().body)
    shipped = push(payload={**PAYLOAD, "orderStatus": 4, "updateTime": 1726127999})
    assert (await v.accept(shipped.headers, shipped.body)).payload["orderStatus"] == 4


def test_event_identity_is_canonical_and_separates_its_parts() -> None:
    reordered = dict(reversed(list(PAYLOAD.items())))
    assert event_identity(APP_KEY, CODE, PAYLOAD) == event_identity(APP_KEY, CODE, reordered)
    assert event_identity("ab", "c", {}) != event_identity("a", "bc", {})
    assert event_identity(APP_KEY, CODE, PAYLOAD) != event_identity("other", CODE, PAYLOAD)


async def test_released_delivery_is_accepted_again() -> None:
    v = verifier()
    p = push()
    d = await v.accept(p.headers, p.body)
    await v.release(d)
    assert (await v.accept(p.headers, p.body)).delivery_id == d.delivery_id


async def test_concurrent_duplicates_accept_exactly_one() -> None:
    v = verifier()
    p = push()
    results = await asyncio.gather(
        *(v.accept(p.headers, p.body) for _ in range(10)), return_exceptions=True
    )
    assert sum(not isinstance(r, BaseException) for r in results) == 1
    assert all(isinstance(r, ReplayError) for r in results if isinstance(r, BaseException))


async def test_replay_cache_is_pluggable_and_told_how_long_to_remember() -> None:
    class Recorder:
        def __init__(self) -> None:
            self.claims: list[tuple[str, float]] = []
            self.seen: set[str] = set()

        async def claim(self, key: str, ttl: float) -> bool:
            self.claims.append((key, ttl))
            if key in self.seen:
                return False
            self.seen.add(key)
            return True

        async def release(self, key: str) -> None:
            self.seen.discard(key)

    store = Recorder()
    assert isinstance(store, ReplayCache)
    v = verifier(replay_cache=store)
    p = push(timestamp=NOW_MS - 100_000)
    d = await v.accept(p.headers, p.body)
    with pytest.raises(ReplayError):
        await v.accept(p.headers, p.body)
    key, ttl = store.claims[0]
    # Remembered by the event, for the whole horizon a copy of it could still arrive in.
    assert key == d.event_id
    assert ttl == 30 * 3600 + 300


async def test_refused_delivery_is_not_remembered() -> None:
    cache = MemoryReplayCache()
    v = verifier(replay_cache=cache)
    p = push()
    with pytest.raises(InvalidSignatureError):
        await v.accept(with_header(p, "x-tm-ext-param", "[]"), p.body)
    assert len(cache) == 0


async def test_memory_replay_cache_forgets_expired_and_stays_bounded() -> None:
    now = [0.0]
    cache = MemoryReplayCache(max_entries=3, clock=lambda: now[0])
    assert await cache.claim("a", 10)
    assert not await cache.claim("a", 10)
    now[0] = 11
    assert await cache.claim("a", 10)  # expired, so claimable again
    for k in "bcdef":
        assert await cache.claim(k, 100)
    assert len(cache) == 3
    assert not await cache.claim("f", 100)
    assert await cache.claim("b", 100)  # pushed out by the bound


def test_memory_replay_cache_rejects_bad_size() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        MemoryReplayCache(0)


# -- construction and secrets -----------------------------------------------------------------


@pytest.mark.parametrize("name", ["tolerance", "max_age"])
@pytest.mark.parametrize("value", [0, -1, float("nan"), float("inf"), True])
def test_bad_window(name: str, value: Any) -> None:
    with pytest.raises(ValueError, match=name):
        verifier(**{name: value})


def test_bad_app_key_and_secret() -> None:
    with pytest.raises(ValueError, match="app_key"):
        WebhookVerifier(" ", SECRET)
    with pytest.raises(ValueError, match="app_secret"):
        WebhookVerifier(APP_KEY, "short")


def test_not_a_replay_cache() -> None:
    with pytest.raises(TypeError, match="replay_cache"):
        verifier(replay_cache=object())


async def test_no_secret_or_signature_in_errors_or_reprs() -> None:
    v = verifier()
    p = push()
    signature = p.headers["x-tm-signature"]
    texts = [repr(v), repr(p), repr(v.replay_cache)]
    cases: list[tuple[dict[str, str], bytes]] = [
        (with_header(p, "x-tm-signature", signature[::-1]), p.body),
        (with_header(p, "x-tm-app-key", "other"), p.body),
        (with_header(p, "x-tm-timestamp", "1"), p.body),
        (p.headers, b'{"eventData": "AAAAAAAAAAAAAAAAAAAAAA=="}'),
        (p.headers, b"{}"),
    ]
    for headers, body in cases:
        with pytest.raises(WebhookError) as info:
            v.verify(headers, body)
        texts += [str(info.value), repr(info.value), info.value.reason]
    d = await v.accept(p.headers, p.body)
    texts.append(repr(d))
    with pytest.raises(ReplayError) as replay:
        await v.accept(p.headers, p.body)
    texts.append(str(replay.value))
    for text in texts:
        assert SECRET not in text
        assert SECRET[:16] not in text
        assert signature not in text
        assert signature[::-1] not in text


# -- the parser on its own --------------------------------------------------------------------


def test_parse_event_typed_raw_and_malformed() -> None:
    raw = msgspec.json.encode(PAYLOAD)
    assert isinstance(parse_event(CODE, raw, REGISTRY), OrderStatusChanged)
    assert parse_event(CODE, raw.decode(), {}) == RawEvent(code=CODE, data=PAYLOAD)
    with pytest.raises(MalformedDeliveryError):
        parse_event(CODE, b"[]", REGISTRY)


def test_default_registry_is_empty_when_events_are_not_generated(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    default_registry.cache_clear()
    monkeypatch.setitem(sys.modules, "temu_async._generated.events", None)
    try:
        assert default_registry() == {}
        assert isinstance(parse_event(CODE, msgspec.json.encode(PAYLOAD)), RawEvent)
    finally:
        default_registry.cache_clear()


def test_default_registry_is_the_generated_one_when_it_exists() -> None:
    generated = pytest.importorskip("temu_async._generated.events")
    default_registry.cache_clear()
    assert default_registry() is generated.EVENTS
