"""A run's stored plan as people read it: per person, each change with old → new per attribute,
the counts and the safety gate's verdict; exported as CSV or JSON."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

from hrsync.app import models
from hrsync.app.connection_settings import wiring
from hrsync.app.connection_settings.steps import safety_of
from hrsync.app.runs.groups import diff_entry, diff_rows
from hrsync.domain.changes import CHANGE_KINDS
from hrsync.domain.lineage import (
    Derivations,
    derivations_from_json,
    explain,
    lineage_from_json,
)
from hrsync.domain.plan import Plan, deserialise_change
from hrsync.domain.profile import TargetProfile
from hrsync.engine.lineage import PARENT
from hrsync.engine.safety import Verdict, judge_plan

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""Spreadsheets run a cell starting with these as a formula (CSV injection): quote them."""
CSV_COLUMNS = (
    "employee_number", "name", "person_id", "kind", "ref", "attribute", "old", "new", "reason",
    "status", "error", "rule", "rule_source", "fields_read",
)  # fmt: skip


EXPLAINED_KINDS = frozenset({"create", "update", "move", "rename", "set_manager"})
"""The changes that carry lineage (hrsync.domain.lineage); groups and account states do not."""


@dataclass(frozen=True, slots=True)
class AttributeChange:
    name: str
    old: str | None
    new: str | None
    rule: str = ""
    """The rule that gave the new value (its lineage); empty where hrsync records none."""
    rule_source: str = ""
    """"default", "override", "naming", "placement" or "hrsync"."""
    fields_read: dict[str, str | None] = field(default_factory=dict)
    """The HR fields the rule reads, with the values the plan was made from."""

    def fields_text(self) -> str:
        """`name = "value"` pairs, for a cell of the CSV and the diff view."""
        return "; ".join(f"{name} = {_quoted(value)}" for name, value in self.fields_read.items())


@dataclass(frozen=True, slots=True)
class ChangeView:
    kind: str
    ref: str
    reason: str
    attributes: tuple[AttributeChange, ...]
    status: str = ""
    """The outcome once applied; empty in a simulation or a held run."""
    error: str = ""


@dataclass(slots=True)
class PersonDiff:
    person_id: str
    name: str
    employee_number: str
    changes: list[ChangeView] = field(default_factory=list)

    @property
    def kinds(self) -> list[str]:
        return sorted({change.kind for change in self.changes})


@dataclass(frozen=True, slots=True)
class PlanDiff:
    run_id: int
    people: list[PersonDiff]
    """Those matching the filters, by employee number."""
    counts: dict[str, int]
    """Changes per kind in the whole plan, not only those shown."""
    is_held: bool
    reasons: tuple[str, ...]
    """Why the safety gate holds (or would hold) this plan; empty when it passes."""

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def plan_diff(run: models.Run, *, kind: str | None = None, search: str | None = None) -> PlanDiff:
    """The run's plan per person, narrowed to one change kind and to people whose name,
    employee number or account ref contains `search` (case-insensitive)."""
    rows = list(run.changes.select_related("person").order_by("pk"))
    verdict = _verdict(run, rows)
    profile = wiring.profile_of(run.connection.kind, run.connection.settings)
    people = _people(rows, derivations_from_json(run.derivations), profile)
    needle = (search or "").strip().lower()
    shown = [
        narrowed
        for person in people
        if (narrowed := _narrowed(person, kind)) is not None and _is_match(narrowed, needle)
    ]
    return PlanDiff(run.pk, shown, _counts(run, rows), verdict.is_held, verdict.reasons)


def export_plan(run: models.Run, fmt: Literal["csv", "json"] | str) -> tuple[str, bytes]:
    """(content type, body): JSON as `PlanDiff.to_json`; CSV with one row per attribute change."""
    diff = plan_diff(run)
    if fmt == "json":
        body = json.dumps(diff.to_json(), ensure_ascii=False, indent=2)
        return "application/json", body.encode()
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(CSV_COLUMNS)
        writer.writerows([safe_cell(cell) for cell in row] for row in _csv_rows(diff.people))
        return "text/csv; charset=utf-8", buffer.getvalue().encode()
    raise ValueError(f"unknown export format {fmt!r} (csv or json)")


def safe_cell(value: str | None) -> str:
    text = value or ""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _csv_rows(people: Iterable[PersonDiff]) -> Iterator[tuple[str | None, ...]]:
    for person in people:
        ident = (person.employee_number, person.name, person.person_id)
        for change in person.changes:
            head = (*ident, change.kind, change.ref)
            tail = (change.reason, change.status, change.error)
            attributes = change.attributes or (AttributeChange("", None, None),)
            for a in attributes:
                why = (a.rule, a.rule_source, a.fields_text())
                yield (*head, a.name, a.old, a.new, *tail, *why)


def _people(
    rows: Iterable[models.RunChange], derivations: Derivations, profile: TargetProfile
) -> list[PersonDiff]:
    people: dict[str, PersonDiff] = {}
    for row in rows:
        pid = str(row.payload.get("person_id", ""))
        group = diff_entry(row.payload, row.ref, profile)
        if group is not None:
            pid = group[0]
        person = people.get(pid)
        if person is None:
            person = people[pid] = PersonDiff(pid, group[1], "") if group else _person(pid, row)
        person.changes.append(_change_view(row, derivations, profile))
    return sorted(people.values(), key=lambda p: (p.employee_number, p.person_id))


