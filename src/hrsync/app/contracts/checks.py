"""The set-up check of an Oneflow integration: everything the write-back needs, asked before a
contract depends on it, each answer with what to do. The one change it makes is the template
type with the 15 data fields, which an administrator would otherwise create by hand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from hrsync.app.connection_settings import wiring
from hrsync.app.contracts.settings import clients, oneflow_config
from hrsync.app.models import Integration
from hrsync.app.security import audit
from hrsync.connectors.flexhrm.client import FlexHrmClient
from hrsync.connectors.oneflow.client import OneflowClient
from hrsync.connectors.oneflow.config import OneflowConfig
from hrsync.connectors.oneflow.errors import OneflowRejectedError
from hrsync.domain.errors import SourceError, TargetError
from hrsync.workflows.contracts.fields import CUSTOM_IDS, text

FLEX_PERMISSIONS = (
    "employees:read",
    "employees:write",
    "employmentperiods:read",
    "employmentperiods:write",
    "documents:read",
    "documents:write",
)
TEMPLATE_TYPE_NAME = "Flex HRM Template"
FIELD_NAMES = {
    "employee_number": "Employee number",
    "first_name": "First name",
    "surname": "Surname",
    "national_id_number": "National ID number",
    "co_address": "C/O address",
    "street_address": "Street address",
    "postal_code": "Postal code",
    "city": "City",
    "country": "Country",
    "email_work": "Email work",
    "mobile_phone_private": "Mobile phone private",
    "immediate_manager": "Immediate manager",
    "position": "Position",
    "start_of_employment": "Start of employment",
    "end_of_employment": "End of employment",
}
"""The seed's mapping table as Oneflow shows it: custom id → data field name."""


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    ok: bool
    message: str
    what_to_do: str = ""


class UnknownIntegrationError(LookupError):
    pass


def check_integration(key: str, actor: str) -> list[Check]:
    """Every check of the integration, in order; one failing does not hide the others."""
    integration = Integration.objects.select_related("source").filter(key=key).first()
    if integration is None:
        raise UnknownIntegrationError(f"no integration '{key}'")
    checks = _run_checks(integration)
    audit.record(
        actor,
        "integration.check",
        "integration",
        key,
        after={"checks": [asdict(c) for c in checks]},
    )
    return checks


def _run_checks(integration: Integration) -> list[Check]:
    try:
        oneflow, flex = clients(integration)
        config = oneflow_config(integration)
    except wiring.MissingSecretError as error:
        return [Check("settings", False, str(error), "set the variable where hrsync runs")]
    with oneflow, flex:
        return [
            _guarded("oneflow", lambda: check_oneflow(oneflow, config)),
            _guarded("flex_permissions", lambda: check_flex_permissions(flex)),
            *_guarded_many("document_category", lambda: check_categories(flex, config)),
            _guarded("data_fields", lambda: check_data_fields(oneflow)),
        ]


def check_oneflow(oneflow: OneflowClient, config: OneflowConfig) -> Check:
    try:
        oneflow.ping()
    except OneflowRejectedError as error:
        if error.status == 401:
            return Check(
                "oneflow",
                False,
                f"Oneflow refused the token: {error}",
                "create an API token in Oneflow (Admin → API tokens) and set it",
            )
        return Check(
            "oneflow",
            False,
            f"Oneflow refused the user {config.user_email}: {error}",
            "use the e-mail of an active Oneflow user, or __CREATOR__",
        )
    return Check("oneflow", True, f"token valid; acting as {config.user_email}")


def check_flex_permissions(flex: FlexHrmClient) -> Check:
    granted = flex.permissions()
    missing = [p for p in FLEX_PERMISSIONS if p not in granted]
    if missing:
        return Check(
            "flex_permissions",
            False,
            f"the Flex HRM API user lacks {', '.join(missing)}",
            "give the API user, in Flex HRM, the right to " + ", ".join(missing),
        )
    return Check(
        "flex_permissions",
        True,
        "the API user reads and writes employees, employment periods and documents",
    )


def check_categories(flex: FlexHrmClient, config: OneflowConfig) -> list[Check]:
    """One check per company the API user sees."""
    wanted = config.document_category
    return [
        _category_check(flex, str(_field(c, "id")), text(_field(c, "name")), wanted)
        for c in flex.list_companies()
    ]


def _category_check(flex: FlexHrmClient, company_id: str, company: str, wanted: str) -> Check:
    name = f"document_category:{company_id}"
    found = next(
        (c for c in flex.document_categories(company_id) if text(_field(c, "name")) == wanted),
        None,
    )
    create = (
        f"in Flex HRM, company {company or company_id}: create the document category "
        f"'{wanted}' with 'Used in employment register' on"
    )
    if found is None:
        return Check(
            name, False, f"company {company or company_id} has no category '{wanted}'", create
        )
    if not _field(found, "usedInEmploymentRegister"):
        return Check(
            name,
            False,
            f"'{wanted}' in company {company or company_id} is not used in the employment register",
            f"in Flex HRM, turn on 'Used in employment register' for '{wanted}'",
        )
    return Check(name, True, f"company {company or company_id} has '{wanted}'")


def check_data_fields(oneflow: OneflowClient) -> Check:
    """A template type carrying all 15 custom ids, or one created with them."""
    for template_type in oneflow.template_types():
        present = {text(f.get("custom_id")) for f in template_type.get("data_fields") or []}
        if all(c in present for c in CUSTOM_IDS):
            return Check(
                "data_fields",
                True,
                f"template type '{template_type.get('name')}' has the 15 data fields",
            )
    made = oneflow.create_template_type(
        TEMPLATE_TYPE_NAME, [(c, FIELD_NAMES[c]) for c in CUSTOM_IDS]
    )
    return Check(
        "data_fields",
        True,
        f"created the template type '{made.get('name')}' "
        f"(id {made.get('id')}) with the 15 data fields",
        "build the employment contract templates on this template type",
    )


def _guarded(name: str, run: Callable[[], Check]) -> Check:
    return _guarded_many(name, lambda: [run()])[0]


def _guarded_many(name: str, run: Callable[[], list[Check]]) -> list[Check]:
    """A check whose service does not answer, or refuses, fails with the reason."""
    try:
        return run()
    except (TargetError, SourceError, OSError) as error:
        what = "check that the service is reachable from hrsync and the credentials are right"
        return [Check(name, False, str(error) or type(error).__name__, what)]


def checks_out(checks: list[Check]) -> dict[str, Any]:
    return {"ok": all(c.ok for c in checks), "checks": [asdict(c) for c in checks]}


def _field(record: dict[str, Any], key: str) -> Any:
    return record.get(key, record.get(key[:1].upper() + key[1:]))
