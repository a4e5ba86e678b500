"""The PATCH builder: before/after per attribute path → RFC 7644 §3.5.2 operations."""

from __future__ import annotations

from typing import Any

import pytest
from scim2_models import EnterpriseUser, Group, PatchOp, User

from hrsync.connectors.scim.patch import (
    MANAGER_PATH,
    PATCH_OP_URN,
    build_member_patch,
    build_patch,
    equals_filter,
    patch_request,
    quote_literal,
)

WORK_EMAIL = 'emails[type eq "work"].value'
GENDER = "urn:ietf:params:scim:schemas:extension:winningtemp:2.0:User:gender"

CASES: list[tuple[str, dict[str, tuple[Any, Any]], list[dict[str, Any]]]] = [
    ("unchanged gives nothing", {"name.givenName": ("Anna", "Anna")}, []),
    ("unset to unset gives nothing", {"title": (None, "")}, []),
    (
        "a changed value is replaced",
        {"name.givenName": ("Anna", "Anne")},
        [{"op": "replace", "path": "name.givenName", "value": "Anne"}],
    ),
    (
        "a first value is a replace too (RFC 7644 §3.5.2.3 treats it as an add)",
        {"title": (None, "Nurse")},
        [{"op": "replace", "path": "title", "value": "Nurse"}],
    ),
    (
        "a value gone is removed",
        {"title": ("Nurse", None)},
        [{"op": "remove", "path": "title"}],
    ),
    (
        "an empty string counts as gone",
        {"nickName": ("Ann", "")},
        [{"op": "remove", "path": "nickName"}],
    ),
    (
        "a boolean is replaced",
        {"active": (True, False)},
        [{"op": "replace", "path": "active", "value": False}],
    ),
    (
        "a value-path element changes in place",
        {WORK_EMAIL: ("a@x", "b@x")},
        [{"op": "replace", "path": WORK_EMAIL, "value": "b@x"}],
    ),
    (
        "a value-path element that does not exist yet is added (replace would be noTarget)",
        {WORK_EMAIL: (None, "a@x")},
        [{"op": "add", "path": "emails", "value": [{"type": "work", "value": "a@x"}]}],
    ),
    (
        "a value-path element gone is removed whole, not left as {type: work}",
        {WORK_EMAIL: ("a@x", None)},
        [{"op": "remove", "path": 'emails[type eq "work"]'}],
    ),
    (
        "a sub-attribute other than value is removed alone",
        {'addresses[type eq "work"].locality': ("Lund", None)},
        [{"op": "remove", "path": 'addresses[type eq "work"].locality'}],
    ),
    (
        "a boolean filter builds the new element",
        {"emails[primary eq true].value": (None, "a@x")},
        [{"op": "add", "path": "emails", "value": [{"primary": True, "value": "a@x"}]}],
    ),
    (
        "a filter too complex to build an element from falls back to replace",
        {'phoneNumbers[type eq "work" and primary eq true].value': (None, "+4640")},
        [
            {
                "op": "replace",
                "path": 'phoneNumbers[type eq "work" and primary eq true].value',
                "value": "+4640",
            }
        ],
    ),
    (
        "the enterprise manager is sent as {value: id}",
        {MANAGER_PATH: ("m1", "m2")},
        [{"op": "replace", "path": MANAGER_PATH, "value": {"value": "m2"}}],
    ),
    (
        "a manager gone is removed",
        {MANAGER_PATH: ("m1", None)},
        [{"op": "remove", "path": MANAGER_PATH}],
    ),
    (
        "several paths keep their order",
        {"active": (False, True), "name.familyName": ("Berg", "Lind")},
        [
            {"op": "replace", "path": "active", "value": True},
            {"op": "replace", "path": "name.familyName", "value": "Lind"},
        ],
    ),
]


@pytest.mark.parametrize(("changes", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_build_patch(changes: dict[str, tuple[Any, Any]], expected: list[dict[str, Any]]) -> None:
    operations = build_patch(changes)

    assert operations == expected
    if operations:
        # scim2-models, an independent reading of RFC 7644, accepts the message for a User.
        PatchOp[User[EnterpriseUser]].model_validate(patch_request(operations))


def test_an_extension_attribute_path_is_kept_fully_qualified() -> None:
    assert build_patch({GENDER: ("female", "male")}) == [
        {"op": "replace", "path": GENDER, "value": "male"}
    ]
    assert build_patch({GENDER: ("female", None)}) == [{"op": "remove", "path": GENDER}]


def test_members_are_added_in_one_operation_and_removed_one_by_one() -> None:
    operations = build_member_patch(added=["u1", "u2", "u1"], removed=["u3", 'we"ird'])

    assert operations == [
        {"op": "add", "path": "members", "value": [{"value": "u1"}, {"value": "u2"}]},
        {"op": "remove", "path": 'members[value eq "u3"]'},
        {"op": "remove", "path": 'members[value eq "we\\"ird"]'},
    ]
    PatchOp[Group].model_validate(patch_request(operations))


def test_no_member_change_gives_no_operation() -> None:
    assert build_member_patch([], []) == []


def test_patch_request_is_a_patchop_message() -> None:
    body = patch_request([{"op": "remove", "path": "title"}])

    assert body == {"schemas": [PATCH_OP_URN], "Operations": [{"op": "remove", "path": "title"}]}


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("anna@x", '"anna@x"'),
        ('a"b', '"a\\"b"'),
        ("back\\slash", '"back\\\\slash"'),
        ("Åsa", '"Åsa"'),
    ],
)
def test_filter_literals_are_json_strings(value: str, literal: str) -> None:
    assert quote_literal(value) == literal
    assert equals_filter("userName", value) == f"userName eq {literal}"
