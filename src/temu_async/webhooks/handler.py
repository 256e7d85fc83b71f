"""An aiohttp request handler that receives Temu webhooks for one app.

Mount it on your own application::

    app.router.add_post("/temu/webhook", webhook_handler(APP_KEY, APP_SECRET, on_event))

Temu counts a delivery as received only on HTTP 200 within 500 ms, and otherwise retries it
up to 8 times over about a day. So ``on_event`` should hand the delivery off (a queue, a
table) rather than do the work inline. Answers:

* 200 ``{"result": {}}`` — verified and ``on_event`` returned;
* 200 as well for an event already received (by its ``event_id``, whatever the delivery's
  timestamp) — ``on_event`` is NOT called again. Temu re-sends a delivery whose 200 came too late; refusing the copy would make it
  retry for a day, while acknowledging it is safe because the callback never runs twice;
* 4xx with a short reason — refused (bad signature, unknown app key, stale, malformed);
  see :mod:`temu_async.webhooks.errors`;
* 500 — ``on_event`` raised: the delivery is released from the replay cache so that Temu's
  retry of it is accepted.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable

from aiohttp import web

from temu_async.webhooks.errors import ReplayError, WebhookError
from temu_async.webhooks.events import EventRegistry, WebhookDelivery
from temu_async.webhooks.replay import ReplayCache
from temu_async.webhooks.verifier import DEFAULT_MAX_AGE, DEFAULT_TOLERANCE, WebhookVerifier

__all__ = ["Handler", "webhook_handler"]

log = logging.getLogger("temu_async.webhooks")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
OnEvent = Callable[[WebhookDelivery], Awaitable[None]]

_ACK = b'{"result":{}}'


def webhook_handler(
    app_key: str,
    app_secret: str,
    on_event: OnEvent,
    *,
    tolerance: float = DEFAULT_TOLERANCE,
    max_age: float = DEFAULT_MAX_AGE,
    replay_cache: ReplayCache | None = None,
    registry: EventRegistry | None = None,
) -> Handler:
    """Build the handler. ``tolerance``, ``max_age`` (seconds), ``replay_cache`` and
    ``registry`` go to :class:`WebhookVerifier`; bad values raise here, at mount time.

    The callback runs before the 200; for work that may be slow or fail, use
    :class:`~temu_async.webhooks.receiver.WebhookReceiver` (store first, process after)."""
    if not callable(on_event):
        raise TypeError("on_event must be an async function taking a WebhookDelivery")
    checked = WebhookVerifier(
        app_key,
        app_secret,
        tolerance=tolerance,
        max_age=max_age,
        replay_cache=replay_cache,
        registry=registry,
    )

    async def handle(request: web.Request) -> web.StreamResponse:
        body = await request.read()
        try:
            delivery = await checked.accept(request.headers, body)
        except ReplayError:
            log.info("webhook: a delivery already received came again; acknowledged, not re-run")
            return web.Response(status=200, body=_ACK, content_type="application/json")
        except WebhookError as exc:
            log.warning("webhook refused (%s): %s", type(exc).__name__, exc)
            return web.Response(status=exc.status, text=exc.reason)
        started = time.monotonic()
        try:
            await on_event(delivery)
        except BaseException as exc:
            # Let Temu's retry through; cancellation (the peer went away) counts as failure too.
            await checked.release(delivery)
            if not isinstance(exc, Exception):
                raise
            log.exception(
                "webhook %s: on_event raised; answering 500 so Temu retries", delivery.event_code
            )
            return web.Response(status=500, text="event handler failed")
        spent = time.monotonic() - started
        if spent > 0.5:
            log.warning(
                "webhook %s: on_event took %.2f s; Temu counts replies after 0.5 s as "
                "failed and sends the event again",
                delivery.event_code,
                spent,
            )
        return web.Response(status=200, body=_ACK, content_type="application/json")

    return handle
