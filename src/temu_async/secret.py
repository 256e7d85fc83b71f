"""A credential in a box that never prints itself.

The app_secret and access tokens travel through objects users print, log and see in
tracebacks; holding them as :class:`Secret` makes every repr, str and f-string show
``<hidden>``. Only :meth:`Secret.reveal`, called where the value is really needed
(signing, the request body), hands the string out.
"""

from __future__ import annotations

__all__ = ["Secret"]


class Secret:
    """Holds a credential so that no repr, log line or traceback can show it."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "<hidden>"

    __str__ = __repr__
