"""A realistic, deterministic Dutch company as AFAS GetConnector rows (the HelloID connectors).

Names with tussenvoegsels ("van der", "'t") and diacritics, every name-usage code (0-3) with
partner names, several employments per person (earlier contracts, a job change, leavers,
pre-hires), a department hierarchy and a management chain, all dated relative to `today`.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from hrsync.simulators.afas.store import (
    EMPLOYMENTS,
    MODIFIED,
    ORGANIZATIONAL_UNITS,
    TIMESTAMP,
    USERS,
    JsonObject,
)

MAIL_DOMAIN = "vandenberg.example"
FIRST_EMPLOYEE = 10001

_GIVEN = (
    ("Johannes", "Jan"), ("Maria", "Marieke"), ("Daniël", "Daniël"), ("Zoë", "Zoë"),
    ("Inès", "Inès"), ("Chloë", "Chloë"), ("André", "André"), ("Renée", "Renée"),
    ("Pieter", "Piet"), ("Anna", "Anouk"), ("Sophie", "Sophie"), ("Lotte", "Lotte"),
    ("Emma", "Emma"), ("Thijs", "Thijs"), ("Bram", "Bram"), ("Sanne", "Sanne"),
    ("Femke", "Femke"), ("Joël", "Joël"), ("Noël", "Noël"), ("Mohammed", "Mo"),
    ("Fatima", "Fatima"), ("Wilhelmina", "Willy"), ("Cornelis", "Kees"), ("Hendrik", "Henk"),
    ("Ilse", "Ilse"), ("Gerrit", "Gert"), ("Ayşe", "Ayşe"), ("Björn", "Björn"),
)  # fmt: skip
_PREFIXES = ("", "", "", "", "", "van", "de", "van der", "van den", "van de", "ten", "'t", "in 't")
_SURNAMES = (
    "Jansen", "Bakker", "Visser", "Smit", "Meijer", "Mulder", "Bos", "Vos", "Dijkstra",
    "Brouwer", "Hoekstra", "Berg", "Boer", "Leeuwen", "Dam", "Veen", "Heuvel", "Broek",
    "Hoeven", "Wit", "Çelik", "Öztürk", "Koç", "Ruiz Pérez", "Groot", "Hart", "Haar",
)  # fmt: skip
_NAME_USAGE_WEIGHTS = ((0, 70), (1, 10), (2, 12), (3, 8))


@dataclass(frozen=True, slots=True)
class _Unit:
    code: str
    name: str
    parent: str | None
    jobs: tuple[tuple[str, str], ...] = ()


_UNITS = (
    _Unit("VDB", "Van den Berg Groep B.V.", None, (("DIR", "Algemeen directeur"),)),
    _Unit("BED", "Bedrijfsvoering", "VDB", (("MGR-BV", "Manager bedrijfsvoering"),)),
    _Unit("FIN", "Financiën", "BED", (("CTRL", "Controller"), ("ADM", "Administrateur"))),
    _Unit("HR", "Personeel & Organisatie", "BED", (("HRA", "HR-adviseur"),)),
    _Unit("ICT", "ICT", "BED", (("SYS", "Systeembeheerder"), ("DEV", "Ontwikkelaar"))),
    _Unit("OPS", "Operatie", "VDB", (("MGR-OP", "Manager operatie"),)),
    _Unit("VRK", "Verkoop", "OPS", (("ACC", "Accountmanager"), ("BIN", "Binnendienst"))),
    _Unit("LOG", "Logistiek", "OPS", (("MAG", "Magazijnmedewerker"), ("PLN", "Planner"))),
    _Unit("KS", "Klantenservice", "OPS", (("KSM", "Klantenservicemedewerker"),)),
    _Unit("KS-N", "Klantenservice Noord", "KS", (("KSM", "Klantenservicemedewerker"),)),
    _Unit("KS-Z", "Klantenservice Zuid", "KS", (("KSM", "Klantenservicemedewerker"),)),
)
_LEAF_UNITS = tuple(u for u in _UNITS if u.code not in {"VDB", "BED", "OPS", "KS"})


def generate_dataset(count: int = 200, seed: int = 1, today: date | None = None) -> JsonObject:
    """`count` employees of one Dutch company; the same `seed` and `today` give the same rows."""
    rng = random.Random(seed)
    day = today or date.today()
    users: list[JsonObject] = []
    jobs: list[JsonObject] = []
    heads: dict[str, str] = {}  # unit code → Medewerker of its manager
    for index in range(count):
        number = str(FIRST_EMPLOYEE + index)
        unit = _UNITS[index] if index < len(_UNITS) else rng.choice(_LEAF_UNITS)
        if index < len(_UNITS):
            heads[unit.code] = number  # the first employees head the units, top down
        users.append(_user(rng, number, day))
        jobs.extend(_employments(rng, number, unit, _manager(unit, heads, number), day))
    units = [_unit_row(unit) for unit in _UNITS]
    return {"connectors": {USERS: users, EMPLOYMENTS: jobs, ORGANIZATIONAL_UNITS: units}}


def _manager(unit: _Unit, heads: dict[str, str], number: str) -> str | None:
    """The unit's head; a head reports to the head of the parent unit."""
    head = heads.get(unit.code)
    if head != number:
        return head
    return heads.get(unit.parent) if unit.parent else None


