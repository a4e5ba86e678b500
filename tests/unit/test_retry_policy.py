"""Retries: exponential back-off with equal jitter — gaps grow, stay capped, and end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from hrsync.app.jobs.work import RetryPolicy, is_transient
from hrsync.domain.errors import RejectedError, SourceError, SourceUnavailableError, TransientError

NOW = datetime(2026, 11, 28, 12, 0, tzinfo=UTC)
POLICY = RetryPolicy(timedelta(seconds=30), timedelta(minutes=15), max_attempts=8)
jitter = st.floats(min_value=0.0, max_value=1.0, exclude_max=True)


def gap(attempts: int, rand: float) -> timedelta:
    at = POLICY.retry_at(attempts, NOW, rand=lambda: rand)
    assert at is not None
    return at - NOW


@given(st.integers(min_value=1, max_value=4), jitter, jitter)
def test_below_the_cap_each_gap_is_at_least_as_long_as_the_one_before(
    attempts: int, a: float, b: float
) -> None:
    # 30 s * 2^4 = 480 s: the fifth gap's ceiling is still under the 15-minute cap.
    assert gap(attempts + 1, b) >= gap(attempts, a)


@given(st.integers(min_value=1, max_value=7), jitter)
def test_a_gap_lies_between_half_and_all_of_the_capped_exponential(attempts: int, r: float) -> None:
    ceiling = min(POLICY.cap, POLICY.base * 2 ** (attempts - 1))
    assert ceiling / 2 <= gap(attempts, r) <= ceiling


def test_the_first_gaps_double_and_then_stay_at_the_cap() -> None:
    assert [gap(n, 0.999999).total_seconds() // 1 for n in range(1, 8)] == [
        29,
        59,
        119,
        239,
        479,
        899,
        899,
    ]


def test_no_retry_once_the_attempts_are_used_up() -> None:
    assert POLICY.retry_at(7, NOW) is not None
    assert POLICY.retry_at(8, NOW) is None


def test_jitter_spreads_retries_that_failed_together() -> None:
    times = {POLICY.retry_at(3, NOW) for _ in range(50)}
    assert len(times) > 40


def test_only_unreachable_or_busy_counts_as_transient() -> None:
    assert is_transient(TransientError("ldap down"))
    assert is_transient(SourceUnavailableError("503 after retries"))
    assert is_transient(ConnectionRefusedError())
    assert not is_transient(RejectedError("constraint violation"))
    assert not is_transient(SourceError("401: the password was refused"))
    assert not is_transient(KeyError("bug"))
    assert not is_transient(None)
