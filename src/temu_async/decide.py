"""Decide: after each attempt, the one answer to "what now?".

:func:`decide` is pure. From what came back (:class:`Outcome`: the answer's code, the
HTTP status, a transport failure and whether the bytes may have reached the gateway),
what the type allows (:class:`TypeRules`: idempotent, its own "try again later" codes)
and what happened so far (:class:`History`), it returns one :class:`Decision`: return
the result, raise, retry after a delay, resync the clock and re-sign, or raise
OutcomeUnknown — each possibly with "push the app's rate budget back".

What a gateway code means here is data: ``retryable``, ``pushes_back`` and
``may_have_run`` of each code in ``spec/gateway.yaml``. HTTP statuses and transport
failures follow HTTP's own semantics (the tables below). The same :func:`meaning` sets
the ``retryable`` flag of the exception a caller sees, so the two never disagree.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:
    from temu_async.catalogue import ErrorCode

__all__ = [
    "SUCCESS",
    "Action",
    "Decision",
    "Failure",
    "History",
    "Meaning",
    "Outcome",
    "Ran",
    "TypeRules",
    "decide",
    "meaning",
    "status_meaning",
]

SUCCESS = 1000000


class Ran(enum.Enum):
    """Whether the gateway may have executed the request."""

    NO = "no"
    """Provably not: refused before running (rate limit, auth, params, HTTP 413), or the
    bytes never left this process. Any call may be sent again."""
    MAYBE = "maybe"
    """Nothing says (a timeout, a dropped connection, a 5xx, a system exception)."""
    ANSWERED = "answered"
    """The type's own service answered: a result, or a refusal of its own."""


Failure = Literal["connect", "timeout", "dropped", "malformed", "result"]
"""How an exchange failed without a usable envelope: no connection; no complete answer
in time; the connection broke mid-request; a body that is not the envelope (an HTML
page); or a success whose result does not fit the catalogue's model."""


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one attempt produced, as plain facts."""

    code: int | None = SUCCESS
    """The envelope's errorCode (None: an envelope without one, read as success)."""
    status: int = 200
    """The HTTP status (0 when no answer came back)."""
    failure: Failure | None = None
    reached: bool = True
    """The bytes may have reached the gateway (False only when they provably did not)."""
    clock_known: bool = False
    """The answer carried the gateway's clock (a usable Date header)."""


@dataclass(frozen=True, slots=True)
class Meaning:
    retryable: bool
    ran: Ran
    pushes_back: bool = False
    busy: bool = False
    """The gateway is overloaded or shedding load (not this request's fault): the
    patient profile waits such stretches out."""
    resync: bool = False
    """The gateway refused the timestamp: resync the clock and re-sign."""


@dataclass(frozen=True, slots=True)
class TypeRules:
    """What the called type allows (from its catalogue entry and this call's params)."""

    idempotent: bool
    """Safe to send again after an ambiguous failure (``idempotent``, or its
    ``idempotent_with`` param sent). An unknown type is not."""
    retryable_errors: frozenset[int] = frozenset()


@dataclass(frozen=True, slots=True)
class History:
    retries: int = 0
    """Retries already made (0 after the first attempt)."""
    resynced: bool = False
    elapsed: float = 0.0
    """Seconds since the first attempt was sent."""
    budget_left: bool = True
    """The app's retry budget would allow one more retry now."""


@dataclass(frozen=True, slots=True)
class Limits:
    """The numbers of a retry profile (see :class:`temu_async.retry.RetryPolicy`)."""

    max_retries: int
    base_delay: float
    max_delay: float
    max_total_wait: float
    patient: bool = False
    """Busy outcomes are waited out up to ``patient_max_wait`` (``max_retries`` does not
    cut them short); other failures keep the usual numbers."""
    patient_max_wait: float = 0.0
    patient_max_delay: float = 0.0


class Action(enum.Enum):
    RETURN = "return"
    RAISE = "raise"
    RETRY = "retry"
    RESYNC = "resync"
    """Take the gateway's clock from its Date header and send again, re-signed."""
    UNKNOWN = "unknown"
    """Raise OutcomeUnknown: a write not safe to repeat may or may not have run."""


@dataclass(frozen=True, slots=True)
class Decision:
    action: Action
    push_back: bool = False
    """Push the app's rate budget back before anything else is sent."""
    delay_cap: float = 0.0
    """RETRY: wait a uniform draw in [0, delay_cap] first (full jitter)."""


_OK = Meaning(retryable=False, ran=Ran.ANSWERED)

