"""The contract write-back's decisions, table-driven: PDF names, who joins the contract, what
a signed contract writes back, and which employment period it touches."""

from __future__ import annotations

import pytest

from hrsync.workflows.contracts.documents import document_name
from hrsync.workflows.contracts.fields import employee_updates
from hrsync.workflows.contracts.participants import AddParticipant, NotAdded, employee_participant
from hrsync.workflows.contracts.periods import (
    CreatePeriod,
    NoPeriodChange,
    UpdatePeriod,
    plan_period,
)
from hrsync.workflows.contracts.steps import Step, steps_for


@pytest.mark.parametrize(
    ("contract", "employee", "template", "status", "expected"),
    [
        ("Avtal Anna", "Anna Berg", "Employment contract", "Pending", "Avtal Anna - Pending.pdf"),
        ("", "Anna Berg", "Employment contract", "Signed",
         "Anna Berg - Employment contract - Signed.pdf"),
        ("  two   spaces ", "", "", "Pending", "two spaces - Pending.pdf"),
        ("", "", "", "Signed", "Contract - Signed.pdf"),
    ],
)  # fmt: skip
def test_document_names(
    contract: str, employee: str, template: str, status: str, expected: str
) -> None:
    assert document_name(contract, employee, template, status) == expected


def test_long_names_keep_their_suffix() -> None:
    name = document_name("x" * 230, "", "", "Pending")
    assert len(name) == 200 and name.endswith("x - Pending.pdf")


def options(channel: str, two_step: str = "none") -> dict[str, object]:
    return {
        "delivery_channels": [{"name": channel, "preferred": True}],
        "two_step_authentication_methods": [{"name": two_step, "preferred": True}],
    }


@pytest.mark.parametrize(
    ("channel", "two_step", "email", "mobile", "added", "mentions"),
    [
        ("email", "none", "a@x.se", "", True, ""),
        ("email", "none", "", "+46701", False, "work e-mail"),
        ("sms", "none", "a@x.se", "", False, "mobile (Phone4)"),
        ("sms", "none", "", "+46701", True, ""),
        ("email_and_sms", "none", "a@x.se", "", False, "mobile"),
        ("email_and_sms", "none", "a@x.se", "+46701", True, ""),
        ("email", "sms", "a@x.se", "", False, "two-step 'sms'"),
        ("none", "none", "a@x.se", "+46701", False, "'none'"),
        ("same_device", "none", "a@x.se", "+46701", False, "'same_device'"),
    ],
)
def test_delivery_channel_rules(
    channel: str, two_step: str, email: str, mobile: str, added: bool, mentions: str
) -> None:
    decision = employee_participant(options(channel, two_step), "Anna", email, mobile, "SE")
    assert isinstance(decision, AddParticipant) is added
    if isinstance(decision, NotAdded):
        assert mentions in decision.reason
        assert decision.is_problem is (channel not in ("none", "same_device"))
    else:
        assert decision.party["participant"]["delivery_channel"] == channel


def test_only_differing_fields_are_written_back() -> None:
    employee = {"firstName": "Anna", "lastName": "Berg", "City": "Stockholm", "phone4": "+4670"}
    signed = {"first_name": "Anna", "surname": "Berg", "city": "Umeå", "mobile_phone_private": ""}
    assert employee_updates(signed, employee) == {"city": "Umeå", "phone4": None}
    assert employee_updates({"first_name": "Anna"}, employee) == {}


PERIODS = [{"id": "p1", "fromDate": "2024-01-01T00:00:00", "toDate": None, "titleId": "t1"}]


@pytest.mark.parametrize(
    ("start", "end", "title", "expected"),
    [
        ("2024-01-01", "2026-12-31", "t1", UpdatePeriod("p1", {"toDate": "2026-12-31"})),
        ("2024-01-01", "", "t2", UpdatePeriod("p1", {"titleId": "t2"})),
        ("2024-01-01", "", "t1", NoPeriodChange("the period starting 2024-01-01 already matches")),
        ("2027-01-01", "", None, CreatePeriod({"fromDate": "2027-01-01", "toDate": None})),
        ("", "", "t1", NoPeriodChange("the contract has no start of employment")),
    ],
)
def test_period_plans(start: str, end: str, title: str | None, expected: object) -> None:
    assert plan_period(PERIODS, start, end, title) == expected


def test_steps_per_event() -> None:
    assert steps_for("contract:sign") == (
        Step.UPDATE_EMPLOYEE, Step.UPDATE_PERIOD, Step.UPLOAD_SIGNED)  # fmt: skip
    assert steps_for("contract:content_update") == (Step.FILL,)
    assert steps_for("contract:lifecycle_state:start") == ()
