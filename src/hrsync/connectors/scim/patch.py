"""RFC 7644 §3.5.2 PATCH operations from before/after values, and the filters they use. Pure.

Attribute paths are the SCIM ones: `active`, `name.givenName`, `emails[type eq "work"].value`,
and fully qualified extension paths such as
`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal, NotRequired, TypedDict

PATCH_OP_URN = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
ENTERPRISE_USER_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
MANAGER_PATH = f"{ENTERPRISE_USER_URN}:manager"


class PatchOp(TypedDict):
    """One operation of a PatchOp message, as it goes on the wire."""

    op: Literal["add", "remove", "replace"]
    path: NotRequired[str]
    value: NotRequired[Any]


ValueChange = tuple[Any, Any]
"""(before, after) of one attribute path; None stands for "not set"."""

_VALUE_PATH = re.compile(
    r"^(?P<attribute>[^\[\]]+)\[(?P<filter>[^\[\]]+)\](?:\.(?P<sub>[A-Za-z0-9_$-]+))?$"
)
_EQUALS = re.compile(
    r'^\s*(?P<attribute>[A-Za-z0-9_$.-]+)\s+eq\s+(?P<literal>"(?:[^"\\]|\\.)*"|true|false)\s*$',
    re.IGNORECASE,
)


def build_patch(changes: Mapping[str, ValueChange]) -> list[PatchOp]:
    """The operations that turn each path's `before` into its `after`, in the order given.

    Unchanged paths produce nothing; an `after` of None (or "" or []) removes the attribute; any
    other value replaces it (RFC 7644 §3.5.2.3: a replace of an unset attribute is an add). A
    value-path target with no matching element must not be replaced (the server answers 400
    noTarget), so a value path set for the first time is an add of a new element to the list.
    The enterprise manager, given as a bare id, is sent as `{"value": id}`.
    """
    operations: list[PatchOp] = []
    for path, (before, after) in changes.items():
        if (_is_unset(before) and _is_unset(after)) or before == after:
            continue
        if path == MANAGER_PATH:
            operations.append(_operation(path, _manager(before), _manager(after)))
        else:
            operations.append(_operation(path, before, after))
    return operations


def build_member_patch(added: Iterable[str], removed: Iterable[str]) -> list[PatchOp]:
    """Group membership changes: one add of every new member, one remove per member gone
    (`members[value eq "id"]`, the form Entra ID and most servers accept)."""
    to_add = list(dict.fromkeys(added))
    operations: list[PatchOp] = [
        {"op": "remove", "path": f"members[value eq {quote_literal(member)}]"}
        for member in dict.fromkeys(removed)
    ]
    if to_add:
        value = [{"value": member} for member in to_add]
        operations.insert(0, {"op": "add", "path": "members", "value": value})
    return operations


def patch_request(operations: Iterable[PatchOp]) -> dict[str, Any]:
    """The PatchOp message body for `operations`."""
    return {"schemas": [PATCH_OP_URN], "Operations": list(operations)}


def equals_filter(path: str, value: str) -> str:
    """A filter matching `path` equal to `value`: `userName eq "anna@x"` (RFC 7644 §3.4.2.2)."""
    return f"{path} eq {quote_literal(value)}"


def quote_literal(value: str) -> str:
    """A SCIM filter string literal: JSON string syntax (RFC 7644 §3.4.2.2), quotes escaped."""
    return json.dumps(value, ensure_ascii=False)


def _operation(path: str, before: Any, after: Any) -> PatchOp:
    match = _VALUE_PATH.match(path)
    if _is_unset(after):
        if match and match["sub"] in (None, "value"):
            # Removing the element's `value` would leave `{"type": "work"}` behind: remove it all.
            return {"op": "remove", "path": f"{match['attribute']}[{match['filter']}]"}
        return {"op": "remove", "path": path}
    if match and _is_unset(before):
        element = _element_from_filter(match["filter"])
        if element is not None:
            element = element | ({match["sub"]: after} if match["sub"] else _as_dict(after))
            return {"op": "add", "path": match["attribute"], "value": [element]}
    return {"op": "replace", "path": path, "value": after}


def _element_from_filter(expression: str) -> dict[str, Any] | None:
    """The element a simple `attr eq literal` filter selects, e.g. {"type": "work"}; None for
    any other filter (an `and`, `pr`, …), which is then left to a replace."""
    match = _EQUALS.match(expression)
    if match is None or "." in match["attribute"]:
        return None
    literal = match["literal"]
    value = json.loads(literal) if literal.startswith('"') else literal.lower() == "true"
    return {match["attribute"]: value}


def _as_dict(value: Any) -> dict[str, Any]:
    return dict(value) if isinstance(value, Mapping) else {"value": value}


def _manager(value: Any) -> Any:
    return {"value": value} if isinstance(value, str) and value else value


def _is_unset(value: Any) -> bool:
    return value is None or value in ("", [], {})
