"""Files behind Temu's signed URLs (shipping labels, customisation files).

``bg.logistics.shipment.document.get`` and a few other types answer with URLs that
are fetched with ``GET`` and five headers (fulfilment guide, PROTOCOL.md "Signed
file URLs"): ``toa-app-key``, ``toa-access-token``, ``toa-random`` (32 random
characters), ``toa-timestamp`` (unix seconds, 10 digits) and ``toa-sign``, the
request signature's construction over the other four headers. Such a URL expires
10 minutes after it was issued; a refused one raises :class:`SignedUrlRefused`,
whose hint says to ask for a fresh URL.

The URL may itself carry a signature, so neither it nor a header value appears in
an exception, a log line or a repr: messages name only the URL's host.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import secrets
import string
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlsplit

import aiohttp
import msgspec

from temu_async.errors import ConnectError, RequestTimeout, TemuError, TransportError
from temu_async.secret import Secret

__all__ = [
    "DEFAULT_MAX_BYTES",
    "DownloadStream",
    "DownloadTooLarge",
    "Downloaded",
    "SignedFiles",
    "SignedUrlRefused",
    "toa_headers",
    "toa_sign",
]

log = logging.getLogger("temu_async.download")

DEFAULT_MAX_BYTES = 50 * 1024 * 1024
"""A label is tens of kilobytes; anything near this is not the document asked for."""

_RANDOM_CHARS = string.ascii_letters + string.digits
_SIGNED = ("toa-access-token", "toa-app-key", "toa-random", "toa-timestamp")
_CHUNK = 64 * 1024


class SignedUrlRefused(TemuError):
    """The file server refused a signed URL: expired (10 minutes), or a bad signature.

    ``status`` is the HTTP status. Ask for a fresh URL and fetch that one.
    """

    def __init__(self, status: int, host: str, reason: str = "") -> None:
        detail = f": {reason}" if reason else ""
        super().__init__(
            f"the file server at {host} refused the signed URL (HTTP {status}){detail}",
            hint="signed URLs expire 10 minutes after they are issued; fetch a fresh URL "
            "(e.g. bg.logistics.shipment.document.get) and download that one",
        )
        self.status = status


class DownloadTooLarge(TemuError):
    """The file is larger than the download's ``max_bytes``; nothing was kept."""


def toa_sign(app_secret: str, headers: dict[str, str]) -> str:
    """``toa-sign`` for the four other ``toa-*`` headers (same construction as ``sign``)."""
    digest = hashlib.md5(app_secret.encode(), usedforsecurity=False)
    for name in sorted(_SIGNED, key=str.encode):
        digest.update(name.encode())
        digest.update(headers[name].encode())
    digest.update(app_secret.encode())
    return digest.hexdigest().upper()


def toa_headers(
    app_key: str, access_token: str, app_secret: str, *, now: float | None = None
) -> dict[str, str]:
    """The five headers of one signed GET (a fresh random and timestamp each time)."""
    headers = {
        "toa-app-key": app_key,
        "toa-access-token": access_token,
        "toa-random": "".join(secrets.choice(_RANDOM_CHARS) for _ in range(32)),
        "toa-timestamp": str(int(time.time() if now is None else now)),
    }
    headers["toa-sign"] = toa_sign(app_secret, headers)
    return headers


@dataclass(frozen=True)
class Downloaded:
    """What a download produced: the file (or the bytes), its type and its name."""

    path: Path | None
    """Where the file was written; None when the bytes were asked for."""
    content: bytes | None
    content_type: str
    filename: str | None
    """From Content-Disposition when the server sent one (a plain base name)."""
    size: int

    def __repr__(self) -> str:
        where = str(self.path) if self.path is not None else "<bytes>"
        return f"Downloaded({where}, {self.content_type!r}, {self.size} bytes)"


class DownloadStream:
    """An open download: ``content_type``, ``filename``, ``size`` and ``async for chunk``."""

    def __init__(self, response: aiohttp.ClientResponse, max_bytes: int, host: str) -> None:
        self._response = response
        self._max = max_bytes
        self._host = host
        self.content_type = response.headers.get("Content-Type", "application/octet-stream")
        self.filename = _disposition_name(response.headers.get("Content-Disposition", ""))
        self.size = response.content_length
        self.received = 0

    def __repr__(self) -> str:
        return f"DownloadStream({self._host}, {self.content_type!r}, {self.size} bytes)"

    async def __aiter__(self) -> AsyncIterator[bytes]:
        try:
            async for chunk in self._response.content.iter_chunked(_CHUNK):
                self.received += len(chunk)
                if self.received > self._max:
                    raise DownloadTooLarge(
                        f"the file from {self._host} is larger than max_bytes={self._max}"
                    )
                yield chunk
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
            raise RequestTimeout(f"the file from {self._host} stopped arriving") from None
        except aiohttp.ClientError as exc:
            raise TransportError(
                f"the download from {self._host} broke off ({type(exc).__name__})", sent=True
            ) from None

    async def read(self) -> bytes:
        return b"".join([chunk async for chunk in self])


