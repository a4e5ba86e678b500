"""A contract's job: the webhook deliveries of one contract, in the order they came, each
event's steps one by one. A step that failed for a passing reason (Oneflow or Flex HRM
unreachable) stops the job with a TransientError, so the scheduler tries it again with back-off;
the steps already done are not repeated. A step that cannot succeed is recorded as failed,
notified, told on the employee's ticket, and the job goes on with the next."""

from __future__ import annotations

from datetime import datetime

import structlog
from django.db import transaction
from django.utils import timezone

from hrsync.app.contracts.settings import clients, oneflow_config
from hrsync.app.contracts.steps import StepContext, Subject, run_step
from hrsync.app.contracts.tickets import tell_employee_ticket
from hrsync.app.jobs.work import retry_policy
from hrsync.app.models import Contract, ContractDelivery, ContractStep, Integration, JobRun
from hrsync.app.runs.connection_run import run_connection
from hrsync.app.security import audit
from hrsync.app.triggers import DefaultActions
from hrsync.app.triggers.dispatch import Dispatcher
from hrsync.domain.errors import SourceUnavailableError, TransientError
from hrsync.workflows.contracts.steps import STATE_OF_EVENT, WHAT_TO_DO, Status, Step, steps_for

log = structlog.get_logger(__name__)
ACTOR = "oneflow"
FINISHED = frozenset({Status.DONE, Status.SKIPPED, Status.FAILED})
_PASSING = (TransientError, SourceUnavailableError, OSError)


def run_contract_job(job: JobRun, *, is_last_attempt: bool) -> None:
    """Process every pending delivery of the job's contract; raise TransientError to be retried."""
    key, _, contract_id = job.key.rpartition(".")
    integration = Integration.objects.select_related("source").get(key=key)
    pending = ContractDelivery.objects.filter(
        integration=integration, contract_id=int(contract_id), processed__isnull=True
    ).order_by("received", "pk")
    if not pending.exists():
        return
    contract, _ = Contract.objects.get_or_create(
        integration=integration, contract_id=int(contract_id)
    )
    oneflow, flex = clients(integration)
    events = Dispatcher.load(DefaultActions(run_connection))
    try:
        with oneflow, flex:
            context = StepContext(
                contract.contract_id, oneflow_config(integration), oneflow, flex, _subject(contract)
            )
            for delivery in pending:
                _process(delivery, contract, context, events, is_last_attempt=is_last_attempt)
    finally:
        events.flush()


def _process(
    delivery: ContractDelivery,
    contract: Contract,
    context: StepContext,
    events: Dispatcher,
    *,
    is_last_attempt: bool,
) -> None:
    state = STATE_OF_EVENT.get(delivery.event_type)
    if state and state != contract.state:
        contract.state = state
        contract.save(update_fields=["state", "updated"])
    failed = False
    for step in steps_for(delivery.event_type):
        row, _ = ContractStep.objects.get_or_create(contract=contract, delivery=delivery, kind=step)
        if row.status in FINISHED:
            failed = failed or row.status == Status.FAILED
            continue
        failed = (
            not _attempt(row, step, contract, context, events, is_last_attempt=is_last_attempt)
            or failed
        )
    delivery.processed = timezone.now()
    delivery.save(update_fields=["processed"])
    if delivery.event_type == "contract:sign" and not failed:
        events.fire("contract.signed", _subject_fields(contract, ""))


def _attempt(
    row: ContractStep,
    step: Step,
    contract: Contract,
    context: StepContext,
    events: Dispatcher,
    *,
    is_last_attempt: bool,
) -> bool:
    """Run one step; True unless it failed for good. Re-raises a passing failure (the job
    retries) unless this is the job's last attempt."""
    row.attempts += 1
    started = timezone.now()
    try:
        result = run_step(step, context)
    except _PASSING as error:
        if not is_last_attempt:
            _note(row, started, f"attempt {row.attempts} failed, retried later: {error}")
            raise TransientError(f"contract {contract.contract_id} {step}: {error}") from error
        _save_subject(contract, context.subject)  # whom it was about, for the ticket
        return _fail(
            row, step, contract, events, started=started, reason=f"gave up after retries: {error}"
        )
    except Exception as error:  # StepFailedError, a refusal, a bug: recorded, never lost
        _save_subject(contract, context.subject)
        return _fail(
            row, step, contract, events, started=started, reason=str(error) or type(error).__name__
        )
    with transaction.atomic():
        _save_subject(contract, context.subject)
        row.status, row.outcome, row.finished = result.status, result.outcome, timezone.now()
        row.details = [*row.details, _entry(started, result.status, result.outcome, result.notes)]
        row.save()
        _audit(contract, step, result.status, result.outcome, result.notes)
    return True


def _fail(
    row: ContractStep,
    step: Step,
    contract: Contract,
    events: Dispatcher,
    *,
    started: datetime,
    reason: str,
) -> bool:
    row.status, row.outcome, row.finished = Status.FAILED, reason, timezone.now()
    row.details = [*row.details, _entry(started, Status.FAILED, reason, [WHAT_TO_DO[step]])]
    row.save()
    _audit(contract, step, Status.FAILED, reason, [WHAT_TO_DO[step]])
    log.warning("contract step failed", contract=contract.contract_id, step=step, error=reason)
    fields = _subject_fields(contract, reason) | {"step": str(step), "what_to_do": WHAT_TO_DO[step]}
    events.fire("contract.step_failed", fields)
    tell_employee_ticket(contract, str(step), reason, WHAT_TO_DO[step], events)
    return False


def _note(row: ContractStep, started: datetime, text: str) -> None:
    row.outcome = text
    row.details = [*row.details, _entry(started, Status.PENDING, text, [])]
    row.save()


def _entry(started: datetime, status: str, outcome: str, notes: list[str]) -> dict[str, object]:
    return {
        "started": started.isoformat(),
        "finished": timezone.now().isoformat(),
        "status": str(status),
        "outcome": outcome,
        "notes": notes,
    }


def _audit(contract: Contract, step: Step, status: str, outcome: str, notes: list[str]) -> None:
    audit.record(
        ACTOR,
        f"contract.{step}",
        "contract",
        f"{contract.integration.key}:{contract.contract_id}",
        after={"status": str(status), "outcome": outcome, "notes": notes},
    )


def _subject(contract: Contract) -> Subject:
    return Subject(
        contract.employee_number,
        contract.employee_id,
        contract.company_id,
        contract.employee_name,
        contract.filled_number,
        contract.name,
    )


def _save_subject(contract: Contract, subject: Subject) -> None:
    contract.employee_number, contract.employee_id = subject.employee_number, subject.employee_id
    contract.company_id, contract.employee_name = subject.company_id, subject.employee_name
    contract.filled_number = subject.filled_number
    contract.name = subject.contract_name[:512]
    contract.save()


def _subject_fields(contract: Contract, error: str) -> dict[str, object]:
    return {
        "integration": contract.integration.key,
        "contract_id": contract.contract_id,
        "contract_name": contract.name,
        "employee_number": contract.employee_number,
        "person_name": contract.employee_name,
        "error": error,
    }


def run_contract_step(job: JobRun) -> None:
    """The contract job as the worker step runs every kind (hrsync.app.jobs.work): the last
    attempt under the retry policy gives up visibly instead of raising to be retried."""
    run_contract_job(job, is_last_attempt=job.attempts >= retry_policy().max_attempts)
