"""The one send decision, as a table: every gateway code, HTTP status and transport failure,
for idempotent and non-idempotent calls, with and without the bytes reaching the gateway.

The expectations are written out here by hand (not derived from gateway.yaml), so a change
to what a code means in the catalogue shows up as a failing row to look at.
"""

from __future__ import annotations

import pytest

from temu_async import catalogue
from temu_async.decide import (
    Action,
    Decision,
    History,
    Limits,
    Outcome,
    Ran,
    TypeRules,
    decide,
    meaning,
)
from temu_async.retry import RetryPolicy

CODES = catalogue.gateway_codes()
LIMITS = RetryPolicy(base_delay=0.25, max_delay=8.0, max_total_wait=60.0).limits(patient=False)
PATIENT = RetryPolicy(patient_max_wait=300.0, patient_max_delay=15.0).limits(patient=True)
FRESH = History()
READ = TypeRules(idempotent=True)
WRITE = TypeRules(idempotent=False)

# Every gateway-wide code, and what it means for the decision.
RESYNC_CODES = {3000010, 3000011, 3000012}  # timestamp: resync the clock, re-sign
RETRY_CODES = {4000000, 4000004}  # transient: retried with backoff
PUSH_CODES = {4000000, 4000004}  # the gateway sheds load: the whole app slows down
MAY_HAVE_RUN = {4000000}  # a system exception may strike mid-execution
ALL_CODES = {
    *(1000000, 2000000, 7000000, 6000001),
    *(3000000, 3000001, 3000002, 3000003, 3000004, 3000010, 3000011, 3000012, 3000013),
    *(3000014, 3000019, 3000020, 3000021, 3000022, 3000025, 3000026, 3000027, 3000028),
    *(3000030, 3000031, 3000032, 3000033, 3000034, 3000040),
    *(4000000, 4000004, 5000000, 5000001, 5000002, 5000003),
}


def test_the_table_covers_every_gateway_code() -> None:
    assert set(CODES) == ALL_CODES


def _expected_for_code(code: int, idempotent: bool, clock_known: bool) -> Decision:
    push = code in PUSH_CODES
    if code == 1000000:
        return Decision(Action.RETURN)
    if code in RESYNC_CODES and clock_known:
        return Decision(Action.RESYNC)
    if code in RETRY_CODES and (idempotent or code not in MAY_HAVE_RUN):
        return Decision(Action.RETRY, push_back=push, delay_cap=0.25)
    if not idempotent and code in MAY_HAVE_RUN:
        return Decision(Action.UNKNOWN, push_back=push)
    return Decision(Action.RAISE, push_back=push)


@pytest.mark.parametrize("clock_known", [False, True], ids=["no-date", "date"])
@pytest.mark.parametrize("idempotent", [True, False], ids=["idempotent", "not-idempotent"])
@pytest.mark.parametrize("code", sorted(ALL_CODES))
def test_every_gateway_code(code: int, idempotent: bool, clock_known: bool) -> None:
    rules = READ if idempotent else WRITE
    got = decide(Outcome(code=code, clock_known=clock_known), rules, FRESH, LIMITS, CODES)
    assert got == _expected_for_code(code, idempotent, clock_known)


@pytest.mark.parametrize("code", sorted(ALL_CODES - {1000000}))
def test_what_each_gateway_code_says_about_having_run(code: int) -> None:
    ran = meaning(Outcome(code=code), READ, CODES).ran
    assert ran is (Ran.MAYBE if code in MAY_HAVE_RUN else Ran.NO)


# --- transport failures: whether the bytes may have reached the gateway decides ------------

# A refused connection never reached the gateway; the others may have, or provably not.
FAILURES = [
    ("connect", False),
    *((kind, reached) for kind in ("timeout", "dropped", "malformed") for reached in (True, False)),
]


@pytest.mark.parametrize("idempotent", [True, False], ids=["idempotent", "not-idempotent"])
@pytest.mark.parametrize(("failure", "reached"), FAILURES)
def test_transport_failures(failure: str, idempotent: bool, reached: bool) -> None:
    outcome = Outcome(status=0, failure=failure, reached=reached)  # type: ignore[arg-type]
    got = decide(outcome, READ if idempotent else WRITE, FRESH, LIMITS, CODES)
    if idempotent or not reached:
        assert got == Decision(Action.RETRY, delay_cap=0.25)
    else:
        assert got == Decision(Action.UNKNOWN)


@pytest.mark.parametrize("idempotent", [True, False], ids=["idempotent", "not-idempotent"])
def test_a_result_that_does_not_fit_the_model_is_raised_never_resent(idempotent: bool) -> None:
    got = decide(Outcome(failure="result"), READ if idempotent else WRITE, FRESH, LIMITS, CODES)
    assert got == Decision(Action.RAISE)


# --- HTTP statuses instead of the envelope -------------------------------------------------

