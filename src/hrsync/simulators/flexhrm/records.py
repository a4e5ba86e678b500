"""The Flex HRM simulator's write side and employment documents (research §1.3, §1.9).

Employee update, employment periods create and update with the overlap rule, document
categories per company, and employment documents (list and base64 upload). The paths are
INFERRED from Flex's naming convention (plural, lower-case, no separator); the client takes
them from its configuration. Each write needs its permission: an API user without it gets 403.
"""

from __future__ import annotations

import base64
import binascii
import copy
import json
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hrsync.simulators.flexhrm.api import ProblemError, company_scope
from hrsync.simulators.flexhrm.store import (
    DatasetError,
    FlexStore,
    JsonObject,
    api_datetime,
    derived_id,
    format_timestamp,
    parse_timestamp,
)

ALL_PERMISSIONS = frozenset(
    {
        "employees:read",
        "employees:write",
        "employmentperiods:read",
        "employmentperiods:write",
        "documents:read",
        "documents:write",
    }
)
MAX_FILE_NAME = 200
"""Flex HRM refuses longer document names (the Flex HRM and Oneflow guide, seed 002)."""
DEFAULT_CATEGORIES = (("Oneflow Documents", True), ("Other", False))
_EMPLOYEE_WRITABLE = frozenset(
    {
        "firstName",
        "lastName",
        "nationalIdentificationNumber",
        "dateOfBirth",
        "gender",
        "nationality",
        "addressRow1",
        "addressRow2",
        "postalCode",
        "city",
        "country",
        "emailWork",
        "emailPrivate",
        "mailingEmailWork",
        "mailingEmailPrivate",
        "phone1",
        "phone2",
        "phone3",
        "phone4",
        "immediateManagerEmployeeId",
        "isInAuditProcess",
        "salaryRevisionYear",
        "unionId",
    }
)
_PERIOD_WRITABLE = frozenset(
    {"fromDate", "toDate", "titleId", "employmentTypeId", "salaryType", "hasFinalSalary"}
)
_VALIDATION = "One or more validation errors occurred."


@dataclass(frozen=True, slots=True)
class WriteRequest:
    """One request below the mount: method, segments, query (keys lower-cased), body, and
    the caller's company scope and permissions."""

    method: str
    segments: tuple[str, ...]
    query: Mapping[str, str]
    body: bytes
    scope: frozenset[str]
    permissions: frozenset[str]


