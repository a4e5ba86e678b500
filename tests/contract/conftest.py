"""The targets the contract scenarios run against: the in-memory one of the unit tests, Active
Directory on a throwaway Samba DC, SCIM on scim2-server and on SCIMMY (Node.js), the
Winningtemp CSV files in a temporary folder, delivered after every apply, and Microsoft 365 on
the Graph simulator."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from hrsync.connectors.active_directory.config import ActiveDirectoryConfig
from hrsync.connectors.active_directory.dn import normalise_dn
from hrsync.connectors.active_directory.group_naming import DirectoryGroupNaming
from hrsync.connectors.active_directory.mapping import DirectoryPolicy
from hrsync.connectors.active_directory.target import ActiveDirectoryTarget
from hrsync.connectors.csv.config import CsvConfig
from hrsync.connectors.csv.formats import WINNINGTEMP, Column
from hrsync.connectors.csv.group_naming import CsvGroupNaming
from hrsync.connectors.csv.policy import CsvPolicy
from hrsync.connectors.csv.target import CsvTarget
from hrsync.connectors.microsoft365.config import Microsoft365Config
from hrsync.connectors.microsoft365.group_naming import GraphGroupNaming
from hrsync.connectors.microsoft365.policy import GraphPolicy
from hrsync.connectors.microsoft365.profile import MICROSOFT365_PROFILE
from hrsync.connectors.microsoft365.target import Microsoft365Target
from hrsync.connectors.scim.config import ScimConfig
from hrsync.connectors.scim.group_naming import ScimGroupNaming
from hrsync.connectors.scim.policy import ScimPolicy
from hrsync.connectors.scim.profile import WORK_EMAIL, scim_profile
from hrsync.connectors.scim.target import ScimTarget
from hrsync.domain.account import Account
from hrsync.domain.changes import CreateAccount
from hrsync.domain.ids import AccountId, EmployeeNumber, PersonId
from hrsync.engine.groups import GroupPolicy
from hrsync.simulators.graph import App, Faults, GraphSimulator
from hrsync.testing.scim import ScimServer
from tests.contract.rigs import Rig
from tests.unit.memory_target import MemoryDirectory

LEVELS = ("Office", "Department")
AD_NAMES = {"family": "sn", "title": "title", "email": "mail"}
SCIM_NAMES = {"family": "name.familyName", "title": "title", "email": WORK_EMAIL}
CSV_NAMES = {"family": "LastName", "title": "Title", "email": "Email"}
GRAPH_NAMES = {"family": "surname", "title": "jobTitle", "email": "mail"}


def memory_rig() -> Rig:
    directory = MemoryDirectory()
    users = "OU=People,DC=example,DC=test"
    policy = DirectoryPolicy(users_ou=users, upn_suffix="example.test")
    naming = DirectoryGroupNaming("OU=Org,DC=example,DC=test")

    def by_hand(given: str, family: str, email: str) -> None:
        ref = f"CN={given} {family},{users}"
        attributes = {"givenName": given, "sn": family, "mail": email, "cn": f"{given} {family}"}
        account_id = AccountId(f"hand-{uuid.uuid4().hex[:6]}")
        directory.accounts[normalise_dn(ref)] = Account(
            account_id, ref, True, attributes, container=users
        )

    return Rig(
        "memory",
        directory,
        policy,
        GroupPolicy(LEVELS, naming, grace_days=0),
        lambda: (directory.read_groups(), frozenset()),
        AD_NAMES,
        by_hand,
    )


def samba_rig(target: ActiveDirectoryTarget, config: ActiveDirectoryConfig) -> Rig:
    users = config.users_ou_dn
    policy = DirectoryPolicy(users_ou=users, upn_suffix=config.upn_suffix, base_dn=config.base_dn)
    groups_ou = f"OU=Org,{users}"

    def by_hand(given: str, family: str, email: str) -> None:
        attributes = {"givenName": given, "sn": family, "mail": email, "sAMAccountName": given}
        ref = f"CN={given} {family},{users}"
        target.apply(CreateAccount(PersonId("-"), EmployeeNumber("-"), ref, attributes, True, ""))

    return Rig(
        "samba",
        target,
        policy,
        GroupPolicy(LEVELS, DirectoryGroupNaming(groups_ou), grace_days=0),
        lambda: target.read_groups(groups_ou),
        AD_NAMES,
        by_hand,
        is_own=lambda account: policy.is_within(account.container, users),
    )


def scim_rig(server: ScimServer, preset: str = "generic") -> Rig:
    config = ScimConfig(url=server.url, token=server.token, profile=preset)  # type: ignore[arg-type]
    profile = scim_profile(preset)
    policy = ScimPolicy(profile)
    target = ScimTarget(config, policy)

    def by_hand(given: str, family: str, email: str) -> None:
        attributes = {
            "userName": email,
            "name.givenName": given,
            "name.familyName": family,
            WORK_EMAIL: email,
        }
        change = CreateAccount(PersonId("-"), EmployeeNumber("-"), "new", attributes, True, "")
        target.apply(change)

    return Rig(
        server.name,
        target,
        policy,
        GroupPolicy(LEVELS, ScimGroupNaming(profile), grace_days=0),
        target.read_groups,
        SCIM_NAMES,
        by_hand,
    )


def csv_rig(folder: Path) -> Rig:
    """Winningtemp's files with a Title column added, as an admin may add one."""
    file_format = dataclasses.replace(
        WINNINGTEMP, columns=(*WINNINGTEMP.columns, Column("Title", "[title]"))
    )
    config = CsvConfig(format="winningtemp", folder=str(folder), state_dir=str(folder / "state"))
    policy = CsvPolicy(file_format)
    target = CsvTarget(config, policy)

    def by_hand(given: str, family: str, email: str) -> None:
        attributes = {"ExternalId": f"hand-{given}", "FirstName": given, "LastName": family}
        attributes["Email"] = email
        target.apply(CreateAccount(PersonId("-"), EmployeeNumber("-"), "new", attributes, True, ""))

    return Rig(
        "csv",
        target,
        policy,
        GroupPolicy(LEVELS, CsvGroupNaming(policy.profile), grace_days=0),
        target.read_groups,
        CSV_NAMES,
        by_hand,
        after_apply=target.close,
    )


