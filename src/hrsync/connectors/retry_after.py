"""The wait an HTTP `Retry-After` header asks for, shared by every client that retries."""

from __future__ import annotations

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
