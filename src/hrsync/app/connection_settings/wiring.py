"""Build connectors from stored settings: the one place that knows every connector kind.

A connection is bound to its target kind here (`bind`): the connector, the planner's policy
(hrsync.engine.policy.AccountPolicy), its groups, and what the rest of the app may ask of a
target. Nothing else in the app names a kind; a new target kind is one entry in `TARGETS`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol, Self

from django.conf import settings as django_settings
from pydantic import BaseModel

from hrsync.app.connection_settings.groups import GroupSettings
from hrsync.app.connection_settings.policies import (
    ON_RENAME,
    lifecycle_of,
    mapping_of,
    naming_rule,
    person_id_attribute,
)
from hrsync.app.models import Connection, Source
from hrsync.app.security.secrets import decrypt
from hrsync.app.sources.manual import NOT_IMPORTED, is_manual
from hrsync.connectors.active_directory.config import ActiveDirectoryConfig
from hrsync.connectors.active_directory.escaping import is_within
from hrsync.connectors.active_directory.group_naming import DirectoryGroupNaming
from hrsync.connectors.active_directory.mapping import DirectoryPolicy
from hrsync.connectors.active_directory.profile import AD_PROFILE
from hrsync.connectors.active_directory.rules import parse_placement
from hrsync.connectors.active_directory.target import ActiveDirectoryTarget
from hrsync.connectors.afas.config import AfasConfig
from hrsync.connectors.afas.source import AfasSource
from hrsync.connectors.csv.columns import file_format_of
from hrsync.connectors.csv.config import CsvConfig
from hrsync.connectors.csv.delivery import (
    check_drop,
    csv_secret_setting,
    open_drop,
    unpinned_server_key,
)
from hrsync.connectors.csv.group_naming import CsvGroupNaming
from hrsync.connectors.csv.policy import CsvPolicy
from hrsync.connectors.csv.profile import csv_profile
from hrsync.connectors.csv.source import CsvSource
from hrsync.connectors.csv.source_config import CsvSourceConfig
from hrsync.connectors.csv.target import CsvTarget
from hrsync.connectors.flexhrm.config import FlexHrmConfig
from hrsync.connectors.flexhrm.source import FlexHrmSource
from hrsync.connectors.microsoft365.config import Microsoft365Config
from hrsync.connectors.microsoft365.delta import FileDeltaStore
from hrsync.connectors.microsoft365.group_naming import GraphGroupNaming
from hrsync.connectors.microsoft365.policy import GraphPolicy
from hrsync.connectors.microsoft365.profile import MICROSOFT365_PROFILE
from hrsync.connectors.microsoft365.target import Microsoft365Target
from hrsync.connectors.scim.client import build_http_client
from hrsync.connectors.scim.compliance import ComplianceReport, check_compliance
from hrsync.connectors.scim.config import ScimConfig
from hrsync.connectors.scim.group_naming import ScimGroupNaming
from hrsync.connectors.scim.policy import ScimPolicy
from hrsync.connectors.scim.profile import scim_profile
from hrsync.connectors.scim.target import ScimTarget
from hrsync.domain.errors import SourceError, TargetError
from hrsync.domain.groups import Group
from hrsync.domain.person import InvalidRecord, Person
from hrsync.domain.profile import TargetProfile
from hrsync.engine.groups import GroupPolicy
from hrsync.engine.lifecycle_dates import LifecyclePolicy
from hrsync.engine.policy import AccountPolicy
from hrsync.ports import Target

APP_SETTINGS = frozenset(
    {
        "password_env",
        "token_env",
        "safety",
        "scope",
        "lifecycle",
        "shrink_guard",
        "mapping",
        "placement",
        "naming",
        "groups",
    }
)
"""Settings the app itself uses; the rest belong to the connector's config model (besides
these, the setting naming a secret's variable: `secret_env_settings`)."""
SECRET_ENVS = ("password_env", "token_env")
PLACEHOLDER = "placeholder"  # stands in for the secret while validating the rest of a config


