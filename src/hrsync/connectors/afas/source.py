"""AFAS Profit as a PersonSource: users, their employments and the unit hierarchy, read into
persons.

One import costs a few paged requests per connector, never one per person: the units and every
employment are read whole (small next to what they save), the users whole or, for a
modified-since window, filtered on their modification date.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Self

from hrsync.connectors.afas.client import AfasClient, Condition, Row
from hrsync.connectors.afas.config import AfasConfig
from hrsync.connectors.afas.errors import AccessDeniedError, AfasError
from hrsync.connectors.afas.parse import (
    Context,
    Unit,
    excerpt,
    parse_person,
    plain,
    read_units,
)
from hrsync.domain.person import InvalidRecord, Person
from hrsync.ports import Clock

LOOKUP_BATCH = 25
"""Users asked for at once by number (OR-ed filter terms): short enough for any URL limit."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class AfasSource:
    """Reads the employees of one AFAS environment through three GetConnectors."""

    key = "afas"

    def __init__(
        self,
        config: AfasConfig,
        client: AfasClient | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self._client = client or AfasClient(config)
        self._clock = clock or SystemClock()

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def default_window_start(self, now: datetime) -> datetime:
        return self.config.default_window_start(now)

    def check(self) -> None:
        """Raise SourceError unless the token works and may use every configured connector."""
        self.describe_connection()

    def describe_connection(self) -> str:
        """What "Test connection" shows: the connectors the token may use, and whether the
        configured ones are among them with the fields hrsync reads."""
        allowed = self.allowed_connectors()
        shown = ", ".join(allowed) or "none"
        missing = [c for c in self._configured() if c not in allowed]
        if missing:
            raise AccessDeniedError(
                f"the AFAS token may not use {', '.join(missing)} (it may use: {shown}); add "
                "them to the app connector or set connectors.* to the ids it has"
            )
        notes = [note for c in self._configured() if (note := self._missing_fields(c))]
        return "; ".join([f"AFAS {self.config.base_url}: the token may use {shown}", *notes])

    def allowed_connectors(self) -> list[str]:
        """The GetConnector ids `/metainfo` lists for this token."""
        body = self._client.metainfo()
        listed = body.get("getConnectors") if isinstance(body, dict) else None
        entries = listed if isinstance(listed, list) else []
        return [str(e["id"]) for e in entries if isinstance(e, dict) and e.get("id")]

    def _configured(self) -> list[str]:
        connectors = self.config.connectors
        ids = [connectors.users, connectors.employments, connectors.organizational_units]
        return [c for c in ids if c]

    def _missing_fields(self, connector: str) -> str | None:
        """A note naming the mapped fields `/metainfo/get/{id}` does not list; an AfasError when
        one of them identifies a person (no row could be read without it)."""
        body = self._client.connector_metainfo(connector)
        listed = body.get("fields") if isinstance(body, dict) else None
        present = {str(f.get("id")) for f in listed or [] if isinstance(f, dict)}
        mapped = self._fields_of(connector)
        missing = sorted(set(mapped) - present)
        required = [mapped[field] for field in missing if mapped[field] in _REQUIRED_KEYS]
        if required:
            raise AfasError(
                f"{connector} has no field {', '.join(missing)}, which hrsync needs "
                f"(fields.{', fields.'.join(required)}): add it to the GetConnector or map "
                "another field"
            )
        return f"{connector} lacks {', '.join(missing)}" if missing else None

    def _fields_of(self, connector: str) -> dict[str, str]:
        """Field id → setting name of the fields read from one connector."""
        fields = self.config.fields.model_dump()
        keys = {
            self.config.connectors.users: _USER_KEYS,
            self.config.connectors.employments: _EMPLOYMENT_KEYS,
            self.config.connectors.organizational_units: _UNIT_KEYS,
        }[connector]
        return {fields[key]: key for key in keys if fields[key]}

    def read_people(self, modified_since: datetime | None) -> Iterator[Person | InvalidRecord]:
        """Every employee modified since the given time (a full import when None): their user
        row or any of their employments changed."""
        today = self.today()
        context = Context.of(self.config, self.read_units())
        jobs = self.read_employments()
        users = self._users(modified_since, jobs)
        employee_field = self.config.fields.employee
        seen: set[str] = set()
        for user in users:
            number = plain(user, employee_field)
            if number and number in seen:
                yield InvalidRecord(f"employee {number}", "duplicate user row", excerpt(user))
                continue
            seen.add(number or "")
            yield parse_person(user, jobs.get(number or "", []), context, today)
        if modified_since is None:
            yield from _orphans(jobs, seen, employee_field)

    def today(self) -> date:
        """The calendar day in the configured zone: Profit's dates are local days."""
        now = self._clock.now()
        aware = now if now.tzinfo else now.replace(tzinfo=UTC)
        return aware.astimezone(self.config.zone).date()

    def read_units(self) -> dict[str, Unit]:
        connector = self.config.connectors.organizational_units
        if not connector:
            return {}
        order = [self.config.fields.unit_id] if self.config.fields.unit_id else []
        return read_units(list(self._client.rows(connector, order)), self.config.fields)

    def read_employments(self) -> dict[str, list[Row]]:
        """Every employment row, by Medewerker."""
        fields = self.config.fields
        order = [f for f in (fields.employment_employee, fields.employment_id) if f]
        grouped: dict[str, list[Row]] = defaultdict(list)
        for row in self._client.rows(self.config.connectors.employments, order):
            number = plain(row, fields.employment_employee)
            if number:
                grouped[number].append(row)
        return dict(grouped)

    def _users(self, since: datetime | None, jobs: Mapping[str, list[Row]]) -> Iterable[Row]:
        connector, fields = self.config.connectors.users, self.config.fields
        order = [fields.employee]
        if since is None:
            return self._client.rows(connector, order)
        if not fields.modified:
            raise AfasError("a modified-since import needs fields.modified (a date field)")
        value = self.window_value(since)
        where = [[Condition(fields.modified, self.config.modified_since_operator, value)]]
        changed = list(self._client.rows(connector, order, where))
        have = {plain(row, fields.employee) for row in changed}
        extra = [n for n in self._changed_by_employment(since, jobs) if n not in have]
        return [*changed, *self._users_by_number(extra)]

    def window_value(self, since: datetime) -> str:
        """The filter value for a window start: naive local time, as Profit stores dates."""
        aware = since if since.tzinfo else since.replace(tzinfo=UTC)
        return aware.astimezone(self.config.zone).strftime("%Y-%m-%dT%H:%M:%S")

    def _changed_by_employment(self, since: datetime, jobs: Mapping[str, list[Row]]) -> list[str]:
        """Employees one of whose employments changed in the window (read client-side: every
        employment is at hand already, and a filter would cost another pass)."""
        key = self.config.fields.employment_modified
        if not key:
            return []
        start = datetime.fromisoformat(self.window_value(since))
        return sorted(n for n, rows in jobs.items() if any(_after(r, key, start) for r in rows))

    def _users_by_number(self, numbers: Sequence[str]) -> Iterator[Row]:
        connector, field = self.config.connectors.users, self.config.fields.employee
        for offset in range(0, len(numbers), LOOKUP_BATCH):
            batch = numbers[offset : offset + LOOKUP_BATCH]
            where = [[Condition(field, 1, number)] for number in batch]
            yield from self._client.rows(connector, [field], where)


_USER_KEYS = (
    "employee", "person_number", "first_name", "nickname", "prefix", "family_name", "birth_name",
    "partner_prefix", "partner_name", "name_usage", "email", "mobile", "modified",
)  # fmt: skip
_EMPLOYMENT_KEYS = (
    "employment_id", "employment_employee", "start", "end", "job_code", "job_title", "unit",
    "manager", "employment_modified",
)  # fmt: skip
_UNIT_KEYS = ("unit_id", "unit_name", "unit_parent")
_REQUIRED_KEYS = frozenset({"employee", "family_name", "employment_employee"})


def _after(row: Row, key: str, start: datetime) -> bool:
    """True when the row's modification time is at or after `start` (an unreadable one counts
    as changed: reading a person again is harmless, missing a change is not)."""
    value = plain(row, key)
    if value is None:
        return False
    try:
        stamp = datetime.fromisoformat(value.removesuffix("Z"))
    except ValueError:
        return True
    return stamp.replace(tzinfo=None) >= start


def _orphans(
    jobs: Mapping[str, list[Row]], seen: set[str], employee_field: str
) -> Iterator[InvalidRecord]:
    """Employment rows whose Medewerker has no user row: set aside, so the gap is visible."""
    for number, rows in jobs.items():
        if number not in seen:
            reason = f"{len(rows)} employment row(s) but no user row for {employee_field} {number}"
            yield InvalidRecord(f"employee {number}", reason, excerpt(rows[0]))
