"""The Microsoft 365 target through the engine as a run drives it (plan, apply, plan again),
against the Graph simulator over loopback HTTP: the token, 1,000 people, edits as PATCHes of
what changed, leavers and rehires, managers made in the same run, UPN collisions with users
made by hand, throttling storms and the 404 of a user just created."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import date, timedelta

import httpx2
import pytest

from hrsync.connectors.microsoft365.client import GraphClient
from hrsync.connectors.microsoft365.config import Microsoft365Config
from hrsync.connectors.microsoft365.errors import GraphAccessError, GraphUnavailableError
from hrsync.connectors.microsoft365.policy import GraphPolicy
from hrsync.connectors.microsoft365.profile import MICROSOFT365_PROFILE, PERSON_ID
from hrsync.connectors.microsoft365.target import Microsoft365Target
from hrsync.domain.changes import (
    CreateAccount,
    DeleteAccount,
    EnableAccount,
    UpdateAttributes,
    kind_of,
)
from hrsync.domain.errors import AlreadyExistsError
from hrsync.domain.ids import AccountId, EmployeeNumber, PersonId
from hrsync.domain.person import Employment, Person
from hrsync.domain.plan import Plan, Status
from hrsync.engine.apply import apply_changes
from hrsync.engine.plan import plan_changes
from hrsync.simulators.graph import App, Faults, GraphSimulator

TODAY = date(2026, 12, 7)
APP = App("contoso.onmicrosoft.com", "11111111-2222-3333-4444-555555555555", "s3cret!")
GIVEN = ("Anna", "Erik", "Åsa", "Karin", "Nils", "Maja", "Bo", "Zoë", "Lars", "Eva")
FAMILY = ("Berg", "Lund", "Öberg", "Holm", "Sund", "Ek", "Nyström", "Ødegård", "Wik", "Dahl")


@pytest.fixture
def sim() -> Iterator[GraphSimulator]:
    with GraphSimulator(APP) as simulator:
        yield simulator


def config_for(sim: GraphSimulator, secret: str = APP.client_secret) -> Microsoft365Config:
    return Microsoft365Config(
        tenant_id=APP.tenant,
        client_id=APP.client_id,
        client_secret=secret,  # type: ignore[arg-type]
        login_url=sim.login_url,
        graph_url=sim.graph_url,
        upn_suffix="contoso.example",
        usage_location="SE",
        backoff_seconds=0.01,
    )


def target_for(sim: GraphSimulator, **changes: object) -> Microsoft365Target:
    config = config_for(sim).model_copy(update=changes)
    policy = GraphPolicy(MICROSOFT365_PROFILE, config.upn_suffix, usage_location="SE")
    return Microsoft365Target(config, policy)


def person(number: int, given: str = "", family: str = "", **changes: object) -> Person:
    given = given or GIVEN[number % 10]
    family = family or FAMILY[number // 10 % 10]
    base = Person(
        person_id=PersonId(f"p{number:05d}"),
        employee_number=EmployeeNumber(str(1000 + number)),
        given_name=given,
        family_name=family,
        employment=Employment("c1", "Acme AB", "Ekonom", "Tillsvidare", date(2020, 1, 1)),
        email=f"{given}.{family}.{number}@example.test".lower(),
        organisation=(("Office", "Stockholm"), ("Department", "Finance")),
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


def run(target: Microsoft365Target, people: list[Person], today: date = TODAY) -> Plan:
    """One run: read, link by the person id written, plan, apply; every change applied."""
    accounts = list(target.read_accounts())
    links = {
        PersonId(a.attributes[PERSON_ID]): a.account_id
        for a in accounts
        if a.attributes.get(PERSON_ID)
    }
    reserved = list(target.read_reserved_names())
    plan = plan_changes(people, accounts, links, target.policy, today, reserved_names=reserved)
    outcomes = apply_changes(plan.changes, target)
    failed = [o for o in outcomes if o.status is not Status.APPLIED]
    assert not failed, failed
    return plan


def user_of(sim: GraphSimulator, person_id: str) -> dict[str, object]:
    found = [
        u
        for u in sim.store.all_users()
        if u["onPremisesExtensionAttributes"]["extensionAttribute15"] == person_id
    ]
    assert len(found) == 1, found
    return found[0]


def by_hand(sim: GraphSimulator, upn: str, **properties: object) -> str:
    """A user an admin made in the Entra admin centre, unknown to hrsync."""
    user = sim.store.create(
        {
            "accountEnabled": True,
            "displayName": upn,
            "mailNickname": upn.partition("@")[0],
            "userPrincipalName": upn,
            "passwordProfile": {"password": "Hand-made-1!"},
            **properties,
        }
    )
    return str(user["id"])


def test_a_token_is_fetched_once_and_reused(sim: GraphSimulator) -> None:
    target = target_for(sim)
    target.check()
    list(target.read_accounts())
    assert sim.tokens_issued == 1


def test_a_wrong_secret_is_refused_with_entras_words(sim: GraphSimulator) -> None:
    client = GraphClient(config_for(sim, secret="wrong"))
    with pytest.raises(GraphAccessError) as refused:
        client.request("GET", "/users")
    assert "invalid_client" in str(refused.value)
    assert "AADSTS7000215" in str(refused.value)
    assert "wrong" not in str(refused.value)


def test_an_expired_token_is_renewed(sim: GraphSimulator) -> None:
    target = target_for(sim)
    target.check()
    sim.expire_tokens()
    target.check()
    assert sim.tokens_issued == 2


def test_a_thousand_people_load_then_nothing_to_do(sim: GraphSimulator) -> None:
    boss = person(0, "Karin", "Chef")
    people = [boss] + [person(n, manager_id=boss.person_id) for n in range(1, 1000)]
    target = target_for(sim)
    plan = run(target, people)
    assert plan.counts()["create"] == 1000
    assert len(sim.store.users) == 1000
    batches = [p for m, p in sim.writes() if p == "/$batch"]
    assert len(batches) == 100  # 20 creates a batch, then their 20 managers
    assert run(target_for(sim), people).is_empty
    upns = {str(u["userPrincipalName"]).casefold() for u in sim.store.all_users()}
    assert len(upns) == 1000
    report = user_of(sim, "p00042")
    assert report["manager"] == {
        "@odata.type": "#microsoft.graph.user",
        "id": user_of(sim, "p00000")["id"],
    }
    assert report["usageLocation"] == "SE"
    assert report["employeeId"] == "1042"


def test_an_edit_reaches_graph_as_a_patch_of_what_changed(sim: GraphSimulator) -> None:
    people = [person(1), person(2)]
    run(target_for(sim), people)
    sim.reset_log()
    people[0] = dataclasses.replace(
        people[0], employment=dataclasses.replace(people[0].employment, title="Controller")
    )
    plan = run(target_for(sim), people)
    updates = [c for c in plan.changes if isinstance(c, UpdateAttributes)]
    assert [u.after for u in updates] == [{"jobTitle": "Controller"}]
    patched = [p for m, p in sim.writes() if m == "PATCH"]
    assert patched == [f"/users/{user_of(sim, 'p00001')['id']}"]
    assert sim.bodies[-1] == {"jobTitle": "Controller"}
    assert user_of(sim, "p00001")["jobTitle"] == "Controller"


def test_a_leaver_is_disabled_and_a_rehire_enabled(sim: GraphSimulator) -> None:
    people = [person(1), person(2)]
    run(target_for(sim), people)
    ended = dataclasses.replace(people[1].employment, end_date=TODAY - timedelta(days=2))
    left = [people[0], dataclasses.replace(people[1], employment=ended)]
    plan = run(target_for(sim), left)
    assert [kind_of(c) for c in plan.changes] == ["update", "disable"]
    last_day = f"{TODAY - timedelta(days=2)}T23:59:59Z"
    assert [c.after for c in plan.changes if isinstance(c, UpdateAttributes)] == [
        {"employeeLeaveDateTime": last_day}
    ]
    assert user_of(sim, "p00002")["employeeLeaveDateTime"] == last_day
    assert user_of(sim, "p00002")["accountEnabled"] is False
    plan = run(target_for(sim), people)
    assert any(isinstance(c, EnableAccount) for c in plan.changes)
    assert user_of(sim, "p00002")["accountEnabled"] is True
    assert run(target_for(sim), people).is_empty


def test_a_manager_created_in_the_same_run_as_the_report(sim: GraphSimulator) -> None:
    boss, report = person(1), person(2, manager_id=PersonId("p00001"))
    plan = run(target_for(sim), [report, boss])
    assert [kind_of(c) for c in plan.changes] == ["create", "create"]
    assert run(target_for(sim), [report, boss]).is_empty
    manager = sim.store.manager_of(str(user_of(sim, "p00002")["id"]))
    assert manager["id"] == user_of(sim, "p00001")["id"]


def test_a_upn_taken_by_hand_gets_the_next_number(sim: GraphSimulator) -> None:
    by_hand(sim, "anna.berg@contoso.example", mail="someone.else@contoso.example")
    by_hand(sim, "x@contoso.example", mail="anna.berg2@contoso.example")
    run(target_for(sim), [person(1, "Anna", "Berg")])
    user = user_of(sim, "p00001")
    assert (user["userPrincipalName"], user["mailNickname"]) == (
        "anna.berg3@contoso.example",
        "anna.berg3",
    )


def test_a_upn_collision_graph_refuses_is_already_exists_with_graphs_words(
    sim: GraphSimulator,
) -> None:
    by_hand(sim, "anna.berg@contoso.example")
    target = target_for(sim)
    attributes = {"userPrincipalName": "anna.berg@contoso.example", "mailNickname": "ab"}
    attributes["displayName"] = "Anna Berg"
    change = CreateAccount(PersonId("p1"), EmployeeNumber("1"), "new-user:p1", attributes, True, "")
    with pytest.raises(AlreadyExistsError) as taken:
        target.apply(change)
    assert "Another object with the same value for property userPrincipalName already exists." in (
        str(taken.value)
    )


def test_a_user_made_by_hand_with_the_employee_id_is_linked_not_duplicated(
    sim: GraphSimulator,
) -> None:
    made = by_hand(sim, "anna@contoso.example", employeeId="1001")
    plan = run(target_for(sim), [person(1, "Anna", "Berg")])
    assert not any(isinstance(c, CreateAccount) for c in plan.changes)
    assert user_of(sim, "p00001")["id"] == made


def test_a_throttling_storm_is_ridden_out(sim: GraphSimulator) -> None:
    people = [person(n) for n in range(1, 41)]
    sim.faults = Faults(status=429, retry_after=0, times=25)
    run(target_for(sim, max_retries=30), people)
    assert sim.statuses.count(429) == 25
    assert len(sim.store.users) == 40
    assert run(target_for(sim), people).is_empty
    sim.faults = Faults(status=503, retry_after=0, times=3)
    assert run(target_for(sim), people).is_empty


def test_throttling_that_does_not_end_is_a_transient_error(sim: GraphSimulator) -> None:
    sim.faults = Faults(status=429, retry_after=0, times=1000)
    with pytest.raises(GraphUnavailableError):
        list(target_for(sim, max_retries=2).read_accounts())


def test_a_just_created_users_404_is_retried(sim: GraphSimulator) -> None:
    sim.faults = Faults(consistency_lag=2)
    boss, report = person(1), person(2, manager_id=PersonId("p00001"))
    run(target_for(sim), [boss, report])
    not_found = [s for s in sim.statuses if s == 404]
    assert not_found  # Graph did answer 404 at first
    manager = sim.store.manager_of(str(user_of(sim, "p00002")["id"]))
    assert manager["id"] == user_of(sim, "p00001")["id"]


def test_a_deleted_user_is_gone(sim: GraphSimulator) -> None:
    target = target_for(sim)
    run(target, [person(1)])
    account = next(iter(target.read_accounts()))
    target.apply(DeleteAccount(PersonId("p00001"), AccountId(account.account_id), account.ref, ""))
    assert sim.store.users == {}
    with httpx2.Client() as http:
        assert http.get(f"{sim.base_url}/_sim/health").json()["users"] == 0
