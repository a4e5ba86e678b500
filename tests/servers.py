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


REDIS_URL = os.environ.get("HRSYNC_TEST_REDIS", "redis://127.0.0.1:6379")


@contextmanager
def redis_url() -> Iterator[str]:
    """A Redis database of its own (a random index, emptied before and after) for one test."""
    url = f"{REDIS_URL}/{1 + uuid.uuid4().int % 15}"
    client = redis.Redis.from_url(url, socket_connect_timeout=5)
    try:
        client.flushdb()
    except redis.RedisError as error:
        missing_server(f"Redis is not reachable at {REDIS_URL}: {error}")
        return
    try:
        yield url
    finally:
        client.flushdb()
        client.close()
