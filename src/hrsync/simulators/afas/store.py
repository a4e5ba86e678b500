"""The AFAS simulator's store: GetConnector rows in memory, their field schemas, and mutations.

A dataset is `{"connectors": {connector id: [row, …]}}`; rows use the connector's field ids as
keys, as AFAS sends them. The three HelloID standard connectors have a declared schema (their
metainfo); any other connector in a dataset is served with every field typed as a string.
"""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

JsonObject = dict[str, Any]

USERS = "T4E_HelloID_Users_v2"
EMPLOYMENTS = "T4E_HelloID_Employments_v2"
ORGANIZATIONAL_UNITS = "T4E_HelloID_OrganizationalUnits_v2"
MODIFIED = "Mutatiedatum"
"""The modification date field of the users and employments connectors (the name is the
simulator's choice; a customer's own GetConnector may call it otherwise)."""

TIMESTAMP = "%Y-%m-%dT%H:%M:%S"
"""How the simulator writes a modification date: naive local time, as Profit keeps it."""


@dataclass(frozen=True, slots=True)
class Field:
    """One field of a GetConnector as `/metainfo/get/{id}` describes it."""

    id: str
    label: str
    data_type: str = "string"  # string, int, decimal, date, boolean (AFAS's metainfo names)
    length: int = 255

    def to_json(self) -> JsonObject:
        return {
            "id": self.id,
            "fieldId": self.id,
            "dataType": self.data_type,
            "label": self.label,
            "length": self.length if self.data_type == "string" else 0,
            "controlType": 1,
            "decimals": 0,
            "decimalsFieldId": "",
        }


def _fields(*specs: tuple[str, str] | tuple[str, str, str]) -> tuple[Field, ...]:
    return tuple(Field(spec[0], spec[1], spec[2] if len(spec) == 3 else "string") for spec in specs)


SCHEMAS: dict[str, tuple[str, tuple[Field, ...]]] = {
    USERS: (
        "HelloID - Medewerkers",
        _fields(
            ("Medewerker", "Medewerker"),
            ("Persoonsnummer", "Persoonsnummer"),
            ("Voornaam", "Voornaam"),
            ("Roepnaam", "Roepnaam"),
            ("Voorvoegsel", "Voorvoegsel"),
            ("Achternaam", "Achternaam"),
            ("Geboortenaam", "Geboortenaam"),
            ("Voorvoegsel_partner", "Voorvoegsel geb. naam partner"),
            ("Geboortenaam_partner", "Geb. naam partner"),
            ("Naamgebruik_code", "Naamgebruik (code)"),
            ("Email_werk", "E-mail werk"),
            ("Mobiel_werk", "Mobiel werk"),
            (MODIFIED, "Datum gewijzigd", "date"),
        ),
    ),
    EMPLOYMENTS: (
        "HelloID - Dienstverbanden",
        _fields(
            ("ExternalID", "Extern ID"),
            ("Medewerker", "Medewerker"),
            ("Begindatum", "Begindatum", "date"),
            ("Einddatum", "Einddatum", "date"),
            ("Functie_code", "Functie (code)"),
            ("Functie_omschrijving", "Functie (omschrijving)"),
            ("Organisatorische_eenheid_code", "Organisatorische eenheid (code)"),
            ("Organisatorische_eenheid_omschrijving", "Organisatorische eenheid"),
            ("Leidinggevende_medewerker", "Leidinggevende (medewerker)"),
            (MODIFIED, "Datum gewijzigd", "date"),
        ),
    ),
    ORGANIZATIONAL_UNITS: (
        "HelloID - Organisatorische eenheden",
        _fields(
            ("ExternalId", "Organisatorische eenheid"),
            ("DisplayName", "Omschrijving"),
            ("ParentExternalId", "Bovenliggende eenheid"),
        ),
    ),
}


class DatasetError(ValueError):
    """The dataset, or a change to it, breaks a rule the simulator relies on."""


class UnknownEmployeeError(LookupError):
    """No user row has the given Medewerker."""


def load_dataset(path: Path) -> JsonObject:
    """A dataset file, checked; DatasetError when it is not one."""
    try:
        dataset = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise DatasetError(f"{path}: {error}") from None
    check_dataset(dataset)
    return dataset  # type: ignore[no-any-return]


def check_dataset(dataset: object) -> None:
    """Raise DatasetError unless `dataset` is `{"connectors": {id: [object, …]}}`."""
    connectors = dataset.get("connectors") if isinstance(dataset, dict) else None
    if not isinstance(connectors, dict):
        raise DatasetError('a dataset is an object with "connectors": {connector id: [rows]}')
    for connector, rows in connectors.items():
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise DatasetError(f"connector {connector!r}: rows must be a list of objects")


def fields_of(connector: str, rows: list[JsonObject]) -> tuple[Field, ...]:
    """The declared schema of a standard connector, else one string field per key seen."""
    if connector in SCHEMAS:
        return SCHEMAS[connector][1]
    keys = dict.fromkeys(key for row in rows for key in row)
    return tuple(Field(key, key) for key in keys)