def _person(pid: str, row: models.RunChange) -> PersonDiff:
    stored = row.person
    if stored is not None:
        return PersonDiff(pid, stored.display_name, stored.employee_number)
    number = str(row.payload.get("employee_number") or "")
    return PersonDiff(pid, pid, number)


def _change_view(
    row: models.RunChange, derivations: Derivations, profile: TargetProfile
) -> ChangeView:
    payload = row.payload
    return ChangeView(
        kind=row.kind,
        ref=row.ref,
        reason=str(payload.get("reason") or ""),
        attributes=tuple(
            _explained(_attributes(row.kind, payload, profile), payload.get("lineage"), derivations)
            if row.kind in EXPLAINED_KINDS
            else _attributes(row.kind, payload, profile)
        ),
        status=row.status,
        error=row.error,
    )


def _attributes(
    kind: str, payload: dict[str, Any], profile: TargetProfile
) -> Iterator[AttributeChange]:
    """Per attribute, what it is and what it becomes. The name and container rows come from
    the ref where the profile's refs spell them out (AD's DNs)."""
    ref = str(payload.get("ref") or "")
    split = profile.split_ref
    naming = profile.naming_attribute or "name"
    manager = profile.manager_attribute
    match kind:
        case "create":
            yield from _created(payload, profile)
        case "update":
            before, after = _dict(payload.get("before")), _dict(payload.get("after"))
            for name in sorted(set(before) | set(after)):
                yield AttributeChange(name, before.get(name), after.get(name))
        case "move":
            old = split(ref)[1] if split is not None else None
            yield AttributeChange(PARENT, old, str(payload.get("new_container")))
        case "rename":
            old = split(ref)[0] if split is not None else None
            yield AttributeChange(naming, old, str(payload.get("new_name")))
        case "enable" | "disable":
            yield AttributeChange("enabled", _flag(kind == "disable"), _flag(kind == "enable"))
        case "set_manager":
            yield AttributeChange(
                manager, _text(payload.get("before")), _text(payload.get("after"))
            )
        case "manual":
            for name, value in sorted(_dict(payload.get("detail")).items()):
                yield AttributeChange(name, None, value)
        case _:
            yield from (AttributeChange(*row) for row in diff_rows(kind, payload, profile))


def _created(payload: dict[str, Any], profile: TargetProfile) -> Iterator[AttributeChange]:
    yield AttributeChange("enabled", None, _flag(bool(payload.get("is_enabled"))))
    if profile.split_ref is not None:
        name, container = profile.split_ref(str(payload.get("ref") or ""))
        yield AttributeChange(profile.naming_attribute or "name", None, name)
        yield AttributeChange(PARENT, None, container)
    for name, value in sorted(_dict(payload.get("attributes")).items()):
        if value is not None:
            yield AttributeChange(name, None, value)


def _explained(
    attributes: Iterable[AttributeChange], raw_lineage: object, derivations: Derivations
) -> Iterator[AttributeChange]:
    """Each attribute with its lineage: the run's rules joined with the change's values."""
    lineage = lineage_from_json(raw_lineage)
    for attribute in attributes:
        explained = explain(attribute.name, derivations, lineage)
        if explained is None:
            yield attribute
        else:
            yield dataclasses.replace(
                attribute,
                rule=explained.rule,
                rule_source=explained.source,
                fields_read=explained.fields,
            )


def _narrowed(person: PersonDiff, kind: str | None) -> PersonDiff | None:
    if not kind:
        return person
    changes = [change for change in person.changes if change.kind == kind]
    if not changes:
        return None
    return PersonDiff(person.person_id, person.name, person.employee_number, changes)


def _is_match(person: PersonDiff, needle: str) -> bool:
    if not needle:
        return True
    texts = [person.name, person.employee_number, *(change.ref for change in person.changes)]
    return any(needle in text.lower() for text in texts)


def _counts(run: models.Run, rows: list[models.RunChange]) -> dict[str, int]:
    if run.plan_counts:
        return dict(run.plan_counts)
    counts = dict.fromkeys(CHANGE_KINDS.values(), 0)
    for row in rows:
        counts[row.kind] = counts.get(row.kind, 0) + 1
    return counts


def stored_plan(run: models.Run) -> Plan:
    """The run's plan as it was recorded, change for change, in its order. An approval applies
    exactly this plan: check `Plan.fingerprint()` against the run's before trusting it."""
    plan = _plan_of(list(run.changes.order_by("pk")))
    return Plan(plan.changes, derivations_from_json(run.derivations))


def _plan_of(rows: Iterable[models.RunChange]) -> Plan:
    return Plan(tuple(deserialise_change(row.payload) for row in rows))


def _verdict(run: models.Run, rows: list[models.RunChange]) -> Verdict:
    """The gate's verdict on the stored plan, against the connection's current thresholds, the
    accounts it links now (the run's own count of accounts is not stored) and the groups the run
    found."""
    plan = _plan_of(rows)
    linked = run.connection.links.exclude(account_id="").count()
    settings = safety_of(run.connection.settings)
    return judge_plan(plan, linked, settings, managed_groups=run.managed_groups)


def _dict(value: Any) -> dict[str, str | None]:
    if not isinstance(value, dict):
        return {}
    return {str(k): None if v is None else str(v) for k, v in value.items()}


def _flag(is_on: bool) -> str:
    return "true" if is_on else "false"


def _quoted(value: str | None) -> str:
    return "(empty)" if value is None else f'"{value}"'


def _text(value: Any) -> str | None:
    return None if value is None else str(value)
