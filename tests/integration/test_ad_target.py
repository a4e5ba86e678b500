"""The Active Directory target against a real Samba AD DC on loopback."""

from __future__ import annotations

import uuid

import ldap
import pytest
from pydantic import SecretStr

from hrsync.connectors.active_directory.client import DirectoryClient
from hrsync.connectors.active_directory.config import ActiveDirectoryConfig
from hrsync.connectors.active_directory.escaping import dn_key, rdn
from hrsync.connectors.active_directory.target import ActiveDirectoryTarget
from hrsync.domain.account import Account
from hrsync.domain.changes import (
    CreateAccount,
    DeleteAccount,
    DisableAccount,
    EnableAccount,
    ManualStep,
    MoveAccount,
    RenameAccount,
    SetManager,
    UpdateAttributes,
)
from hrsync.domain.errors import (
    AlreadyExistsError,
    NotFoundError,
    RejectedError,
    TargetError,
    TransientError,
)
from hrsync.domain.ids import AccountId, EmployeeNumber, PersonId
from hrsync.testing.samba import SambaDC

pytestmark = pytest.mark.samba

HOSTILE_CN = 'Anna, "Boss" <Admin>'
PID = PersonId("p-1")


def create(
    target: ActiveDirectoryTarget, cn: str, is_enabled: bool = True, **attributes: str | None
) -> Account:
    """Create one user in the target's users OU and read it back."""
    sam = f"u{uuid.uuid4().hex[:12]}"
    dn = f"{rdn('CN', cn)},{target.config.users_ou_dn}"
    values: dict[str, str | None] = {"sAMAccountName": sam, "userPrincipalName": f"{sam}@x.test"}
    values |= {"employeeID": sam, "employeeNumber": sam, **attributes}
    change = CreateAccount(PID, EmployeeNumber(sam), dn, values, is_enabled, "joiner")
    applied = target.apply(change)
    assert applied.ref == dn
    assert applied.account_id is None
    return read(target, dn)


def read(target: ActiveDirectoryTarget, dn: str) -> Account:
    matches = [a for a in target.read_accounts() if dn_key(a.ref) == dn_key(dn)]
    assert len(matches) == 1, f"{dn} not found exactly once"
    return matches[0]


def read_by_id(target: ActiveDirectoryTarget, account_id: AccountId) -> Account | None:
    return next((a for a in target.read_accounts() if a.account_id == account_id), None)


def raw(config: ActiveDirectoryConfig, dn: str, *attributes: str) -> dict[str, list[bytes]]:
    client = DirectoryClient(config)
    try:
        values = client.read(dn, attributes)
    finally:
        client.close()
    assert values is not None
    return values


def test_creates_enabled_and_disabled_users_and_reads_them_back(
    ad_target: ActiveDirectoryTarget,
) -> None:
    anna = create(ad_target, "Åsa Öberg-Ødegaard", givenName="Åsa", sn="Öberg", title="Ekonom")
    boss = create(ad_target, HOSTILE_CN, is_enabled=False, displayName=HOSTILE_CN, mobile=None)
    hashed = create(ad_target, "#hash ", department="*)(uid=*")

    assert str(uuid.UUID(anna.account_id)) == anna.account_id
    assert len({anna.account_id, boss.account_id, hashed.account_id}) == 3
    assert (anna.is_enabled, boss.is_enabled, hashed.is_enabled) == (True, False, True)
    assert anna.attributes["givenName"] == "Åsa"
    assert anna.attributes["sn"] == "Öberg"
    assert anna.attributes["title"] == "Ekonom"
    assert anna.attributes["employeeNumber"] == anna.attributes["sAMAccountName"]
    assert anna.attributes["cn"] == "Åsa Öberg-Ødegaard"
    assert boss.attributes["cn"] == HOSTILE_CN
    assert boss.attributes["displayName"] == HOSTILE_CN
    assert "mobile" not in boss.attributes
    assert hashed.attributes["cn"] == "#hash "
    assert hashed.attributes["department"] == "*)(uid=*"
    for account in (anna, boss, hashed):
        assert dn_key(account.container) == dn_key(ad_target.config.users_ou_dn)


def test_new_accounts_get_a_password_that_must_be_changed(
    ad_config: ActiveDirectoryConfig, ad_target: ActiveDirectoryTarget
) -> None:
    passwords: list[str] = []

    def remember(names: object) -> str:
        passwords.append(f"Init-{uuid.uuid4().hex[:10]}!A")
        return passwords[-1]

    target = ActiveDirectoryTarget(ad_config, make_password=remember)
    account = create(target, "Bo Ek", is_enabled=True)
    target.close()
    flags = raw(ad_config, account.ref, "pwdLastSet", "userAccountControl")
    assert flags == {"pwdLastSet": [b"0"], "userAccountControl": [b"512"]}
    upn = account.attributes["userPrincipalName"]
    assert upn is not None
    as_user = ad_config.model_copy(update={"bind_dn": upn, "password": SecretStr(passwords[0])})
    # AD's sub-codes: 773 = the password is right but must be changed; 52e = wrong password.
    with pytest.raises(RejectedError, match="data 773"):
        ActiveDirectoryTarget(as_user).check()
    wrong = as_user.model_copy(update={"password": SecretStr("Wrong-password-1")})
    with pytest.raises(RejectedError, match="data 52e"):
        ActiveDirectoryTarget(wrong).check()