class MissingSecretError(Exception):
    """The environment variable that should hold a secret is not set."""


class RunTarget(Target, Protocol):
    """A target as a run uses it, besides planning and applying."""

    def prepare(self) -> None:
        """Make what must exist before a run writes (AD: the users OU)."""

    def read_reserved_names(self) -> Iterator[tuple[str, str]]:
        """(attribute, value) of unique names in use outside the accounts read."""
        ...

    def close(self) -> None: ...


GroupReader = Callable[[], tuple[list[Group], frozenset[str]]]
"""hrsync's groups in the target, and names new groups must avoid (hrsync.engine.groups)."""


@dataclass(frozen=True)
class Binding:
    """One connection bound to its target kind, for a run, a check or a mapping test."""

    target: RunTarget
    policy: AccountPolicy
    lifecycle: LifecyclePolicy
    groups: GroupPolicy | None
    read_groups: GroupReader | None
    where: str
    """Where accounts live, in ticket comments (AD: the base DN; SCIM: the app's URL)."""

    @property
    def profile(self) -> TargetProfile:
        return self.policy.profile


@dataclass(frozen=True)
class TargetKind:
    """A kind of target: its settings model, profile and how a connection is bound to it."""

    config: type[BaseModel]
    profile: Callable[[dict[str, Any]], TargetProfile]
    """The kind's profile for a connection's settings (a SCIM preset is chosen by them)."""
    bind: Callable[[Connection, BaseModel], Binding]
    check: Callable[[BaseModel], str]
    """"Test connection": what was found, in words; TargetError with a readable message when
    the target cannot be used."""
    secret_key: Callable[[dict[str, Any]], str] = lambda settings: "password"
    """Which config field the connection's secret fills; empty: the kind needs no secret (a
    CSV file delivered to a folder)."""
    where_key: str = "url"
    """The setting that says where the accounts live (AD: base_dn; SCIM: url), named on
    tickets also when a run fails before its target is bound."""
    first_contact: Callable[[dict[str, Any]], str | None] | None = None
    """"Test connection" before the settings are complete: what the admin must confirm first,
    read from the target (a CSV target over SFTP: the server's key fingerprint, to pin); None
    when there is nothing to say."""
    compliance: Callable[[BaseModel, bool], ComplianceReport] | None = None
    """"Check compliance" against the target's protocol (SCIM: scim2-tester), with write
    checks when asked; None where the kind has no such suite."""


def _scim_secret(settings: dict[str, Any]) -> str:
    """A bearer token, or the password of basic authentication."""
    return "password" if settings.get("auth") == "basic" else "token"


def _bind_ad(connection: Connection, config: BaseModel) -> Binding:
    assert isinstance(config, ActiveDirectoryConfig)
    target = ActiveDirectoryTarget(config, mapped_attributes=_mapped(connection))
    groups = directory_groups(connection.settings, config.base_dn)
    reader: GroupReader | None = None
    if groups is not None:
        ou = groups.naming.ou if isinstance(groups.naming, DirectoryGroupNaming) else ""
        reader = lambda: target.read_groups(ou)  # noqa: E731
    return Binding(
        target=target,
        policy=directory_policy(connection, config),
        lifecycle=lifecycle_of(connection.settings, config.leavers_ou_dn),
        groups=groups,
        read_groups=reader,
        where=config.base_dn,
    )


def directory_policy(connection: Connection, config: ActiveDirectoryConfig) -> DirectoryPolicy:
    """What the planner needs to know about an AD connection: OUs, names, mapping overrides."""
    settings = connection.settings
    placement = settings.get("placement")
    return DirectoryPolicy(
        config.users_ou_dn,
        config.upn_suffix,
        config.person_id_attribute,
        mapping_of(settings, config.person_id_attribute, AD_PROFILE),
        connection.time_zone,
        parse_placement(placement) if placement else None,
        config.base_dn,
        naming_rule(settings, "sam"),
        naming_rule(settings, "upn"),
        upn_follows_rename=(settings.get("naming") or {}).get(ON_RENAME) == "follow",
    )