def _user(rng: random.Random, number: str, today: date) -> JsonObject:
    first, called = rng.choice(_GIVEN)
    prefix, surname = rng.choice(_PREFIXES), rng.choice(_SURNAMES)
    usage = rng.choices([c for c, _ in _NAME_USAGE_WEIGHTS], [w for _, w in _NAME_USAGE_WEIGHTS])[0]
    partner_prefix = rng.choice(_PREFIXES) if usage else ""
    partner = rng.choice(_SURNAMES) if usage else ""
    modified = datetime.combine(today - timedelta(days=rng.randint(40, 400)), datetime.min.time())
    return {
        "Medewerker": number,
        "Persoonsnummer": f"P{int(number) + 40000:06d}",
        "Voornaam": first,
        "Roepnaam": called,
        "Voorvoegsel": prefix or None,
        "Achternaam": surname,
        "Geboortenaam": surname,
        "Voorvoegsel_partner": partner_prefix or None,
        "Geboortenaam_partner": partner or None,
        "Naamgebruik_code": str(usage),
        "Email_werk": _email(called, prefix, surname, number),
        "Mobiel_werk": f"06-{rng.randint(10000000, 99999999)}" if rng.random() < 0.8 else None,
        MODIFIED: modified.strftime(TIMESTAMP),
    }


def _email(called: str, prefix: str, surname: str, number: str) -> str:
    local = ".".join(_ascii(part) for part in (called, prefix + surname) if part)
    return f"{local}.{number[-3:]}@{MAIL_DOMAIN}"


def _ascii(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in folded.lower() if ch.isalnum())


def _employments(
    rng: random.Random, number: str, unit: _Unit, manager: str | None, today: date
) -> list[JsonObject]:
    """One to three contracts, oldest first: earlier ones ended the day before the next began.
    About one in twelve people has left, one in thirty starts in the future."""
    kinds = rng.choices(("current", "left", "future"), (89, 8, 3))[0]
    start = today - timedelta(days=rng.randint(60, 4000))
    if kinds == "future":
        start = today + timedelta(days=rng.randint(5, 40))
    count = 1 if kinds == "future" else rng.choices((1, 2, 3), (65, 25, 10))[0]
    periods = _periods(rng, start, count, today)
    if kinds == "left":
        last = periods[-1][0]
        periods[-1] = (last, max(last, today - timedelta(days=rng.randint(1, 90))))
    rows = []
    for seq, (begin, end) in enumerate(periods, start=1):
        code, title = rng.choice(unit.jobs or (("MDW", "Medewerker"),))
        row = _job(number, seq, unit, period=(begin, end), title=(code, title), manager=manager)
        # Entered well before the default 30-day window: only changes made later fall in it.
        row[MODIFIED] = f"{min(begin, today - timedelta(days=40)).isoformat()}T09:00:00"
        rows.append(row)
    return rows


def _periods(
    rng: random.Random, start: date, count: int, today: date
) -> list[tuple[date, date | None]]:
    """`count` back-to-back periods from `start`, the last open-ended."""
    if count == 1 or start >= today:
        return [(start, None)]
    span = (today - start).days
    cuts = sorted(rng.sample(range(1, max(span, count + 1)), count - 1))
    begins = [start] + [start + timedelta(days=cut) for cut in cuts]
    ends: list[date | None] = [b - timedelta(days=1) for b in begins[1:]]
    return list(zip(begins, [*ends, None], strict=True))


def _job(
    number: str,
    seq: int,
    unit: _Unit,
    *,
    period: tuple[date, date | None],
    title: tuple[str, str],
    manager: str | None,
) -> JsonObject:
    begin, end = period
    return {
        "ExternalID": f"{number}_{seq}",
        "Medewerker": number,
        "Begindatum": f"{begin.isoformat()}T00:00:00Z",
        "Einddatum": f"{end.isoformat()}T00:00:00Z" if end else None,
        "Functie_code": title[0],
        "Functie_omschrijving": title[1],
        "Organisatorische_eenheid_code": unit.code,
        "Organisatorische_eenheid_omschrijving": unit.name,
        "Leidinggevende_medewerker": manager,
    }


def _unit_row(unit: _Unit) -> JsonObject:
    return {"ExternalId": unit.code, "DisplayName": unit.name, "ParentExternalId": unit.parent}
