"""Structured logs on stderr: readable on a terminal, JSON lines otherwise (HRSYNC_LOG_FORMAT)."""

from __future__ import annotations

import logging
import os
import sys

import structlog


def configure_logging() -> None:
    """Level from HRSYNC_LOG_LEVEL (default INFO); stdout stays free for command output."""
    level = logging.getLevelNamesMapping().get(
        os.environ.get("HRSYNC_LOG_LEVEL", "INFO").upper(), logging.INFO
    )
    as_json = os.environ.get("HRSYNC_LOG_FORMAT", "auto") == "json" or not sys.stderr.isatty()
    renderer = (
        structlog.processors.JSONRenderer()
        if as_json
        else structlog.dev.ConsoleRenderer(colors=True)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
