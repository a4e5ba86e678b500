"""Hand-written tricky HR data through the planner into a real Samba AD DC: DN and filter
metacharacters, leading and trailing spaces, very long names, all-diacritics names, missing
fields and three people with the same name. Everything is created, login names are unique, and
a second plan against what the directory now holds is empty: the names round-trip."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from hrsync.connectors.active_directory.mapping import DirectoryPolicy
from hrsync.connectors.active_directory.target import ActiveDirectoryTarget
from hrsync.domain.account import Account
from hrsync.domain.changes import CreateAccount
from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person
from hrsync.domain.plan import Status
from hrsync.engine.apply import apply_changes
from hrsync.engine.plan import plan_changes

pytestmark = pytest.mark.samba
TODAY = date(2026, 11, 28)
NAMES = [
    ("Anna", "Andersson"),
    ("Anna", "Andersson"),
    ("Anna", "Andersson"),
    ('Sven, "Boss"', "<Admin>;=+#\\"),
    ("#Hash", "Trailing\\"),
    ("  Leading", "Spaces  "),
    ("Åsa-Märta", "Ödegård-Ängström"),
    ("Øystein", "Ærlig Søndergård"),
    ("Jean-François", "Müller-Lüdenscheidt"),
    ("Maximiliana" * 5, "von Hohenzollern-Sigmaringen" * 4),
    ("*)(uid=*", ")(|(cn=*"),
    ("Ola", ""),
]


def person(number: int, given: str, family: str) -> Person:
    return Person(
        person_id=PersonId(f"tricky-{number}"),
        employee_number=EmployeeNumber(str(9100 + number)),
        given_name=given,
        family_name=family,
        employment=Employment("c1", "Acme Sverige AB", None, "Tillsvidare", date(2020, 1, 1)),
        email=None,
    )


def test_tricky_names_are_created_escaped_unique_and_converge(
    ad_target: ActiveDirectoryTarget,
) -> None:
    config = ad_target.config
    policy = DirectoryPolicy(config.users_ou_dn, config.upn_suffix, config.person_id_attribute)
    people = [person(n, given, family) for n, (given, family) in enumerate(NAMES)]
    plan = plan_changes(people, ad_target.read_accounts(), {}, policy, TODAY)
    creates = [c for c in plan.changes if isinstance(c, CreateAccount)]
    assert len(creates) == len(people)
    outcomes = apply_changes(plan.changes, ad_target)
    assert [o.message for o in outcomes if o.status is not Status.APPLIED] == []

    ours = [
        a
        for a in ad_target.read_accounts()
        if a.attributes.get("employeeNumber", "").startswith("tricky-")
    ]
    assert len(ours) == len(people)
    sams = [a.attributes["sAMAccountName"] or "" for a in ours]
    assert len({s.casefold() for s in sams}) == len(sams)
    assert all(0 < len(s) <= 20 and s.isascii() for s in sams)
    upns = [a.attributes["userPrincipalName"] or "" for a in ours]
    assert len({u.casefold() for u in upns}) == len(upns)
    by_person = {a.attributes["employeeNumber"]: a for a in ours}
    assert by_person["tricky-3"].attributes["givenName"] == 'Sven, "Boss"'
    assert by_person["tricky-7"].attributes["sn"] == "Ærlig Søndergård"

    again = plan_changes(people, ad_target.read_accounts(), {}, policy, TODAY)
    assert again.changes == ()  # every value and name round-tripped through the directory


def test_a_renamed_tricky_person_is_renamed_in_place(ad_target: ActiveDirectoryTarget) -> None:
    config = ad_target.config
    policy = DirectoryPolicy(config.users_ou_dn, config.upn_suffix, config.person_id_attribute)
    before = person(50, "Anna", "Lind")
    apply_changes(
        plan_changes([before], ad_target.read_accounts(), {}, policy, TODAY).changes, ad_target
    )
    upn = _ours(ad_target, "tricky-50").attributes["userPrincipalName"]
    after = dataclasses.replace(before, family_name='Lind, "Gift" Öst')
    plan = plan_changes([after], ad_target.read_accounts(), {}, policy, TODAY)
    assert {type(c).__name__ for c in plan.changes} == {"RenameAccount", "UpdateAttributes"}
    outcomes = apply_changes(plan.changes, ad_target)
    assert all(o.status is Status.APPLIED for o in outcomes)
    account = _ours(ad_target, "tricky-50")
    assert account.attributes["cn"] == 'Anna Lind, "Gift" Öst'
    assert account.attributes["userPrincipalName"] == upn  # login names are kept on a rename
    assert plan_changes([after], ad_target.read_accounts(), {}, policy, TODAY).changes == ()


def _ours(target: ActiveDirectoryTarget, person_id: str) -> Account:
    (account,) = [
        a for a in target.read_accounts() if a.attributes.get("employeeNumber") == person_id
    ]
    return account
