"""Sources: list, read, create and edit their settings (the password write-only), test the
connection, list the companies the HR system shows, import now."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pydantic
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from ninja import Field, Query, Router, Schema, Status

from hrsync.app.api.auth import ADMIN, OPERATOR, VIEWER, actor
from hrsync.app.api.errors import ApiError, answers, conflict, settings_error
from hrsync.app.api.paging import Paged, PageQuery, page
from hrsync.app.api.schemas import KEY_PATTERN, CheckOut
from hrsync.app.connection_settings import wiring
from hrsync.app.connections import lifecycle
from hrsync.app.imports.source_import import ShrinkGuardSettings, import_source
from hrsync.app.models import Import, Source
from hrsync.app.security import audit
from hrsync.app.security.secrets import SecretError, encrypt
from hrsync.app.sources.looks import describe_source
from hrsync.app.sources.manual import MANUAL_KEY, NOT_IMPORTED, RESERVED, is_manual
from hrsync.connectors.flexhrm.client import FlexHrmClient
from hrsync.connectors.flexhrm.parse import read_company
from hrsync.domain.errors import SourceError

router = Router(tags=["sources"])

SETTINGS_HELP = (
    "The connector's settings without the password. Flex HRM: url (Service URL), instance "
    "(Instance Id), username, companies (ids or numbers), modified_since_days, and optional "
    "tuning (page_size, timeout_seconds, max_retries, time_zone, …); or password_env to read "
    "the password from an environment variable."
)
WRITE_ONLY_HELP = "Write-only: stored encrypted, never shown back. An empty string removes it."


class ImportOut(Schema):
    id: int
    status: str
    started: datetime
    finished: datetime | None
    is_full: bool
    counts: dict[str, int]
    error: str


class SourceOut(Schema):
    key: str
    kind: str
    label: str
    settings: dict[str, Any]
    password_set: bool = Field(description="A password is stored (encrypted).")
    schedule: str
    created: datetime
    updated: datetime
    last_import: ImportOut | None = None


class SourcePage(Paged):
    items: list[SourceOut]


class SourceIn(Schema):
    key: str = Field(pattern=KEY_PATTERN, max_length=64)
    kind: str = Field("flexhrm", description="The HR system: flexhrm, or csv (a file source).")
    settings: dict[str, Any] = Field(description=SETTINGS_HELP)
    password: pydantic.SecretStr | None = Field(None, description=WRITE_ONLY_HELP)
    schedule: str = Field(
        "",
        max_length=100,
        description="Import schedule: cron ('*/2 * * * *') or 'every 15m from 2026-01-01T06:00'.",
    )


class SourcePatch(Schema):
    settings: dict[str, Any] | None = Field(
        None, description="Merged into the stored settings; a key set to null is removed."
    )
    password: pydantic.SecretStr | None = Field(None, description=WRITE_ONLY_HELP)
    schedule: str | None = Field(None, max_length=100)


class CompanyOut(Schema):
    id: str
    number: str
    name: str
    is_selected: bool = Field(description="Named in the source's `companies` setting.")


class CompanyList(Schema):
    items: list[CompanyOut]


class ImportIn(Schema):
    full: bool = Field(False, description="Read everyone, not only who changed in the window.")


@router.get("/sources", response=answers(SourcePage), **VIEWER)
def list_sources(request: HttpRequest, query: Query[PageQuery]) -> dict[str, Any]:
    rows = Source.objects.order_by("key")
    return page(rows, query, lambda items: [_source(row) for row in items])


@router.get("/sources/{key}", response=answers(SourceOut), **VIEWER)
def get_source(request: HttpRequest, key: str) -> dict[str, Any]:
    row = Source.objects.get(key=key)
    last = row.imports.order_by("-pk").first()
    return _source(row) | {"last_import": _import(last) if last else None}


@router.post("/sources", response=answers(SourceOut, 409, status=201), **ADMIN)
def create_source(request: HttpRequest, body: SourceIn) -> Status[dict[str, Any]]:
    """A new source; its settings are checked against the connector's settings model."""
    if body.key == MANUAL_KEY:
        raise conflict(RESERVED, code="reserved")
    row = Source(key=body.key, kind=body.kind, schedule=_schedule(body.schedule))
    _set_settings(row, body.settings, body.password)
    try:
        with transaction.atomic():
            row.save()
    except IntegrityError as error:
        raise conflict(f"a source with the key {body.key!r} exists") from error
    audit.record(actor(request), "source.created", "source", row.key, after=_audited(row))
    return Status(201, _source(row))


