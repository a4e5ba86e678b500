"""Match persons with accounts in a target.

Order: the stored link; the person id hrsync wrote on the account; then, for accounts that carry no
person id (made by hand or by an earlier tool), employeeID and e-mail. Employee numbers repeat
across companies, so an account carrying another person's id is never matched by a rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hrsync.domain.account import Account
from hrsync.domain.ids import AccountId, PersonId
from hrsync.domain.person import Person


@dataclass(slots=True)
class AccountIndex:
    """Accounts by each key correlation uses. Every account can be claimed by one person only."""

    by_id: dict[AccountId, Account] = field(default_factory=dict)
    by_owner: dict[str, Account] = field(default_factory=dict)
    by_employee_id: dict[str, Account] = field(default_factory=dict)
    by_mail: dict[str, Account] = field(default_factory=dict)
    claimed: set[AccountId] = field(default_factory=set)

    @classmethod
    def of(cls, accounts: Iterable[Account], owner_attribute: str) -> AccountIndex:
        index = cls()
        for account in accounts:
            index.by_id[account.account_id] = account
            if owner := account.attributes.get(owner_attribute):
                index.by_owner.setdefault(owner, account)
                continue
            if employee_id := account.attributes.get("employeeID"):
                index.by_employee_id.setdefault(employee_id.casefold(), account)
            if mail := account.attributes.get("mail"):
                index.by_mail.setdefault(mail.casefold(), account)
        return index

    def claim(self, account: Account | None) -> Account | None:
        if account is None or account.account_id in self.claimed:
            return None
        self.claimed.add(account.account_id)
        return account


def correlate(
    people: Iterable[Person], index: AccountIndex, links: Mapping[PersonId, AccountId]
) -> dict[PersonId, Account | None]:
    """Each person's account, or None. Linked persons are matched first so rules cannot steal."""
    ordered = sorted(people, key=lambda p: (p.person_id not in links, p.person_id))
    matches: dict[PersonId, Account | None] = {}
    for person in ordered:
        matches[person.person_id] = _match_one(person, index, links.get(person.person_id))
    return matches


def _match_one(person: Person, index: AccountIndex, link: AccountId | None) -> Account | None:
    if link is not None and (account := index.claim(index.by_id.get(link))):
        return account
    if account := index.claim(index.by_owner.get(person.person_id)):
        return account
    if account := index.claim(index.by_employee_id.get(person.employee_number.casefold())):
        return account
    if person.email:
        return index.claim(index.by_mail.get(person.email.casefold()))
    return None
