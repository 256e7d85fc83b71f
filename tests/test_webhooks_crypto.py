"""Webhook signature and AES, against the vectors printed in Temu's webhook guide."""

from __future__ import annotations

import base64
import subprocess
import sys

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from temu_async.webhooks import DecryptionError, decrypt_event, encrypt_event, sign_event
from temu_async.webhooks import signature as sig

# All from reference/temu-docs/api-integration-guide/16-webhook-integration-guide.md.
DOC_SECRET = "12345678abcdefgh"
DOC_PLAINTEXT = '{"orderSn":"XXYYZZ","status":1}'
DOC_CIPHERTEXT = "sQmNTAKR2o4HrmCO3OchFgGyJU5Qta57+JQxxgVyVPU="
DOC_SIGNATURE = "b5143d1a831453afbcf76d4621baa74a2dc07a486f26f5a956c6e50c61a338fb"
DOC_BASE = (
    'eventData{"orderSn":"XXYYZZ","status":1}x-tm-app-keydemo-test-app'
    "x-tm-event-codebg_test_eventx-tm-ext-param{}x-tm-timestamp1726127013525"
)


def doc_sign(**overrides: str) -> str:
    kw = {
        "event_data": DOC_PLAINTEXT,
        "app_key": "demo-test-app",
        "event_code": "bg_test_event",
        "timestamp": "1726127013525",
        "ext_param": "{}",
    } | overrides
    return sign_event(DOC_SECRET, **kw)


def test_golden_signature() -> None:
    assert doc_sign() == DOC_SIGNATURE


def test_golden_signature_accepts_an_int_timestamp() -> None:
    assert (
        sign_event(
            DOC_SECRET,
            event_data=DOC_PLAINTEXT.encode(),
            app_key="demo-test-app",
            event_code="bg_test_event",
            timestamp=1726127013525,
        )
        == DOC_SIGNATURE
    )


def test_signature_base_is_sorted_names_and_values_without_separators() -> None:
    params = {
        sig.TIMESTAMP: b"1726127013525",
        sig.EXT_PARAM: b"{}",
        sig.EVENT_CODE: b"bg_test_event",
        sig.APP_KEY: b"demo-test-app",
        sig.EVENT_DATA: DOC_PLAINTEXT.encode(),
    }
    assert sig.signature_base(params) == DOC_BASE.encode()


def test_the_guides_prose_form_does_not_give_the_documented_signature() -> None:
    # Documents why we ignore the guide's "key=value&" prose: its own example disagrees.
    import hashlib
    import hmac

    prose = "&".join(
        f"{k}={v}"
        for k, v in sorted(
            {
                "eventData": DOC_PLAINTEXT,
                "x-tm-app-key": "demo-test-app",
                "x-tm-event-code": "bg_test_event",
                "x-tm-ext-param": "{}",
                "x-tm-timestamp": "1726127013525",
            }.items()
        )
    )
    digest = hmac.new(DOC_SECRET.encode(), prose.encode(), hashlib.sha256).hexdigest()
    assert digest != DOC_SIGNATURE


@pytest.mark.parametrize(
    "field",
    ["event_data", "app_key", "event_code", "timestamp", "ext_param"],
)
def test_every_signed_param_changes_the_signature(field: str) -> None:
    assert doc_sign(**{field: "something else"}) != DOC_SIGNATURE


def test_blank_ext_param_is_left_out_of_the_base() -> None:
    with_empty = doc_sign(ext_param="")
    params = {
        sig.EVENT_DATA: DOC_PLAINTEXT.encode(),
        sig.APP_KEY: b"demo-test-app",
        sig.EVENT_CODE: b"bg_test_event",
        sig.TIMESTAMP: b"1726127013525",
    }
    assert sig.signature_base(params | {sig.EXT_PARAM: b""}) == sig.signature_base(params)
    assert b"x-tm-ext-param" not in sig.signature_base(params | {sig.EXT_PARAM: b"  "})
    assert with_empty != DOC_SIGNATURE


def test_signature_match_ignores_hex_case_and_refuses_non_hex() -> None:
    params = {
        sig.EVENT_DATA: DOC_PLAINTEXT.encode(),
        sig.APP_KEY: b"demo-test-app",
        sig.EVENT_CODE: b"bg_test_event",
        sig.EXT_PARAM: b"{}",
        sig.TIMESTAMP: b"1726127013525",
    }
    assert sig.signature_matches(DOC_SECRET, params, DOC_SIGNATURE.encode())
    assert sig.signature_matches(DOC_SECRET, params, DOC_SIGNATURE.upper().encode())
    assert not sig.signature_matches(DOC_SECRET, params, DOC_SIGNATURE[:-1].encode())
    assert not sig.signature_matches(DOC_SECRET, params, b"z" * 64)
    assert not sig.signature_matches("another-secret-16b", params, DOC_SIGNATURE.encode())


def test_golden_ciphertext_decrypts_to_the_documented_plaintext() -> None:
    assert decrypt_event(DOC_CIPHERTEXT, DOC_SECRET) == DOC_PLAINTEXT.encode()


def test_encrypt_matches_the_documented_ciphertext() -> None:
    # key = IV = the secret's first 16 bytes, so encryption is deterministic.
    assert encrypt_event(DOC_PLAINTEXT, DOC_SECRET) == DOC_CIPHERTEXT


def test_only_the_first_16_bytes_of_the_secret_are_the_key() -> None:
    assert decrypt_event(DOC_CIPHERTEXT, DOC_SECRET + "anything after") == DOC_PLAINTEXT.encode()


@settings(deadline=None)
@given(
    plaintext=st.binary(max_size=300),
    secret=st.text(min_size=16, max_size=40).filter(lambda s: len(s.encode()) >= 16),
)
def test_encrypt_decrypt_round_trip(plaintext: bytes, secret: str) -> None:
    token = encrypt_event(plaintext, secret)
    assert len(base64.b64decode(token)) % 16 == 0
    assert decrypt_event(token, secret) == plaintext


@pytest.mark.parametrize(
    ("event_data", "why"),
    [
        ("not base64 at all!", "base64"),
        ("", "multiple of 16"),
        (base64.b64encode(b"x" * 15).decode(), "multiple of 16"),
        ("sQmNTAKR2o4HrmCO3OchFg==", "padding"),  # one valid block, cut from its padding
        ("ünïcode", "base64"),
    ],
)
def test_undecryptable_event_data(event_data: str, why: str) -> None:
    with pytest.raises(DecryptionError, match=why):
        decrypt_event(event_data, DOC_SECRET)


def test_wrong_secret_fails_to_decrypt() -> None:
    # Decrypting under another key yields garbage whose padding is almost never valid; this
    # particular pair is checked to be invalid.
    with pytest.raises(DecryptionError):
        decrypt_event(DOC_CIPHERTEXT, "ffffffffffffffff")


def test_short_secret_is_refused_without_showing_it() -> None:
    with pytest.raises(ValueError, match="at least 16 bytes") as info:
        encrypt_event("{}", "tooshort")
    assert "tooshort" not in str(info.value)


def test_cryptography_is_imported_lazily_with_an_install_hint() -> None:
    code = (
        "import sys; sys.modules['cryptography'] = None\n"
        "import temu_async.webhooks as w\n"
        "assert w.sign_event('12345678abcdefgh', event_data='{}', app_key='a', event_code='b',"
        " timestamp=1) \n"
        "try:\n"
        "    w.decrypt_event('sQmNTAKR2o4HrmCO3OchFgGyJU5Qta57+JQxxgVyVPU=', '12345678abcdefgh')\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert "pip install 'temu-async[webhooks]'" in out.stdout
