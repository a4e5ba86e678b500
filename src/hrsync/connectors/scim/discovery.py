"""What a SCIM service says it can do: ServiceInfo, read from its three discovery documents. Pure.

The documents are /ServiceProviderConfig, /ResourceTypes and /Schemas (RFC 7644 §4, RFC 7643
§5-7). Real services omit some of them or parts of them; each gap is filled with a cautious
assumption, and every assumption is written to `ServiceInfo.notes` so an admin can see it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from scim2_models import EnterpriseUser, Group, User

from hrsync.connectors.scim.patch import ENTERPRISE_USER_URN

USER_URN = "urn:ietf:params:scim:schemas:core:2.0:User"
GROUP_URN = "urn:ietf:params:scim:schemas:core:2.0:Group"
PARENT_NAMES = ("parentExternalId", "parentGroupExternalId")
"""Names of a Group attribute that holds the parent group's externalId (Winningtemp's "Parent
Group External ID", seed 001). RFC 7643's Group has none; an app that adds one, in the core Group
schema or a Group extension, gets hrsync's hierarchy of units through it."""


@dataclass(frozen=True, slots=True)
class AttributeDefinition:
    """One attribute of a schema (RFC 7643 §7), with its sub-attributes when complex."""

    name: str
    type: str = "string"
    multi_valued: bool = False
    required: bool = False
    case_exact: bool = False
    uniqueness: str = "none"
    mutability: str = "readWrite"
    returned: str = "default"
    description: str = ""
    canonical_values: tuple[str, ...] = ()
    sub_attributes: tuple[AttributeDefinition, ...] = ()

    def sub_attribute(self, name: str) -> AttributeDefinition | None:
        return _named(self.sub_attributes, name)


@dataclass(frozen=True, slots=True)
class SchemaDefinition:
    """A schema (core or extension) by its URN, with its attributes."""

    id: str
    name: str
    attributes: tuple[AttributeDefinition, ...]

    def attribute(self, name: str) -> AttributeDefinition | None:
        return _named(self.attributes, name)


COMMON_ATTRIBUTES = (
    AttributeDefinition("id", mutability="readOnly", case_exact=True, uniqueness="server"),
    AttributeDefinition("externalId", case_exact=True),
)
"""RFC 7643 §3.1: every resource has these, though its schema need not list them."""


@dataclass(frozen=True, slots=True)
class ServiceInfo:
    """The capabilities, endpoints and schemas of one SCIM service."""

    supports_patch: bool = False
    supports_filter: bool = True
    filter_max_results: int | None = None
    supports_bulk: bool = False
    bulk_max_operations: int | None = None
    bulk_max_payload_size: int | None = None
    supports_etag: bool = False
    supports_sort: bool = False
    supports_change_password: bool = False
    authentication_schemes: tuple[str, ...] = ()
    user_endpoint: str = "/Users"
    user_schema: str = USER_URN
    user_extensions: tuple[str, ...] = ()
    required_user_extensions: tuple[str, ...] = ()
    group_endpoint: str | None = "/Groups"
    group_extensions: tuple[str, ...] = ()
    schemas: tuple[SchemaDefinition, ...] = ()
    notes: tuple[str, ...] = field(default=())

    @property
    def has_groups(self) -> bool:
        return self.group_endpoint is not None

    @property
    def has_enterprise_extension(self) -> bool:
        return ENTERPRISE_USER_URN in self.user_extensions

    @property
    def custom_user_extensions(self) -> tuple[str, ...]:
        """Extension URNs beyond the enterprise one, such as Winningtemp's."""
        return tuple(urn for urn in self.user_extensions if urn != ENTERPRISE_USER_URN)

    @property
    def group_parent_path(self) -> str | None:
        """The path of the Group attribute that names the parent's externalId, if the app has
        one: `parentExternalId` in the core Group schema, `urn:…:Group:parentExternalId` in an
        extension; None otherwise (groups then stand side by side)."""
        if not self.has_groups:
            return None
        for urn in (GROUP_URN, *self.group_extensions):
            schema = self.schema(urn)
            found = schema and next(filter(None, map(schema.attribute, PARENT_NAMES)), None)
            if found and found.mutability in ("readWrite", "writeOnly", "immutable"):
                return found.name if urn == GROUP_URN else f"{urn}:{found.name}"
        return None

    def schema(self, urn: str) -> SchemaDefinition | None:
        return next((s for s in self.schemas if s.id.casefold() == urn.casefold()), None)

    def user_attribute(self, path: str) -> AttributeDefinition | None:
        """The definition behind a User attribute path: `name.givenName`,
        `emails[type eq "work"].value`, `urn:…:enterprise:2.0:User:manager.value`;
        None when the service does not define it."""
        urn, rest = self._split_urn(path)
        schema = self.schema(urn)
        if schema is None:
            return None
        names = [part.split("[", 1)[0] for part in _split_path(rest)]
        if not names:
            return None
        definition = schema.attribute(names[0])
        if definition is None and urn == self.user_schema:
            definition = _named(COMMON_ATTRIBUTES, names[0])
        for name in names[1:]:
            definition = definition.sub_attribute(name) if definition else None
        return definition

    def _split_urn(self, path: str) -> tuple[str, str]:
        for urn in (*self.user_extensions, self.user_schema):
            if path.casefold().startswith(urn.casefold() + ":"):
                return urn, path[len(urn) + 1 :]
        return self.user_schema, path


