"""The contracts an integration has seen, their state and each step's outcome: for
`hrsync oneflow contracts`, the console and the API alike."""

from __future__ import annotations

from typing import Any

from hrsync.app.models import Contract, Integration


class UnknownIntegrationError(LookupError):
    pass


def list_contracts(integration_key: str) -> list[dict[str, Any]]:
    integration = Integration.objects.filter(key=integration_key).first()
    if integration is None:
        raise UnknownIntegrationError(f"no integration '{integration_key}'")
    rows = Contract.objects.filter(integration=integration).order_by("contract_id")
    return [contract_row(c) for c in rows.prefetch_related("steps__delivery")]


def contract_row(contract: Contract) -> dict[str, Any]:
    steps = sorted(contract.steps.all(), key=lambda s: (s.delivery.received, s.pk))
    return {
        "contract_id": contract.contract_id,
        "state": contract.state,
        "employee_number": contract.employee_number,
        "employee": contract.employee_name,
        "steps": [
            {
                "event": step.delivery.event_type,
                "step": step.kind,
                "status": step.status,
                "attempts": step.attempts,
                "outcome": step.outcome,
                "notes": step.details[-1]["notes"] if step.details else [],
            }
            for step in steps
        ],
    }