class FlexRecords:
    """Employee and period writes, document categories and documents, over the shared store."""

    def __init__(self, store: FlexStore, dataset: Mapping[str, Any], clock: Callable[[], datetime]):
        self.store = store
        self.clock = clock
        self._lock = threading.RLock()
        self.categories = _categories(store, dataset.get("documentCategories"))
        self.documents: dict[str, list[JsonObject]] = {}

    def handles(self, method: str, segments: tuple[str, ...]) -> bool:
        return self._route(method, tuple(s.lower() for s in segments)) is not None

    def handle(self, request: WriteRequest) -> object:
        lowered = tuple(s.lower() for s in request.segments)
        route = self._route(request.method, lowered)
        if route is None:
            raise ProblemError(404, "Not Found")
        permission, view = route
        if permission and permission not in request.permissions:
            raise ProblemError(403, "Forbidden", {"permission": [f"{permission} is required."]})
        return view(request, list(request.segments))

    def _route(
        self, method: str, path: tuple[str, ...]
    ) -> tuple[str, Callable[[WriteRequest, list[str]], object]] | None:
        match (method, *path):
            case ("PUT", "employees", _):
                return "employees:write", self._update_employee
            case ("POST", "employees", _, "employmentperiods"):
                return "employmentperiods:write", self._create_period
            case ("PUT", "employees", _, "employmentperiods", _):
                return "employmentperiods:write", self._update_period
            case ("GET", "companies", _, "employmentdocumentcategories"):
                return "documents:read", self._company_categories
            case ("GET", "employmentdocumentcategories"):
                return "documents:read", self._categories
            case ("GET", "employmentdocuments"):
                return "documents:read", self._documents
            case ("POST", "employees", _, "employmentdocuments"):
                return "documents:write", self._upload
            case ("GET", "apiuser", "permissions"):
                return "", self._permissions  # every API user may ask what it may do
        return None

    def _permissions(self, request: WriteRequest, _: list[str]) -> object:
        """The caller's permissions (INFERRED: the set-up check asks before it writes)."""
        return {"permissions": sorted(request.permissions)}

    # --- employees and periods ---------------------------------------------------------------

    def _update_employee(self, request: WriteRequest, _: list[str]) -> object:
        employee = self._scoped_employee(request, request.segments[1])
        body = _object(request.body)
        patch = {
            key: value
            for given, value in body.items()
            for key in [_writable(given, _EMPLOYEE_WRITABLE)]
            if key is not None
        }
        if "firstName" in patch and not patch["firstName"]:
            raise ProblemError(
                400, _VALIDATION, {"firstName": ["The FirstName field is required."]}
            )
        # Merge patch semantics would delete on null; a PUT stores the null instead.
        updated = copy.deepcopy(employee) | patch
        updated.pop("modified", None)
        try:
            self.store.add_employee(updated, now=self.clock(), replace=True)
        except DatasetError as error:
            raise ProblemError(400, _VALIDATION, {"employee": [str(error)]}) from None
        return {"id": employee["id"], **{k: updated.get(k) for k in sorted(_EMPLOYEE_WRITABLE)}}

    def _create_period(self, request: WriteRequest, _: list[str]) -> object:
        employee = self._scoped_employee(request, request.segments[1])
        period = _period_fields(_object(request.body))
        if not period.get("fromDate"):
            raise ProblemError(400, _VALIDATION, {"fromDate": ["The FromDate field is required."]})
        period["id"] = str(uuid.uuid4())
        return self._store_period(employee, period, replacing=None)

    def _update_period(self, request: WriteRequest, _: list[str]) -> object:
        employee = self._scoped_employee(request, request.segments[1])
        period_id = request.segments[3].lower()
        current = next((p for p in employee["employmentPeriods"] if p["id"] == period_id), None)
        if current is None:
            raise ProblemError(404, "Not Found")
        period = copy.deepcopy(current) | _period_fields(_object(request.body))
        return self._store_period(employee, period, replacing=period_id)

    def _store_period(
        self, employee: JsonObject, period: JsonObject, replacing: str | None
    ) -> JsonObject:
        with self._lock:
            others = [p for p in employee["employmentPeriods"] if p["id"] != replacing]
            _refuse_overlap(period, others)
            updated = copy.deepcopy(employee)
            updated["employmentPeriods"] = [*copy.deepcopy(others), period]
            updated.pop("modified", None)
            try:
                self.store.add_employee(updated, now=self.clock(), replace=True)
            except DatasetError as error:
                raise ProblemError(400, _VALIDATION, {"employmentPeriod": [str(error)]}) from None
        shown = {k: v for k, v in period.items() if k != "organization"}
        shown |= {"employeeId": employee["id"], "companyId": employee["companyId"]}
        shown["fromDate"] = api_datetime(shown.get("fromDate"))
        shown["toDate"] = api_datetime(shown.get("toDate"))
        return shown

    # --- documents ---------------------------------------------------------------------------

    def _company_categories(self, request: WriteRequest, args: list[str]) -> object:
        company_id = self._scoped_company(request, args[1].lower())
        return [c for c in self.categories.values() if c["companyId"] == company_id]

    def _categories(self, request: WriteRequest, _: list[str]) -> object:
        wanted = request.query.get("companyid")
        return [
            c
            for c in self.categories.values()
            if company_scope(request.scope, c["companyId"])
            and (not wanted or c["companyId"] == wanted.lower())
        ]

    def _documents(self, request: WriteRequest, _: list[str]) -> object:
        company_id = request.query.get("companyid")
        if not company_id:
            raise ProblemError(
                400, _VALIDATION, {"companyId": ["The companyId field is required."]}
            )
        company_id = self._scoped_company(request, company_id.lower())
        employee_id = (request.query.get("employeeid") or "").lower()
        category = (request.query.get("documentcatagoryid") or "").lower()  # sic, as Flex spells it
        since = request.query.get("createdsince")
        moment = parse_timestamp(since) if since else None
        with self._lock:
            found = [
                _shown(d)
                for owner, documents in self.documents.items()
                if not employee_id or owner == employee_id
                for d in documents
                if d["companyId"] == company_id
                and (not category or d["documentCategoryId"] == category)
                and (moment is None or parse_timestamp(d["created"]) >= moment)
            ]
        return found

    def _upload(self, request: WriteRequest, _: list[str]) -> object:
        employee = self._scoped_employee(request, request.segments[1])
        body = _object(request.body)
        category = str(body.get("documentCategoryId") or "").lower()
        if self.categories.get(category, {}).get("companyId") != employee["companyId"]:
            raise ProblemError(
                400, _VALIDATION, {"documentCategoryId": ["No such category in the company."]}
            )
        file = body.get("file")
        if not isinstance(file, dict):
            raise ProblemError(400, _VALIDATION, {"file": ["The File field is required."]})
        name, content = _file(file)
        document = {
            "id": str(uuid.uuid4()),
            "employeeId": employee["id"],
            "companyId": employee["companyId"],
            "documentCategoryId": category,
            "fileName": name,
            "contentType": str(file.get("contentType") or "application/octet-stream"),
            "contentLength": len(content),
            "content": content,
            "created": format_timestamp(self.clock()),
        }
        with self._lock:
            self.documents.setdefault(employee["id"], []).append(document)
        return _shown(document)

    def employee_documents(self, employee_id: str) -> list[JsonObject]:
        """For `/_sim/employees/{id}`: fileName, category name, contentLength, created."""
        with self._lock:
            return [
                {
                    "fileName": d["fileName"],
                    "category": self.categories[d["documentCategoryId"]]["name"],
                    "contentLength": d["contentLength"],
                    "created": d["created"],
                }
                for d in self.documents.get(employee_id, [])
            ]

    def document_content(self, employee_id: str, file_name: str) -> bytes | None:
        with self._lock:
            for document in self.documents.get(employee_id, []):
                if document["fileName"] == file_name:
                    return bytes(document["content"])
        return None

    # --- scope -------------------------------------------------------------------------------

    def _scoped_company(self, request: WriteRequest, company_id: str) -> str:
        if company_id not in self.store.companies:
            raise ProblemError(404, "Not Found")
        if not company_scope(request.scope, company_id):
            raise ProblemError(403, "Forbidden")
        return company_id

    def _scoped_employee(self, request: WriteRequest, employee_id: str) -> JsonObject:
        employee = self.store.employee(employee_id.lower())
        if employee is None:
            raise ProblemError(404, "Not Found")
        self._scoped_company(request, employee["companyId"])
        return employee


