"""Fixtures of the integration tests that talk to the database: an encryption key for stored
secrets, the users of each role, and the API tests' dataset (tests/integration/api_data.py)."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from django.contrib.auth.models import User
from tests.integration.api_data import Dataset, make_dataset, make_users


@pytest.fixture
def fernet_key(monkeypatch: pytest.MonkeyPatch) -> None:
    """A fresh key for secrets encrypted at rest; modules ask for it with
    `pytest.mark.usefixtures("fernet_key")`."""
    monkeypatch.setenv("HRSYNC_FERNET_KEYS", Fernet.generate_key().decode())


@pytest.fixture
def users() -> dict[str, User]:
    """One signed-up user per role, named after it."""
    return make_users()


@pytest.fixture
def data() -> Dataset:
    """Connection "ad" (active) on source "hr", whose one person, Anna Berg, is number 1001."""
    return make_dataset()