class AfasStore:
    """The rows of every connector, behind one lock: request threads read while tests patch.

    Readers get a snapshot (`rows`); `patch_employee` replaces rows, never edits them in place,
    so a snapshot taken before a patch stays as it was.
    """

    def __init__(self, dataset: Mapping[str, Any], clock: Callable[[], datetime]) -> None:
        check_dataset(dataset)
        self._original = copy.deepcopy(dict(dataset))
        self._clock = clock
        self._lock = threading.Lock()
        self._connectors: dict[str, list[JsonObject]] = {}
        self.reset()

    def reset(self) -> None:
        """Back to the dataset the store was made with."""
        with self._lock:
            self._connectors = copy.deepcopy(self._original["connectors"])

    def connector_ids(self) -> list[str]:
        with self._lock:
            return list(self._connectors)

    def rows(self, connector: str) -> list[JsonObject] | None:
        """A snapshot of a connector's rows, or None when there is no such connector."""
        with self._lock:
            found = self._connectors.get(connector)
            return None if found is None else list(found)

    def to_dataset(self) -> JsonObject:
        with self._lock:
            return {"connectors": copy.deepcopy(self._connectors)}

    def employee(self, number: str) -> JsonObject:
        """The user row and every employment row of one Medewerker."""
        with self._lock:
            user = _find_user(self._connectors.get(USERS, []), number)
            jobs = [
                r for r in self._connectors.get(EMPLOYMENTS, []) if r.get("Medewerker") == number
            ]
            return {"user": copy.deepcopy(user), "employments": copy.deepcopy(jobs)}

    def patch_employee(self, number: str, patch: object) -> JsonObject:
        """Merge fields into the person's user row and current employment row.

        A field the users connector has goes to the user row, one the employments connector has
        to the current employment (the open one with the latest start, else the latest one);
        `null` empties a field. Both rows get a new modification date.
        """
        if not isinstance(patch, dict) or not patch:
            raise DatasetError("a patch is a non-empty object of field id → value")
        user_fields = {f.id for f in SCHEMAS[USERS][1]}
        job_fields = {f.id for f in SCHEMAS[EMPLOYMENTS][1]}
        unknown = sorted(set(patch) - user_fields - job_fields)
        if unknown:
            raise DatasetError(f"no connector has the field(s) {', '.join(unknown)}")
        stamp = self._clock().strftime(TIMESTAMP)
        with self._lock:
            users = self._connectors.setdefault(USERS, [])
            index = users.index(_find_user(users, number))
            users[index] = _merged(users[index], patch, user_fields - {"Medewerker"}, stamp)
            jobs = self._connectors.setdefault(EMPLOYMENTS, [])
            current = current_employment_index(jobs, number)
            if current is not None:
                jobs[current] = _merged(jobs[current], patch, job_fields - {"Medewerker"}, stamp)
        return self.employee(number)

    def add_employee(self, body: object) -> JsonObject:
        """A new hire: `{"user": {…}, "employments": [{…}, …]}`, both stamped as modified now;
        the employments get the user's Medewerker and an ExternalID when they lack one."""
        if not isinstance(body, dict) or not isinstance(body.get("user"), dict):
            raise DatasetError('a new employee is {"user": {…}, "employments": [{…}]}')
        jobs = body.get("employments") or []
        if not isinstance(jobs, list) or not all(isinstance(job, dict) for job in jobs):
            raise DatasetError("employments must be a list of objects")
        number = str(body["user"].get("Medewerker") or "").strip()
        if not number:
            raise DatasetError("the user row needs a Medewerker")
        stamp = self._clock().strftime(TIMESTAMP)
        with self._lock:
            users = self._connectors.setdefault(USERS, [])
            if any(str(row.get("Medewerker")) == number for row in users):
                raise DatasetError(f"Medewerker {number} exists already")
            users.append({**body["user"], "Medewerker": number, MODIFIED: stamp})
            self._connectors.setdefault(EMPLOYMENTS, []).extend(
                {"ExternalID": f"{number}_{seq}", **job, "Medewerker": number, MODIFIED: stamp}
                for seq, job in enumerate(jobs, start=1)
            )
        return self.employee(number)

    def add_rows(self, connector: str, rows: list[JsonObject]) -> None:
        """Append rows to a connector (made when missing)."""
        check_dataset({"connectors": {connector: rows}})
        with self._lock:
            self._connectors.setdefault(connector, []).extend(copy.deepcopy(rows))


def _find_user(users: list[JsonObject], number: str) -> JsonObject:
    for row in users:
        if str(row.get("Medewerker")) == number:
            return row
    raise UnknownEmployeeError(number)


def current_employment_index(jobs: list[JsonObject], number: str) -> int | None:
    """Which row is the person's current employment: open-ended rows first, then the latest
    start (ISO dates sort as text)."""
    mine = [(i, row) for i, row in enumerate(jobs) if str(row.get("Medewerker")) == number]
    if not mine:
        return None

    def rank(entry: tuple[int, JsonObject]) -> tuple[bool, str]:
        row = entry[1]
        return (not row.get("Einddatum"), str(row.get("Begindatum") or ""))

    return max(mine, key=rank)[0]


def _merged(row: JsonObject, patch: JsonObject, allowed: set[str], stamp: str) -> JsonObject:
    changes = {key: value for key, value in patch.items() if key in allowed}
    merged = {**row, **changes}
    if MODIFIED in merged or MODIFIED in allowed:
        merged[MODIFIED] = stamp
    return merged
