"""A CSV source's files in the console: "Upload file" → the preview (adds, updates, leavers,
rows set aside with line and column) → "Confirm". Nothing is recorded before the confirmation;
both steps are audited (hrsync.app.imports.uploads)."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from hrsync.app.console.access import actor, role_required
from hrsync.app.console.responses import render_page
from hrsync.app.imports.file_import import preview_file
from hrsync.app.imports.uploads import confirm_upload, pending_upload, store_upload
from hrsync.app.models import Source
from hrsync.app.security.roles import Role
from hrsync.domain.errors import SourceError

SHOWN = 500
"""Persons listed per section of the preview page; the counts always cover everyone."""


@role_required(Role.OPERATOR)
@require_POST
def upload_file(request: HttpRequest, key: str) -> HttpResponse:
    row = get_object_or_404(Source, key=key)
    sent = request.FILES.get("file")
    if sent is None:
        messages.error(request, "Choose a CSV file to upload.")
        return redirect(f"/sources/{key}/")
    mode = request.POST.get("mode") or None
    try:
        upload, _ = store_upload(
            row.key, sent.read(), sent.name or "upload.csv", mode, actor(request)
        )
    except SourceError as error:
        messages.error(request, f"{sent.name}: {error}. Nothing was kept or recorded.")
        return redirect(f"/sources/{key}/")
    return redirect(f"/sources/{key}/uploads/{upload.pk}/")


@role_required(Role.OPERATOR)
def upload_preview(request: HttpRequest, key: str, upload_id: int) -> HttpResponse:
    """The preview, computed again from the kept file against the store as it is now."""
    row = get_object_or_404(Source, key=key)
    try:
        upload = pending_upload(key, upload_id)
        preview = preview_file(key, bytes(upload.content), upload.mode, upload.file_name)
    except SourceError as error:
        messages.error(request, str(error))
        return redirect(f"/sources/{key}/")
    context = {
        "source": row,
        "upload": upload,
        "preview": preview,
        "counts": preview.counts(),
        "adds": preview.adds[:SHOWN],
        "updates": preview.updates[:SHOWN],
        "leavers": preview.leavers[:SHOWN],
        "invalid": preview.invalid[:SHOWN],
        "shown": SHOWN,
    }
    return render_page(request, "hrsync/sources/upload_preview.html", context)


@role_required(Role.OPERATOR)
@require_POST
def upload_confirm(request: HttpRequest, key: str, upload_id: int) -> HttpResponse:
    accept = request.POST.get("accept_shrink") == "1"
    try:
        done = confirm_upload(key, upload_id, actor(request), accept_shrink=accept)
    except SourceError as error:  # UploadError too
        messages.error(request, str(error))
        return redirect(f"/sources/{key}/")
    summary = done.summary
    if summary.held:
        messages.warning(
            request,
            f"Held by the shrink guard, nothing recorded: {summary.held}. Tick “accept the "
            "smaller list” and confirm again once you know why.",
        )
        return redirect(f"/sources/{key}/uploads/{upload_id}/")
    shown = ", ".join(f"{n} {label}" for label, n in summary.counts().items())
    messages.success(
        request, f"Import {summary.import_id} recorded: {shown}, {done.leavers} leavers."
    )
    return redirect(f"/sources/{key}/")
