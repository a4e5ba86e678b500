"""An operator's "Retry" of a step that failed for good: the step goes back to pending, its
delivery is unprocessed again and the contract's job is queued. The job skips every finished
step, so only this one runs again; its attempts and past outcomes stay in its history."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from hrsync.app.contracts.hooks import job_key
from hrsync.app.jobs import queue as job_queue
from hrsync.app.models import ContractStep, JobRun
from hrsync.app.security import audit
from hrsync.workflows.contracts.steps import Status


class NotRetryableError(Exception):
    """Only a failed step is retried: a pending one is on its way, a done one stays done."""


def retry_step(step: ContractStep, actor: str) -> None:
    if step.status != Status.FAILED:
        raise NotRetryableError(f"the step is {step.status}, not failed: nothing to retry")
    contract, now = step.contract, timezone.now()
    with transaction.atomic():
        before = {"status": step.status, "outcome": step.outcome}
        step.status, step.outcome, step.finished = Status.PENDING, f"retry asked by {actor}", None
        step.save(update_fields=["status", "outcome", "finished"])
        step.delivery.processed = None
        step.delivery.save(update_fields=["processed"])
        key = job_key(contract.integration.key, contract.contract_id)
        job_queue.insert_job(JobRun.Kind.CONTRACT, key, now, actor, now)
        audit.record(actor, "contract.step_retried", "contract",
                     f"{contract.integration.key}:{contract.contract_id}",
                     before=before, after={"step": step.kind, "status": "pending"})  # fmt: skip