def graph_rig(sim: GraphSimulator) -> Rig:
    """Microsoft 365 on the Graph simulator, with Entra's eventual consistency switched on."""
    app = sim.app
    config = Microsoft365Config(
        tenant_id=app.tenant,
        client_id=app.client_id,
        client_secret=app.client_secret,  # type: ignore[arg-type]
        login_url=sim.login_url,
        graph_url=sim.graph_url,
        upn_suffix="example.test",
        backoff_seconds=0.01,
    )
    policy = GraphPolicy(MICROSOFT365_PROFILE, config.upn_suffix)
    target = Microsoft365Target(config, policy)

    def by_hand(given: str, family: str, email: str) -> None:
        nickname = email.partition("@")[0]
        attributes = {"givenName": given, "surname": family, "mail": email}
        attributes |= {"displayName": f"{given} {family}", "mailNickname": nickname}
        attributes["userPrincipalName"] = f"{nickname}@example.test"
        target.apply(CreateAccount(PersonId("-"), EmployeeNumber("-"), "new", attributes, True, ""))

    return Rig(
        "graph",
        target,
        policy,
        GroupPolicy(LEVELS, GraphGroupNaming(MICROSOFT365_PROFILE), grace_days=0),
        target.read_groups,
        GRAPH_NAMES,
        by_hand,
    )


@pytest.fixture
def graph_sim() -> Iterator[GraphSimulator]:
    app = App("example.onmicrosoft.com", "contract-app", "contract-secret")
    with GraphSimulator(app, faults=Faults(consistency_lag=1)) as sim:
        yield sim


@pytest.fixture(params=["memory", "samba", "scim2-server", "scimmy", "csv", "graph"])
def rig(request: pytest.FixtureRequest) -> Iterator[Rig]:
    match request.param:
        case "memory":
            yield memory_rig()
        case "samba":
            target: ActiveDirectoryTarget = request.getfixturevalue("ad_target")
            yield samba_rig(target, target.config)
        case "scim2-server":
            yield scim_rig(request.getfixturevalue("scim2_server"))
        case "csv":
            yield csv_rig(request.getfixturevalue("tmp_path"))
        case "graph":
            yield graph_rig(request.getfixturevalue("graph_sim"))
        case _:
            yield scim_rig(request.getfixturevalue("scimmy_server"))
