"""Flex HRM as a PersonSource: which companies to read, and each employee read into a person."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from types import TracebackType
from typing import Any, Self

from hrsync.connectors.flexhrm.client import FlexHrmClient
from hrsync.connectors.flexhrm.config import FlexHrmConfig
from hrsync.connectors.flexhrm.errors import AccessDeniedError, FlexHrmError, ResourceNotFoundError
from hrsync.connectors.flexhrm.parse import (
    Company,
    Lookups,
    excerpt,
    normalise_keys,
    parse_person,
    read_coded,
    read_company,
    read_level,
    record_id,
    select_distributions,
    source_ref,
)
from hrsync.domain.person import InvalidRecord, Person
from hrsync.ports import Clock


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class FlexHrmSource:
    """Reads the employees of the companies in scope, one company at a time.

    Lookups (titles, employment types, account distributions and their accounts) are fetched once
    per company per import; each employee costs one extra request for its employment periods.
    """

    key = "flexhrm"

    def __init__(
        self,
        config: FlexHrmConfig,
        client: FlexHrmClient | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.config = config
        self._client = client or FlexHrmClient(config)
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

    def check(self) -> None:
        """Raise SourceError unless the API user can log in and see every configured company."""
        self.companies_in_scope()

    def default_window_start(self, now: datetime) -> datetime:
        return self.config.default_window_start(now)

    def read_people(self, modified_since: datetime | None) -> Iterator[Person | InvalidRecord]:
        """Every employee in scope modified since the given time (a full import when None)."""
        today = self.today()
        for company in self.companies_in_scope():
            yield from self._read_company(company, modified_since, today)

    def today(self) -> date:
        """The calendar day in the configured zone: HR dates are local days."""
        now = self._clock.now()
        aware = now if now.tzinfo else now.replace(tzinfo=UTC)
        return aware.astimezone(self.config.zone).date()

    def companies_in_scope(self) -> list[Company]:
        """The configured companies (by id or number), or every visible one when none is set."""
        visible = [c for c in map(read_company, self._client.list_companies()) if c]
        if not visible:
            raise FlexHrmError(
                "Flex HRM shows the API user no companies: ask Flex to give it access to them"
            )
        if not self.config.companies:
            return visible
        return _pick_companies(visible, self.config.companies)

    def _read_company(
        self, company: Company, since: datetime | None, today: date
    ) -> Iterator[Person | InvalidRecord]:
        try:
            lookups = self.load_lookups(company)
            for employee in self._client.iter_employees(company.id, since):
                yield self._read_employee(employee, lookups, today)
        except AccessDeniedError as exc:
            raise AccessDeniedError(f"{exc} (company {_label(company)})") from exc

    def load_lookups(self, company: Company) -> Lookups:
        """The id → name tables for one company, fetched now."""
        client = self._client
        wanted = self.config.organization_levels
        distributions = select_distributions(client.account_distributions(company.id), wanted)
        levels = tuple(read_level(d, client.accounts(d[0])) for d in distributions)
        return Lookups(
            company=company,
            titles=read_coded(client.employment_titles(company.id)),
            types=read_coded(client.employment_types(company.id)),
            levels=levels,
            external_types=frozenset(t.casefold() for t in self.config.external_employment_types),
        )

    def _read_employee(
        self, employee: Mapping[str, Any], lookups: Lookups, today: date
    ) -> Person | InvalidRecord:
        employee_id = record_id(employee)
        if employee_id is None:
            return parse_person(employee, [], lookups, today)  # refused for its missing id
        try:
            periods = self._client.employment_periods(employee_id)
        except ResourceNotFoundError:
            record = normalise_keys(dict(employee))
            reason = "employment periods not found (404): removed from Flex HRM during the import?"
            return InvalidRecord(source_ref(record, lookups.company), reason, excerpt(record))
        return parse_person(employee, periods, lookups, today)


def _pick_companies(visible: list[Company], wanted: list[str]) -> list[Company]:
    picked: list[Company] = []
    for entry in wanted:
        company = next((c for c in visible if c.matches(entry)), None)
        if company is None:
            shown = ", ".join(_label(c) for c in visible[:20])
            raise FlexHrmError(
                f"Flex HRM company {entry!r} is not visible to the API user (it sees: {shown}); "
                "check the id or number, or ask Flex to give the user access to it"
            )
        if company not in picked:
            picked.append(company)
    return picked


def _label(company: Company) -> str:
    return f"{company.name} #{company.number}" if company.number else company.name
