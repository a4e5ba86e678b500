"""The simulator's store: a validated, indexed, in-memory copy of a v2 dataset, and its mutations.

Employees are kept in the dataset shape (see docs/connectors/flexhrm-simulator.md). The store
derives what Flex HRM exposes but the dataset does not spell out: the organisation dimensions
(account distributions and their accounts) and a `modified` time per employee.
"""

from __future__ import annotations

import copy
import itertools
import json
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

JsonObject = dict[str, Any]

_DERIVED_IDS = uuid.UUID("6f1c2b1e-6b0a-4c55-9a43-3f1f0e1f4a10")
_EMPLOYEE_REQUIRED = ("id", "companyId", "firstName", "lastName")


class DatasetError(ValueError):
    """The dataset, or a mutation of it, breaks a rule the simulator relies on."""


class UnknownEmployeeError(LookupError):
    """No employee has the given id."""


def parse_timestamp(text: str) -> datetime:
    """Parse `YYYY-MM-DD[THH:MM:SS[.f]][Z|±HH:MM]` into a naive UTC datetime (ValueError if not)."""
    text = text.strip()
    if "T" in text:
        text = text.replace(" ", "+")  # a '+' offset arrives as a space from a query string
    value = datetime.fromisoformat(text)
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return value


def format_timestamp(value: datetime) -> str:
    """Flex HRM's naive datetime form, `YYYY-MM-DDTHH:MM:SS`."""
    return value.strftime("%Y-%m-%dT%H:%M:%S")


def api_datetime(value: object) -> str | None:
    """A dataset date (`YYYY-MM-DD` or a timestamp) in the API's `YYYY-MM-DDTHH:MM:SS` form."""
    if value is None or value == "":
        return None
    return format_timestamp(parse_timestamp(str(value)))


def derived_id(*parts: str) -> str:
    """A stable UUID for something the store derives (a distribution, an account, a period)."""
    return str(uuid.uuid5(_DERIVED_IDS, "/".join(parts)))


def merge_patch(target: object, patch: object) -> object:
    """Apply an RFC 7386 JSON merge patch: objects merge, null deletes, everything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def employment_numbers(employee: Mapping[str, Any]) -> list[str]:
    """The employment numbers of a dataset-shape employee, in order."""
    return [str(item["employmentNumber"]) for item in employee.get("employment", [])]


def _check_uuid(value: object, what: str) -> None:
    """Ids are UUIDs in the canonical lower-case form .NET serialises a Guid in."""
    try:
        canonical = str(uuid.UUID(str(value)))
    except ValueError:
        canonical = ""
    if canonical != value:
        raise DatasetError(f"{what} {value!r} is not a lower-case UUID")


def _check_date(value: object, what: str) -> None:
    if value is None:
        return
    try:
        parse_timestamp(str(value))
    except ValueError:
        raise DatasetError(f"{what} {value!r} is not a date (YYYY-MM-DD)") from None


def _index(items: object, what: str) -> dict[str, JsonObject]:
    """Index a list of JSON objects by their `id`, refusing missing or duplicate ids."""
    if not isinstance(items, list):
        raise DatasetError(f"`{what}` must be a list")
    index: dict[str, JsonObject] = {}
    for item in items:
        if not isinstance(item, dict) or "id" not in item:
            raise DatasetError(f"every entry of `{what}` must be an object with an `id`")
        _check_uuid(item["id"], f"{what} id")
        if item["id"] in index:
            raise DatasetError(f"duplicate id {item['id']} in `{what}`")
        index[str(item["id"])] = copy.deepcopy(item)
    return index


def _index_by_number(companies: Iterable[JsonObject]) -> dict[int, JsonObject]:
    index: dict[int, JsonObject] = {}
    for company in companies:
        number = company.get("companyNumber")
        if not isinstance(number, int) or isinstance(number, bool) or not company.get("name"):
            raise DatasetError(f"company {company['id']}: needs an int companyNumber and a name")
        if number in index:
            raise DatasetError(f"duplicate companyNumber {number}")
        index[number] = company
    return index


@dataclass(slots=True)
class Dimensions:
    """One company's organisation levels as Flex HRM dimensions (account distributions)."""

    company_id: str
    levels: list[str] = field(default_factory=list)
    accounts: dict[str, dict[str, JsonObject]] = field(default_factory=dict)

    def register(self, organization: Mapping[str, str]) -> None:
        """Add levels and values first seen in `organization`; existing ones keep their codes."""
        for level, value in organization.items():
            if level not in self.accounts:
                self.levels.append(level)
                self.accounts[level] = {}
            values = self.accounts[level]
            if value not in values:
                values[value] = self._account(level, value, len(values) + 1)

    def rename(self, level: str, old: str, new: str) -> None:
        """Rename one account (a unit): it keeps its id and code, as in Flex HRM."""
        values = self.accounts.get(level, {})
        if old not in values:
            raise DatasetError(f"no {level} named {old!r}")
        if new in values:
            raise DatasetError(f"a {level} named {new!r} exists already")
        account = values.pop(old)
        account["name"] = new
        values[new] = account

    def distribution(self, level: str) -> JsonObject:
        number = self.levels.index(level) + 1
        return {
            "id": derived_id(self.company_id, "distribution", level),
            "companyId": self.company_id,
            "code": str(number),
            "name": level,
            "level": number,
        }

    def placement(self, organization: Mapping[str, str]) -> list[JsonObject]:
        """The `accounts` of an employment period placed at `organization`, in level order."""
        return [
            {
                "accountDistributionId": self.accounts[level][organization[level]][
                    "accountDistributionId"
                ],
                "accountId": self.accounts[level][organization[level]]["id"],
            }
            for level in self.levels
            if level in organization
        ]

    def _account(self, level: str, value: str, sequence: int) -> JsonObject:
        return {
            "id": derived_id(self.company_id, "account", level, value),
            "accountDistributionId": derived_id(self.company_id, "distribution", level),
            "code": f"{self.levels.index(level) + 1}{sequence:03d}",
            "name": value,
            "activeFromDate": "2000-01-01T00:00:00",
            "activeTomDate": None,
        }