def directory_groups(settings: dict[str, Any], base_dn: str) -> GroupPolicy | None:
    stored = GroupSettings.model_validate(settings.get("groups") or {})
    if not stored.enabled:
        return None
    ou = stored.ou if is_within(stored.ou, base_dn) else f"{stored.ou},{base_dn}"
    naming = DirectoryGroupNaming(ou, stored.scope, stored.sam_prefix)
    return GroupPolicy(tuple(stored.levels), naming, stored.grace_days)


def _bind_scim(connection: Connection, config: BaseModel) -> Binding:
    assert isinstance(config, ScimConfig)
    profile = scim_profile(config.profile)
    owner = person_id_attribute(connection.settings, profile)
    policy = ScimPolicy(
        profile,
        mapping_of(connection.settings, owner, profile),
        connection.time_zone,
        tuple(config.attributes),
        owner,
        custom_fields=tuple(config.custom_fields),
    )
    target = ScimTarget(config, policy, marks=StoredMarks(connection))
    stored = GroupSettings.model_validate(connection.settings.get("groups") or {})
    groups = None
    if stored.enabled:
        naming = ScimGroupNaming(profile, parent_path=target.group_parent_path)
        groups = GroupPolicy(tuple(stored.levels), naming, stored.grace_days)
    return Binding(
        target=target,
        policy=policy,
        lifecycle=lifecycle_of(connection.settings, None),
        groups=groups,
        read_groups=target.read_groups if groups is not None else None,
        where=config.url,
    )


def _scim_compliance(config: BaseModel, with_writes: bool) -> ComplianceReport:
    assert isinstance(config, ScimConfig)
    with build_http_client(config) as http:
        return check_compliance(http, include_writes=with_writes)


def _check_scim(config: BaseModel) -> str:
    assert isinstance(config, ScimConfig)
    target = ScimTarget(config, ScimPolicy(scim_profile(config.profile)))
    try:
        return target.describe()
    finally:
        target.close()


