"""Connection pages: the table, a connection's details and progress, and its configuration steps.

Viewers read; admins create connections and save steps (hrsync.app.connections.lifecycle does the
rest).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.contrib import messages
from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from hrsync.app.connection_settings import wiring
from hrsync.app.connection_settings.policies import person_id_attribute
from hrsync.app.connection_settings.steps import (
    SCHEDULE,
    SIMULATE,
    STEPS,
    Step,
    default_mapping,
    has_password,
)
from hrsync.app.connections import lifecycle
from hrsync.app.connections.run_times import run_times
from hrsync.app.console.access import actor, role_required
from hrsync.app.console.connection_forms import (
    TARGET_FORMS,
    ScheduleForm,
    ScopeStepForm,
    SourceStepForm,
    TargetForm,
    put_errors,
)
from hrsync.app.console.connection_rules import RulesForm, rules_context, run_mapping_test
from hrsync.app.console.responses import by_method, is_htmx, render_page
from hrsync.app.models import Connection
from hrsync.app.security.roles import Role
from hrsync.app.sources.looks import describe_source
from hrsync.connectors.scim.compliance import ComplianceReport
from hrsync.domain.profile import TargetProfile

RUNNABLE = (Connection.State.SIMULATION, Connection.State.ACTIVE)
PAGE_SIZE = 50
"""Connections per page: rendering hundreds of rows costs more than the queries."""


@dataclass(frozen=True, slots=True)
class StepState:
    step: Step
    status: str
    """done, current or locked."""

    @property
    def is_open(self) -> bool:
        return self.status != "locked"


def target_profile(connection: Connection) -> TargetProfile | None:
    """The connection's target profile; None for a kind this hrsync lacks (a newer one's row)."""
    if connection.kind not in wiring.TARGETS:
        return None
    return wiring.profile_of(connection.kind, connection.settings)


def _target_label(connection: Connection) -> str:
    """The target as an admin knows it; a kind this hrsync lacks by name."""
    profile = target_profile(connection)
    return profile.label if profile is not None else connection.kind


def _target_facts(connection: Connection) -> list[tuple[str, str]]:
    """Where the accounts live, in the profile's words (AD: base DN and users OU; SCIM: its
    URL), for the detail page: a SCIM app has no domain to show as "not set"."""
    profile = target_profile(connection)
    if profile is None:
        return []
    facts = [(profile.where_label, wiring.where_of(connection))]
    if profile.capabilities.hierarchy:
        users = str(connection.settings.get("users_ou") or "")
        facts.append((f"Users {profile.container_label}", users))
    return facts


def connection_or_404(key: str) -> Connection:
    return get_object_or_404(Connection.objects.select_related("source"), key=key)


def progress(connection: Connection) -> list[StepState]:
    def status(number: int) -> str:
        if number < connection.step:
            return "done"
        return "current" if number == connection.step else "locked"

    return [StepState(step, status(step.number)) for step in STEPS]


def organisation(connection: Connection) -> list[str]:
    """The company names whose people the connection provisions (empty: every company)."""
    scoped = connection.settings.get("scope", {}).get("companies") or []
    return [str(name) for name in scoped or connection.source.settings.get("companies", [])]


# --- the table ------------------------------------------------------------------------------


@role_required(Role.VIEWER)
def connection_list(request: HttpRequest) -> HttpResponse:
    search = request.GET.get("q", "").strip()
    number = _page_number(request.GET.get("page", ""))
    start = (number - 1) * PAGE_SIZE
    rows = list(table_rows(search)[start : start + PAGE_SIZE + 1])
    shown = rows[:PAGE_SIZE]
    times = run_times(shown)
    context = {
        "rows": [
            (row, describe_source(row.source), _target_label(row), times[row.pk]) for row in shown
        ],
        "page": number,
        "first_shown": start + 1,
        "last_shown": start + min(len(rows), PAGE_SIZE),
        "next_page": number + 1 if len(rows) > PAGE_SIZE else None,
        "previous_page": number - 1 if number > 1 else None,
        "search": search,
    }
    template = "table.html" if is_htmx(request) else "list.html"
    return render_page(request, f"hrsync/connections/{template}", context)


def _page_number(text: str) -> int:
    return int(text) if text.isdigit() and 0 < int(text) < 100_000 else 1


def table_rows(search: str) -> QuerySet[Connection]:
    """Connections by name; their run times are looked up for the page shown (run_times)."""
    rows = Connection.objects.select_related("source")
    if search:
        rows = rows.filter(Q(name__icontains=search) | Q(key__icontains=search))
    return rows.order_by("name", "key")


# --- one connection -------------------------------------------------------------------------


@role_required(Role.VIEWER)
def connection_detail(request: HttpRequest, key: str) -> HttpResponse:
    connection = connection_or_404(key)
    runs = connection.runs.order_by("-pk")
    context = {
        "connection": connection,
        "look": describe_source(connection.source),
        "target_label": _target_label(connection),
        "target_facts": _target_facts(connection),
        "organisation": organisation(connection),
        "steps": progress(connection),
        "times": run_times([connection])[connection.pk],
        "last_simulation": runs.filter(is_simulation=True).first(),
        "recent_runs": list(runs[:5]),
        "can_simulate": connection.state in RUNNABLE and connection.step >= SIMULATE,
    }
    return render_page(request, "hrsync/connections/detail.html", context)


@role_required(Role.ADMIN)
def connection_new(request: HttpRequest) -> HttpResponse:
    form = SourceStepForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k != "key" and v != ""}
        try:
            connection = lifecycle.create_connection(
                form.cleaned_data["key"], values, actor(request)
            )
        except lifecycle.InvalidValuesError as error:
            put_errors(form, error)
        else:
            messages.success(request, f"Created {connection.key}; next, its target settings.")
            return redirect(f"/connections/{connection.key}/step/2/")
    status = 400 if form.errors else 200
    return render_page(request, "hrsync/connections/new.html", {"form": form}, status=status)


# --- the steps ------------------------------------------------------------------------------


def _show_step(request: HttpRequest, key: str, number: int) -> HttpResponse:
    connection = connection_or_404(key)
    if not 1 <= number <= SCHEDULE:
        return redirect(f"/connections/{key}/")
    if number > connection.step:
        messages.info(request, f"Step {number} opens once step {connection.step} is done.")
        return redirect(f"/connections/{key}/step/{connection.step}/")
    form = _form_for(connection, number)
    number_typed = request.GET.get("employee_number")
    if number == 3 and number_typed is not None:
        # Viewers test the stored rules; an admin's form tests the rules as typed (POST).
        tested = run_mapping_test(connection, number_typed)
        return _step_page(request, connection, number, form, tested=tested)
    return _step_page(request, connection, number, form)


def _save_step(request: HttpRequest, key: str, number: int) -> HttpResponse:
    connection = connection_or_404(key)
    form = _form_for(connection, number, request.POST)
    if number == 2 and form is None:
        messages.error(request, f"{_target_label(connection)} is set up in the config file.")
        return redirect(f"/connections/{key}/step/2/")
    if number == 2 and request.POST.get("action") == "test":
        return _test_target(request, connection, form)
    if isinstance(form, RulesForm) and request.POST.get("action") == "test":
        tested = run_mapping_test(connection, request.POST.get("employee_number", ""), form)
        return _step_page(request, connection, 3, form, tested=tested)
    if form is None or form.is_valid():
        try:
            lifecycle.save_step(connection, number, _values(form), actor(request))
        except lifecycle.InvalidValuesError as error:
            _put_errors(form, error)
        except lifecycle.LifecycleError as error:
            messages.error(request, str(error))
            return redirect(f"/connections/{key}/")
        else:
            messages.success(request, f"Step {number} saved.")
            return redirect(f"/connections/{key}/step/{connection.step}/")
    return _step_page(request, connection, number, form, status=400)


connection_step = by_method(
    get=role_required(Role.VIEWER)(_show_step), post=role_required(Role.ADMIN)(_save_step)
)


@role_required(Role.ADMIN)
@require_POST
def connection_compliance(request: HttpRequest, key: str) -> HttpResponse:
    """ "Check compliance": the target's protocol checks against the saved settings; with
    write checks only when the admin ticks them."""
    connection = connection_or_404(key)
    with_writes = request.POST.get("with_writes") == "1"
    try:
        report = lifecycle.check_compliance(connection, actor(request), with_writes=with_writes)
    except (LookupError, wiring.MissingSecretError, ValueError) as error:
        messages.error(request, f"Compliance was not checked: {error}")
        return redirect(f"/connections/{key}/step/2/")
    if is_htmx(request):
        return render_page(request, "hrsync/connections/compliance.html", {"report": report})
    form = _form_for(connection, 2)
    return _step_page(request, connection, 2, form, compliance=report)


def _put_errors(form: forms.Form | None, error: lifecycle.InvalidValuesError) -> None:
    if isinstance(form, RulesForm):
        form.put_problems(error.errors)
    else:
        put_errors(form or forms.Form(), error)


def _test_target(
    request: HttpRequest, connection: Connection, form: forms.Form | None
) -> HttpResponse:
    result: lifecycle.CheckResult | None = None
    if form is not None and form.is_valid():
        try:
            result = lifecycle.check_target(connection, _values(form))
        except lifecycle.InvalidValuesError as error:
            put_errors(form, error)
    if form is not None and form.errors:
        result = lifecycle.CheckResult(False, "Fix the fields marked below, then test again.")
    if is_htmx(request):
        return render_page(request, "hrsync/connections/check_result.html", {"result": result})
    return _step_page(request, connection, 2, form, check=result)


def _step_page(
    request: HttpRequest,
    connection: Connection,
    number: int,
    form: forms.Form | None,
    *,
    check: lifecycle.CheckResult | None = None,
    tested: dict[str, Any] | None = None,
    compliance: ComplianceReport | None = None,
    status: int = 200,
) -> HttpResponse:
    context: dict[str, Any] = {
        "connection": connection,
        "steps": progress(connection),
        "step": STEPS[number - 1],
        "form": form,
        "check": check,
        "compliance": compliance,
        "resets": connection.step > number + 1 or connection.state != Connection.State.DRAFT,
        "step_template": f"hrsync/connections/step_{STEPS[number - 1].slug}.html",
        "target_label": _target_label(connection),
        "checks_compliance": wiring.TARGETS[connection.kind].compliance is not None,
        "secret_stored": has_password(connection),  # as step 2's validation decides it
    }
    if isinstance(form, RulesForm):
        profile = wiring.profile_of(connection.kind, connection.settings)
        person_id = person_id_attribute(connection.settings, profile)
        mapping = default_mapping(profile, person_id)
        context |= rules_context(form, profile) | {"mapping": mapping, "tested": tested}
    if number == SIMULATE:
        context["simulations"] = connection.runs.filter(is_simulation=True).order_by("-pk")[:10]
        context["can_simulate"] = connection.state in RUNNABLE
    return render_page(request, "hrsync/connections/step.html", context, status=status)


def _form_for(connection: Connection, number: int, data: Any = None) -> forms.Form | None:
    """The form of a step (None for step 5, which has no fields)."""
    if number == 1:
        initial = {
            "name": connection.name,
            "source": connection.source.key,
            "time_zone": connection.time_zone,
        }
        return SourceStepForm(data, initial=initial, connection=connection)
    if number == 2:
        form_class = TARGET_FORMS.get(connection.kind)
        if form_class is None:  # a kind set up in the config file only (step 2 says so)
            return None
        return form_class(data, initial=form_class.initial_for(connection.settings))
    if number == 3:
        return RulesForm(data, connection=connection)
    if number == 4:
        return ScopeStepForm(data, initial=ScopeStepForm.initial_for(connection))
    if number == SCHEDULE:
        schedule = connection.schedule
        if not schedule and connection.kind in wiring.TARGETS:
            schedule = wiring.profile_of(connection.kind, connection.settings).default_schedule
        return ScheduleForm(data, initial=ScheduleForm.initial_for(schedule))
    return None


def _values(form: forms.Form | None) -> dict[str, Any]:
    if form is None:
        return {}
    if isinstance(form, TargetForm | ScopeStepForm | RulesForm):
        return form.values()
    return dict(form.cleaned_data)
