"""Manual people in the console: add one, edit one, end one (admins only); each save goes
through hrsync.app.imports.manual_people, the import's pipeline."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from hrsync.app.console.access import actor, role_required
from hrsync.app.console.responses import render_page
from hrsync.app.imports.manual_people import (
    DATES,
    LABELS,
    ManualPersonError,
    NotManualError,
    SavedPerson,
    add_manual_person,
    edit_manual_person,
    not_manual_reason,
    values_of,
)
from hrsync.app.models import Person
from hrsync.app.security.roles import Role
from hrsync.app.sources.manual import is_manual
from hrsync.domain.ids import PersonId
from hrsync.domain.person import person_from_fields

FORM_TEXT = 300
"""What the form takes; the field rules (hrsync.app.imports.manual_people) say the rest."""
HELP = {
    "given_name": "Required.",
    "family_name": "Required.",
    "employee_number": "Required; unique among manual people.",
    "manager": "Another person: their employee number or person id.",
    "end_date": "Set it to end the employment: a leaver on that day.",
    "employment_type": "E.g. Konsult; an external type makes the person external.",
}
WIDGETS: Mapping[str, forms.Widget] = {
    "email": forms.EmailInput(),
    "phone": forms.TextInput(attrs={"type": "tel"}),
    "mobile": forms.TextInput(attrs={"type": "tel"}),
} | {name: forms.DateInput(attrs={"type": "date"}) for name in DATES}


class ManualPersonForm(forms.Form):
    """Renders the fields and takes them as text; the checks are the import's own, required
    fields too, so one answer names every field in error."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for name, label in LABELS.items():
            self.fields[name] = forms.CharField(
                label=label,
                required=False,
                max_length=FORM_TEXT,
                help_text=HELP.get(name, ""),
                widget=WIDGETS.get(name, forms.TextInput()),
            )

    def values(self) -> dict[str, str | None]:
        return {name: self.cleaned_data.get(name) or None for name in LABELS}

    def take_errors(self, error: ManualPersonError) -> None:
        for name, message in error.errors.items():
            self.add_error(name if name in self.fields else None, message)


@role_required(Role.ADMIN)
def person_new(request: HttpRequest) -> HttpResponse:
    form = ManualPersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            saved = add_manual_person(form.values(), actor(request))
        except ManualPersonError as error:
            form.take_errors(error)
        else:
            return _saved(request, saved, "added")
    status = 400 if form.is_bound else 200
    return render_page(request, "hrsync/people/manual_form.html", {"form": form}, status=status)


@role_required(Role.ADMIN)
def person_edit(request: HttpRequest, pk: int) -> HttpResponse:
    row = get_object_or_404(Person.objects.select_related("source"), pk=pk)
    if not is_manual(row.source):
        return _not_manual(request, row)
    stored = values_of(person_from_fields(PersonId(row.person_id), row.fields))
    form = ManualPersonForm(request.POST or None, initial=stored)
    if request.method == "POST" and form.is_valid():
        try:
            saved = edit_manual_person(row, form.values(), actor(request))
        except ManualPersonError as error:
            form.take_errors(error)
        else:
            return _saved(request, saved, "saved")
    status = 400 if form.is_bound else 200
    context = {"form": form, "person": row}
    return render_page(request, "hrsync/people/manual_form.html", context, status=status)


@role_required(Role.ADMIN)
@require_POST
def person_end(request: HttpRequest, pk: int) -> HttpResponse:
    """End a manual person's employment on a day: a leaver then."""
    row = get_object_or_404(Person.objects.select_related("source"), pk=pk)
    day = request.POST.get("end_date") or ""
    try:
        saved = edit_manual_person(row, {"end_date": day or None}, actor(request))
    except NotManualError:
        return _not_manual(request, row)
    except ManualPersonError as error:
        messages.error(request, str(error))
        return redirect(f"/people/{row.pk}/")
    return _saved(request, saved, f"ended on {day}" if day else "saved")


def _saved(request: HttpRequest, saved: SavedPerson, done: str) -> HttpResponse:
    change = f": {saved.change.kind} recorded" if saved.change else ": nothing changed"
    ticket = f", ticket {saved.ticket.pk}" if saved.ticket else ""
    messages.success(request, f"{saved.row.display_name} {done}{change}{ticket}.")
    return redirect(f"/people/{saved.row.pk}/")


def _not_manual(request: HttpRequest, row: Person) -> HttpResponse:
    """409: an imported person is changed in their HR system, not by hand."""
    context = {"person": row, "reason": not_manual_reason(row)}
    return render_page(request, "hrsync/people/not_manual.html", context, status=409)
