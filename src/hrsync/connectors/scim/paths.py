"""Flat attribute paths ↔ SCIM resources: how the engine's single-valued attributes are read
from and written into User resources. Pure.

A path is one of: `userName`; `name.givenName` (a sub-attribute); `emails[type eq "work"].value`
(the element of a multi-valued attribute whose `type` is "work"); a fully qualified extension
path, `urn:…:enterprise:2.0:User:department`, which may name a sub-attribute itself
(`…:User:manager` is read from and written to `manager.value`). Values are text in the engine;
booleans go on the wire as JSON booleans, as the schema types them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from hrsync.connectors.scim.patch import MANAGER_PATH

Resource = dict[str, Any]
_FILTERED = re.compile(
    r'^(?P<attribute>[A-Za-z0-9_$-]+)\[type eq "(?P<type>[^"]*)"\]\.(?P<sub>\w+)$'
)
_URN = re.compile(r"^(?P<urn>urn:[^\s]+):(?P<rest>[A-Za-z0-9_$.-]+)$")


def split_path(path: str) -> tuple[str | None, str]:
    """(extension URN or None, the path within it)."""
    match = _URN.match(path)
    if match is None:
        return None, path
    return match["urn"], match["rest"]


def read_path(resource: Mapping[str, Any], path: str) -> str | None:
    """The text at `path` in `resource`; None when absent or empty."""
    urn, rest = split_path(path)
    node: Any = resource.get(urn) if urn else resource
    if not isinstance(node, Mapping):
        return None
    if path == MANAGER_PATH:
        manager = node.get("manager")
        return _text(manager.get("value") if isinstance(manager, Mapping) else manager)
    filtered = _FILTERED.match(rest)
    if filtered is not None:
        elements = node.get(filtered["attribute"])
        for element in elements if isinstance(elements, list) else ():
            if isinstance(element, Mapping) and element.get("type") == filtered["type"]:
                return _text(element.get(filtered["sub"]))
        return None
    for part in rest.split("."):
        if not isinstance(node, Mapping):
            return None
        node = _get(node, part)
    return _text(node)


def write_path(resource: Resource, path: str, value: str | None, *, is_boolean: bool) -> None:
    """Set `path` in `resource` (for a create or a full replace); None leaves it out."""
    if value is None:
        return
    urn, rest = split_path(path)
    node = resource.setdefault(urn, {}) if urn else resource
    wire: Any = (value == "true") if is_boolean else value
    if path == MANAGER_PATH:
        node["manager"] = {"value": value}
        return
    filtered = _FILTERED.match(rest)
    if filtered is not None:
        elements = node.setdefault(filtered["attribute"], [])
        elements.append({"type": filtered["type"], filtered["sub"]: wire})
        return
    *parents, last = rest.split(".")
    for part in parents:
        node = node.setdefault(part, {})
    node[last] = wire


def wire_value(value: str | None, *, is_boolean: bool) -> Any:
    """A value as a PATCH operation sends it."""
    if value is None or not is_boolean:
        return value
    return value == "true"


def _get(node: Mapping[str, Any], name: str) -> Any:
    """SCIM attribute names are case-insensitive (RFC 7643 §2.1)."""
    if name in node:
        return node[name]
    folded = name.casefold()
    return next((v for k, v in node.items() if k.casefold() == folded), None)


def _text(value: Any) -> str | None:
    if value is None or value == "" or isinstance(value, Mapping | list):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
