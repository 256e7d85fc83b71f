"""AES for ``eventData``: base64 of AES-128/CBC/PKCS#5, key = IV = first 16 bytes of app_secret.

That is Temu's scheme, not a choice of ours: a fixed IV means equal payloads encrypt to equal
ciphertext, which is why the receiver never tells the sender *why* a body failed (see
:class:`~temu_async.webhooks.errors.DecryptionError`).

``cryptography`` is an optional dependency (the ``webhooks`` extra), imported on first use so
that importing the SDK never needs it.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from temu_async.webhooks.errors import DecryptionError

__all__ = ["decrypt_event", "encrypt_event", "secret_key"]

_BLOCK = 16
_INSTALL_HINT = (
    "decrypting Temu webhooks needs the 'cryptography' package: pip install 'temu-async[webhooks]'"
)


def secret_key(app_secret: str) -> bytes:
    """The AES key (and IV): the first 16 bytes of the app_secret's UTF-8 encoding."""
    if not isinstance(app_secret, str):
        raise TypeError(f"app_secret must be a str, got {type(app_secret).__name__}")
    raw = app_secret.encode("utf-8")
    if len(raw) < _BLOCK:
        # Say how long it is, never what it is.
        raise ValueError(
            f"app_secret must be at least {_BLOCK} bytes (the AES key is its first {_BLOCK}); "
            f"got {len(raw)}"
        )
    return raw[:_BLOCK]


def _cipher(key: bytes) -> Any:
    try:
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
    except ImportError as exc:  # pragma: no cover - exercised in a subprocess test
        raise ImportError(_INSTALL_HINT) from exc
    return Cipher(algorithms.AES(key), modes.CBC(key))


def _unpad(padded: bytes) -> bytes:
    # PKCS#5 is PKCS#7 on 8-byte blocks; Java applies it to AES's 16-byte blocks.
    # Written out rather than via cryptography's unpadder so that every failure is one
    # error type raised at one place.
    if not padded or len(padded) % _BLOCK:
        raise DecryptionError("eventData did not decrypt to whole AES blocks")
    n = padded[-1]
    if not 1 <= n <= _BLOCK or padded[-n:] != bytes([n]) * n:
        raise DecryptionError("eventData did not decrypt under this app_secret (bad padding)")
    return padded[:-n]


def decrypt_event(event_data: str, app_secret: str) -> bytes:
    """Decrypt the body's ``eventData`` into the plaintext bytes (UTF-8 JSON, as Temu sent them).

    Raises :class:`DecryptionError` for anything that is not a valid ciphertext under this
    secret; ``ValueError`` if the secret itself is too short.
    """
    key = secret_key(app_secret)
    try:
        blob = base64.b64decode(event_data.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error):
        raise DecryptionError("eventData is not standard base64") from None
    if not blob or len(blob) % _BLOCK:
        raise DecryptionError(
            f"eventData is {len(blob)} bytes after base64; AES/CBC needs a positive multiple of 16"
        )
    decryptor = _cipher(key).decryptor()
    padded: bytes = decryptor.update(blob) + decryptor.finalize()
    return _unpad(padded)


def encrypt_event(plaintext: str | bytes, app_secret: str) -> str:
    """Sender side: encrypt a payload into the ``eventData`` string Temu would POST.

    Used by the sandbox's webhook push and by tests; a receiver never needs it.
    """
    key = secret_key(app_secret)
    data = plaintext.encode("utf-8") if isinstance(plaintext, str) else bytes(plaintext)
    n = _BLOCK - len(data) % _BLOCK
    encryptor = _cipher(key).encryptor()
    blob: bytes = encryptor.update(data + bytes([n]) * n) + encryptor.finalize()
    return base64.b64encode(blob).decode("ascii")