def parse_service_info(
    config: Any, resource_types: Any, schemas: Any, notes: Iterable[str] = ()
) -> ServiceInfo:
    """ServiceInfo from the decoded bodies of the three documents; None for one the service
    does not publish. `notes` are prepended (e.g. why a document is missing)."""
    said = list(notes)
    capabilities = _read_config(config, said)
    endpoints = _read_resource_types(_resources(resource_types), said)
    schema_docs = _resources(schemas)
    if schemas is None or not schema_docs:
        said.append("no /Schemas: assuming the RFC 7643 core User, Group and enterprise schemas")
        schema_docs = _core_schemas()
    parsed = tuple(_schema(doc) for doc in schema_docs if isinstance(doc, Mapping))
    known = {schema.id.casefold() for schema in parsed}
    said.extend(
        f"extension {urn} is declared but not described: its attributes are unknown"
        for urn in endpoints["user_extensions"]
        if urn.casefold() not in known
    )
    return ServiceInfo(**capabilities, **endpoints, schemas=parsed, notes=tuple(said))


def _read_config(config: Any, notes: list[str]) -> dict[str, Any]:
    if not isinstance(config, Mapping):
        notes.append(
            "no /ServiceProviderConfig: assuming filtering, and no PATCH, bulk, ETag or sort "
            "(updates are sent as PUT)"
        )
        return {}
    patch, bulk, filtering = (_get(config, key) or {} for key in ("patch", "bulk", "filter"))
    missing = [key for key in ("patch", "bulk", "filter") if _get(config, key) is None]
    if missing:
        notes.append(f"/ServiceProviderConfig omits {', '.join(missing)}: assuming unsupported")
    return {
        "supports_patch": _flag(patch),
        "supports_filter": _flag(filtering),
        "filter_max_results": _positive(_get(filtering, "maxResults")),
        "supports_bulk": _flag(bulk),
        "bulk_max_operations": _positive(_get(bulk, "maxOperations")),
        "bulk_max_payload_size": _positive(_get(bulk, "maxPayloadSize")),
        "supports_etag": _flag(_get(config, "etag")),
        "supports_sort": _flag(_get(config, "sort")),
        "supports_change_password": _flag(_get(config, "changePassword")),
        "authentication_schemes": tuple(
            str(_get(scheme, "type") or _get(scheme, "name"))
            for scheme in _get(config, "authenticationSchemes") or []
            if isinstance(scheme, Mapping)
        ),
    }


