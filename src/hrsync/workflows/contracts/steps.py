"""Which steps each Oneflow event asks for, and what a step's outcome is."""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    """One unit of work on a contract; each is retried, recorded and audited on its own."""

    FILL = "fill"
    """Fetch the employee by employee number; fill the data fields, add the participant and
    the manager (contract created, or the number changed in a draft)."""
    UPLOAD_PENDING = "upload_pending"
    """Published: file the contract PDF as "… - Pending.pdf"."""
    UPDATE_EMPLOYEE = "update_employee"
    """Signed: write the mapped employee fields that differ."""
    UPDATE_PERIOD = "update_period"
    """Signed: update or create the employment period starting on the start date."""
    UPLOAD_SIGNED = "upload_signed"
    """Signed: file the signed PDF as "… - Signed.pdf"."""
    RECORD = "record"
    """Declined or expired: recorded, nothing to write."""


class Status(StrEnum):
    PENDING = "pending"
    DONE = "done"
    SKIPPED = "skipped"
    """Nothing to do, by design (no employee number, an overlap logged, unchanged fields)."""
    FAILED = "failed"


STEPS_OF_EVENT: dict[str, tuple[Step, ...]] = {
    "contract:create": (Step.FILL,),
    "contract:content_update": (Step.FILL,),
    "contract:publish": (Step.UPLOAD_PENDING,),
    "contract:sign": (Step.UPDATE_EMPLOYEE, Step.UPDATE_PERIOD, Step.UPLOAD_SIGNED),
    "contract:decline": (Step.RECORD,),
    "contract:signing_period_expire": (Step.RECORD,),
}

STATE_OF_EVENT: dict[str, str] = {
    "contract:create": "draft",
    "contract:publish": "pending",
    "contract:sign": "signed",
    "contract:decline": "declined",
    "contract:signing_period_expire": "overdue",
}


def steps_for(event_type: str) -> tuple[Step, ...]:
    """The steps of an event; none for one the write-back does not act on."""
    return STEPS_OF_EVENT.get(event_type, ())


WHAT_TO_DO: dict[Step, str] = {
    Step.FILL: "Check the employee number in the contract and that the employee exists in Flex "
    "HRM; edit the number in the draft to try again.",
    Step.UPLOAD_PENDING: "Check that the Flex HRM API user may upload employment documents and "
    "that the document category exists; retry the step from the contract's page.",
    Step.UPDATE_EMPLOYEE: "Check the values in the signed contract against Flex HRM's rules and "
    "that the API user may update employees; retry the step.",
    Step.UPDATE_PERIOD: "Check the employee's employment periods in Flex HRM; retry the step.",
    Step.UPLOAD_SIGNED: "Check the document category and the API user's document permission; "
    "retry the step.",
    Step.RECORD: "Nothing to do.",
}