class StoredMarks(MutableMapping[str, str]):
    """A connection's group marks (`Connection.group_marks`), each change saved at once."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._marks: dict[str, str] = dict(connection.group_marks or {})

    def __getitem__(self, key: str) -> str:
        return self._marks[key]

    def __setitem__(self, key: str, value: str) -> None:
        self._marks[key] = value
        self._save()

    def __delitem__(self, key: str) -> None:
        del self._marks[key]
        self._save()

    def __iter__(self) -> Iterator[str]:
        return iter(self._marks)

    def __len__(self) -> int:
        return len(self._marks)

    def _save(self) -> None:
        Connection.objects.filter(pk=self._connection.pk).update(group_marks=dict(self._marks))


def _bind_csv(connection: Connection, config: BaseModel) -> Binding:
    assert isinstance(config, CsvConfig)
    file_format = config.file_format()
    profile = csv_profile(file_format)
    owner = person_id_attribute(connection.settings, profile)
    policy = CsvPolicy(
        file_format,
        mapping_of(connection.settings, owner, profile),
        connection.time_zone,
        owner,
    )
    target = CsvTarget(config, policy, state_dir=csv_state_dir(connection, config))
    stored = GroupSettings.model_validate(connection.settings.get("groups") or {})
    groups = None
    if stored.enabled and profile.capabilities.groups:
        groups = GroupPolicy(tuple(stored.levels), CsvGroupNaming(profile), stored.grace_days)
    return Binding(
        target=target,
        policy=policy,
        lifecycle=lifecycle_of(connection.settings, None),
        groups=groups,
        read_groups=target.read_groups if groups is not None else None,
        where=config.folder or target.drop.describe(),
    )


def csv_state_dir(connection: Connection, config: CsvConfig) -> str:
    """Where hrsync keeps its copy of the connection's last delivery: as set, else in the data
    directory, as $HRSYNC_HOME/connections/KEY-ID (a connection made again under the same key
    starts afresh, as its links do)."""
    return config.state_dir or str(connection_state_dir(connection))


def connection_state_dir(connection: Connection) -> Path:
    """A connection's own folder in the data directory, $HRSYNC_HOME/connections/KEY-ID, for
    what a target keeps between runs (a connection made again under the same key starts
    afresh, as its links do)."""
    return Path(django_settings.HOME) / "connections" / f"{connection.key}-{connection.pk}"


def _check_csv(config: BaseModel) -> str:
    assert isinstance(config, CsvConfig)
    found = check_drop(open_drop(config))  # the drop alone: no copy of rows is read
    return f"{found}; the file goes there as {config.file_format().file_name}."


def _bind_microsoft365(connection: Connection, config: BaseModel) -> Binding:
    assert isinstance(config, Microsoft365Config)
    profile = MICROSOFT365_PROFILE
    owner = config.person_id_attribute
    policy = GraphPolicy(
        profile,
        config.upn_suffix,
        mapping_of(connection.settings, owner, profile),
        connection.time_zone,
        owner,
        config.usage_location,
    )
    delta = FileDeltaStore(connection_state_dir(connection) / "graph-delta.json")
    target = Microsoft365Target(config, policy, marks=StoredMarks(connection), delta=delta)
    stored = GroupSettings.model_validate(connection.settings.get("groups") or {})
    groups = None
    if stored.enabled:
        groups = GroupPolicy(tuple(stored.levels), GraphGroupNaming(profile), stored.grace_days)
    return Binding(
        target=target,
        policy=policy,
        lifecycle=lifecycle_of(connection.settings, None),
        groups=groups,
        read_groups=target.read_groups if groups is not None else None,
        where=config.tenant_id,
    )


def _check_microsoft365(config: BaseModel) -> str:
    assert isinstance(config, Microsoft365Config)
    policy = GraphPolicy(MICROSOFT365_PROFILE, config.upn_suffix)
    target = Microsoft365Target(config, policy)
    try:
        return target.describe()
    finally:
        target.close()


def _check_ad(config: BaseModel) -> str:
    assert isinstance(config, ActiveDirectoryConfig)
    target = ActiveDirectoryTarget(config)
    try:
        target.check()
    finally:
        target.close()
    return f"Bound as {config.bind_dn}; {config.base_dn} is readable."


TARGETS: dict[str, TargetKind] = {
    "active_directory": TargetKind(
        ActiveDirectoryConfig, lambda _: AD_PROFILE, _bind_ad, _check_ad, where_key="base_dn"
    ),
    "scim": TargetKind(
        ScimConfig,
        lambda settings: scim_profile(str(settings.get("profile") or "generic")),
        _bind_scim,
        _check_scim,
        _scim_secret,
        compliance=_scim_compliance,
    ),
    "csv": TargetKind(
        CsvConfig,
        lambda settings: csv_profile(file_format_of(settings)),
        _bind_csv,
        _check_csv,
        csv_secret_setting,
        where_key="folder",
        first_contact=unpinned_server_key,
    ),
    "microsoft365": TargetKind(
        Microsoft365Config,
        lambda _: MICROSOFT365_PROFILE,
        _bind_microsoft365,
        _check_microsoft365,
        lambda settings: "client_secret",
        where_key="tenant_id",
    ),
}


TARGET_MODELS: dict[str, type[BaseModel]] = {kind: t.config for kind, t in TARGETS.items()}


def target_model(kind: str) -> type[BaseModel]:
    return TARGETS[kind].config


def where_of(connection: Connection) -> str:
    """Where the connection's accounts live, from its settings alone (no secret needed)."""
    return str(connection.settings.get(TARGETS[connection.kind].where_key) or "")


