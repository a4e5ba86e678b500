"""Reaching the machine's real servers from tests; a missing one skips, or fails under CI."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
import pytest
import redis
from psycopg import sql

IS_SERVER_REQUIRED = os.environ.get("HRSYNC_REQUIRE_SERVERS") == "1"
POSTGRES_URL = os.environ.get(
    "HRSYNC_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)


def missing_server(reason: str) -> None:
    """Skip the test, or fail it when the environment requires every server."""
    if IS_SERVER_REQUIRED:
        pytest.fail(f"{reason} (HRSYNC_REQUIRE_SERVERS=1)", pytrace=False)
    pytest.skip(reason)


@contextmanager
def database_url(kind: str) -> Iterator[str | None]:
    """None for the default SQLite store; for PostgreSQL a fresh database, dropped afterwards."""
    if kind == "sqlite":
        yield None
        return
    name = f"hrsync_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as error:
        missing_server(f"PostgreSQL is not reachable at {POSTGRES_URL}: {error}")
        return
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


REDIS_URL = os.environ.get("HRSYNC_TEST_REDIS", "redis://127.0.0.1:6379/0")


@contextmanager
def redis_queue() -> Iterator[dict[str, str]]:
    """The environment of a Redis queue of its own: a unique queue name on the shared server
    (never a flush: other test runs and benchmarks may use the same database), its keys
    deleted afterwards."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        missing_server(f"Redis is not reachable at {REDIS_URL}: {error}")
        return
    name = f"hrsync-test-{uuid.uuid4().hex[:10]}"
    try:
        yield {"HRSYNC_QUEUE_URL": REDIS_URL, "HRSYNC_QUEUE_NAME": name}
    finally:
        for key in client.scan_iter(match=f"*{name}*"):
            client.delete(key)
        client.close()