def _read_resource_types(documents: list[Any] | None, notes: list[str]) -> dict[str, Any]:
    if not documents:
        notes.append("no /ResourceTypes: assuming User at /Users and Group at /Groups")
        return {"user_extensions": (ENTERPRISE_USER_URN,), "group_endpoint": "/Groups"}
    by_schema = {
        str(_get(doc, "schema")).casefold(): doc for doc in documents if isinstance(doc, Mapping)
    }
    user, group = by_schema.get(USER_URN.casefold()), by_schema.get(GROUP_URN.casefold())
    if user is None:
        notes.append("/ResourceTypes lists no User resource type: assuming /Users")
        user = {"endpoint": "/Users", "schemaExtensions": []}
    if group is None:
        notes.append("/ResourceTypes lists no Group resource type: groups are not provisioned")
    extensions = [ext for ext in _get(user, "schemaExtensions") or [] if isinstance(ext, Mapping)]
    return {
        "user_endpoint": _endpoint(_get(user, "endpoint"), "/Users"),
        "user_extensions": tuple(str(_get(ext, "schema")) for ext in extensions),
        "required_user_extensions": tuple(
            str(_get(ext, "schema")) for ext in extensions if _get(ext, "required") is True
        ),
        "group_endpoint": _endpoint(_get(group, "endpoint"), "/Groups") if group else None,
        "group_extensions": tuple(
            str(_get(ext, "schema"))
            for ext in (_get(group, "schemaExtensions") or [] if group else [])
            if isinstance(ext, Mapping)
        ),
    }


def _schema(document: Mapping[str, Any]) -> SchemaDefinition:
    attributes = _get(document, "attributes") or []
    return SchemaDefinition(
        id=str(_get(document, "id")),
        name=str(_get(document, "name") or ""),
        attributes=tuple(_attribute(a) for a in attributes if isinstance(a, Mapping)),
    )


def _attribute(document: Mapping[str, Any]) -> AttributeDefinition:
    subs = _get(document, "subAttributes") or []
    return AttributeDefinition(
        name=str(_get(document, "name")),
        type=str(_get(document, "type") or "string"),
        multi_valued=_get(document, "multiValued") is True,
        required=_get(document, "required") is True,
        case_exact=_get(document, "caseExact") is True,
        uniqueness=str(_get(document, "uniqueness") or "none"),
        mutability=str(_get(document, "mutability") or "readWrite"),
        returned=str(_get(document, "returned") or "default"),
        description=str(_get(document, "description") or ""),
        canonical_values=tuple(str(v) for v in _get(document, "canonicalValues") or []),
        sub_attributes=tuple(_attribute(s) for s in subs if isinstance(s, Mapping)),
    )


def _core_schemas() -> list[dict[str, Any]]:
    """The RFC 7643 schemas as scim2-models defines them, for a service without /Schemas."""
    return [model.to_schema().model_dump(mode="json") for model in (User, Group, EnterpriseUser)]


def _resources(body: Any) -> list[Any] | None:
    """The list a discovery response holds: a ListResponse's Resources, or a bare JSON array
    (some services answer /Schemas that way)."""
    if isinstance(body, list):
        return body
    if isinstance(body, Mapping):
        resources = _get(body, "Resources")
        return resources if isinstance(resources, list) else None
    return None


def _get(document: Any, key: str) -> Any:
    """`document[key]`, the key matched case-insensitively (RFC 7643 §2.1)."""
    if not isinstance(document, Mapping):
        return None
    if key in document:
        return document[key]
    folded = key.casefold()
    return next((v for k, v in document.items() if str(k).casefold() == folded), None)


def _flag(section: Any) -> bool:
    return _get(section, "supported") is True


def _positive(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else None


def _endpoint(value: Any, default: str) -> str:
    text = str(value).strip() if value else default
    return text if text.startswith("/") else "/" + text


def _named(attributes: tuple[AttributeDefinition, ...], name: str) -> AttributeDefinition | None:
    folded = name.casefold()
    return next((a for a in attributes if a.name.casefold() == folded), None)


def _split_path(path: str) -> list[str]:
    """`emails[type eq "a.b"].value` → ["emails[type eq \"a.b\"]", "value"]: dots inside a
    value filter do not split."""
    parts, depth, current = [], 0, ""
    for char in path:
        depth += (char == "[") - (char == "]")
        if char == "." and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    return [*parts, current] if current else parts
