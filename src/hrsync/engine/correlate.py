"""Match persons with accounts in a target.

Order: the stored link; the person id hrsync wrote on the account (the policy's owner
attribute); then, for accounts that carry no person id (made by hand or by an earlier tool),
the profile's correlation keys in order (AD: employeeID, then mail; SCIM: userName, then the
work e-mail). Employee numbers repeat across companies, so an account carrying another
person's id is never matched by a key.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from hrsync.domain.account import Account
from hrsync.domain.ids import AccountId, PersonId
from hrsync.domain.person import Person
from hrsync.domain.profile import CorrelationKey
from hrsync.mapping.expressions import field_value


@dataclass(slots=True)
class AccountIndex:
    """Accounts by each key correlation uses. Every account can be claimed by one person only."""

    keys: Sequence[CorrelationKey] = ()
    by_id: dict[AccountId, Account] = field(default_factory=dict)
    by_owner: dict[str, Account] = field(default_factory=dict)
    by_key: list[dict[str, Account]] = field(default_factory=list)
    """One index per correlation key, by the case-folded value."""
    claimed: set[AccountId] = field(default_factory=set)

    @classmethod
    def of(
        cls,
        accounts: Iterable[Account],
        owner_attribute: str,
        keys: Sequence[CorrelationKey] = (),
    ) -> AccountIndex:
        index = cls(keys, by_key=[{} for _ in keys])
        for account in accounts:
            index.by_id[account.account_id] = account
            if owner := account.attributes.get(owner_attribute):
                index.by_owner.setdefault(owner, account)
                continue
            for key, by_value in zip(keys, index.by_key, strict=True):
                if value := account.attributes.get(key.attribute):
                    by_value.setdefault(value.casefold(), account)
        return index

    def claim(self, account: Account | None) -> Account | None:
        if account is None or account.account_id in self.claimed:
            return None
        self.claimed.add(account.account_id)
        return account


def correlate(
    people: Iterable[Person], index: AccountIndex, links: Mapping[PersonId, AccountId]
) -> dict[PersonId, Account | None]:
    """Each person's account, or None. Linked persons are matched first so keys cannot steal."""
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
    if not index.keys:
        return None
    fields = person.fields()
    for key, by_value in zip(index.keys, index.by_key, strict=True):
        value = field_value(fields, key.person_field)
        if value and (account := index.claim(by_value.get(value.casefold()))):
            return account
    return None
