"""The planner's view of one CSV connection: each column's expression evaluated per person and
the column's rules checked, so a row is either valid or not written (never half-valid). Files
have no containers and no renames."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

from hrsync.connectors.csv.formats import MANAGER, Column, FileFormat
from hrsync.connectors.csv.profile import OWNER, csv_profile
from hrsync.connectors.csv.store import folded
from hrsync.domain.account import Attributes, DesiredAccount
from hrsync.domain.lineage import Derivations
from hrsync.domain.person import Person
from hrsync.domain.profile import TargetProfile
from hrsync.engine.lineage import of_rules, words
from hrsync.engine.policy import FlatPolicy, NameUnavailableError, NewAccount, TakenNames
from hrsync.mapping.rules import Rule, apply_rules, day_start, parse_rule

NEW_ROW = "row:"


@dataclass(frozen=True)
class CsvPolicy(FlatPolicy):
    """One CSV connection: its file format and the admin's overrides of column expressions."""

    file_format: FileFormat
    rules: tuple[Rule, ...] = ()
    time_zone: str = "Europe/Stockholm"
    owner_attribute: str = OWNER
    home: str = ""

    @cached_property
    def profile(self) -> TargetProfile:
        return csv_profile(self.file_format)

    @cached_property
    def all_rules(self) -> tuple[Rule, ...]:
        overrides = {rule.attribute: rule for rule in self.rules}
        return tuple(
            overrides.get(c.name) or parse_rule(c.name, c.expression)
            for c in self.file_format.mapped
        )

    def desire(self, person: Person, today: date) -> DesiredAccount:
        """The person's row. A value breaking its column's rule is named in `problems` and
        left out, so an existing row keeps its last valid value (never half-valid) and a new
        row is refused with the rule (`new_account`)."""
        attributes, failed = apply_rules(
            person, {}, self.all_rules, day_start(today, self.time_zone)
        )
        fitted: Attributes = {name: self._cut(name, value) for name, value in attributes.items()}
        problems = [f"{p.attribute}: {p.message}" for p in failed]
        for name, why in self.broken_rules(fitted).items():
            del fitted[name]
            problems.append(f"{name}: {why}")
        fitted[self.owner_attribute] = person.person_id
        return DesiredAccount(
            person_id=person.person_id,
            employee_number=person.employee_number,
            name="",
            container="",
            is_enabled=person.employment.is_active_on(today),
            attributes=fitted,
            manager_id=person.manager_id,
            problems=tuple(problems),
        )

    @cached_property
    def _columns(self) -> dict[str, Column]:
        return {column.name: column for column in self.file_format.columns}

    def _cut(self, name: str, value: str | None) -> str | None:
        """Shortened only where the column says so (display name "Surname, Given" to 20)."""
        column = self._columns.get(name)
        if not value or column is None or not column.is_cut or column.max_length is None:
            return value or None
        return value[: column.max_length].rstrip(" ,") or None

    def broken_rules(self, attributes: Attributes) -> dict[str, str]:
        """Column → the rule its value breaks, with the value, for a row that cannot be written."""
        broken = {}
        for column in self.file_format.mapped:
            value = attributes.get(column.name) or ""
            if (rule := column.broken_rule(value)) is not None:
                broken[column.name] = f"{value!r} {rule}"
        return broken

    def derivations(self) -> Derivations:
        found = of_rules(self.all_rules, (rule.attribute for rule in self.rules))
        found[self.owner_attribute] = words("the person's id in the HR system")
        if manager := self.file_format.derived_column(MANAGER):
            found[manager] = words(
                f"the {self.file_format.key} of the row of [manager_id]", "manager_id"
            )
        return found

    def new_account(
        self,
        person: Person,
        desired: DesiredAccount,
        container: str,
        taken: TakenNames,
        today: date,
    ) -> NewAccount:
        """A new row must keep every column rule and have a key no other row has; otherwise it
        is left out and the person's ticket names the rule and the value (a manual step)."""
        key = self.file_format.key
        if desired.problems:
            broken = dict(problem.split(": ", 1) for problem in desired.problems)
            dropped = "".join(f"; {warning}" for warning in person.warnings)
            raise NameUnavailableError(
                next(iter(broken)),
                "; ".join(f"{name} {why}" for name, why in broken.items()) + dropped,
            )
        value = desired.attributes.get(key) or ""
        if taken.is_taken(key, value):
            raise NameUnavailableError(key, f"{key} {value} is in another row of the file")
        taken.of_attribute(key).add(folded(value))
        return NewAccount(NEW_ROW + person.person_id, "", {})
