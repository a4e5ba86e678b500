"""The steps carried out: each reads what it needs, checks what is already there (so a retry
never adds twice), acts, and says what it did. The decisions are hrsync.workflows.contracts."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from hrsync.connectors.flexhrm.client import FlexHrmClient
from hrsync.connectors.flexhrm.errors import RequestRejectedError
from hrsync.connectors.oneflow.client import OneflowClient
from hrsync.connectors.oneflow.config import OneflowConfig
from hrsync.connectors.oneflow.errors import OneflowRejectedError
from hrsync.workflows.contracts.documents import document_name
from hrsync.workflows.contracts.fields import (
    Employment,
    contract_values,
    data_fields,
    employee_updates,
    field_of,
    text,
)
from hrsync.workflows.contracts.participants import (
    AddParticipant,
    employee_participant,
    employee_party_ids,
    is_party,
    manager_colleague,
)
from hrsync.workflows.contracts.periods import CreatePeriod, NoPeriodChange, plan_period
from hrsync.workflows.contracts.steps import Status, Step

Record = dict[str, Any]


class StepFailedError(Exception):
    """A step that cannot succeed as things are (no such employee, no category): retrying
    changes nothing until someone fixes the cause."""


@dataclass
class Subject:
    """What a step knows of the contract's employee; the job saves it on the Contract row."""

    employee_number: str = ""
    employee_id: str = ""
    company_id: str = ""
    employee_name: str = ""
    filled_number: str = ""
    contract_name: str = ""
    """The contract's name in Oneflow, shown on the console and in tickets."""


@dataclass
class Result:
    status: Status
    outcome: str
    notes: list[str] = field(default_factory=list)


FINAL_STATES = frozenset({"signed", "declined", "overdue"})
"""Oneflow refuses every edit of a contract in these states (409), so one read serves a job."""


@dataclass
class StepContext:
    """What the steps of one job share. The caches hold only what cannot change during a job:
    a contract in a final state, a company's titles and document categories, template names."""

    contract_id: int
    config: OneflowConfig
    oneflow: OneflowClient
    flex: FlexHrmClient
    subject: Subject
    final_contract: Record | None = None
    company_titles: dict[str, dict[str, str]] = field(default_factory=dict)
    company_categories: dict[str, list[Record]] = field(default_factory=dict)
    template_names: dict[int, str] = field(default_factory=dict)

    def contract(self) -> Record:
        if self.final_contract is not None:
            return self.final_contract
        found = self.oneflow.contract(self.contract_id)
        if found.get("state") in FINAL_STATES:
            self.final_contract = found
        return found


def run_step(step: Step, context: StepContext) -> Result:
    match step:
        case Step.FILL:
            return fill(context)
        case Step.UPLOAD_PENDING:
            return upload_pdf(context, "Pending")
        case Step.UPDATE_EMPLOYEE:
            return update_employee(context)
        case Step.UPDATE_PERIOD:
            return update_period(context)
        case Step.UPLOAD_SIGNED:
            return upload_pdf(context, "Signed")
        case Step.RECORD:
            return Result(Status.DONE, "recorded")


# --- created, or the employee number changed in a draft -------------------------------------


def fill(context: StepContext) -> Result:
    contract = context.contract()
    context.subject.contract_name = _contract_name(contract)
    if contract.get("state") != "draft":
        return Result(Status.SKIPPED, f"the contract is {contract.get('state')}, not a draft")
    number = data_fields(contract).get("employee_number", "")
    subject = context.subject
    if not number:
        return Result(Status.SKIPPED, "no employee number in the contract yet")
    if number == subject.filled_number:
        return Result(Status.SKIPPED, f"already filled for employee number {number}")
    employee = _employee_by_number(context, number)
    employment = _employment(context, employee, number)
    notes = _write_fields(context, contract, contract_values(employee, employment))
    replaced = bool(subject.filled_number)
    if replaced:
        for party_id in employee_party_ids(contract):
            context.oneflow.delete_party(context.contract_id, party_id)
        notes.append(f"employee number changed from {subject.filled_number}: participant replaced")
        contract = context.contract()
    notes.append(_add_employee(context, contract, employee))
    notes.append(_add_manager(context, employee))
    subject.employee_number = subject.filled_number = number
    subject.employee_id, subject.company_id = str(employee["id"]), str(employee["companyId"])
    subject.employee_name = _name(employee)
    return Result(Status.DONE, f"filled for {subject.employee_name} ({number})", notes)


