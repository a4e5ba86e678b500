"""A run's stored plan as people read it: per person, each change with old → new per attribute,
the counts and the safety gate's verdict; exported as CSV or JSON."""

from __future__ import annotations

import csv
import dataclasses
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from hrsync.app import models
from hrsync.app.connection_settings import wiring
from hrsync.app.connection_settings.steps import safety_of
from hrsync.app.runs.groups import diff_entry, diff_rows
from hrsync.app.sources.names import person_names
from hrsync.domain.changes import CHANGE_KINDS
from hrsync.domain.lineage import (
    Derivations,
    derivations_from_json,
    explain,
    lineage_from_json,
)
from hrsync.domain.person_fields import PERSON_REFERENCES, field_label
from hrsync.domain.plan import Plan, deserialise_change
from hrsync.domain.profile import TargetProfile
from hrsync.engine.lineage import PARENT
from hrsync.engine.safety import Verdict, judge_plan

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""Spreadsheets run a cell starting with these as a formula (CSV injection): quote them."""
CSV_COLUMNS = (
    "employee_number", "name", "person_id", "kind", "ref", "attribute", "label", "old", "new",
    "reason",
    "status", "error", "rule", "rule_source", "fields_read",
)  # fmt: skip


MEMBER = "member"
"""The diff row of a group's member (hrsync.app.runs.groups.diff_rows): shown by name."""
MAX_REFS_ASKED = 500
"""More refs than this (a first load's groups) and every link is read instead: an IN list of
50,000 refs is slower than the scan, and SQLite limits its parameters."""
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
    label: str = ""
    """What the target's admin calls the attribute ("Work e-mail" for
    `emails[type eq "work"].value`); the name itself where the profile has no label."""

    def fields_text(self) -> str:
        """`Office = "Stockholm"` pairs, fields by their labels, for a cell of the CSV and
        the diff view."""
        return "; ".join(
            f"{field_label(name)} = {_quoted(value)}" for name, value in self.fields_read.items()
        )


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
    names = _names(run, rows, profile)
    people = _people(rows, derivations_from_json(run.derivations), _Shown(profile, names))
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
                yield (*head, a.name, a.label, a.old, a.new, *tail, *why)


@dataclass(frozen=True, slots=True)
class _Shown:
    """How a plan's values are shown: the target's labels, and people by name."""

    profile: TargetProfile
    names: Mapping[str, str]
    """Ref key or person id → "Anna Berg (1002)": managers, group members, `manager_id`."""

    def label(self, attribute: str) -> str:
        if attribute == PARENT:
            return self.profile.container_label
        if attribute == "enabled":
            return "Enabled"
        return self.profile.label_of(attribute)

    def person(self, ref: str | None) -> str | None:
        """A manager's ref (or a person id) as the manager's name, where hrsync knows them."""
        if not ref:
            return ref
        return self.names.get(self.profile.ref_key(ref)) or self.names.get(ref, ref)

    def attribute(self, name: str, old: str | None, new: str | None) -> AttributeChange:
        if name in (self.profile.manager_attribute, MEMBER):
            old, new = self.person(old), self.person(new)
        return AttributeChange(name, old, new, label=self.label(name))


def _names(run: models.Run, rows: list[models.RunChange], profile: TargetProfile) -> dict[str, str]:
    """The people a plan's values name: managers and group members by their account's ref
    (linked now, or created by this plan: a provisional ref too) and by person id (the HR
    field `manager_id` a rule reads). Two queries, whatever the plan's size."""
    created: dict[str, str] = {}
    wanted_refs: set[str] = set()
    wanted_ids: set[str] = set()
    manager = profile.manager_attribute
    for row in rows:
        payload = row.payload
        if row.kind == "create":
            created[profile.ref_key(row.ref)] = str(payload.get("person_id") or "")
        if row.kind == "set_manager":
            wanted_refs.update(str(v) for v in (payload.get("before"), payload.get("after")) if v)
        if row.kind in ("add_members", "remove_members"):
            wanted_refs.update(str(member) for member in payload.get("members") or ())
        for key in ("attributes", "before", "after"):
            value = payload.get(key)
            if isinstance(value, dict) and value.get(manager):
                wanted_refs.add(str(value[manager]))
        lineage = payload.get("lineage")
        read = lineage.get("values") if isinstance(lineage, dict) else None
        if isinstance(read, dict):
            wanted_ids.update(str(read[f]) for f in PERSON_REFERENCES & set(read) if read[f])
    by_ref: dict[str, str] = {}
    missing = {profile.ref_key(ref) for ref in wanted_refs}
    for key in list(missing):
        if key in created:
            by_ref[key] = created[key]
            missing.discard(key)
    if missing:
        links = run.connection.links.exclude(ref="")
        if len(wanted_refs) <= MAX_REFS_ASKED:
            links = links.filter(ref__in=wanted_refs)
        pairs = links.values_list("ref", "person__person_id").iterator()
        by_ref.update((key, pid) for ref, pid in pairs if (key := profile.ref_key(ref)) in missing)
    names = person_names({*by_ref.values(), *wanted_ids}, run.connection.source_id)
    shown = {key: names[pid] for key, pid in by_ref.items() if pid in names}
    return shown | {pid: name for pid, name in names.items() if pid in wanted_ids}


