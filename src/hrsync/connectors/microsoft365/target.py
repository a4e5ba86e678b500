"""Microsoft 365 as a target: read the tenant's users through Graph, apply planned changes.

Users are addressed by their object id (the account's ref and id alike); a user the plan
creates has a provisional ref until Graph answers with its id (hrsync.engine.apply). A dotted
attribute (`onPremisesExtensionAttributes.extensionAttribute15`) is a property of a complex
property. Updates PATCH only the properties that changed; the manager is a `manager/$ref`.
Creates go 20 to a JSON `$batch`. hrsync's groups are in hrsync.connectors.microsoft365.groups.

Entra is eventually consistent: a user just created may answer 404 for a moment, so requests
about users this target created are retried on 404 (`GraphClient.request(retry_not_found)`).
"""

from __future__ import annotations

import secrets
import string
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, assert_never

import structlog

from hrsync.connectors.microsoft365.client import Answer, GraphClient, Json, failure_of
from hrsync.connectors.microsoft365.config import Microsoft365Config
from hrsync.connectors.microsoft365.delta import DeltaStore, iter_mails, read_users
from hrsync.connectors.microsoft365.errors import (
    GraphAccessError,
    GraphRejectedError,
    GraphUnavailableError,
)
from hrsync.connectors.microsoft365.groups import GraphGroups, GroupMarks
from hrsync.connectors.microsoft365.policy import GraphPolicy
from hrsync.connectors.microsoft365.profile import MAIL, MAIL_NICKNAME, MANAGER, UPN
from hrsync.domain.account import Account, Attributes
from hrsync.domain.changes import (
    AddMembers,
    Change,
    CreateAccount,
    CreateGroup,
    DeleteAccount,
    DisableAccount,
    EnableAccount,
    ManualStep,
    MoveAccount,
    RemoveMembers,
    RenameAccount,
    RetireGroup,
    SetManager,
    UpdateAttributes,
    UpdateGroup,
    kind_of,
)
from hrsync.domain.errors import RejectedError, TargetError
from hrsync.domain.groups import Group
from hrsync.domain.ids import AccountId
from hrsync.domain.profile import TargetProfile
from hrsync.ports import Applied

log = structlog.get_logger(__name__)

BATCH_SIZE = 20
"""Graph's limit of requests per JSON batch."""
PASSWORD_LENGTH = 20


