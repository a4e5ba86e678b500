"""`POST /hooks/oneflow/<integration>`: Oneflow's webhook deliveries.

The signature is checked in constant time (a bad or missing one → 401, logged and audited);
the delivery is stored and its job queued in one transaction before the 200 goes back, so a
crash after the answer loses nothing; a replayed `callback_id` finds its row and does nothing.
Everything else happens on the job queue (hrsync.app.contracts.jobs).
"""

from __future__ import annotations

import json

import structlog
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from hrsync.app.connection_settings.wiring import MissingSecretError
from hrsync.app.contracts.settings import sign_key
from hrsync.app.jobs import queue as job_queue
from hrsync.app.models import ContractDelivery, Integration, JobRun
from hrsync.app.security import audit
from hrsync.connectors.oneflow.webhooks import MalformedDeliveryError, is_signed, parse_delivery

log = structlog.get_logger(__name__)
ACTOR = "oneflow-webhook"


def job_key(integration: str, contract_id: int) -> str:
    """The JobRun key of a contract: its steps run one at a time under this lease."""
    return f"{integration}.{contract_id}"


@csrf_exempt
@require_POST
def oneflow_hook(request: HttpRequest, key: str) -> HttpResponse:
    integration = Integration.objects.filter(key=key, kind="oneflow").first()
    if integration is None:
        return JsonResponse({"error": "no such integration"}, status=404)
    try:
        delivery = parse_delivery(json.loads(request.body or b"null"))
    except (ValueError, MalformedDeliveryError) as error:
        return _refused(key, f"malformed delivery: {error}", 400)
    try:
        secret = sign_key(integration)
    except MissingSecretError as error:
        log.error("oneflow webhook: no sign key", integration=key, error=str(error))
        return JsonResponse({"error": "not configured"}, status=503)  # Oneflow retries
    if not is_signed(delivery, secret):
        return _refused(key, "bad or missing signature", 401, delivery.callback_id)
    now = timezone.now()
    event = delivery.events[0] if delivery.events else None
    with transaction.atomic():
        _, created = ContractDelivery.objects.get_or_create(
            integration=integration,
            callback_id=delivery.callback_id,
            defaults={
                "contract_id": delivery.contract_id,
                "event_type": event.type if event else "",
                "event_id": event.id if event else 0,
                "body": json.loads(request.body),
            },
        )
        if created:
            job_queue.insert_job(
                JobRun.Kind.CONTRACT, job_key(key, delivery.contract_id), now, "webhook", now
            )
    if not created:
        log.info(
            "oneflow webhook: replay ignored", integration=key, callback_id=delivery.callback_id
        )
    return JsonResponse({"ok": True, "replay": not created})


def _refused(key: str, reason: str, status: int, callback_id: str = "") -> HttpResponse:
    log.warning("oneflow webhook refused", integration=key, reason=reason, callback_id=callback_id)
    audit.record(
        ACTOR,
        "webhook.refused",
        "integration",
        key,
        after={"reason": reason, "callback_id": callback_id, "status": status},
    )
    return JsonResponse({"error": reason}, status=status)
