"""Oneflow failures, translated from HTTP at the client boundary into the engine's taxonomy.

TargetError                 (hrsync.domain.errors)
├── OneflowUnavailableError TransientError: unreachable, 429/5xx after retries
├── OneflowNotFoundError    NotFoundError: 404
└── OneflowRejectedError    RejectedError: 400/401/403/409, with `parameter_problems`
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from hrsync.domain.errors import NotFoundError, RejectedError, TransientError


class OneflowUnavailableError(TransientError):
    pass


class OneflowNotFoundError(NotFoundError):
    pass


class OneflowRejectedError(RejectedError):
    def __init__(
        self,
        message: str,
        status: int,
        error_code: int | None = None,
        parameter_problems: Mapping[str, list[str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.error_code = error_code
        self.parameter_problems = dict(parameter_problems or {})

    @property
    def is_duplicate_participant(self) -> bool:
        """Oneflow's "you tried to add two identical participants" (error 4000003)."""
        return self.error_code == 4000003 or any(
            "duplicate" in " ".join(messages).lower()
            for messages in self.parameter_problems.values()
        )


def describe(body: str) -> tuple[str, int | None, dict[str, list[str]]]:
    """detail, error_code and parameter_problems of an Oneflow error body (best effort)."""
    try:
        value = json.loads(body) if body.strip() else None
    except ValueError:
        value = None
    if not isinstance(value, dict):
        return " ".join(body.split())[:300], None, {}
    problems = value.get("parameter_problems")
    code = value.get("error_code")
    return (
        str(value.get("detail") or value.get("title") or ""),
        code if isinstance(code, int) else None,
        {str(k): [str(m) for m in v] for k, v in problems.items()}
        if isinstance(problems, dict)
        else {},
    )
