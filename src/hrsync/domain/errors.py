"""The engine's error taxonomy. Connectors translate library errors into these at their boundary.

TargetError
├── TransientError       retry later: unreachable, busy, timeout
├── NotFoundError        the account or its parent is gone
├── AlreadyExistsError   a name or object is taken
└── RejectedError        the target refused the values (constraint, schema, access)

SourceError              an HR source could not be read
└── SourceUnavailableError   retry later: 5xx, 429, timeouts after the client's own retries
"""


class TargetError(Exception):
    """A target could not carry out a change. The message is meant for an admin."""


class TransientError(TargetError):
    pass


class NotFoundError(TargetError):
    pass


class AlreadyExistsError(TargetError):
    pass


class RejectedError(TargetError):
    pass


class SourceError(Exception):
    """An HR source could not be read (after retries). The message is meant for an admin."""


class SourceUnavailableError(SourceError):
    """The source did not answer or answered "try later" (5xx, 429, timeouts) even after the
    client's own retries: a later attempt may succeed, unlike a refused password."""
