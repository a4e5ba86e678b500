"""schemathesis against the app's own OpenAPI document: every operation, signed in as an admin
with an API token, over the small dataset of tests/integration/api_data.py.

Checks: no 5xx, every status declared, every body of the declared content type and schema.
Bounded: 20 examples per operation (the examples and fuzzing phases; the coverage phase, which
enumerates every boundary of every parameter, would multiply the run time for little more), and
everything the dataset points at is a closed loopback port, so runs, imports and tests of a
connection fail at once instead of waiting on a network.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import schemathesis
from cryptography.fernet import Fernet
from django.core.wsgi import get_wsgi_application
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from tests.integration.api_data import make_dataset, make_users, token_for

CONFIG = SchemathesisConfig.from_dict(
    {
        "phases": {
            "coverage": {"enabled": False},
            "stateful": {"enabled": False},
        },
        "generation": {"max-examples": 20, "with-security-parameters": False},
    }
)
schema = schemathesis.openapi.from_wsgi("/api/openapi.json", get_wsgi_application(), config=CONFIG)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture
def admin_token(db: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("HRSYNC_FERNET_KEYS", Fernet.generate_key().decode())
    make_dataset()
    yield token_for(make_users()["admin"])


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.filter_too_much,
    ],
)
def test_every_operation_keeps_to_its_schema(case: schemathesis.Case, admin_token: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {admin_token}"}, checks=CHECKS)
