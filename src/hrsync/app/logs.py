"""Structured logs on stderr: readable on a terminal, JSON lines otherwise (HRSYNC_LOG_FORMAT or
`hrsync --log-format`), with the run, import, job and request ids bound where they are known.

structlog's loggers and the standard library's (Django's request log, waitress) go through one
handler, so every line has the same shape: Django's own request logging would otherwise write
plain text, and a traceback for every 403.
"""

from __future__ import annotations

import functools
import logging
import os
import sys
from collections.abc import Callable
from typing import IO, Any, Final, ParamSpec, TypeVar

import structlog
from structlog.typing import Processor

FORMATS: Final = ("auto", "json", "console")
"""auto: JSON unless stderr is a terminal."""
REQUEST_EXTRAS: Final = ("path", "user", "reason", "status_code")
"""The extras of a standard-library record kept in the line (never `request`: not data)."""

P = ParamSpec("P")
R = TypeVar("R")


def configure_logging(log_format: str | None = None, stream: IO[str] | None = None) -> None:
    """Level from HRSYNC_LOG_LEVEL (default INFO); stdout stays free for command output.
    `log_format` (the command-line option) wins over HRSYNC_LOG_FORMAT."""
    level = logging.getLevelNamesMapping().get(
        os.environ.get("HRSYNC_LOG_LEVEL", "INFO").upper(), logging.INFO
    )
    output = stream or sys.stderr
    shared: list[Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(output)
    handler.setFormatter(_formatter(shared, is_json(log_format, output), output.isatty()))
    handler.addFilter(quiet_forbidden)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)


def is_json(log_format: str | None, output: IO[str]) -> bool:
    chosen = log_format or os.environ.get("HRSYNC_LOG_FORMAT") or "auto"
    return chosen == "json" or (chosen != "console" and not output.isatty())


def _formatter(shared: list[Processor], as_json: bool, colors: bool) -> logging.Formatter:
    renderer: list[Processor] = (
        [structlog.processors.format_exc_info, structlog.processors.JSONRenderer()]
        if as_json
        else [structlog.dev.ConsoleRenderer(colors=colors)]
    )
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[
            *shared,
            structlog.stdlib.add_logger_name,
            structlog.stdlib.ExtraAdder(allow=REQUEST_EXTRAS),
        ],
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *renderer],
    )


def quiet_forbidden(record: logging.LogRecord) -> bool:
    """Django logs a PermissionDenied with its whole traceback; a 403 is a refusal working as
    meant, so it becomes one line with the path, the user and the reason."""
    if record.name != "django.request" or getattr(record, "status_code", None) != 403:
        return True
    error = record.exc_info[1] if record.exc_info else None
    request = getattr(record, "request", None)
    record.msg, record.args = "forbidden", ()
    record.exc_info, record.exc_text = None, None
    record.path = getattr(request, "path", "")
    record.user = _user_name(request)
    record.reason = str(error) if error is not None and str(error) else "forbidden"
    return True


def _user_name(request: Any) -> str:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return ""
    return str(user.get_username())


def scoped_log_context(call: Callable[P, R]) -> Callable[P, R]:
    """What `call` binds into the log context (its run or import id) is undone when it returns,
    so a worker thread's next job does not log under the last one's id."""

    @functools.wraps(call)
    def scoped(*args: P.args, **kwargs: P.kwargs) -> R:
        kept = structlog.contextvars.get_contextvars()
        try:
            return call(*args, **kwargs)
        finally:
            structlog.contextvars.clear_contextvars()
            structlog.contextvars.bind_contextvars(**kept)

    return scoped
