"""One aiohttp session per app: POST a body to the router, hand back the raw answer.

Network failures become :class:`~temu_async.errors.TransportError` subclasses that
say whether the request may have reached the gateway (``sent``), which is what the
retry policy needs to know about writes that must not run twice.

A rate slot (:class:`~temu_async.throttle.Slot`) handed to :meth:`Transport.post` is
counted when the request is written, not when it was granted: the body goes out as a
payload that reports ``slot.sent()`` the moment aiohttp writes it (after the
connection is open, the TLS handshake done, the headers built), and a request that
never got that far gives its slot back (``slot.release()``).
"""

from __future__ import annotations

import asyncio
import email.utils
import time
from typing import TYPE_CHECKING, Any, NamedTuple

import aiohttp
from aiohttp.abc import AbstractStreamWriter
from aiohttp.payload import BytesPayload

from temu_async.errors import ConnectError, RequestTimeout, TransportError

if TYPE_CHECKING:
    from temu_async.throttle import Slot

__all__ = ["REGION_URLS", "Answer", "Transport"]

REGION_URLS = {
    "us": "https://openapi-b-us.temu.com/openapi/router",
    "eu": "https://openapi-b-eu.temu.com/openapi/router",
    "global": "https://openapi-b-global.temu.com/openapi/router",
}

_HEADERS = {"Content-Type": "application/json", "Accept": "application/json"}


class Answer(NamedTuple):
    """The gateway's answer to one request, as received.

    A named tuple rather than a frozen dataclass: it is built once per call, and a frozen
    dataclass sets each field through ``object.__setattr__`` (a few µs per call, measured
    at loopback against the same sandbox).
    """

    status: int
    body: bytes
    date: str | None
    """The gateway's Date header, as sent."""
    content_type: str

    @property
    def server_time(self) -> float | None:
        """The gateway's clock (unix seconds) from its Date header, when it sent a valid one.

        Parsed on demand: only a refused timestamp needs it.
        """
        return _parse_date(self.date)


class _WireBody(BytesPayload):
    """The request body, which waits for its rate slot and stamps it as it is written.

    aiohttp writes the (buffered) headers together with the body, in the same step, so
    this is the instant the request leaves, whatever came between admission and now.
    The throttle hands a slot over a little before it is due (its ``lead``) so that the
    connection and the request are ready; the bytes still wait here until it is due.
    Works with any session, the caller's included.
    """

    def __init__(self, body: bytes, slot: Slot) -> None:
        super().__init__(body, content_type="application/json")
        self._slot = slot

    async def write(self, writer: AbstractStreamWriter) -> None:
        await self.write_with_length(writer, None)  # None: the whole body

    async def write_with_length(
        self, writer: AbstractStreamWriter, content_length: int | None
    ) -> None:
        slot = self._slot
        due = slot.due
        if due and due > time.monotonic():  # most slots are due by now: nothing to await
            await slot.until_due()
        slot.sent()
        # Written here rather than through BytesPayload's own method: one coroutine less
        # on every request. aiohttp passes the Content-Length it sent, the whole body.
        body = self._value
        if content_length is not None and content_length < len(body):
            body = body[:content_length]
        await writer.write(body)


class Transport:
    """Owns the HTTP session; the URL never carries anything but the router path."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float,
        connect_timeout: float,
        connection_limit: int,
        session: aiohttp.ClientSession | None = None,
    ) -> None:
        self.url = url
        self._timeout = timeout
        self._connect_timeout = connect_timeout
        self._connection_limit = connection_limit
        self._session = session
        self._owns_session = session is None

    def _get_session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(
                limit=self._connection_limit, ttl_dns_cache=300, enable_cleanup_closed=True
            )
            self._session = aiohttp.ClientSession(
                connector=connector,
                headers=_HEADERS,
                timeout=self._client_timeout(self._timeout),
                raise_for_status=False,
            )
            self._owns_session = True
        return self._session

    def session(self) -> aiohttp.ClientSession:
        """The shared session, for other requests of this app (signed file downloads)."""
        return self._get_session()

    async def post(
        self, body: bytes, *, timeout: float | None = None, slot: Slot | None = None
    ) -> Answer:
        """Send one request. The clock for ``timeout`` starts here, after throttling.

        ``slot``: its rate slot, counted as the body is written and given back if the
        request never was (a connection that did not open, a cancellation before).
        """
        session = self._get_session()
        total = self._timeout if timeout is None else timeout
        # The session's defaults carry the headers and the usual timeout; a call's own
        # timeout is the only thing that needs per-request arguments.
        extra: dict[str, Any] = {}
        if timeout is not None or not self._owns_session:
            extra["timeout"] = self._client_timeout(total)
        if not self._owns_session:
            extra["headers"] = _HEADERS  # a caller's session has its own defaults
        data: bytes | _WireBody = body if slot is None else _WireBody(body, slot)
        try:
            async with session.post(self.url, data=data, **extra) as resp:
                data = await resp.read()
                headers = resp.headers
                return Answer(
                    resp.status, data, headers.get("Date"), headers.get("Content-Type", "")
                )
        except aiohttp.ClientConnectorError as exc:
            # Raised before a single byte of the request was written.
            raise ConnectError(f"cannot connect to the gateway ({_reason(exc)})") from None
        except (asyncio.TimeoutError, aiohttp.ServerTimeoutError):
            raise RequestTimeout(f"no complete answer within {total:g} s") from None
        except aiohttp.ClientError as exc:
            # Disconnects and payload errors happen after the request went out, unless
            # its slot says the body was never written.
            raise TransportError(
                f"the connection failed mid-request ({_reason(exc)})",
                sent=slot is None or not slot.open,
            ) from None
        finally:
            if slot is not None:
                slot.release()  # a no-op once it was sent

    def _client_timeout(self, total: float) -> aiohttp.ClientTimeout:
        return aiohttp.ClientTimeout(total=total, sock_connect=min(self._connect_timeout, total))

    async def close(self) -> None:
        if self._session is not None and self._owns_session and not self._session.closed:
            await self._session.close()
        self._session = None


def _parse_date(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return email.utils.parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _reason(exc: BaseException) -> str:
    # aiohttp's messages can include the full URL; ours carries no secret, but keep
    # the text short and free of the request.
    detail = getattr(exc, "strerror", None)
    return type(exc).__name__ + (f": {detail}" if detail else "")