def profile_of(kind: str, settings: dict[str, Any] | None = None) -> TargetProfile:
    """The profile of a kind of target, for a connection with these settings."""
    return TARGETS[kind].profile(settings or {})


def validate_settings(model: type[BaseModel], settings: dict[str, Any]) -> BaseModel:
    """Check stored settings against the connector's config model, without the secret."""
    return model.model_validate(_with_secret(settings, PLACEHOLDER, secret_field(model, settings)))


def secret_field(model: type[BaseModel], settings: dict[str, Any]) -> str:
    """The field of a config model the secret fills (a source's: password)."""
    kind = next((t for t in TARGETS.values() if t.config is model), None)
    return kind.secret_key(settings) if kind is not None else "password"


class ImportSource(Protocol):
    """A source as an import uses it (hrsync.ports.PersonSource, opened and closed)."""

    key: str

    def check(self) -> None: ...

    def read_people(self, modified_since: datetime | None) -> Iterator[Person | InvalidRecord]: ...

    def default_window_start(self, now: datetime) -> datetime | None: ...

    def __enter__(self) -> Self: ...

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None: ...


@dataclass(frozen=True)
class SourceKind:
    """A kind of source: its settings model and how a stored source becomes the connector."""

    config: type[BaseModel]
    build: Callable[[Source], ImportSource]
    is_file: bool = False
    """Read from files it is given (uploads, a pickup folder) rather than fetched."""
    has_console_form: bool = False
    """Its settings can be edited on the source's console page (else: config file or API)."""


def build_afas_source(source: Source) -> AfasSource:
    """An AFAS Profit source, its token resolved (the connection's secret, or token_env)."""
    secret = _secret(source.settings, source.secret)
    return AfasSource(AfasConfig.model_validate(_with_secret(source.settings, secret)))


def build_flex_source(source: Source) -> FlexHrmSource:
    """A Flex HRM source, for what only Flex HRM has (its company picker)."""
    return FlexHrmSource(flex_config(source))


def csv_source_config(source: Source) -> CsvSourceConfig:
    """The CSV settings of a source; over SFTP with its secret (a password or a private key, as
    for a CSV target), which uploads and folders do not need."""
    key = csv_secret_setting(source.settings)
    secret = _secret(source.settings, source.secret) if key else ""
    return CsvSourceConfig.model_validate(_with_secret(source.settings, secret, key))


def build_csv_source(source: Source) -> CsvSource:
    return CsvSource(csv_source_config(source), source.key)


SOURCE_KINDS: dict[str, SourceKind] = {
    "flexhrm": SourceKind(FlexHrmConfig, build_flex_source, has_console_form=True),
    "csv": SourceKind(CsvSourceConfig, build_csv_source, is_file=True),
    "afas": SourceKind(AfasConfig, build_afas_source),
}
SOURCES: dict[str, type[BaseModel]] = {kind: s.config for kind, s in SOURCE_KINDS.items()}


def build_source(source: Source) -> ImportSource:
    """The connector of a stored source, by its kind; the caller closes it (`with`).
    SourceError for the built-in `manual` source, which has none."""
    if is_manual(source):
        raise SourceError(NOT_IMPORTED)
    return SOURCE_KINDS[source.kind].build(source)


def has_console_form(source: Source) -> bool:
    kind = SOURCE_KINDS.get(source.kind)
    return kind is not None and kind.has_console_form


def is_file_source(source: Source) -> bool:
    kind = SOURCE_KINDS.get(source.kind)
    return kind is not None and kind.is_file


def flex_config(source: Source) -> FlexHrmConfig:
    """The Flex HRM settings of a source, its password resolved."""
    secret = _secret(source.settings, source.secret)
    return FlexHrmConfig.model_validate(_with_secret(source.settings, secret))


