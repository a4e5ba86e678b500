"""Files for a file source, kept until confirmed: upload (preview, nothing recorded) → confirm
(recorded), and the scheduled pickup from the source's folder, which takes each file once.

The confirmation imports the very bytes that were previewed (the upload keeps them, with their
SHA-256); a pending upload expires after `UPLOAD_TTL` and its bytes are dropped. Both steps are
audited.
"""

from __future__ import annotations

from datetime import timedelta

import structlog
from django.utils import timezone

from hrsync.app import models
from hrsync.app.imports.file_import import (
    FileImport,
    FilePreview,
    checksum_of,
    csv_source_of,
    import_file,
    mode_of,
    preview_file,
)
from hrsync.app.security import audit
from hrsync.domain.errors import SourceError, SourceUnavailableError, TargetError, TransientError

log = structlog.get_logger(__name__)

UPLOAD_TTL = timedelta(hours=24)
MAX_UPLOAD_BYTES = 50 * 1024 * 1024
"""A 100,000-person HR list is about 15 MB; more is not an HR list."""
Status = models.SourceUpload.Status


class UploadError(SourceError):
    """The upload cannot be confirmed (unknown, expired, already confirmed)."""


def store_upload(
    key: str, content: bytes, file_name: str, mode: str | None, actor: str
) -> tuple[models.SourceUpload, FilePreview]:
    """Preview the file and keep it, pending confirmation. SourceError (nothing kept) when it
    cannot be read as the source's CSV."""
    if len(content) > MAX_UPLOAD_BYTES:
        raise SourceError(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB")
    expire_uploads()
    preview = preview_file(key, content, mode, file_name)
    upload = models.SourceUpload.objects.create(
        source=models.Source.objects.get(key=key),
        file_name=file_name[:255],
        checksum=preview.checksum,
        size=len(content),
        mode=preview.mode,
        content=content,
        uploaded_by=actor,
        preview={"counts": preview.counts(), "dialect": preview.dialect, "held": preview.held},
    )
    after = {"upload": upload.pk, "file": upload.file_name, "checksum": upload.checksum}
    audit.record(actor, "source.file_uploaded", "source", key, after=after | preview.counts())
    return upload, preview


def pending_upload(key: str, upload_id: int) -> models.SourceUpload:
    """The upload, still pending and not expired; UploadError otherwise."""
    upload = models.SourceUpload.objects.filter(source__key=key, pk=upload_id).first()
    if upload is None:
        raise UploadError(f"source {key} has no upload {upload_id}")
    if upload.status == Status.PENDING and upload.created < timezone.now() - UPLOAD_TTL:
        _expire(upload)
    if upload.status != Status.PENDING:
        raise UploadError(f"upload {upload_id} is {upload.status}: upload the file again")
    return upload


def confirm_upload(
    key: str, upload_id: int, actor: str, *, accept_shrink: bool = False
) -> FileImport:
    """Record the upload's file as previewed. Held by the shrink guard, it stays pending (so it
    can be confirmed again with `accept_shrink`)."""
    upload = pending_upload(key, upload_id)
    content = bytes(upload.content)
    if checksum_of(content) != upload.checksum:
        raise UploadError(f"upload {upload_id} no longer matches its checksum: upload it again")
    # Only one confirmation takes the upload; a second, at the same time, is refused.
    pending = models.SourceUpload.objects.filter(pk=upload.pk, status=Status.PENDING)
    if not pending.update(status=Status.CONFIRMING):
        raise UploadError(f"upload {upload_id} is being confirmed already")
    try:
        done = import_file(key, content, upload.mode, accepted_by=actor if accept_shrink else "")
    finally:
        taken = models.SourceUpload.objects.filter(pk=upload.pk, status=Status.CONFIRMING)
        taken.update(status=Status.PENDING)
    summary = done.summary
    if not summary.held:
        _mark_confirmed(upload, actor, summary.import_id)
    after = {"upload": upload.pk, "import": summary.import_id, "held": summary.held}
    audit.record(actor, "source.file_confirmed", "source", key, after=after | summary.counts())
    return done


def _mark_confirmed(upload: models.SourceUpload, actor: str, import_id: int) -> None:
    upload.status, upload.content = Status.CONFIRMED, b""
    upload.confirmed_by, upload.confirmed = actor, timezone.now()
    upload.source_import_id = import_id
    upload.save(update_fields=["status", "content", "confirmed_by", "confirmed", "source_import"])


def expire_uploads() -> int:
    """Pending uploads past `UPLOAD_TTL` expire and lose their bytes; how many did."""
    stale = models.SourceUpload.objects.filter(
        status=Status.PENDING, created__lt=timezone.now() - UPLOAD_TTL
    )
    return stale.update(status=Status.EXPIRED, content=b"")


def _expire(upload: models.SourceUpload) -> None:
    upload.status, upload.content = Status.EXPIRED, b""
    upload.save(update_fields=["status", "content"])


def pick_up(key: str) -> list[FileImport]:
    """Import each new file in the source's folder, oldest name first, and move it to
    `processed/`. A file whose checksum was taken before is only moved; one that is not CSV is
    moved and audited with the reason; one the shrink guard holds waits as a pending upload."""
    row = models.Source.objects.get(key=key)
    drop = csv_source_of(row).drop()
    if drop is None:
        raise SourceError(f"source {key} has no pickup folder (delivery = folder)")
    done: list[FileImport] = []
    try:
        for name in drop.names():
            content = drop.read(name)
            imported = _take(row, name, content)
            if imported is not None:
                done.append(imported)
            drop.move_to_processed(name)
    except TransientError as error:  # an SFTP server away: the next pickup tries again
        raise SourceUnavailableError(f"{drop.describe()}: {error}") from error
    except TargetError as error:  # a wrong host key, a refused login, no such directory
        raise SourceError(f"{drop.describe()}: {error}") from error
    return done


def _take(row: models.Source, name: str, content: bytes) -> FileImport | None:
    checksum = checksum_of(content)
    if models.SourceUpload.objects.filter(source=row, checksum=checksum, origin="pickup").exists():
        log.info("file taken before", source=row.key, file=name, checksum=checksum)
        return None
    mode = mode_of(row, None)
    try:
        done = import_file(row.key, content, mode)
    except SourceError as error:
        after = {"file": name, "checksum": checksum, "error": str(error)}
        audit.record("schedule", "source.file_refused", "source", row.key, after=after)
        log.warning("file refused", source=row.key, file=name, error=str(error))
        return None
    held = bool(done.summary.held)
    models.SourceUpload.objects.create(
        source=row,
        file_name=name[:255],
        checksum=checksum,
        size=len(content),
        mode=mode,
        content=content if held else b"",
        status=Status.PENDING if held else Status.CONFIRMED,
        origin="pickup",
        uploaded_by="schedule",
        confirmed_by="" if held else "schedule",
        confirmed=None if held else timezone.now(),
        source_import_id=done.summary.import_id,
        preview={"counts": done.summary.counts(), "dialect": done.dialect},
    )
    return done