def _employee_by_number(context: StepContext, number: str) -> Record:
    found = [_camel(e) for e in context.flex.find_employees(number)]
    if not found:
        raise StepFailedError(f"Flex HRM has no employee with employment number {number}")
    if len(found) > 1:
        companies = ", ".join(sorted(str(e["companyId"]) for e in found))
        raise StepFailedError(
            f"employment number {number} is used in several companies: {companies}"
        )
    return found[0]


def _employment(context: StepContext, employee: Record, number: str) -> Employment:
    periods = [_camel(p) for p in context.flex.employment_periods(str(employee["id"]))]
    period = _current_period(periods)
    titles = _titles(context, str(employee["companyId"]))
    manager_name = None
    if manager_id := employee.get("immediateManagerEmployeeId"):
        manager_name = _name(_camel(context.flex.get_employee(str(manager_id))))
    return Employment(
        employee_number=number,
        start=text(period.get("fromDate"))[:10] if period else None,
        end=text(period.get("toDate"))[:10] if period else None,
        title_name=titles.get(str(period.get("titleId"))) if period else None,
        manager_name=manager_name,
    )


def _current_period(periods: list[Record]) -> Record | None:
    """The period covering today, else the next to start, else the last one."""
    today = date.today().isoformat()
    ordered = sorted(periods, key=lambda p: text(p.get("fromDate")))
    for period in ordered:
        start, end = text(period.get("fromDate"))[:10], text(period.get("toDate"))[:10]
        if start <= today and (not end or today <= end):
            return period
    upcoming = [p for p in ordered if text(p.get("fromDate"))[:10] > today]
    return upcoming[0] if upcoming else (ordered[-1] if ordered else None)


def _write_fields(context: StepContext, contract: Record, values: dict[str, str]) -> list[str]:
    present = data_fields(contract)
    written = [k for k, v in values.items() if k in present and present[k] != v]
    for custom_id in written:
        context.oneflow.set_data_field(context.contract_id, custom_id, values[custom_id])
    missing = [k for k in values if k not in present]
    notes = [
        f"{len(written)} data fields written" + (f" ({', '.join(written)})" if written else "")
    ]
    if missing:
        notes.append(f"the template lacks the data fields {', '.join(missing)}")
    return notes


def _add_employee(context: StepContext, contract: Record, employee: Record) -> str:
    email = text(employee.get("emailWork"))
    decision = employee_participant(
        contract.get("available_options") or {},
        _name(employee),
        email,
        text(employee.get("phone4")),
        text(employee.get("country")),
    )
    if not isinstance(decision, AddParticipant):
        return decision.reason
    if email and is_party(contract, email):
        return f"the employee ({email}) is already a participant: left as is"
    try:
        context.oneflow.add_party(context.contract_id, decision.party)
    except OneflowRejectedError as error:
        if error.is_duplicate_participant:
            return f"the employee ({email}) is already a participant: left as is"
        raise
    return f"employee added as counterparty ({decision.party['participant']['delivery_channel']})"


def _add_manager(context: StepContext, employee: Record) -> str:
    manager_id = employee.get("immediateManagerEmployeeId")
    if not manager_id:
        return "the employee has no immediate manager in Flex HRM"
    manager = _camel(context.flex.get_employee(str(manager_id)))
    email, name = text(manager.get("emailWork")), _name(manager)
    if not email:
        return f"manager {name} has no work e-mail in Flex HRM: not added"
    users = context.oneflow.users()
    if not any(
        text(u.get("email")).lower() == email.lower() and u.get("active", True) for u in users
    ):
        return f"manager {name} ({email}) has no active Oneflow user: not added"
    contract = context.contract()
    if is_party(contract, email):
        return f"manager {name} is already a party: left as is"
    owner = next((p for p in contract.get("parties") or [] if p.get("my_party")), None)
    if owner is None:
        return "the contract has no owner party to add the manager to"
    try:
        context.oneflow.add_participant(context.contract_id, int(owner["id"]),
                                        manager_colleague(name, email))  # fmt: skip
    except OneflowRejectedError as error:
        if error.is_duplicate_participant:
            return f"manager {name} is already a party: left as is"
        raise
    return f"manager {name} added as owner-side colleague"


# --- published and signed: the PDFs ---------------------------------------------------------


def upload_pdf(context: StepContext, status: str) -> Result:
    contract = context.contract()
    employee = _subject_employee(context, contract)
    if employee is None:
        return Result(Status.SKIPPED, "the contract names no employee number")
    category = _category(context, str(employee["companyId"]))
    template_id = (contract.get("_private_ownerside") or {}).get("template_id")
    template = _template_name(context, int(template_id)) if template_id else ""
    name = document_name(
        text((contract.get("_private") or {}).get("name")), _name(employee), str(template), status
    )
    company, employee_id = str(employee["companyId"]), str(employee["id"])
    existing = context.flex.employment_documents(company, employee_id)
    if any(text(field_of(d, "fileName")) == name for d in existing):
        return Result(Status.SKIPPED, f"'{name}' is already in Flex HRM")
    pdf = context.oneflow.download_contract_pdf(context.contract_id)
    context.flex.upload_document(employee_id, category, name, pdf)
    return Result(Status.DONE, f"uploaded '{name}' ({len(pdf)} bytes)")


