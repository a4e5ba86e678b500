"""The console's "Check compliance": scim2-tester's server checks, as a report an admin can read.

The read-only checks (discovery, unknown URLs) are always run. With `include_writes`, the CRUD
checks run too: scim2-tester then creates, changes and deletes throwaway Users and Groups on the
service, which an admin must agree to on a production application.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import httpx2
from scim2_client import SCIMClientException
from scim2_client.engines.httpx2 import SyncSCIMClient
from scim2_models import SCIMException
from scim2_tester import CheckResult, Status, check_server

PASSING = frozenset({Status.SUCCESS, Status.COMPLIANT, Status.ACCEPTABLE})
FAILING = frozenset({Status.ERROR, Status.CRITICAL})
WRITING_TAGS = frozenset({"crud:create", "crud:update", "crud:delete"})


@dataclass(frozen=True, slots=True)
class ComplianceCheck:
    """One check: what it verified, its verdict (`success`, `deviation`, `error`, …), and why.
    `name` is scim2-tester's (`object_creation`), `title` the same in words ("Object creation")."""

    name: str
    title: str
    status: str
    reason: str
    resource_type: str | None = None

    @property
    def is_passing(self) -> bool:
        return self.status in {status.name.lower() for status in PASSING}

    @property
    def is_failing(self) -> bool:
        return self.status in {status.name.lower() for status in FAILING}


@dataclass(frozen=True, slots=True)
class ComplianceReport:
    checks: tuple[ComplianceCheck, ...]

    @property
    def counts(self) -> dict[str, int]:
        """How many checks ended in each status, e.g. {"success": 40, "skipped": 3}."""
        return dict(Counter(check.status for check in self.checks))

    @property
    def passed(self) -> int:
        return sum(check.is_passing for check in self.checks)

    @property
    def failed(self) -> int:
        return sum(check.is_failing for check in self.checks)

    @property
    def is_compliant(self) -> bool:
        return bool(self.checks) and self.failed == 0


def check_compliance(http: httpx2.Client, *, include_writes: bool = False) -> ComplianceReport:
    """Run scim2-tester against the service `http` points at (its base URL, credentials and
    TLS settings). A service that cannot be reached at all gives one failing check."""
    exclude = None if include_writes else set(WRITING_TAGS)
    try:
        results = check_server(SyncSCIMClient(http), exclude_tags=exclude)
    except (SCIMClientException, SCIMException, httpx2.HTTPError) as error:
        failure = ComplianceCheck("reach_service", "Reach the SCIM service", "critical", f"{error}")
        return ComplianceReport((failure,))
    return ComplianceReport(tuple(_check(result) for result in results))


def _check(result: CheckResult) -> ComplianceCheck:
    name = result.title or "unnamed_check"
    return ComplianceCheck(
        name=name,
        title=name.replace("_", " ").capitalize(),
        status=result.status.name.lower(),
        reason=result.reason or "",
        resource_type=result.resource_type,
    )
