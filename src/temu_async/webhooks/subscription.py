"""Params for ``bg.tmc.message.update``: turn a shop's webhook events on or off.

Pure data, checked before anything is sent; call it through the client, e.g.
``await shop.call("bg.tmc.message.update", subscription_params(subscribe=[...]))``.
The app must have the events enabled in the Partner Platform and the seller must have
authorised them, or Temu answers 110020009 / 110020008.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["MAX_CODES", "SUBSCRIPTION_TYPE", "subscription_params"]

SUBSCRIPTION_TYPE = "bg.tmc.message.update"
MAX_CODES = 20
"""Per list, as documented (server error 110020005 beyond it)."""

_CODE = re.compile(r"[a-z][a-z0-9_]*")


def _codes(param: str, values: Iterable[str]) -> list[str]:
    if isinstance(values, (str, bytes)):
        raise TypeError(f"{param} must be a list of event codes, not a single string")
    out: list[str] = []
    for value in values:
        if not isinstance(value, str) or _CODE.fullmatch(value) is None:
            raise ValueError(
                f"{param}: {value!r} is not an event code (lower-case letters, digits, '_')"
            )
        if value not in out:  # a repeat changes nothing; drop it rather than count it
            out.append(value)
    if len(out) > MAX_CODES:
        raise ValueError(f"{param} holds {len(out)} event codes; Temu takes at most {MAX_CODES}")
    return out


def subscription_params(
    *, subscribe: Iterable[str] = (), unsubscribe: Iterable[str] = ()
) -> dict[str, list[str]]:
    """The business params of ``bg.tmc.message.update``.

    ``subscribe`` goes to ``permitEventCodeList``, ``unsubscribe`` to ``cancelEventCodeList``;
    an empty side is left out. At least one side must name an event, each side at most 20,
    and no event may be on both sides.
    """
    permit = _codes("subscribe", subscribe)
    cancel = _codes("unsubscribe", unsubscribe)
    if not permit and not cancel:
        raise ValueError("subscribe or unsubscribe must name at least one event code")
    both = sorted(set(permit) & set(cancel))
    if both:
        raise ValueError(f"subscribe and unsubscribe both name {', '.join(both)}")
    params: dict[str, list[str]] = {}
    if permit:
        params["permitEventCodeList"] = permit
    if cancel:
        params["cancelEventCodeList"] = cancel
    return params