def _people(
    rows: Iterable[models.RunChange], derivations: Derivations, shown: _Shown
) -> list[PersonDiff]:
    profile = shown.profile
    people: dict[str, PersonDiff] = {}
    for row in rows:
        pid = str(row.payload.get("person_id", ""))
        group = diff_entry(row.payload, row.ref, profile)
        if group is not None:
            pid = group[0]
        person = people.get(pid)
        if person is None:
            person = people[pid] = PersonDiff(pid, group[1], "") if group else _person(pid, row)
        person.changes.append(_change_view(row, derivations, shown))
    return sorted(people.values(), key=lambda p: (p.employee_number, p.person_id))


def _person(pid: str, row: models.RunChange) -> PersonDiff:
    stored = row.person
    if stored is not None:
        return PersonDiff(pid, stored.display_name, stored.employee_number)
    number = str(row.payload.get("employee_number") or "")
    return PersonDiff(pid, pid, number)


def _change_view(row: models.RunChange, derivations: Derivations, shown: _Shown) -> ChangeView:
    payload = row.payload
    attributes = _attributes(row.kind, payload, shown)
    return ChangeView(
        kind=row.kind,
        ref=row.ref,
        reason=str(payload.get("reason") or ""),
        attributes=tuple(
            _explained(attributes, payload.get("lineage"), derivations, shown)
            if row.kind in EXPLAINED_KINDS
            else attributes
        ),
        status=row.status,
        error=row.error,
    )


def _attributes(kind: str, payload: dict[str, Any], shown: _Shown) -> list[AttributeChange]:
    """Per attribute, what it is and what it becomes, labelled as the target's admin knows it.
    The name and container rows come from the ref where the profile's refs spell them out
    (AD's DNs); a manager is shown by name."""
    profile = shown.profile
    ref = str(payload.get("ref") or "")
    split = profile.split_ref
    naming = profile.naming_attribute or "name"
    match kind:
        case "create":
            return list(_created(payload, shown))
        case "update":
            before, after = _dict(payload.get("before")), _dict(payload.get("after"))
            names = sorted(set(before) | set(after))
            return [shown.attribute(name, before.get(name), after.get(name)) for name in names]
        case "move":
            old = split(ref)[1] if split is not None else None
            return [shown.attribute(PARENT, old, str(payload.get("new_container")))]
        case "rename":
            old = split(ref)[0] if split is not None else None
            return [shown.attribute(naming, old, str(payload.get("new_name")))]
        case "enable" | "disable":
            return [shown.attribute("enabled", _flag(kind == "disable"), _flag(kind == "enable"))]
        case "set_manager":
            old, new = _text(payload.get("before")), _text(payload.get("after"))
            return [shown.attribute(profile.manager_attribute, old, new)]
        case "manual":
            detail = sorted(_dict(payload.get("detail")).items())
            return [shown.attribute(name, None, value) for name, value in detail]
        case _:
            return [shown.attribute(*row) for row in diff_rows(kind, payload, profile)]


def _created(payload: dict[str, Any], shown: _Shown) -> Iterator[AttributeChange]:
    profile = shown.profile
    yield shown.attribute("enabled", None, _flag(bool(payload.get("is_enabled"))))
    if profile.split_ref is not None:
        name, container = profile.split_ref(str(payload.get("ref") or ""))
        yield shown.attribute(profile.naming_attribute or "name", None, name)
        yield shown.attribute(PARENT, None, container)
    for name, value in sorted(_dict(payload.get("attributes")).items()):
        if value is not None:
            yield shown.attribute(name, None, value)


def _explained(
    attributes: Iterable[AttributeChange],
    raw_lineage: object,
    derivations: Derivations,
    shown: _Shown,
) -> Iterator[AttributeChange]:
    """Each attribute with its lineage: the run's rules joined with the change's values (a
    manager's person id read by a rule shown as the manager's name)."""
    lineage = lineage_from_json(raw_lineage)
    for attribute in attributes:
        explained = explain(attribute.name, derivations, lineage)
        if explained is None:
            yield attribute
        else:
            read = {
                name: shown.person(value) if name in PERSON_REFERENCES else value
                for name, value in explained.fields.items()
            }
            yield dataclasses.replace(
                attribute, rule=explained.rule, rule_source=explained.source, fields_read=read
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
    profile = wiring.profile_of(run.connection.kind, run.connection.settings)
    removes = profile.capabilities.disable_removes
    return judge_plan(
        plan, linked, settings, managed_groups=run.managed_groups, disable_removes=removes
    )


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