def _category(context: StepContext, company_id: str) -> str:
    wanted = context.config.document_category
    if company_id not in context.company_categories:
        context.company_categories[company_id] = context.flex.document_categories(company_id)
    for category in context.company_categories[company_id]:
        if text(field_of(category, "name")) == wanted:
            return str(field_of(category, "id"))
    raise StepFailedError(
        f"company {company_id} in Flex HRM has no document category '{wanted}': create it, "
        "with 'Used in employment register' on, and retry"
    )


def _subject_employee(context: StepContext, contract: Record) -> Record | None:
    subject = context.subject
    subject.contract_name = _contract_name(contract)
    number = data_fields(contract).get("employee_number") or subject.employee_number
    if not number:
        return None
    if subject.employee_id and number == subject.employee_number:
        return _camel(context.flex.get_employee(subject.employee_id))
    employee = _employee_by_number(context, number)
    subject.employee_number, subject.employee_id = number, str(employee["id"])
    subject.company_id, subject.employee_name = str(employee["companyId"]), _name(employee)
    return employee


# --- signed: the employee and the period ----------------------------------------------------


def update_employee(context: StepContext) -> Result:
    contract = context.contract()
    employee = _subject_employee(context, contract)
    if employee is None:
        return Result(Status.SKIPPED, "the contract names no employee number")
    updates = employee_updates(data_fields(contract), employee)
    if not updates:
        return Result(Status.SKIPPED, "no mapped field differs from Flex HRM")
    context.flex.update_employee(str(employee["id"]), employee | updates)
    changes = [f"{k}: {text(employee.get(k))!r} → {text(v)!r}" for k, v in updates.items()]
    return Result(Status.DONE, f"wrote {', '.join(sorted(updates))}", changes)


def update_period(context: StepContext) -> Result:
    contract = context.contract()
    employee = _subject_employee(context, contract)
    if employee is None:
        return Result(Status.SKIPPED, "the contract names no employee number")
    values = data_fields(contract)
    position = values.get("position", "")
    titles = {v.lower(): k for k, v in _titles(context, str(employee["companyId"])).items()}
    title_id = titles.get(position.lower()) if position else None
    notes = [] if title_id or not position else [f"no title named '{position}': not written"]
    periods = [_camel(p) for p in context.flex.employment_periods(str(employee["id"]))]
    plan = plan_period(
        periods,
        values.get("start_of_employment", ""),
        values.get("end_of_employment", ""),
        title_id,
    )
    if isinstance(plan, NoPeriodChange):
        return Result(Status.SKIPPED, plan.reason, notes)
    try:
        if isinstance(plan, CreatePeriod):
            context.flex.create_employment_period(str(employee["id"]), plan.body)
            return Result(Status.DONE, f"created a period from {plan.body['fromDate']}", notes)
        context.flex.update_employment_period(str(employee["id"]), plan.period_id, plan.body)
    except RequestRejectedError as error:
        # The guide's rule: an overlap is logged and skipped, the rest of signing goes on.
        return Result(Status.SKIPPED, f"Flex HRM refused the period: {error}", notes)
    return Result(Status.DONE, f"updated period {plan.period_id}: {', '.join(plan.body)}", notes)


# --- helpers --------------------------------------------------------------------------------


def _titles(context: StepContext, company_id: str) -> dict[str, str]:
    if company_id not in context.company_titles:
        context.company_titles[company_id] = {
            str(field_of(t, "id")): text(field_of(t, "name"))
            for t in context.flex.employment_titles(company_id)
        }
    return context.company_titles[company_id]


def _template_name(context: StepContext, template_id: int) -> str:
    if template_id not in context.template_names:
        context.template_names[template_id] = text(
            context.oneflow.template(template_id).get("name")
        )
    return context.template_names[template_id]


def _contract_name(contract: Record) -> str:
    return text((contract.get("_private") or {}).get("name"))


def _name(employee: Record) -> str:
    return " ".join(
        p for p in (text(employee.get("firstName")), text(employee.get("lastName"))) if p
    )


def _camel(record: Record) -> Record:
    """A Flex record with camelCase keys, whichever dialect sent it."""
    return {str(k)[:1].lower() + str(k)[1:]: v for k, v in record.items()}