class Microsoft365Target:
    """The users of one Entra tenant. Only `apply` and `apply_batch` write to it."""

    key = "microsoft365"

    def __init__(
        self,
        config: Microsoft365Config,
        policy: GraphPolicy,
        *,
        client: GraphClient | None = None,
        marks: GroupMarks | None = None,
        delta: DeltaStore | None = None,
    ) -> None:
        self.config = config
        self.policy = policy
        self._client = client or GraphClient(config)
        self._delta = delta
        """Where the users as last read and the deltaLink are kept; None: a full read a run."""
        self._read: list[Json] | None = None
        """The users this run's delta read found, for the names in use."""
        self._created: set[str] = set()
        """Ids of users created through this target: young enough to answer 404 still."""
        marks = marks if marks is not None else {}
        self._groups = GraphGroups(self._client, config.graph_url, marks, self._created)

    @property
    def profile(self) -> TargetProfile:
        return self.policy.profile

    def close(self) -> None:
        self._client.close()

    def check(self) -> None:
        """A token, and one user read: the secret and User.Read(Write).All are in order."""
        self._client.request("GET", "/users", params={"$top": "1", "$select": "id"})

    def describe(self) -> str:
        """What "Test connection" says when the tenant answers: the organisation's name, so an
        admin sees it is the tenant they meant, and how many users a first page found."""
        params = {"$top": str(self.config.page_size), "$select": "id"}
        page = self._client.request("GET", "/users", params=params, expected=(200,))
        users = len(page.get("value") or ()) if isinstance(page, dict) else 0
        found = (
            f"more than {users}"
            if isinstance(page, dict) and page.get("@odata.nextLink")
            else str(users)
        )
        return (
            f"Signed in to {self._organisation()} (tenant {self.config.tenant_id}) as app "
            f"{self.config.client_id}; Graph at {self.config.graph_url} lists {found} users."
        )

    def _organisation(self) -> str:
        """The tenant's organisation name; reading it needs Organization.Read.All, which the
        sync itself does not, so a refusal is said rather than failing the test."""
        try:
            body = self._client.request(
                "GET", "/organization", params={"$select": "id,displayName"}, expected=(200,)
            )
        except GraphAccessError:
            return "an organisation whose name the app may not read (Organization.Read.All)"
        found = body.get("value") if isinstance(body, dict) else None
        name = found[0].get("displayName") if found and isinstance(found[0], dict) else None
        return f"organisation {name}" if name else "an organisation without a name"

    def prepare(self) -> None:
        """Nothing to make before a run: Entra has no containers."""

    # --- reading -------------------------------------------------------------------------------

    @property
    def _paths(self) -> list[str]:
        """The properties hrsync keeps: the rules', the names, the person id."""
        rules = [rule.attribute for rule in self.policy.all_rules]
        extra = [self.policy.owner_attribute, UPN, MAIL_NICKNAME, MAIL, "employeeId"]
        if self.policy.usage_location:
            extra.append("usageLocation")
        return list(dict.fromkeys([*rules, *extra]))

    def read_accounts(self) -> Iterator[Account]:
        """Every user: through users/delta when a delta store is given (only the changes
        since the last run are read), else by a paged GET /users."""
        paths = self._paths
        select = ",".join(
            dict.fromkeys(["id", "accountEnabled", "mail", *(p.split(".")[0] for p in paths)])
        )
        users: Iterable[Json]
        if self._delta is not None:
            users = self._read = read_users(self._client, self._delta, select)
        else:
            params = {
                "$select": select,
                "$expand": "manager($select=id)",
                "$top": str(self.config.page_size),
            }
            users = self._client.pages("/users", params)
        for user in users:
            user_id = str(user.get("id") or "")
            if not user_id:
                continue
            attributes = {path: read_property(user, path) for path in paths}
            manager = user.get("manager")
            if isinstance(manager, dict) and manager.get("id"):
                attributes[MANAGER] = str(manager["id"])
            yield Account(
                account_id=AccountId(user_id),
                ref=user_id,
                is_enabled=user.get("accountEnabled") is not False,
                attributes={k: v for k, v in attributes.items() if v is not None},
            )

    def read_reserved_names(self) -> Iterator[tuple[str, str]]:
        """Every user's e-mail as a UPN in use: Entra refuses a UPN that is another user's
        address (a proxyAddress). The users' own UPNs and nicknames are among those read.
        After a delta read, the addresses come from the users it merged: no second listing."""
        if self._read is not None:
            yield from ((UPN, mail) for mail in iter_mails(self._read))
            return
        params = {"$select": "id,mail", "$top": str(self.config.page_size)}
        for user in self._client.pages("/users", params):
            if mail := user.get("mail"):
                yield UPN, str(mail)

    def read_groups(self) -> tuple[list[Group], frozenset[str]]:
        """hrsync's groups (marked in their description) with their members."""
        return self._groups.read()

    # --- writing -------------------------------------------------------------------------------

    def apply(self, change: Change) -> Applied:
        applied = self._apply(change)
        log.debug("graph.change_applied", kind=kind_of(change), ref=applied.ref)
        return applied

    def _apply(self, change: Change) -> Applied:
        match change:
            case CreateAccount():
                name = change.attributes.get(UPN)
                body = self._client.request(
                    "POST", "/users", body=self._new_user(change), expected=(201,)
                )
                applied = self._created_as(change, body, f"POST /users {name}")
                if manager := change.attributes.get(MANAGER):
                    self._manager_of_new(applied.ref, manager)
                return applied
            case UpdateAttributes():
                self._patch(change.ref, wire_body(change.after, keep_none=True))
            case EnableAccount() | DisableAccount():
                self._patch(change.ref, {"accountEnabled": isinstance(change, EnableAccount)})
            case DeleteAccount():
                self._client.request(
                    "DELETE",
                    f"/users/{change.ref}",
                    expected=(204,),
                    retry_not_found=self._is_young(change.ref),
                )
            case SetManager():
                self._set_manager(change.ref, change.after)
            case MoveAccount() | RenameAccount():
                raise RejectedError(f"Entra has no {kind_of(change)}: the plan is not its own")
            case ManualStep():
                raise RejectedError(f"a manual step is for an admin, not a target: {change.reason}")
            case CreateGroup() | UpdateGroup() | AddMembers() | RemoveMembers() | RetireGroup():
                return self._groups.apply(change)
            case _:
                assert_never(change)
        return Applied(ref=change.ref)

    def _new_user(self, change: CreateAccount) -> Json:
        """The POST body: the mapped properties, enabled or not, a random first password the
        user must change at first sign-in (hrsync never keeps it)."""
        attributes = {k: v for k, v in change.attributes.items() if k != MANAGER}
        body = wire_body(attributes, keep_none=False)
        body["accountEnabled"] = change.is_enabled
        body["passwordProfile"] = {
            "password": random_password(),
            "forceChangePasswordNextSignIn": True,
        }
        return body

    def _created_as(self, change: CreateAccount, body: Any, action: str) -> Applied:
        user_id = str(body.get("id") or "") if isinstance(body, dict) else ""
        if not user_id:
            raise GraphRejectedError(f"{action}: Graph returned no id")
        self._created.add(user_id)
        return Applied(ref=user_id, account_id=AccountId(user_id))

    def _patch(self, user_id: str, body: Json) -> None:
        if body:
            self._client.request(
                "PATCH",
                f"/users/{user_id}",
                body=body,
                expected=(204, 200),
                retry_not_found=self._is_young(user_id),
            )

    def _set_manager(self, user_id: str, manager_id: str | None) -> None:
        path = f"/users/{user_id}/manager/$ref"
        young = self._is_young(user_id) or self._is_young(manager_id or "")
        if manager_id is None:
            self._client.request("DELETE", path, expected=(204, 404), retry_not_found=False)
            return
        reference = {"@odata.id": f"{self.config.graph_url}/directoryObjects/{manager_id}"}
        self._client.request("PUT", path, body=reference, expected=(204,), retry_not_found=young)

    def _manager_of_new(self, user_id: str, manager_id: str) -> None:
        """The manager of a user just created. The user exists whatever happens here: a
        refusal is logged, and the next run plans the manager again."""
        try:
            self._set_manager(user_id, manager_id)
        except TargetError as error:
            log.warning("graph.manager_not_set", ref=user_id, error=str(error))

    def _is_young(self, user_id: str) -> bool:
        return user_id in self._created

    # --- batches (hrsync.ports.BatchTarget) ----------------------------------------------------

    def batch_size(self) -> int:
        return BATCH_SIZE

    def apply_batch(self, changes: Sequence[CreateAccount]) -> list[Applied | TargetError]:
        """The creates as one `$batch` of POST /users; per create, the new user's id or Graph's
        refusal worded as a single POST's would be."""
        requests = [
            {
                "id": str(n),
                "method": "POST",
                "url": "/users",
                "headers": {"Content-Type": "application/json"},
                "body": self._new_user(change),
            }
            for n, change in enumerate(changes)
        ]
        answers = self._client.batch(requests)
        results = [self._batch_result(c, answers.get(str(n))) for n, c in enumerate(changes)]
        self._batch_managers(changes, results)
        log.debug("graph.batch_applied", creates=len(changes))
        return results

    def _batch_managers(
        self, changes: Sequence[CreateAccount], results: Sequence[Applied | TargetError]
    ) -> None:
        """The managers of the users just created, as one more `$batch` of `manager/$ref`
        PUTs (their ids were unknown until now); 404s of the young users are retried."""
        requests = []
        for n, (change, result) in enumerate(zip(changes, results, strict=True)):
            manager = change.attributes.get(MANAGER)
            if manager and isinstance(result, Applied):
                reference = {"@odata.id": f"{self.config.graph_url}/directoryObjects/{manager}"}
                url = f"/users/{result.ref}/manager/$ref"
                requests.append({"id": str(n), "method": "PUT", "url": url, "body": reference})
        if not requests:
            return
        try:
            answers = self._client.batch(requests, retry_not_found=True)
        except TargetError as error:
            log.warning("graph.managers_not_set", count=len(requests), error=str(error))
            return
        for request in requests:
            answer = answers.get(str(request["id"]))
            if answer is None or answer.status != 204:
                log.warning("graph.manager_not_set", url=request["url"])

    def _batch_result(self, change: CreateAccount, answer: Answer | None) -> Applied | TargetError:
        action = f"POST /users {change.attributes.get(UPN)} (in $batch)"
        if answer is None:
            # Whether the user exists is unknown: the next run finds it by its person id.
            return GraphUnavailableError(f"{action}: the batch's answer left this request out")
        if answer.status != 201:
            return failure_of(action, answer)
        try:
            return self._created_as(change, answer.body, action)
        except TargetError as refused:
            return refused


def read_property(user: Json, path: str) -> str | None:
    """A user's property by path (`a.b`: property b of complex property a), as text."""
    value: Any = user
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    if value is None or isinstance(value, dict | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def wire_body(attributes: Attributes, *, keep_none: bool) -> Json:
    """A Graph request body from attributes by path; None values sent as null (to clear) or
    left out (on create)."""
    body: Json = {}
    for path, value in attributes.items():
        if value is None and not keep_none:
            continue
        head, _, tail = path.partition(".")
        if tail:
            body.setdefault(head, {})[tail] = value
        else:
            body[head] = value
    return body


def random_password() -> str:
    """A first password meeting Entra's complexity rule (three of four character classes)."""
    alphabet = string.ascii_letters + string.digits + "!#$%&*+-=?@^_"
    while True:
        password = "".join(secrets.choice(alphabet) for _ in range(PASSWORD_LENGTH))
        classes = [
            any(c.islower() for c in password),
            any(c.isupper() for c in password),
            any(c.isdigit() for c in password),
            any(not c.isalnum() for c in password),
        ]
        if all(classes):
            return password
