"""A realistic, deterministic v2 dataset: a Swedish company group with a management chain.

Three companies, four offices, departments with teams, names with diacritics, duplicates and
multi-part surnames, pre-hires, leavers and temporary contracts, all dated relative to `today`.
"""

from __future__ import annotations

import random
import unicodedata
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

JsonObject = dict[str, Any]
MAIL_DOMAIN = "acme.example"


@dataclass(frozen=True, slots=True)
class _Office:
    city: str
    weight: int
    area_code: str
    postal_prefixes: tuple[str, ...]
    streets: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Department:
    names: tuple[str, str]  # (English, Swedish)
    weight: int
    head: tuple[str, str]  # (title code, title)
    titles: tuple[tuple[str, str], ...]
    teams: tuple[tuple[str, str], ...]  # (English, Swedish)


_COMPANIES = (("Acme Sverige AB", 5, 0), ("Acme Norden AB", 3, 0), ("Acme Konsult AB", 2, 1))
_OFFICES = (
    _Office("Stockholm", 5, "8", ("111", "113", "114", "116", "118"),
            ("Sveavägen", "Drottninggatan", "Götgatan", "Hornsgatan", "Birger Jarlsgatan")),
    _Office("Göteborg", 3, "31", ("411", "412", "413", "414", "416"),
            ("Kungsportsavenyen", "Linnégatan", "Övre Husargatan", "Första Långgatan")),
    _Office("Malmö", 2, "40", ("211", "212", "214", "217"),
            ("Södra Förstadsgatan", "Amiralsgatan", "Östra Rönneholmsvägen")),
    _Office("Umeå", 1, "90", ("903", "904", "906"),
            ("Storgatan", "Kungsgatan", "Västra Esplanaden", "Rådhusesplanaden")),
)  # fmt: skip
_DEPARTMENTS = (
    _Department(("Finance", "Ekonomi"), 3, ("EKCHEF", "Ekonomichef"),
                (("REDEK", "Redovisningsekonom"), ("CTRL", "Controller"),
                 ("EKASS", "Ekonomiassistent")),
                (("Payable", "Leverantörsreskontra"), ("Receivable", "Kundreskontra"),
                 ("Controlling", "Controlling"))),
    _Department(("IT", "IT"), 3, ("ITCHEF", "IT-chef"),
                (("SYSUTV", "Systemutvecklare"), ("ITTEK", "IT-tekniker"),
                 ("ARK", "Systemarkitekt")),
                (("Infrastructure", "Infrastruktur"), ("Development", "Utveckling"),
                 ("Support", "Support"))),
    _Department(("Sales", "Försäljning"), 4, ("SALJCHEF", "Försäljningschef"),
                (("SALJ", "Säljare"), ("KAM", "Key Account Manager"), ("INSALJ", "Innesäljare")),
                (("Nordics", "Norden"), ("Enterprise", "Storkund"), ("Inside Sales", "Innesälj"))),
    _Department(("HR", "HR"), 1, ("HRCHEF", "HR-chef"),
                (("HRSPEC", "HR-specialist"), ("REKR", "Rekryterare"),
                 ("LONSPEC", "Lönespecialist")),
                (("Recruitment", "Rekrytering"), ("Payroll", "Lön"))),
    _Department(("Operations", "Drift"), 4, ("DRIFTCHEF", "Driftchef"),
                (("LOG", "Logistiker"), ("LAGER", "Lagerarbetare"), ("PL", "Projektledare"),
                 ("FASTTEK", "Fastighetstekniker")),
                (("Logistics", "Logistik"), ("Warehouse", "Lager"), ("Support", "Support"))),
)  # fmt: skip
_MANAGEMENT = ("Management", "Ledning")
_CEO_TITLE = ("VD", "Verkställande direktör")
_RETIRED_TITLE = ("KONT", "Kontorist")
_TYPES = (
    ("TV", "Tillsvidareanställning"),
    ("VI", "Visstidsanställning"),
    ("PROV", "Provanställning"),
    ("EXT", "External Personnel"),
)
_MEN = (
    "Erik", "Lars", "Karl", "Anders", "Johan", "Per", "Nils", "Mikael", "Björn", "Jörgen", "Östen",
    "Åke", "Oskar", "Gustav", "Håkan", "Jan-Olof", "Lars-Erik", "Göran", "Mohammed", "Ali", "Minh",
    "Ole", "Sven", "Stefan", "Mattias",
)  # fmt: skip
_WOMEN = (
    "Anna", "Maria", "Karin", "Åsa", "Märta", "Eva", "Kristina", "Lena", "Emma", "Sofia", "Ingrid",
    "Linnéa", "Fatima", "Aisha", "Thi", "Ingeborg", "Anna-Karin", "Britt-Marie", "Elin", "Sara",
    "Malin", "Lovisa", "Signe", "Gunilla", "Hanna",
)  # fmt: skip
_SURNAMES = (
    ("Andersson", 12), ("Johansson", 11), ("Karlsson", 10), ("Nilsson", 9), ("Eriksson", 9),
    ("Larsson", 8), ("Olsson", 7), ("Persson", 7), ("Svensson", 6), ("Gustafsson", 5),
    ("Lindström", 4), ("Öberg", 3), ("Ähl", 1), ("Åberg", 3), ("Björklund", 3), ("Söderberg", 3),
    ("Sjögren", 2), ("Ekström", 3), ("Strömberg", 2), ("Lindqvist-Öhman", 1), ("Bergström-Ek", 1),
    ("von Essen", 1), ("de la Cruz", 1), ("Ødegaard", 1), ("Nguyen", 2), ("Ahmed", 2),
    ("Hussein", 1), ("Mäkinen", 1), ("Grönlund", 2),
)  # fmt: skip
# Placed first so even a small dataset shows the awkward cases.
_FEATURED = (
    ("Åsa", "Öberg", 2), ("Jörgen", "Ähl", 1), ("Björn", "Lindqvist-Öhman", 1),
    ("Märta", "von Essen", 2), ("Östen", "de la Cruz", 1), ("Ingrid", "Ødegaard", 2),
    ("Minh", "Nguyen", 1), ("Fatima", "Ahmed", 2), ("Anna", "Andersson", 2),
    ("Anna", "Andersson", 2),
)  # fmt: skip
_ASCII = str.maketrans({"ø": "o", "Ø": "O", "æ": "ae", "Æ": "AE", "ß": "ss", "đ": "d"})