class FlexStore:
    """The dataset in memory, indexed for the API, safe to read while control calls mutate it."""

    def __init__(self, dataset: Mapping[str, Any], *, now: datetime) -> None:
        self._lock = threading.RLock()
        self.companies = _index(dataset.get("companies", []), "companies")
        self.titles = _index(dataset.get("employmentTitles", []), "employmentTitles")
        self.types = _index(dataset.get("employmentTypes", []), "employmentTypes")
        self._by_number = _index_by_number(self.companies.values())
        self._check_company_refs(self.titles.values(), "employmentTitles")
        self._check_company_refs(self.types.values(), "employmentTypes")
        self._dimensions = {cid: Dimensions(cid) for cid in self.companies}
        self._distributions: dict[str, tuple[str, str]] = {}
        self._employees: dict[str, JsonObject] = {}
        self._modified: dict[str, datetime] = {}
        self._numbers: dict[tuple[str, str], str] = {}
        self._order: list[JsonObject] | None = None
        for raw in dataset.get("employees", []):
            self.add_employee(raw, now=now, replace=False)

    def company_by_number(self, number: int) -> JsonObject | None:
        return self._by_number.get(number)

    def company_ids(self) -> list[str]:
        """Company ids ordered by company number."""
        return [self._by_number[n]["id"] for n in sorted(self._by_number)]

    def employee(self, employee_id: str) -> JsonObject | None:
        """The dataset-shape employee; callers must not mutate it."""
        return self._employees.get(employee_id)

    def modified(self, employee_id: str) -> datetime:
        return self._modified[employee_id]

    def employees(self) -> list[JsonObject]:
        """All employees by company number, then employment number: a stable paging order."""
        with self._lock:
            if self._order is None:
                self._order = sorted(self._employees.values(), key=self._sort_key)
            return self._order

    def distributions(self, company_id: str) -> list[JsonObject]:
        with self._lock:
            dims = self._dimensions[company_id]
            return [dims.distribution(level) for level in dims.levels]

    def distribution(self, distribution_id: str) -> tuple[str, str] | None:
        """(company id, level name) of a derived account distribution."""
        return self._distributions.get(distribution_id)

    def accounts(self, distribution_id: str) -> list[JsonObject]:
        company_id, level = self._distributions[distribution_id]
        with self._lock:
            return list(self._dimensions[company_id].accounts[level].values())

    def placement(self, company_id: str, organization: Mapping[str, str]) -> list[JsonObject]:
        with self._lock:
            return self._dimensions[company_id].placement(organization)

    def add_employee(self, raw: object, *, now: datetime, replace: bool = False) -> JsonObject:
        """Validate and store a dataset-shape employee; `modified` defaults to `now`."""
        employee = self._normalise(raw)
        modified = employee.get("modified")
        stamp = parse_timestamp(str(modified)) if modified else now
        with self._lock:
            if not replace and employee["id"] in self._employees:
                raise DatasetError(f"duplicate employee id {employee['id']}")
            self._store(employee, stamp)
            return copy.deepcopy(employee)

    def rename_account(self, company_id: str, level: str, old: str, new: str) -> None:
        """Rename a unit of one company's `level` (an account of its distribution), keeping the
        account's id. The employees placed there are placed at the new name; their `modified`
        stays, since their own records did not change."""
        with self._lock:
            self._dimensions[company_id].rename(level, old, new)
            for employee in self._employees.values():
                if employee["companyId"] == company_id:
                    for organization in _organizations(employee):
                        if isinstance(organization, dict) and organization.get(level) == old:
                            organization[level] = new

    def patch_employee(self, employee_id: str, patch: object, *, now: datetime) -> JsonObject:
        """Apply an RFC 7386 merge patch; bump `modified` to `now` unless the patch sets it."""
        if not isinstance(patch, dict):
            raise DatasetError("a merge patch for an employee must be a JSON object")
        with self._lock:
            current = self._employees.get(employee_id)
            if current is None:
                raise UnknownEmployeeError(employee_id)
            base = {k: v for k, v in current.items() if k != "modified"}
            merged = merge_patch(base, patch)
            if not isinstance(merged, dict) or merged.get("id") != employee_id:
                raise DatasetError("an employee's id cannot be changed")
            return self.add_employee(merged, now=now, replace=True)

    def to_dataset(self) -> JsonObject:
        """The current state as a v2 dataset."""
        with self._lock:
            return copy.deepcopy(
                {
                    "version": 2,
                    "companies": list(self.companies.values()),
                    "employmentTitles": list(self.titles.values()),
                    "employmentTypes": list(self.types.values()),
                    "employees": list(self._employees.values()),
                }
            )

    def _store(self, employee: JsonObject, modified: datetime) -> None:
        employee_id = employee["id"]
        keys = [(employee["companyId"], n) for n in employment_numbers(employee)]
        for key in keys:
            owner = self._numbers.get(key)
            if owner not in (None, employee_id):
                raise DatasetError(f"employment number {key[1]} is taken in company {key[0]}")
        old = self._employees.get(employee_id)
        for key in [(old["companyId"], n) for n in employment_numbers(old)] if old else []:
            self._numbers.pop(key, None)
        self._numbers.update(dict.fromkeys(keys, employee_id))
        for organization in _organizations(employee):
            self._register(employee["companyId"], organization)
        employee["modified"] = format_timestamp(modified)
        self._employees[employee_id] = employee
        self._modified[employee_id] = modified
        self._order = None

    def _register(self, company_id: str, organization: Mapping[str, str]) -> None:
        dims = self._dimensions[company_id]
        dims.register(organization)
        for level in dims.levels:
            self._distributions[derived_id(company_id, "distribution", level)] = (company_id, level)

    def _sort_key(self, employee: JsonObject) -> tuple[int, int, str, str]:
        number = int(self.companies[employee["companyId"]]["companyNumber"])
        first = (employment_numbers(employee) or [""])[0]
        return (number, int(first) if first.isdigit() else -1, first, employee["id"])

    def _check_company_refs(self, items: Iterable[JsonObject], what: str) -> None:
        for item in items:
            if item.get("companyId") not in self.companies:
                raise DatasetError(
                    f"{what} {item['id']}: unknown companyId {item.get('companyId')}"
                )

    def _normalise(self, raw: object) -> JsonObject:
        """A validated deep copy of a dataset-shape employee, with defaults filled in."""
        if not isinstance(raw, dict):
            raise DatasetError("an employee must be a JSON object")
        employee = copy.deepcopy(raw)
        employee.setdefault("id", str(uuid.uuid4()))
        missing = [key for key in _EMPLOYEE_REQUIRED if not employee.get(key)]
        if missing:
            raise DatasetError(f"employee {employee['id']}: missing {', '.join(missing)}")
        _check_uuid(employee["id"], "employee id")
        if employee["companyId"] not in self.companies:
            raise DatasetError(f"employee {employee['id']}: unknown companyId")
        _check_employee_fields(employee)
        employee["employment"] = _normalise_employment(employee)
        employee["employmentPeriods"] = self._normalise_periods(employee)
        return employee

    def _normalise_periods(self, employee: JsonObject) -> list[JsonObject]:
        periods = employee.get("employmentPeriods") or []
        if not isinstance(periods, list) or not all(isinstance(p, dict) for p in periods):
            raise DatasetError(f"employee {employee['id']}: employmentPeriods must be a list")
        for position, period in enumerate(periods):
            period.setdefault("id", derived_id(employee["id"], "period", str(position)))
            _check_uuid(period["id"], "employment period id")
            self._check_period(period, employee["id"])
        ordered = sorted(periods, key=lambda p: parse_timestamp(str(p["fromDate"])))
        _check_no_overlap(ordered, employee["id"])
        return ordered

    def _check_period(self, period: JsonObject, employee_id: str) -> None:
        what = f"employee {employee_id}: period {period['id']}"
        if not period.get("fromDate"):
            raise DatasetError(f"{what}: missing fromDate")
        _check_date(period["fromDate"], f"{what}: fromDate")
        _check_date(period.get("toDate"), f"{what}: toDate")
        for key, index in (("titleId", self.titles), ("employmentTypeId", self.types)):
            if period.get(key) is not None and period[key] not in index:
                raise DatasetError(f"{what}: unknown {key} {period[key]}")
        _check_organization(period.get("organization", {}), what)


