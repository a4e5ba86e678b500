"""The Flex HRM API resources: routes, query parameters, paging and wire shapes (camelCase).

Transport-free: the server hands over a path below the mount, the query and the caller's
company scope, and gets back a JSON value or a `ProblemError`. The legacy casing is the server's.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from hrsync.simulators.flexhrm.store import (
    FlexStore,
    JsonObject,
    api_datetime,
    employment_numbers,
    parse_timestamp,
)

_EMPLOYEE_DEFAULTS: JsonObject = {
    "nationalIdentificationNumber": None,
    "dateOfBirth": None,
    "gender": 0,
    "nationality": None,
    "addressRow1": None,
    "addressRow2": None,
    "postalCode": None,
    "city": None,
    "country": None,
    "emailWork": None,
    "emailPrivate": None,
    "mailingEmailWork": True,
    "mailingEmailPrivate": False,
    "phone1": None,
    "phone2": None,
    "phone3": None,
    "phone4": None,
    "immediateManagerEmployeeId": None,
    "isInAuditProcess": False,
    "salaryRevisionYear": None,
    "unionId": None,
}
_COMPANY_DEFAULTS: JsonObject = {
    "startDate": None,
    "isHrLicensed": True,
    "isPayrollLicensed": True,
    "isTimeLicensed": False,
    "isWinningtempLicensed": False,
}
# Dataset-only keys: the real employee model carries neither periods, organisation nor `modified`.
_DATASET_ONLY = frozenset({"employmentPeriods", "organization", "modified"})


class ProblemError(Exception):
    """A request the API refuses; the server renders it as RFC 7807 ProblemDetails."""

    def __init__(self, status: int, title: str, errors: Mapping[str, list[str]] | None = None):
        super().__init__(title)
        self.status = status
        self.title = title
        self.errors = dict(errors) if errors else None


@dataclass(frozen=True, slots=True)
class ApiRequest:
    """One GET below the mount: path segments, query (keys lower-cased), the caller's scope."""

    segments: tuple[str, ...]
    query: Mapping[str, str]
    scope: frozenset[str]


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of a list resource and the size of the whole list."""

    items: list[JsonObject]
    total: int


Result = JsonObject | Listing
_View = Callable[["ApiRequest", list[str]], Result]


def invalid(name: str, value: str) -> ProblemError:
    """A 400 for a query or body value that does not bind, worded like ASP.NET model binding."""
    return ProblemError(
        400,
        "One or more validation errors occurred.",
        {name: [f"The value '{value}' is not valid."]},
    )


class FlexApi:
    """The GET resources of one instance, over a shared store."""

    def __init__(self, store: FlexStore, *, instance: str, max_page_size: int) -> None:
        self.store = store
        self.instance = instance
        self.instance_id = str(uuid.uuid5(uuid.NAMESPACE_DNS, f"{instance}.flexhrm.invalid"))
        self.max_page_size = max_page_size
        self._routes: list[tuple[tuple[str, ...], _View]] = [
            (("instance", "*", "companies"), self._instance_companies),
            (("companies",), self._companies),
            (("companies", "*"), self._company),
            (("companies", "*", "accountdistributions"), self._company_distributions),
            (("accountdistributions",), self._distributions),
            (("accountdistributions", "*", "accounts"), self._accounts),
            (("employees",), self._employees),
            (("employees", "*"), self._employee),
            (("employees", "*", "employmentperiods"), self._periods),
            (("employmenttitles",), self._titles),
            (("employmenttypes",), self._types),
        ]

    def handle(self, request: ApiRequest) -> Result:
        """Answer one GET; raise ProblemError for 400/403/404."""
        for pattern, view in self._routes:
            args = _match(pattern, request.segments)
            if args is not None:
                self._check_instance(request.query.get("instance"))
                return view(request, args)
        raise ProblemError(404, "Not Found")

    # --- companies --------------------------------------------------------------------------------

    def _instance_companies(self, request: ApiRequest, args: list[str]) -> Result:
        self._check_instance(args[0])
        return self._companies(request, [])

    def _companies(self, request: ApiRequest, _: list[str]) -> Result:
        ids = [cid for cid in self.store.company_ids() if company_scope(request.scope, cid)]
        return self._page(request, [self._render_company(cid) for cid in ids])

    def _company(self, request: ApiRequest, args: list[str]) -> Result:
        return self._render_company(self._scoped_company(request, args[0].lower()))

    def _render_company(self, company_id: str) -> JsonObject:
        company = self.store.companies[company_id]
        body = {
            "id": company_id,
            "instanceId": self.instance_id,
            "companyNumber": company["companyNumber"],
            "name": company["name"],
            "organizationNumber": None,
            **_COMPANY_DEFAULTS,
        }
        body.update(company)
        body["startDate"] = api_datetime(body["startDate"])
        return body

    # --- organisation dimensions ------------------------------------------------------------------

    def _company_distributions(self, request: ApiRequest, args: list[str]) -> Result:
        company_id = self._scoped_company(request, args[0].lower())
        return self._page(request, self.store.distributions(company_id))

    def _distributions(self, request: ApiRequest, _: list[str]) -> Result:
        found = [
            distribution
            for company_id in self._companies_in_query(request, alias="company")
            for distribution in self.store.distributions(company_id)
        ]
        return self._page(request, found)

    def _accounts(self, request: ApiRequest, args: list[str]) -> Result:
        distribution_id = args[0].lower()
        owner = self.store.distribution(distribution_id)
        if owner is None:
            raise ProblemError(404, "Not Found")
        self._scoped_company(request, owner[0])
        return self._page(request, self.store.accounts(distribution_id))

    # --- employees --------------------------------------------------------------------------------

    def _employees(self, request: ApiRequest, _: list[str]) -> Result:
        companies = set(self._companies_in_query(request))
        keep = _employee_filter(request.query)
        since = _timestamp_param(request.query, "modifiedsince")
        found = [
            employee
            for employee in self.store.employees()
            if employee["companyId"] in companies
            and keep(employee)
            and (since is None or self.store.modified(employee["id"]) >= since)
        ]
        page = self._page(request, found)
        return Listing([self._render_employee(e) for e in page.items], page.total)

    def _employee(self, request: ApiRequest, args: list[str]) -> Result:
        return self._render_employee(self._scoped_employee(request, args[0]))

    def _periods(self, request: ApiRequest, args: list[str]) -> Result:
        employee = self._scoped_employee(request, args[0])
        periods = [
            self._render_period(employee, period) for period in employee["employmentPeriods"]
        ]
        return self._page(request, periods)

    def _render_employee(self, employee: JsonObject) -> JsonObject:
        body: JsonObject = {
            "id": employee["id"],
            "instanceId": self.instance_id,
            "companyId": employee["companyId"],
            "firstName": employee["firstName"],
            "lastName": employee["lastName"],
            "name": f"{employee['firstName']} {employee['lastName']}",
            **_EMPLOYEE_DEFAULTS,
        }
        body.update((k, v) for k, v in employee.items() if k not in _DATASET_ONLY)
        body["dateOfBirth"] = api_datetime(body["dateOfBirth"])
        body["employment"] = [dict(item) for item in employee["employment"]]
        return body

    def _render_period(self, employee: JsonObject, period: JsonObject) -> JsonObject:
        organization = period.get("organization") or employee.get("organization") or {}
        body: JsonObject = {
            "id": period["id"],
            "instanceId": self.instance_id,
            "companyId": employee["companyId"],
            "employeeId": employee["id"],
            "fromDate": None,
            "toDate": None,
            "titleId": None,
            "employmentTypeId": None,
            "salaryType": 0,
        }
        body.update((k, v) for k, v in period.items() if k != "organization")
        body["fromDate"] = api_datetime(body["fromDate"])
        body["toDate"] = api_datetime(body["toDate"])
        body["accounts"] = self.store.placement(employee["companyId"], organization)
        return body

    # --- titles and types -------------------------------------------------------------------------

    def _titles(self, request: ApiRequest, _: list[str]) -> Result:
        active = _bool_param(request.query, "active")
        titles = [
            {"instanceId": self.instance_id, "description": None, "active": True, **title}
            for title in self._company_items(request, self.store.titles.values())
        ]
        return self._page(request, [t for t in titles if active is None or t["active"] == active])

    def _types(self, request: ApiRequest, _: list[str]) -> Result:
        types = self._company_items(request, self.store.types.values())
        return self._page(request, [{"instanceId": self.instance_id, **t} for t in types])

    def _company_items(self, request: ApiRequest, items: Iterable[JsonObject]) -> list[JsonObject]:
        order = {cid: n for n, cid in enumerate(self._companies_in_query(request))}
        found = [item for item in items if item["companyId"] in order]
        return sorted(found, key=lambda item: (order[item["companyId"]], str(item.get("code"))))

    # --- scope, parameters, paging ----------------------------------------------------------------

    def _check_instance(self, instance: str | None) -> None:
        if instance is not None and instance.lower() != self.instance.lower():
            raise ProblemError(403, "Forbidden")

    def _scoped_company(self, request: ApiRequest, company_id: str) -> str:
        if company_id not in self.store.companies:
            raise ProblemError(404, "Not Found")
        if not company_scope(request.scope, company_id):
            raise ProblemError(403, "Forbidden")
        return company_id

    def _scoped_employee(self, request: ApiRequest, employee_id: str) -> JsonObject:
        employee = self.store.employee(employee_id.lower())
        if employee is None:
            raise ProblemError(404, "Not Found")
        self._scoped_company(request, employee["companyId"])
        return employee

    def _companies_in_query(self, request: ApiRequest, alias: str = "companyid") -> list[str]:
        """Companies selected by `companyId` (or `alias`) and `companynumber`, within scope."""
        ids = [cid for cid in self.store.company_ids() if company_scope(request.scope, cid)]
        key = "companyid" if "companyid" in request.query else alias
        company_id = _uuid_param(request.query, key)
        if company_id is not None:
            if not company_scope(request.scope, company_id):
                raise ProblemError(403, "Forbidden")
            ids = [cid for cid in ids if cid == company_id]
        number = _int_param(request.query, "companynumber")
        if number is not None:
            company = self.store.company_by_number(number)
            if company is not None and not company_scope(request.scope, company["id"]):
                raise ProblemError(403, "Forbidden")
            ids = [cid for cid in ids if company is not None and cid == company["id"]]
        return ids

    def _page(self, request: ApiRequest, items: list[JsonObject]) -> Listing:
        index = _int_param(request.query, "pageindex")
        size = _int_param(request.query, "pagesize")
        index = 0 if index is None else index
        size = 20 if size is None else size
        if index < 0:
            raise invalid("pageIndex", str(index))
        if not 1 <= size <= self.max_page_size:
            raise ProblemError(
                400,
                "One or more validation errors occurred.",
                {"pageSize": [f"The field pageSize must be between 1 and {self.max_page_size}."]},
            )
        return Listing(items[index * size : (index + 1) * size], len(items))


def company_scope(company_ids: Collection[str], company_id: str) -> bool:
    """True when `company_id` lies in a credential's scope (an empty scope means all companies)."""
    return not company_ids or company_id in company_ids