@router.patch("/sources/{key}", response=answers(SourceOut, 409), **ADMIN)
def update_source(request: HttpRequest, key: str, body: SourcePatch) -> dict[str, Any]:
    row = _imported(key)
    before = _audited(row)
    merged = dict(row.settings)
    for name, value in (body.settings or {}).items():
        if value is None:
            merged.pop(name, None)
        else:
            merged[name] = value
    _set_settings(row, merged, body.password)
    if body.schedule is not None:
        row.schedule = _schedule(body.schedule)
    row.save()
    audit.record(
        actor(request), "source.updated", "source", key, before=before, after=_audited(row)
    )
    return _source(row)


@router.post("/sources/{key}/test", response=answers(CheckOut), **OPERATOR)
def check_source(request: HttpRequest, key: str) -> dict[str, Any]:
    """Log in to the HR system with the stored settings and see every configured company."""
    row = Source.objects.get(key=key)
    try:
        with wiring.build_source(row) as source:
            source.check()
    except (SourceError, wiring.MissingSecretError, SecretError) as error:
        return {"ok": False, "message": str(error)}
    except pydantic.ValidationError as error:
        return {"ok": False, "message": settings_error(error, "settings").message}
    return {"ok": True, "message": "signed in; every configured company is visible"}


@router.get("/sources/{key}/companies", response=answers(CompanyList, 409, 502), **OPERATOR)
def list_companies(request: HttpRequest, key: str) -> dict[str, Any]:
    """The companies the HR system shows the API user, read live (for the company picker)."""
    row = _imported(key)
    try:
        with wiring.build_flex_source(row) as source, FlexHrmClient(source.config) as client:
            companies = [c for c in map(read_company, client.list_companies()) if c]
    except pydantic.ValidationError as error:
        raise settings_error(error, "settings") from error
    wanted = [str(entry) for entry in row.settings.get("companies", [])]
    return {
        "items": [
            {
                "id": c.id,
                "number": c.number,
                "name": c.name,
                "is_selected": any(c.matches(w) for w in wanted),
            }
            for c in companies
        ]
    }


@router.post("/sources/{key}/import", response=answers(ImportOut, 409), **OPERATOR)
def import_now(request: HttpRequest, key: str, body: ImportIn) -> dict[str, Any]:
    """Import now and wait for it; a failed import answers 200 with its status and error."""
    row = _imported(key)
    try:
        import_source(key, full=body.full)
    except SourceError:
        pass  # recorded on the import, shown below
    except pydantic.ValidationError as error:
        raise settings_error(error, "settings") from error
    record = Import.objects.filter(source=row).order_by("-pk").first()
    if record is None:
        raise ApiError(409, "the import could not start", code="import_not_started")
    audit.record(
        actor(request),
        "source.imported",
        "source",
        key,
        after={"import_id": record.pk, "status": record.status, "counts": record.counts},
    )
    return _import(record)


def _imported(key: str) -> Source:
    """The source, which must have a connector: the built-in `manual` one answers 409."""
    row = Source.objects.get(key=key)
    if is_manual(row):
        raise conflict(NOT_IMPORTED, code="not_imported")
    return row


def _set_settings(row: Source, settings: dict[str, Any], password: Any) -> None:
    """Check and set the settings and, when given, the password (which wins over password_env)."""
    if row.kind not in wiring.SOURCES:
        known = ", ".join(sorted(wiring.SOURCES))
        raise ApiError(422, f"unknown kind {row.kind!r} (known: {known})", code="invalid_kind")
    if "password" in settings:
        raise ApiError(422, "send the password in `password`, not in the settings")
    if password is not None:
        row.secret = encrypt(password.get_secret_value())
        if row.secret:
            settings = {k: v for k, v in settings.items() if k != "password_env"}
    if not settings.get("password_env"):
        settings.pop("password_env", None)
    try:
        wiring.validate_settings(wiring.SOURCES[row.kind], settings)
        ShrinkGuardSettings.model_validate(settings.get("shrink_guard") or {})
    except pydantic.ValidationError as error:
        raise settings_error(error, "settings") from error
    row.settings = settings


def _schedule(text: str) -> str:
    """The canonical schedule ("" for none); 422 (invalid_values) when it is not one."""
    return lifecycle.parse_schedule(text) if text.strip() else ""


def _source(row: Source) -> dict[str, Any]:
    return {
        "key": row.key,
        "kind": row.kind,
        "label": describe_source(row).label,
        "settings": row.settings,
        "password_set": bool(row.secret),
        "schedule": row.schedule,
        "created": row.created,
        "updated": row.updated,
    }


def _audited(row: Source) -> dict[str, Any]:
    return {
        "kind": row.kind,
        "settings": row.settings,
        "schedule": row.schedule,
        "password_set": bool(row.secret),
    }


def _import(record: Import) -> dict[str, Any]:
    return {
        "id": record.pk,
        "status": record.status,
        "started": record.started,
        "finished": record.finished,
        "is_full": record.is_full,
        "counts": record.counts,
        "error": record.error,
    }