def target_config(connection: Connection) -> BaseModel:
    """The connector's config with its secret, from the connection's stored settings."""
    if not TARGETS[connection.kind].secret_key(connection.settings):
        return target_model(connection.kind).model_validate(
            _with_secret(connection.settings, "", "")
        )
    key = TARGETS[connection.kind].secret_key(connection.settings)
    secret = _secret(connection.settings, connection.secret, key)
    return config_with_secret(connection.kind, connection.settings, secret)


def config_with_secret(kind: str, settings: dict[str, Any], secret: str) -> BaseModel:
    """The connector's config from settings being entered, with the given secret."""
    key = TARGETS[kind].secret_key(settings)
    return target_model(kind).model_validate(_with_secret(settings, secret, key))


def bind(connection: Connection) -> Binding:
    """The connection bound to its target; the caller closes `binding.target`."""
    return TARGETS[connection.kind].bind(connection, target_config(connection))


def secret_key_of(kind: str, settings: dict[str, Any]) -> str:
    """The config field a connection's secret fills; empty when the settings need none."""
    return TARGETS[kind].secret_key(settings)


def first_contact(kind: str, settings: dict[str, Any]) -> str | None:
    """See TargetKind.first_contact; TargetError's reason when the target cannot be reached."""
    contact = TARGETS[kind].first_contact
    if contact is None:
        return None
    try:
        return contact(settings)
    except TargetError as error:
        return str(error)


def check_target(kind: str, config: BaseModel) -> str:
    return TARGETS[kind].check(config)


def check_compliance_of(connection: Connection, *, with_writes: bool) -> ComplianceReport:
    """The connection's target checked against its protocol, with its stored settings."""
    compliance = TARGETS[connection.kind].compliance
    if compliance is None:
        raise LookupError(f"{profile_of(connection.kind).label} has no compliance checks")
    return compliance(target_config(connection), with_writes)


def _mapped(connection: Connection) -> Iterable[str]:
    return (connection.settings.get("mapping") or {}).keys()


def _with_secret(settings: dict[str, Any], secret: str, key: str = "password") -> dict[str, Any]:
    app = APP_SETTINGS | set(secret_env_settings(key))
    values = {k: v for k, v in settings.items() if k not in app}
    return values | {key: secret} if key else values


def secret_env_settings(key: str) -> tuple[str, ...]:
    """The settings that may name the environment variable holding the secret field `key`:
    the field's own name with `_env` (client_secret → client_secret_env, as a config file
    spells it), then password_env and token_env, which every kind has always accepted."""
    own = (f"{key}_env",) if key else ()
    return tuple(dict.fromkeys([*own, *SECRET_ENVS]))


def secret_env_of(settings: dict[str, Any], key: str = "password") -> tuple[str, str]:
    """(setting, variable name) of the environment variable that holds the secret field `key`;
    ("", "") when the settings name none."""
    for setting in secret_env_settings(key):
        if name := settings.get(setting):
            return setting, str(name)
    return "", ""


def connection_secret_env(connection: Connection) -> tuple[str, str]:
    """The environment variable a connection's secret comes from, as `secret_env_of`."""
    return secret_env_of(connection.settings, secret_key_of(connection.kind, connection.settings))


def _secret(settings: dict[str, Any], stored: str = "", key: str = "password") -> str:
    """The secret field `key`: from the environment variable its setting names (`key`_env,
    password_env or token_env), else the one stored encrypted (entered in the console)."""
    setting, name = secret_env_of(settings, key)
    if not name and stored:
        return decrypt(stored)
    if not name:
        raise MissingSecretError(
            f"no {key or 'password'} is set: enter one, or name it with "
            f"{secret_env_settings(key)[0]}"
        )
    value = os.environ.get(name)
    if value is None:
        raise MissingSecretError(f"the environment variable {name} ({setting}) is not set")
    return value