def _categories(store: FlexStore, declared: object) -> dict[str, JsonObject]:
    """The dataset's `documentCategories`, else "Oneflow Documents" and "Other" per company."""
    if declared is None:
        return {
            (cid := derived_id(company, "category", name)): {
                "id": cid,
                "companyId": company,
                "name": name,
                "usedInEmploymentRegister": used,
            }
            for company in store.company_ids()
            for name, used in DEFAULT_CATEGORIES
        }
    if not isinstance(declared, list):
        raise DatasetError("`documentCategories` must be a list")
    found: dict[str, JsonObject] = {}
    for item in declared:
        if not isinstance(item, dict) or item.get("companyId") not in store.companies:
            raise DatasetError("a document category needs an id, a known companyId and a name")
        category = {
            "id": str(item.get("id") or derived_id(item["companyId"], "category", item["name"])),
            "companyId": item["companyId"],
            "name": str(item["name"]),
            "usedInEmploymentRegister": bool(item.get("usedInEmploymentRegister", False)),
        }
        found[category["id"]] = category
    return found


def _refuse_overlap(period: JsonObject, others: list[JsonObject]) -> None:
    """400 naming the period this one overlaps (`toDate` inclusive, None open-ended)."""
    start = parse_timestamp(str(period["fromDate"]))
    end = parse_timestamp(str(period["toDate"])) if period.get("toDate") else None
    if end is not None and end < start:
        raise ProblemError(400, _VALIDATION, {"toDate": ["ToDate is before FromDate."]})
    for other in others:
        other_start = parse_timestamp(str(other["fromDate"]))
        other_end = parse_timestamp(str(other["toDate"])) if other.get("toDate") else None
        if (other_end is None or start <= other_end) and (end is None or other_start <= end):
            span = f"{other_start:%Y-%m-%d} - {f'{other_end:%Y-%m-%d}' if other_end else '…'}"
            raise ProblemError(
                400,
                _VALIDATION,
                {"fromDate": [f"The employment period overlaps employment period {other['id']} "
                              f"({span})."]},
            )  # fmt: skip


def _file(file: Mapping[str, Any]) -> tuple[str, bytes]:
    name = str(file.get("fileName") or "")
    if not name:
        raise ProblemError(400, _VALIDATION, {"file.fileName": ["The FileName field is required."]})
    if len(name) > MAX_FILE_NAME:
        raise ProblemError(
            400,
            _VALIDATION,
            {"file.fileName": [f"The field FileName must be at most {MAX_FILE_NAME} characters."]},
        )
    try:
        content = base64.b64decode(str(file.get("fileContent") or ""), validate=True)
    except (binascii.Error, ValueError):
        raise ProblemError(400, _VALIDATION, {"file.fileContent": ["Not base64."]}) from None
    length = file.get("contentLength")
    if length is not None and length != len(content):
        raise ProblemError(400, _VALIDATION, {"file.contentLength": ["Does not match."]})
    return name, content


def _period_fields(body: Mapping[str, Any]) -> JsonObject:
    fields = {}
    for given, value in body.items():
        key = _writable(given, _PERIOD_WRITABLE)
        if key is not None:
            fields[key] = value
    for key in ("fromDate", "toDate"):
        if fields.get(key):
            fields[key] = str(fields[key])[:10]
    return fields


def _writable(given: str, allowed: frozenset[str]) -> str | None:
    """The camelCase name of a body key in either casing, when it may be written."""
    folded = {name.lower(): name for name in allowed}
    return folded.get(given.lower())


def _shown(document: JsonObject) -> JsonObject:
    return {k: v for k, v in document.items() if k != "content"}


def _object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body or b"null")
    except ValueError:
        raise ProblemError(400, "The request body is not JSON.") from None
    if not isinstance(value, dict):
        raise ProblemError(400, _VALIDATION, {"body": ["A JSON object is required."]})
    return _camel(value)


def _camel(value: dict[str, Any]) -> dict[str, Any]:
    """Body keys in camelCase, whichever dialect sent them (`FileName` → `fileName`)."""
    return {
        key[:1].lower() + key[1:]: _camel(item) if isinstance(item, dict) else item
        for key, item in value.items()
    }