def test_updates_and_clears_attributes(ad_target: ActiveDirectoryTarget) -> None:
    account = create(ad_target, "Cecilia Dahl", title="Analyst", mobile="+46 70 000 00 00")
    before = {"title": "Analyst", "mobile": "+46 70 000 00 00", "department": None}
    after = {"title": "Chief Analyst", "mobile": None, "department": None, "l": "Malmö"}
    change = UpdateAttributes(
        PID, account.account_id, account.ref, before, after, "HR data changed"
    )

    applied = ad_target.apply(change)

    assert applied == type(applied)(ref=account.ref, account_id=account.account_id)
    attributes = read(ad_target, account.ref).attributes
    assert (attributes["title"], attributes["l"]) == ("Chief Analyst", "Malmö")
    assert "mobile" not in attributes
    # Clearing again is a no-op, not a "no such attribute" error.
    stale = UpdateAttributes(PID, account.account_id, account.ref, before, after, "retry")
    ad_target.apply(stale)


def test_disable_and_enable_flip_only_the_disabled_bit(
    ad_config: ActiveDirectoryConfig, ad_target: ActiveDirectoryTarget
) -> None:
    account = create(ad_target, "Dan Eriksson")
    dont_expire = 0x10000
    client = DirectoryClient(ad_config)
    client.modify(account.ref, [(ldap.MOD_REPLACE, "userAccountControl", [b"66048"])])
    client.close()

    ad_target.apply(DisableAccount(PID, account.account_id, account.ref, "left"))
    assert not read(ad_target, account.ref).is_enabled
    assert raw(ad_config, account.ref, "userAccountControl")["userAccountControl"] == [
        str(0x200 | dont_expire | 0x2).encode()
    ]
    ad_target.apply(EnableAccount(PID, account.account_id, account.ref, "rehired"))
    assert read(ad_target, account.ref).is_enabled
    assert raw(ad_config, account.ref, "userAccountControl")["userAccountControl"] == [b"66048"]


def test_renames_to_a_hostile_name_keeping_the_account(ad_target: ActiveDirectoryTarget) -> None:
    account = create(ad_target, "Eva Fors")
    new_name = '#Eva, "Fors" <x>+y;z\\ '
    change = RenameAccount(PID, account.account_id, account.ref, new_name, "name changed")

    applied = ad_target.apply(change)

    renamed = read_by_id(ad_target, account.account_id)
    assert renamed is not None
    assert renamed.attributes["cn"] == new_name
    assert dn_key(renamed.ref) == dn_key(applied.ref)
    assert dn_key(renamed.container) == dn_key(account.container)


def test_moves_into_an_ou_created_on_demand(ad_target: ActiveDirectoryTarget) -> None:
    account = create(ad_target, "Filip Gran")
    new_parent = f"OU=Finance,OU=Stockholm,{ad_target.config.users_ou_dn}"
    change = MoveAccount(PID, account.account_id, account.ref, new_parent, "placement changed")

    applied = ad_target.apply(change)

    moved = read_by_id(ad_target, account.account_id)
    assert moved is not None
    assert dn_key(moved.ref) == dn_key(applied.ref)
    assert dn_key(moved.container) == dn_key(new_parent)


def test_sets_and_clears_the_manager(ad_target: ActiveDirectoryTarget) -> None:
    manager = create(ad_target, "Greta Holm")
    report = create(ad_target, HOSTILE_CN)

    ad_target.apply(SetManager(PID, report.account_id, report.ref, None, manager.ref, "manager"))
    manager_dn = read(ad_target, report.ref).attributes["manager"]
    assert manager_dn is not None
    assert dn_key(manager_dn) == dn_key(manager.ref)

    ad_target.apply(SetManager(PID, report.account_id, report.ref, manager.ref, None, "no manager"))
    assert "manager" not in read(ad_target, report.ref).attributes


def test_deletes_an_account(ad_target: ActiveDirectoryTarget) -> None:
    account = create(ad_target, "Hugo Ivarsson")
    change = DeleteAccount(PID, account.account_id, account.ref, "retention over")

    ad_target.apply(change)

    assert read_by_id(ad_target, account.account_id) is None
    with pytest.raises(NotFoundError, match="does not exist"):
        ad_target.apply(change)


