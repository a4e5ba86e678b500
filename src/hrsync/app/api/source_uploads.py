"""Files for a CSV source: upload one (a preview comes back, nothing is recorded), then confirm
it (recorded as an import). Both steps are audited."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Field, File, Form, Router, Schema, Status
from ninja.files import UploadedFile

from hrsync.app.api.auth import OPERATOR, actor
from hrsync.app.api.errors import ApiError, answers
from hrsync.app.imports.file_import import FilePreview
from hrsync.app.imports.uploads import UploadError, confirm_upload, store_upload
from hrsync.app.models import Source
from hrsync.domain.errors import SourceError

router = Router(tags=["sources"])


class PersonDiffOut(Schema):
    person_id: str
    name: str
    kind: str = Field(description="joiner, update, mover, leaver or rehire.")
    changed: dict[str, list[str | None]] = Field(description="Field → [old, new].")


class RowErrorOut(Schema):
    ref: str = Field(description="The row: 'line 14 (anna)'.")
    reason: str = Field(description="Each broken rule with its line and column.")
    excerpt: str


class UploadOut(Schema):
    id: int
    status: str
    file_name: str
    checksum: str = Field(description="SHA-256 of the file: the confirmation records these bytes.")
    mode: str
    dialect: str = Field(description="How the file was read: encoding, separator, quoting.")
    counts: dict[str, int]
    adds: list[PersonDiffOut]
    updates: list[PersonDiffOut]
    leavers: list[PersonDiffOut]
    invalid: list[RowErrorOut]
    held: str = Field(description="Why the shrink guard would hold it; confirm with accept_shrink.")


class ConfirmIn(Schema):
    accept_shrink: bool = Field(
        False, description="Record a replace file the shrink guard would hold."
    )


class ConfirmOut(Schema):
    upload: int
    status: str
    import_id: int
    counts: dict[str, int]
    leavers: int
    held: str


@router.post("/sources/{key}/uploads", response=answers(UploadOut, status=201), **OPERATOR)
def upload_file(
    request: HttpRequest,
    key: str,
    file: File[UploadedFile],
    mode: Form[str] = "",
) -> Status[dict[str, Any]]:
    """Upload a CSV file (multipart `file`, optional `mode` add or replace): the preview of
    what it would change comes back with the upload's id; nothing is recorded yet."""
    Source.objects.get(key=key)
    try:
        upload, preview = store_upload(
            key, file.read(), file.name or "upload.csv", mode or None, actor(request)
        )
    except SourceError as error:
        raise ApiError(
            422, f"{file.name}: {error}; nothing was kept", code="invalid_file"
        ) from error
    return Status(201, _preview(upload.pk, upload.status, preview))


@router.post(
    "/sources/{key}/uploads/{upload_id}/confirm", response=answers(ConfirmOut, 409), **OPERATOR
)
def confirm_file(request: HttpRequest, key: str, upload_id: int, body: ConfirmIn) -> dict[str, Any]:
    """Record the uploaded file as previewed. Held by the shrink guard, it stays pending:
    confirm it again with accept_shrink once you know why."""
    try:
        done = confirm_upload(key, upload_id, actor(request), accept_shrink=body.accept_shrink)
    except UploadError as error:
        raise ApiError(409, str(error), code="upload_unavailable") from error
    except SourceError as error:  # the source's settings changed since the upload
        raise ApiError(422, f"{error}; nothing was recorded", code="invalid_file") from error
    summary = done.summary
    return {
        "upload": upload_id,
        "status": "pending" if summary.held else "confirmed",
        "import_id": summary.import_id,
        "counts": summary.counts(),
        "leavers": done.leavers,
        "held": summary.held,
    }


def _preview(upload_id: int, status: str, preview: FilePreview) -> dict[str, Any]:
    shown = preview.as_dict()
    return {
        "id": upload_id,
        "status": status,
        **{k: shown[k] for k in ("file_name", "checksum", "mode", "dialect", "counts", "held")},
        "adds": shown["adds"],
        "updates": shown["updates"],
        "leavers": shown["leavers"],
        "invalid": shown["invalid"],
    }
