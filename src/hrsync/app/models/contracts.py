"""The contract write-back's stores: integrations, webhook deliveries as received, the contracts
seen and each step taken on them (issue 15)."""

from __future__ import annotations

from typing import Any

from django.db import models

from hrsync.app.models.stores import Source


class Integration(models.Model):
    """A workflow between a source and another system (`[integrations.X]`): for now Oneflow.
    `settings` holds no secrets, only the names of the variables that do (`token_env`, …)."""

    key = models.SlugField(max_length=64, unique=True)
    kind = models.CharField(max_length=32)
    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="integrations")
    settings: models.JSONField[dict[str, Any]] = models.JSONField(default=dict)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key


class ContractDelivery(models.Model):
    """One webhook delivery, stored before it is acknowledged; `callback_id` makes a replay a
    no-op. `processed` is set once every step of its events has an outcome."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="+")
    callback_id = models.CharField(max_length=128)
    contract_id = models.BigIntegerField()
    event_type = models.CharField(max_length=64)
    event_id = models.BigIntegerField(default=0)
    body: models.JSONField[dict[str, Any]] = models.JSONField(default=dict)
    received = models.DateTimeField(auto_now_add=True)
    processed = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "callback_id"], name="one_delivery_per_callback"
            )
        ]
        indexes = [
            models.Index(fields=["integration", "contract_id", "processed"], name="delivery_todo")
        ]


class Contract(models.Model):
    """A contract hrsync has heard of, and the employee it is about."""

    integration = models.ForeignKey(Integration, on_delete=models.CASCADE, related_name="contracts")
    contract_id = models.BigIntegerField()
    name = models.CharField(max_length=512, blank=True)
    state = models.CharField(max_length=16, default="draft")
    employee_number = models.CharField(max_length=64, blank=True)
    employee_id = models.CharField(max_length=64, blank=True)
    company_id = models.CharField(max_length=64, blank=True)
    employee_name = models.CharField(max_length=512, blank=True)
    filled_number = models.CharField(max_length=64, blank=True)
    """The employee number the data fields were last filled for."""
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["integration", "contract_id"], name="one_contract_per_id"
            )
        ]


class ContractStep(models.Model):
    """One step of one delivery's event, with its outcome and the requests it made."""

    contract = models.ForeignKey(Contract, on_delete=models.CASCADE, related_name="steps")
    delivery = models.ForeignKey(ContractDelivery, on_delete=models.CASCADE, related_name="steps")
    kind = models.CharField(max_length=32)
    status = models.CharField(max_length=16, default="pending")
    attempts = models.PositiveIntegerField(default=0)
    outcome = models.TextField(blank=True)
    details: models.JSONField[list[Any]] = models.JSONField(default=list, blank=True)
    """Notes and the Flex HRM and Oneflow results, per attempt."""
    created = models.DateTimeField(auto_now_add=True)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery", "kind"], name="one_step_per_delivery")
        ]