def _check_employee_fields(employee: JsonObject) -> None:
    what = f"employee {employee['id']}"
    if employee.get("gender", 0) not in (0, 1, 2):
        raise DatasetError(f"{what}: gender must be 0, 1 or 2")
    _check_date(employee.get("dateOfBirth"), f"{what}: dateOfBirth")
    _check_date(employee.get("modified"), f"{what}: modified")
    manager = employee.get("immediateManagerEmployeeId")
    if manager is not None:
        _check_uuid(manager, f"{what}: immediateManagerEmployeeId")
    _check_organization(employee.get("organization", {}), what)


def _check_organization(organization: object, what: str) -> None:
    if not isinstance(organization, dict) or not all(
        isinstance(k, str) and isinstance(v, str) and v for k, v in organization.items()
    ):
        raise DatasetError(f"{what}: organization must map level names to non-empty strings")


def _normalise_employment(employee: JsonObject) -> list[JsonObject]:
    """`employment` as a list (Flex HRM sometimes shows one object), each with a number."""
    employment = employee.get("employment")
    items = [employment] if isinstance(employment, dict) else employment
    if not isinstance(items, list) or not items:
        raise DatasetError(f"employee {employee['id']}: employment [{{employmentNumber}}] needed")
    for item in items:
        number = item.get("employmentNumber") if isinstance(item, dict) else None
        if number is None or str(number).strip() == "":
            raise DatasetError(f"employee {employee['id']}: an employment lacks employmentNumber")
        item["employmentNumber"] = str(number)
    return items