# HTTP statuses instead of the envelope. A 4xx comes from the front of the gateway,
# which refused the request before passing it on: it did not run.
_STATUS: dict[int, Meaning] = {
    408: Meaning(retryable=True, ran=Ran.NO),  # the server gave up reading the request
    413: Meaning(retryable=False, ran=Ran.NO),  # body too large
    414: Meaning(retryable=False, ran=Ran.NO),
    429: Meaning(retryable=True, ran=Ran.NO, pushes_back=True, busy=True),
    431: Meaning(retryable=False, ran=Ran.NO),
    # A proxy's 5xx: the request may have been passed on before things went wrong.
    500: Meaning(retryable=True, ran=Ran.MAYBE, busy=True),
    502: Meaning(retryable=True, ran=Ran.MAYBE, busy=True),
    503: Meaning(retryable=True, ran=Ran.MAYBE, busy=True),
    504: Meaning(retryable=True, ran=Ran.MAYBE, busy=True),
}
_OTHER_4XX = Meaning(retryable=False, ran=Ran.NO)
_OTHER_5XX = Meaning(retryable=True, ran=Ran.MAYBE)
_OTHER_STATUS = Meaning(retryable=False, ran=Ran.MAYBE)

_FAILURES: dict[str, Meaning] = {
    "connect": Meaning(retryable=True, ran=Ran.NO),
    "timeout": Meaning(retryable=True, ran=Ran.MAYBE),
    "dropped": Meaning(retryable=True, ran=Ran.MAYBE),
    # An HTML page or broken JSON with status 200 comes from something in front of the
    # gateway, after the request went in.
    "malformed": Meaning(retryable=True, ran=Ran.MAYBE),
    # It ran and succeeded; only our model of the result is wrong.
    "result": Meaning(retryable=False, ran=Ran.ANSWERED),
}
_NOT_SENT = Meaning(retryable=True, ran=Ran.NO)


def status_meaning(status: int) -> Meaning:
    """What an HTTP status other than 200 means for the decision."""
    known = _STATUS.get(status)
    if known is not None:
        return known
    if 400 <= status < 500:
        return _OTHER_4XX
    if status >= 500:
        return _OTHER_5XX
    return _OTHER_STATUS


def code_meaning(code: int, rules: TypeRules, codes: Mapping[int, ErrorCode]) -> Meaning:
    """What an envelope's error code means: gateway-wide codes from gateway.yaml; any
    other code is the type's own service answering (retryable when the type lists it)."""
    known = codes.get(code)
    if known is not None:
        return Meaning(
            retryable=known.retryable,
            ran=Ran.MAYBE if known.may_have_run else Ran.NO,
            pushes_back=known.pushes_back,
            busy=known.retryable and known.pushes_back,
            resync=known.category == "timestamp",
        )
    return Meaning(retryable=code in rules.retryable_errors, ran=Ran.ANSWERED)


def meaning(outcome: Outcome, rules: TypeRules, codes: Mapping[int, ErrorCode]) -> Meaning:
    if outcome.failure is not None:
        if not outcome.reached:
            return _NOT_SENT
        return _FAILURES[outcome.failure]
    if outcome.status != 200:
        return status_meaning(outcome.status)
    if outcome.code is None or outcome.code == SUCCESS:
        return _OK
    return code_meaning(outcome.code, rules, codes)


def decide(
    outcome: Outcome,
    rules: TypeRules,
    history: History,
    limits: Limits,
    codes: Mapping[int, ErrorCode],
) -> Decision:
    """The one place that decides whether a request is sent again."""
    m = meaning(outcome, rules, codes)
    if m is _OK:
        return Decision(Action.RETURN)
    push = m.pushes_back
    if m.resync and not history.resynced and outcome.clock_known:
        return Decision(Action.RESYNC, push_back=push)
    # A write that is not safe to repeat goes again only when it provably did not run.
    repeatable = rules.idempotent or m.ran is Ran.NO
    if m.retryable and repeatable and history.budget_left:
        if limits.patient and m.busy:
            max_retries = None  # bounded by the total wait alone
            ceiling, total = limits.patient_max_delay, limits.patient_max_wait
        else:
            max_retries = limits.max_retries
            ceiling, total = limits.max_delay, limits.max_total_wait
        cap = min(ceiling, limits.base_delay * 2.0 ** min(history.retries, 32))
        if (max_retries is None or history.retries < max_retries) and (
            history.elapsed + cap <= total
        ):
            return Decision(Action.RETRY, push_back=push, delay_cap=cap)
    if not rules.idempotent and m.ran is Ran.MAYBE:
        return Decision(Action.UNKNOWN, push_back=push)
    return Decision(Action.RAISE, push_back=push)