def _match(pattern: tuple[str, ...], segments: tuple[str, ...]) -> list[str] | None:
    """The `*` arguments when `segments` fit `pattern` (literals compare case-insensitively)."""
    if len(pattern) != len(segments):
        return None
    args: list[str] = []
    for expected, actual in zip(pattern, segments, strict=True):
        if expected == "*":
            args.append(actual)
        elif expected != actual.lower():
            return None
    return args


def _employee_filter(query: Mapping[str, str]) -> Callable[[JsonObject], bool]:
    number = query.get("employmentnumber")
    email = query.get("email")
    national_id = query.get("nationalidentificationnumber")

    def keep(employee: JsonObject) -> bool:
        if number is not None and number not in employment_numbers(employee):
            return False
        if email is not None and (employee.get("emailWork") or "").lower() != email.lower():
            return False
        return national_id is None or employee.get("nationalIdentificationNumber") == national_id

    return keep


def _uuid_param(query: Mapping[str, str], name: str) -> str | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        return str(uuid.UUID(value))
    except ValueError:
        raise invalid(name, value) from None


def _int_param(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise invalid(name, value) from None


def _bool_param(query: Mapping[str, str], name: str) -> bool | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    if value.lower() not in ("true", "false"):
        raise invalid(name, value)
    return value.lower() == "true"


def _timestamp_param(query: Mapping[str, str], name: str) -> datetime | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        return parse_timestamp(value)
    except ValueError:
        raise invalid(name, value) from None