def _check_no_overlap(periods: list[JsonObject], employee_id: str) -> None:
    """Flex HRM refuses overlapping employment periods for one employee (`toDate` inclusive)."""
    for period in periods:
        end = period.get("toDate")
        if end and parse_timestamp(str(end)) < parse_timestamp(str(period["fromDate"])):
            raise DatasetError(f"employee {employee_id}: a period ends before it starts")
    for earlier, later in itertools.pairwise(periods):
        end = earlier.get("toDate")
        if end is None or parse_timestamp(str(end)) >= parse_timestamp(str(later["fromDate"])):
            raise DatasetError(f"employee {employee_id}: employment periods overlap")


def _organizations(employee: JsonObject) -> list[Mapping[str, str]]:
    found: list[Mapping[str, str]] = [employee.get("organization") or {}]
    found += [p["organization"] for p in employee["employmentPeriods"] if p.get("organization")]
    return found


def load_dataset(path: str | Path) -> JsonObject:
    """Read and validate a v2 dataset file (UTF-8 JSON); raise DatasetError with the reason."""
    try:
        dataset = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DatasetError(f"{path}: {error}") from None
    if not isinstance(dataset, dict):
        raise DatasetError(f"{path}: a dataset is a JSON object")
    FlexStore(dataset, now=datetime(2000, 1, 1))  # validates; the store is thrown away
    return dataset