def test_translates_directory_errors(ad_target: ActiveDirectoryTarget) -> None:
    account = create(ad_target, "Ida Jonsson")
    sam = account.attributes["sAMAccountName"]
    assert sam is not None
    same_dn = CreateAccount(
        PID, EmployeeNumber("1"), account.ref, {"sAMAccountName": "x"}, True, ""
    )
    with pytest.raises(AlreadyExistsError, match="already exists"):
        ad_target.apply(same_dn)
    other_dn = f"CN=Other,{ad_target.config.users_ou_dn}"
    same_sam = CreateAccount(PID, EmployeeNumber("1"), other_dn, {"sAMAccountName": sam}, True, "")
    with pytest.raises(AlreadyExistsError, match="already in use"):
        ad_target.apply(same_sam)
    gone = f"CN=Nobody,{ad_target.config.users_ou_dn}"
    with pytest.raises(NotFoundError):
        ad_target.apply(UpdateAttributes(PID, AccountId("x"), gone, {}, {"title": "t"}, ""))
    with pytest.raises(RejectedError, match="constraint"):
        ad_target.apply(SetManager(PID, account.account_id, account.ref, None, gone, ""))
    with pytest.raises(RejectedError, match="outside the base DN"):
        ad_target.apply(DeleteAccount(PID, account.account_id, "CN=x,DC=elsewhere", ""))
    with pytest.raises(RejectedError, match="manual step"):
        ad_target.apply(ManualStep(PID, account.ref, "manager unresolved", {}))


def test_reads_every_account_across_pages(ad_config: ActiveDirectoryConfig) -> None:
    target = ActiveDirectoryTarget(ad_config.model_copy(update={"page_size": 2}))
    target.ensure_users_ou()
    created = {create(target, f"Paged {index}").account_id for index in range(5)}

    accounts = list(target.read_accounts())

    assert created <= {account.account_id for account in accounts}
    assert len(accounts) == len({account.account_id for account in accounts})
    assert any(account.attributes.get("sAMAccountName") == "Administrator" for account in accounts)
    target.close()


def test_ensure_users_ou_creates_the_whole_chain(ad_target: ActiveDirectoryTarget) -> None:
    nested = f"OU=Leaf,OU=Middle,{ad_target.config.users_ou_dn}"
    target = ActiveDirectoryTarget(ad_target.config.model_copy(update={"users_ou": nested}))
    target.ensure_users_ou()
    target.ensure_users_ou()  # idempotent
    target.check()
    target.close()


def test_check_accepts_a_good_configuration(ad_target: ActiveDirectoryTarget) -> None:
    ad_target.check()


def test_check_explains_what_is_wrong(ad_config: ActiveDirectoryConfig) -> None:
    def check(**changes: object) -> None:
        ActiveDirectoryTarget(ad_config.model_copy(update=changes)).check()

    with pytest.raises(RejectedError, match="wrong bind DN or password"):
        check(password=SecretStr("not-the-password"))
    with pytest.raises(NotFoundError, match="base DN DC=nowhere,DC=test does not exist"):
        check(base_dn="DC=nowhere,DC=test", users_ou="OU=Staff,DC=nowhere,DC=test")
    with pytest.raises(NotFoundError, match=r"users OU .* does not exist"):
        check(create_missing_ou=False)
    with pytest.raises(NotFoundError, match="creates only OUs"):
        check(users_ou=f"OU=Staff,CN=Missing,{ad_config.base_dn}")
    with pytest.raises(TransientError, match="cannot be reached"):
        check(url="ldaps://127.0.0.1:1", timeout_seconds=2)
    with pytest.raises(TransientError, match="ca_file"):
        check(ca_file=None)
    with pytest.raises(RejectedError, match="not encrypted"):
        check(url=ad_config.url.replace("ldaps://", "ldap://").replace(":636", ":389"))


def test_start_tls_on_the_plain_port(samba_dc: SambaDC, ad_config: ActiveDirectoryConfig) -> None:
    url = f"ldap://{samba_dc.host}:389"
    target = ActiveDirectoryTarget(ad_config.model_copy(update={"url": url, "start_tls": True}))
    target.ensure_users_ou()
    target.check()
    account = create(target, "Jonas Karlsson")
    assert account.is_enabled
    target.close()
    DirectoryClient(ad_config).delete(ad_config.users_ou_dn, with_subtree=True)


def test_refuses_to_send_a_password_unencrypted(
    samba_dc: SambaDC, ad_config: ActiveDirectoryConfig
) -> None:
    plain = ad_config.model_copy(update={"url": f"ldap://{samba_dc.host}:389"})
    change = CreateAccount(PID, EmployeeNumber("1"), f"CN=Plain,{plain.users_ou_dn}", {}, True, "")
    with pytest.raises(RejectedError, match="unencrypted"):
        ActiveDirectoryTarget(plain).apply(change)


def test_connection_errors_are_transient(ad_config: ActiveDirectoryConfig) -> None:
    config = ad_config.model_copy(update={"url": "ldaps://127.0.0.1:1", "timeout_seconds": 2})
    with pytest.raises(TransientError):
        list(ActiveDirectoryTarget(config).read_accounts())
    assert issubclass(TransientError, TargetError)