STATUS_CASES = {
    # status: (retried for a read, retried for a write, OutcomeUnknown for a write, push)
    400: (False, False, False, False),
    403: (False, False, False, False),
    404: (False, False, False, False),
    408: (True, True, False, False),
    413: (False, False, False, False),  # too large: refused before it ran
    414: (False, False, False, False),
    429: (True, True, False, True),
    431: (False, False, False, False),
    500: (True, False, True, False),
    502: (True, False, True, False),
    503: (True, False, True, False),
    504: (True, False, True, False),
    301: (False, False, True, False),
}


@pytest.mark.parametrize("idempotent", [True, False], ids=["idempotent", "not-idempotent"])
@pytest.mark.parametrize("status", sorted(STATUS_CASES))
def test_http_statuses(status: int, idempotent: bool) -> None:
    read_retry, write_retry, write_unknown, push = STATUS_CASES[status]
    got = decide(Outcome(status=status), READ if idempotent else WRITE, FRESH, LIMITS, CODES)
    if read_retry if idempotent else write_retry:
        assert got == Decision(Action.RETRY, push_back=push, delay_cap=0.25)
    elif not idempotent and write_unknown:
        assert got == Decision(Action.UNKNOWN, push_back=push)
    else:
        assert got == Decision(Action.RAISE, push_back=push)


# --- the type's own codes -------------------------------------------------------------------


def test_a_types_try_again_code_is_retried_for_a_read_and_raised_for_a_write() -> None:
    read = TypeRules(idempotent=True, retryable_errors=frozenset({150010005}))
    write = TypeRules(idempotent=False, retryable_errors=frozenset({150010005}))
    outcome = Outcome(code=150010005)
    assert decide(outcome, read, FRESH, LIMITS, CODES).action is Action.RETRY
    # The service answered: the write did not silently run, so it is not OutcomeUnknown,
    # but whether to send it again is the caller's call.
    assert decide(outcome, write, FRESH, LIMITS, CODES).action is Action.RAISE
    assert decide(Outcome(code=150010003), read, FRESH, LIMITS, CODES).action is Action.RAISE


def test_a_refusal_without_a_code_is_raised() -> None:
    assert decide(Outcome(code=0), READ, FRESH, LIMITS, CODES).action is Action.RAISE


# --- the history ----------------------------------------------------------------------------


def test_backoff_cap_doubles_per_retry_up_to_max_delay() -> None:
    caps = [
        decide(Outcome(status=502), READ, History(retries=n), LIMITS, CODES).delay_cap
        for n in range(4)
    ]
    assert caps == [0.25, 0.5, 1.0, 2.0]
    many = Limits(max_retries=50, base_delay=0.25, max_delay=8.0, max_total_wait=1e9)
    assert decide(Outcome(status=502), READ, History(retries=10), many, CODES).delay_cap == 8.0


def test_max_retries_then_raise_or_unknown() -> None:
    done = History(retries=4)
    assert decide(Outcome(status=502), READ, done, LIMITS, CODES).action is Action.RAISE
    lost = Outcome(status=0, failure="dropped")
    assert decide(lost, WRITE, done, LIMITS, CODES).action is Action.UNKNOWN


def test_no_retry_starts_after_the_total_wait() -> None:
    late = History(retries=1, elapsed=59.6)  # the next cap is 0.5 s: 60.1 > 60
    assert decide(Outcome(status=502), READ, late, LIMITS, CODES).action is Action.RAISE


def test_a_spent_budget_stops_retries_but_still_pushes_back() -> None:
    broke = History(budget_left=False)
    got = decide(Outcome(code=4000004), READ, broke, LIMITS, CODES)
    assert got == Decision(Action.RAISE, push_back=True)


def test_the_clock_is_resynced_once() -> None:
    again = History(resynced=True)
    got = decide(Outcome(code=3000012, clock_known=True), READ, again, LIMITS, CODES)
    assert got.action is Action.RAISE


def test_patient_profile_waits_out_a_busy_gateway_past_max_retries() -> None:
    tired = History(retries=20, elapsed=100.0)
    for busy in (Outcome(code=4000004), Outcome(code=4000000), Outcome(status=503)):
        assert decide(busy, READ, tired, LIMITS, CODES).action is Action.RAISE
        got = decide(busy, READ, tired, PATIENT, CODES)
        assert got.action is Action.RETRY and got.delay_cap == 15.0
    # ... up to its total wait
    spent = History(retries=20, elapsed=290.0)
    assert decide(Outcome(code=4000004), READ, spent, PATIENT, CODES).action is Action.RAISE
    # A failure that is not the gateway being busy keeps the usual numbers.
    lost = Outcome(status=0, failure="dropped")
    assert decide(lost, READ, tired, PATIENT, CODES).action is Action.RAISE
    # Patience never repeats a write that may have run.
    assert decide(Outcome(code=4000000), WRITE, FRESH, PATIENT, CODES).action is Action.UNKNOWN