def generate_dataset(count: int, seed: int = 1, today: date | None = None) -> JsonObject:
    """A v2 dataset with exactly `count` employees; the same seed and day give the same dataset."""
    if count < 0:
        raise ValueError("count cannot be negative")
    builder = _Builder(random.Random(seed), today or date.today())
    for index in range(count):
        builder.add_employee(index)
    return builder.dataset()


def ascii_fold(text: str) -> str:
    """Strip diacritics (Å→A, ö→o, é→e) and spell out Nordic letters that do not decompose (ø→o)."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_ASCII))
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def luhn_digit(digits: str) -> str:
    """The check digit Swedish personal and organisation numbers end with."""
    total = 0
    for position, char in enumerate(digits):
        product = int(char) * (2 if position % 2 == 0 else 1)
        total += product - 9 if product > 9 else product
    return str(-total % 10)


@dataclass(slots=True)
class _Company:
    record: JsonObject
    weight: int
    language: int
    titles: dict[str, str] = field(default_factory=dict)  # code -> id
    types: dict[str, str] = field(default_factory=dict)  # code -> id
    ceo: str | None = None
    heads: dict[int, str] = field(default_factory=dict)  # department index -> employee id
    next_number: int = 1000


class _Builder:
    """Accumulates one dataset; every random draw goes through `rng`, in a fixed order."""

    def __init__(self, rng: random.Random, today: date) -> None:
        self.rng, self.today = rng, today
        self.companies = [self._company(n, *spec) for n, spec in enumerate(_COMPANIES, 1)]
        self.employees: list[JsonObject] = []
        self.emails: set[str] = set()

    def dataset(self) -> JsonObject:
        return {
            "version": 2,
            "companies": [c.record for c in self.companies],
            "employmentTitles": [t for c in self.companies for t in self._titles(c)],
            "employmentTypes": [t for c in self.companies for t in self._types(c)],
            "employees": self.employees,
        }

    def add_employee(self, index: int) -> None:
        rng = self.rng
        company = self.companies[index] if index < len(self.companies) else self._pick_company()
        first, last, gender = self._name(index)
        office = rng.choices(_OFFICES, [o.weight for o in _OFFICES])[0]
        if company.ceo is None:
            office = _OFFICES[0]  # the CEO sits at head office
        employee_id = self._uuid()
        role = self._place(company, employee_id, office)
        birth = self.today - timedelta(days=rng.randint(20 * 365, 64 * 365))
        employee: JsonObject = {
            "id": employee_id,
            "companyId": company.record["id"],
            "firstName": first,
            "lastName": last,
            "nationalIdentificationNumber": self._national_id(birth, gender),
            "dateOfBirth": birth.isoformat(),
            "gender": gender,
            **self._address(office),
            "emailWork": self._email(first, last),
            **self._phones(office),
            "immediateManagerEmployeeId": role.manager,
            "employment": [{"employmentNumber": self._employment_number(company)}],
            "employmentPeriods": self._periods(company, role, birth),
            "organization": role.organization,
        }
        employee["modified"] = self._modified(role.status)
        self.employees.append(employee)

    # --- placement in the organisation ------------------------------------------------------------

    def _place(self, company: _Company, employee_id: str, office: _Office) -> _Role:
        language = company.language
        if company.ceo is None:
            company.ceo = employee_id
            org = {"Office": office.city, "Department": _MANAGEMENT[language]}
            return _Role(None, org, _CEO_TITLE[0], "active", managerial=True)
        index = self.rng.choices(range(len(_DEPARTMENTS)), [d.weight for d in _DEPARTMENTS])[0]
        department = _DEPARTMENTS[index]
        org = {"Office": office.city, "Department": department.names[language]}
        if index not in company.heads:
            company.heads[index] = employee_id
            return _Role(company.ceo, org, department.head[0], "active", managerial=True)
        org["Team"] = self.rng.choice(department.teams)[language]
        title = self.rng.choice(department.titles)[0]
        status = self._status()
        moved_from = self._move(department, org["Team"], language)
        return _Role(company.heads[index], org, title, status, previous_team=moved_from)

    def _status(self) -> str:
        draw = self.rng.random()
        if draw < 0.03:
            return "prehire"
        if draw < 0.08:
            return "leaver"
        if draw < 0.13:
            return "external"
        return "temporary" if draw < 0.23 else "active"

    def _move(self, department: _Department, team: str, language: int) -> str | None:
        """Some people changed team within their department at the start of their current period."""
        other = [t[language] for t in department.teams if t[language] != team]
        return self.rng.choice(other) if other and self.rng.random() < 0.1 else None

    # --- employment -------------------------------------------------------------------------------

    def _periods(self, company: _Company, role: _Role, birth: date) -> list[JsonObject]:
        rng, today = self.rng, self.today
        earliest = (birth - today).days + 19 * 365  # negative: days before today
        start, end = self._span(role.status, earliest)
        type_code = {"temporary": "VI", "external": "EXT"}.get(role.status, "TV")
        if role.status == "prehire" and rng.random() < 0.3:
            type_code = "PROV"
        current = self._period(company, role.title, type_code, start, end)
        if start - today < timedelta(days=-400) and not role.managerial and rng.random() < 0.2:
            earlier_start = start - timedelta(days=rng.randint(90, 360))
            earlier = self._period(company, role.title, "VI", earlier_start, start - timedelta(1))
            if role.previous_team:
                earlier["organization"] = {**role.organization, "Team": role.previous_team}
            return [earlier, current]
        return [current]

    def _span(self, status: str, earliest: int) -> tuple[date, date | None]:
        rng, today = self.rng, self.today
        if status == "prehire":
            return today + timedelta(days=rng.randint(1, 40)), None
        started = today + timedelta(days=rng.randint(max(min(earliest, -30), -20 * 365), -1))
        if status == "leaver":
            end = today - timedelta(days=rng.randint(1, 60))
            return min(started, end - timedelta(days=30)), end
        if status in ("temporary", "external") and rng.random() < 0.6:
            return started, today + timedelta(days=rng.randint(14, 300))
        return started, None

    def _period(
        self, company: _Company, title: str, type_code: str, start: date, end: date | None
    ) -> JsonObject:
        return {
            "id": self._uuid(),
            "fromDate": start.isoformat(),
            "toDate": end.isoformat() if end else None,
            "titleId": company.titles[title],
            "employmentTypeId": company.types[type_code],
        }

    def _employment_number(self, company: _Company) -> str:
        company.next_number += self.rng.randint(1, 3)
        return str(company.next_number)

    def _modified(self, status: str) -> str:
        """Last HR edit: recent for pre-hires and leavers, anywhere in the last year otherwise.

        Always before yesterday, so that whatever a test changes "now" stands out.
        """
        days = self.rng.randint(2, 30 if status in ("prehire", "leaver") else 365)
        stamp = datetime.combine(self.today - timedelta(days=days), time())
        return (stamp + timedelta(seconds=self.rng.randint(0, 86399))).isoformat()

    # --- the person -------------------------------------------------------------------------------

    def _name(self, index: int) -> tuple[str, str, int]:
        if index < len(_FEATURED):
            return _FEATURED[index]
        if index % 150 == 75:
            return "Anna", "Andersson", 2
        gender = self.rng.choices((1, 2, 0), (49, 49, 2))[0]
        first = self.rng.choice(_MEN if gender == 1 else _WOMEN if gender == 2 else _MEN + _WOMEN)
        last = self.rng.choices([s for s, _ in _SURNAMES], [w for _, w in _SURNAMES])[0]
        return first, last, gender

    def _national_id(self, birth: date, gender: int) -> str | None:
        if self.rng.random() < 0.03:
            return None  # not every record carries one (foreign staff, consultants)
        serial = f"{self.rng.randint(0, 99):02d}"
        sex_digit = self.rng.choice("13579" if gender == 1 else "02468")
        digits = f"{birth:%y%m%d}{serial}{sex_digit}"
        return f"{birth:%Y%m%d}-{serial}{sex_digit}{luhn_digit(digits)}"

    def _address(self, office: _Office) -> JsonObject:
        rng = self.rng
        postal = f"{rng.choice(office.postal_prefixes)}{rng.randint(10, 99)}"
        if rng.random() < 0.1:
            postal = f"{postal[:3]} {postal[3:]}"  # HR systems hold both spellings
        return {
            "addressRow1": f"{rng.choice(office.streets)} {rng.randint(1, 120)}",
            "postalCode": postal,
            "city": office.city,
            "country": "SE",
        }

    def _email(self, first: str, last: str) -> str | None:
        if self.rng.random() < 0.02:
            return None
        local = ascii_fold(f"{first}.{last}").lower().replace(" ", "")
        candidate, suffix = local, 1
        while candidate in self.emails:
            suffix += 1
            candidate = f"{local}{suffix}"
        self.emails.add(candidate)
        return f"{candidate}@{MAIL_DOMAIN}"

    def _phones(self, office: _Office) -> JsonObject:
        rng = self.rng

        def digits() -> str:
            return f"{rng.randint(100, 999)} {rng.randint(10, 99)} {rng.randint(10, 99)}"

        phones: JsonObject = {}
        if rng.random() < 0.6:
            phones["phone1"] = f"+46 {office.area_code} {digits()}"
        if rng.random() < 0.9:
            phones["phone4"] = f"+46 {rng.choice(('70', '72', '73', '76'))} {digits()}"
        return phones

    # --- companies, titles, types -----------------------------------------------------------------

    def _company(self, number: int, name: str, weight: int, language: int) -> _Company:
        body = f"556{self.rng.randint(0, 999999):06d}"
        record = {
            "id": self._uuid(),
            "companyNumber": number,
            "name": name,
            "organizationNumber": f"{body[:6]}-{body[6:]}{luhn_digit(body)}",
        }
        company = _Company(record, weight, language)
        codes = [_CEO_TITLE, _RETIRED_TITLE] + [d.head for d in _DEPARTMENTS]
        codes += [t for d in _DEPARTMENTS for t in d.titles]
        company.titles = {code: self._uuid() for code, _ in codes}
        company.types = {code: self._uuid() for code, _ in _TYPES}
        return company

    def _titles(self, company: _Company) -> list[JsonObject]:
        names = dict([_CEO_TITLE, _RETIRED_TITLE] + [d.head for d in _DEPARTMENTS])
        names.update(t for d in _DEPARTMENTS for t in d.titles)
        return [
            {
                "id": title_id,
                "companyId": company.record["id"],
                "code": code,
                "name": names[code],
                "active": code != _RETIRED_TITLE[0],
            }
            for code, title_id in company.titles.items()
        ]

    def _types(self, company: _Company) -> list[JsonObject]:
        names = dict(_TYPES)
        return [
            {"id": type_id, "companyId": company.record["id"], "code": code, "name": names[code]}
            for code, type_id in company.types.items()
        ]

    def _pick_company(self) -> _Company:
        return self.rng.choices(self.companies, [c.weight for c in self.companies])[0]

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))


@dataclass(frozen=True, slots=True)
class _Role:
    """Where a new employee sits: manager, organisation, title, employment status."""

    manager: str | None
    organization: dict[str, str]
    title: str
    status: str
    managerial: bool = False
    previous_team: str | None = None
