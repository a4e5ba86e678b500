"""The wait an HTTP `Retry-After` header asks for, shared by every client that retries."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def retry_after_seconds(header: str | None, now: datetime | None = None) -> float | None:
    """The delay a Retry-After header asks for (RFC 9110 §10.2.3: seconds or an HTTP-date);
    None when there is none or it cannot be read."""
    if not header or not header.strip():
        return None
    value = header.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_delay(
    attempt: int, retry_after: float | None, base: float, rng: random.Random, cap: float
) -> float:
    """Seconds to wait before retry `attempt + 1`: the Retry-After the server asked for, else
    exponential back-off from `base` with equal jitter (half fixed, half random); at most `cap`
    either way."""
    if retry_after is not None:
        return min(cap, retry_after)
    ceiling = min(cap, base * 2.0**attempt)
    return ceiling / 2 + rng.uniform(0, ceiling / 2)
