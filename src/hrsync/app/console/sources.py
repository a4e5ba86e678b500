"""Sources: list, settings and imports, "Test connection", the Company picker, "Import now"."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.db.models import OuterRef, ProtectedError, Subquery
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST
from pydantic import ValidationError

from hrsync.app.connection_settings import wiring
from hrsync.app.console.access import actor, role_required
from hrsync.app.console.responses import render_page
from hrsync.app.console.source_forms import (
    KIND,
    SourceForm,
    initial_values,
    password_note,
    probe_source,
)
from hrsync.app.imports.source_import import ImportSummary, import_source
from hrsync.app.models import Import, Source, SourceUpload
from hrsync.app.security import audit
from hrsync.app.security.roles import Role
from hrsync.app.security.secrets import SecretError
from hrsync.app.sources.looks import describe_source
from hrsync.app.sources.manual import NOT_IMPORTED, is_manual
from hrsync.connectors.flexhrm.parse import Company
from hrsync.domain.errors import SourceError

RECENT_IMPORTS = 10
SHOWN_INVALID = 25
PROBLEMS = (SourceError, wiring.MissingSecretError, SecretError)
"""What reading a source may raise, each with a message meant for an admin."""


@role_required(Role.VIEWER)
def source_list(request: HttpRequest) -> HttpResponse:
    last = Import.objects.filter(source=OuterRef("pk")).order_by("-started", "-pk")
    rows = Source.objects.annotate(
        last_status=Subquery(last.values("status")[:1]),
        last_started=Subquery(last.values("started")[:1]),
    ).order_by("key")
    listed = [(row, describe_source(row)) for row in rows]
    return render_page(request, "hrsync/sources/list.html", {"sources": listed})


@role_required(Role.ADMIN)
def source_new(request: HttpRequest) -> HttpResponse:
    form = SourceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        row = Source.objects.create(
            key=form.cleaned_data["key"],
            kind=KIND,
            settings=form.settings(),
            secret=form.secret(),
            schedule=form.cleaned_data["schedule"],
        )
        audit.record(actor(request), "source.created", "source", row.key, after=snapshot(row))
        messages.success(request, f"Source {row.key} created.")
        return redirect(f"/sources/{row.key}/")
    status = 400 if form.is_bound else 200
    context = {"form": form, "chosen_options": chosen_options(form)}
    return render_page(request, "hrsync/sources/new.html", context, status=status)


@role_required(Role.VIEWER)
def source_detail(request: HttpRequest, key: str) -> HttpResponse:
    row = get_object_or_404(Source, key=key)
    return _detail(request, row, SourceForm(initial=initial_values(row), source=row))


@role_required(Role.ADMIN)
def source_update(request: HttpRequest, key: str) -> HttpResponse:
    row = get_object_or_404(Source, key=key)
    if is_manual(row):
        messages.error(request, f"Nothing to save: {NOT_IMPORTED}.")
        return redirect(f"/sources/{key}/")
    form = SourceForm(request.POST, source=row)
    if not form.is_valid():
        return _detail(request, row, form, status=400)
    before = snapshot(row)
    password_changed = bool(form.cleaned_data.get("password"))
    row.settings, row.secret = form.settings(), form.secret()
    row.schedule = form.cleaned_data["schedule"]
    row.save()
    after = snapshot(row) | {"password_changed": password_changed}
    audit.record(actor(request), "source.updated", "source", key, before=before, after=after)
    messages.success(request, f"Source {key} saved.")
    return redirect(f"/sources/{key}/")


def _detail(
    request: HttpRequest, row: Source, form: SourceForm, *, status: int = 200
) -> HttpResponse:
    imports = list(row.imports.order_by("-started", "-pk")[:RECENT_IMPORTS])
    invalid = list(imports[0].invalid.all()[:SHOWN_INVALID]) if imports else []
    context = {
        "source": row,
        "look": describe_source(row),
        "form": form,
        "chosen_options": chosen_options(form),
        "password_note": password_note(row),
        "imports": imports,
        "invalid": invalid,
        "connections": list(row.connections.order_by("key")),
        "people_count": row.people.count(),
        "is_manual": is_manual(row),
        "is_file_source": wiring.is_file_source(row),
        "has_settings_form": wiring.has_console_form(row),
        "pending_uploads": list(
            SourceUpload.objects.filter(source=row, status=SourceUpload.Status.PENDING).order_by(
                "-pk"
            )[:RECENT_IMPORTS]
        ),
    }
    return render_page(request, "hrsync/sources/detail.html", context, status=status)


@role_required(Role.ADMIN)
@require_POST
def source_check(request: HttpRequest) -> HttpResponse:
    """htmx: log in to Flex HRM with the settings as typed and say how it went."""
    stored = Source.objects.filter(key=request.POST.get("source_key") or "").first()
    try:
        with wiring.build_source(probe_source(request.POST, stored, with_companies=True)) as found:
            found.check()
    except ValidationError as error:
        return _check_result(request, ok=False, text=_describe(error))
    except (ValueError, *PROBLEMS) as error:
        return _check_result(request, ok=False, text=str(error))
    return _check_result(request, ok=True, text="Connected: Flex HRM accepted the settings.")


def _check_result(request: HttpRequest, *, ok: bool, text: str) -> HttpResponse:
    context = {"ok": ok, "text": text}
    return render_page(request, "hrsync/sources/check_result.html", context)


@role_required(Role.ADMIN)
@require_POST
def source_companies(request: HttpRequest) -> HttpResponse:
    """htmx: the companies the API user sees, as checkboxes; the chosen ones stay chosen."""
    stored = Source.objects.filter(key=request.POST.get("source_key") or "").first()
    chosen = request.POST.getlist("companies")
    context: dict[str, Any] = {"chosen": chosen, "options": [], "error": ""}
    try:
        probe = probe_source(request.POST, stored, with_companies=False)
        with wiring.build_flex_source(probe) as found:
            visible = found.companies_in_scope()  # every company: the probe names none
    except ValidationError as error:
        context["error"] = _describe(error)
    except (ValueError, *PROBLEMS) as error:
        context["error"] = str(error)
    else:
        context["options"] = company_options(visible, chosen)
    return render_page(request, "hrsync/sources/companies.html", context)


def chosen_options(form: SourceForm) -> list[dict[str, Any]]:
    """The chosen companies as checkboxes, until the live list from Flex HRM replaces them."""
    return [
        {"value": value, "label": value, "checked": True, "missing": False} for value in form.chosen
    ]


def company_options(visible: list[Company], chosen: list[str]) -> list[dict[str, Any]]:
    """One checkbox per visible company, then any chosen entry the API user no longer sees."""
    options = [
        {
            "value": company.id,
            "label": f"{company.name} (#{company.number})" if company.number else company.name,
            "checked": any(company.matches(entry) for entry in chosen),
            "missing": False,
        }
        for company in visible
    ]
    unseen = [e for e in chosen if not any(c.matches(e) for c in visible)]
    options += [{"value": e, "label": e, "checked": True, "missing": True} for e in unseen]
    return options


@role_required(Role.OPERATOR)
@require_POST
def source_import(request: HttpRequest, key: str) -> HttpResponse:
    row = get_object_or_404(Source, key=key)
    if is_manual(row):
        messages.error(request, f"Nothing to import: {NOT_IMPORTED}.")
        return redirect(f"/sources/{key}/")
    full = request.POST.get("full") == "1"
    try:
        summary = import_source(row.key, full=full)
    except PROBLEMS as error:
        audit.record(
            actor(request), "source.import_failed", "source", key, after={"error": str(error)}
        )
        messages.error(request, f"The import failed: {error}")
    else:
        counts = summary.counts()
        held = {"held": summary.held} if summary.held else {}
        audit.record(actor(request), "source.imported", "source", key, after=counts | held)
        _tell_outcome(request, key, summary)
    return redirect(f"/sources/{key}/")


def _tell_outcome(request: HttpRequest, key: str, summary: ImportSummary) -> None:
    if summary.held:
        messages.warning(
            request,
            f"Import {summary.import_id} was held by the shrink guard and recorded nothing: "
            f"{summary.held}. Once you know why, accept it: hrsync import {key} --accept-shrink",
        )
        return
    shown = ", ".join(f"{n} {label}" for label, n in summary.counts().items())
    messages.success(request, f"Import {summary.import_id} finished: {shown}.")


@role_required(Role.ADMIN)
@require_POST
def source_delete(request: HttpRequest, key: str) -> HttpResponse:
    row = get_object_or_404(Source, key=key)
    if request.POST.get("confirm") != key:
        messages.error(request, f"Type {key} to confirm the deletion.")
        return redirect(f"/sources/{key}/")
    before = snapshot(row)
    try:
        row.delete()
    except ProtectedError:
        messages.error(
            request, f"Source {key} is in use by connections or tickets: it cannot be deleted."
        )
        return redirect(f"/sources/{key}/")
    audit.record(actor(request), "source.deleted", "source", key, before=before)
    messages.success(request, f"Source {key} deleted.")
    return redirect("/sources/")


def snapshot(row: Source) -> dict[str, Any]:
    """A source as the audit log records it: settings and schedule, never the password."""
    return {
        "kind": row.kind,
        "settings": dict(row.settings),
        "schedule": row.schedule,
        "password_set": bool(row.secret or row.settings.get("password_env")),
    }


def _describe(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in item['loc'])}: {item['msg'].removeprefix('Value error, ')}"
        for item in error.errors()
    )