class SignedFiles:
    """Signed GETs for one shop; :class:`~temu_async.client.ShopClient` builds it."""

    def __init__(
        self,
        session: Callable[[], aiohttp.ClientSession],
        app_key: str,
        app_secret: Secret,
        access_token: Secret,
        clock_offset: Callable[[], float],
    ) -> None:
        self._session = session
        self._app_key = app_key
        self._secret = app_secret
        self._token = access_token
        self._offset = clock_offset

    def __repr__(self) -> str:
        return f"SignedFiles(app_key={self._app_key!r})"

    def headers(self) -> dict[str, str]:
        return toa_headers(
            self._app_key,
            self._token.reveal(),
            self._secret.reveal(),
            now=time.time() + self._offset(),
        )

    @asynccontextmanager
    async def stream(
        self,
        url: str,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout: float = 60.0,
        retries: int = 2,
    ) -> AsyncIterator[DownloadStream]:
        """Open the URL (retrying connection failures and 5xx) and hand over the stream."""
        host = _host(url)
        if max_bytes < 1:
            raise ValueError("max_bytes must be >= 1")
        attempt = 0
        while True:
            try:
                response = await self._session().get(
                    url,
                    headers={**self.headers(), "Accept": "*/*"},
                    timeout=aiohttp.ClientTimeout(total=timeout),
                    allow_redirects=False,
                )
            except aiohttp.ClientConnectorError:
                failure: TemuError = ConnectError(f"cannot connect to {host}")
            except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
                failure = RequestTimeout(f"no answer from {host} within {timeout:g} s")
            except aiohttp.ClientError as exc:
                failure = TransportError(
                    f"the request to {host} failed ({type(exc).__name__})", sent=True
                )
            else:
                if response.status >= 500 and attempt < retries:
                    response.release()
                    failure = TransportError(f"HTTP {response.status} from {host}", sent=True)
                else:
                    break
            if attempt >= retries:
                raise failure
            attempt += 1
            log.info("download from %s: %s; retry %d", host, failure.message, attempt)
            await asyncio.sleep(0.25 * 2**attempt)
        try:
            if response.status != 200:
                reason = await _reason(response)
                if response.status >= 500:
                    raise TransportError(f"HTTP {response.status} from {host}", sent=True)
                raise SignedUrlRefused(response.status, host, reason)
            if response.content_length is not None and response.content_length > max_bytes:
                raise DownloadTooLarge(
                    f"the file from {host} is {response.content_length} bytes, "
                    f"more than max_bytes={max_bytes}"
                )
            yield DownloadStream(response, max_bytes, host)
        finally:
            response.release()

    async def download(
        self,
        url: str,
        dest: str | os.PathLike[str] | None = None,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        timeout: float = 60.0,
    ) -> Downloaded:
        """Fetch the file into ``dest`` (a file, or a directory to use the server's name),
        or into memory when ``dest`` is None. A file appears whole or not at all."""
        async with self.stream(url, max_bytes=max_bytes, timeout=timeout) as stream:
            if dest is None:
                content = await stream.read()
                return Downloaded(None, content, stream.content_type, stream.filename, len(content))
            path = Path(dest)
            if path.is_dir():
                path = path / (stream.filename or _url_name(url))
            part = path.with_name(path.name + ".part")
            try:
                with open(part, "wb") as fh:
                    async for chunk in stream:
                        fh.write(chunk)
                    fh.flush()
                    os.fsync(fh.fileno())
                os.replace(part, path)
            except BaseException:
                part.unlink(missing_ok=True)
                raise
            return Downloaded(path, None, stream.content_type, stream.filename, stream.received)


def _host(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        # The URL is never echoed: it may carry a signature of its own.
        raise ValueError("url must be an http(s) URL with a host")
    return parts.hostname


_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def _clean_name(name: str) -> str | None:
    # Only a base name, and only harmless characters: the server chooses it.
    base = _SAFE_NAME.sub("_", os.path.basename(name.replace("\\", "/"))).strip("._")
    return base or None


def _disposition_name(header: str) -> str | None:
    extended = re.search(r"filename\*\s*=\s*[^']*'[^']*'([^;]+)", header, re.I)
    if extended:
        return _clean_name(unquote(extended.group(1).strip()))
    plain = re.search(r'filename\s*=\s*"([^"]*)"|filename\s*=\s*([^;]+)', header, re.I)
    if plain:
        return _clean_name((plain.group(1) or plain.group(2) or "").strip())
    return None


def _url_name(url: str) -> str:
    return _clean_name(urlsplit(url).path) or "download"


async def _reason(response: aiohttp.ClientResponse) -> str:
    # A short reason from a JSON refusal; anything else (HTML, XML) is left out.
    try:
        data = msgspec.json.decode(await response.content.read(4096))
    except (msgspec.DecodeError, aiohttp.ClientError, asyncio.TimeoutError):
        return ""
    if isinstance(data, dict):
        message = data.get("errorMsg") or data.get("message")
        if isinstance(message, str):
            return message[:120]
    return ""
