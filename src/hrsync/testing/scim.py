"""SCIM 2.0 servers on loopback for tests: scim2-server (Python) and SCIMMY (Node.js).

    with start_scim2_server() as server:    # or start_scimmy_server()
        httpx2.get(server.url + "Users", headers={"Authorization": f"Bearer {server.token}"})

Both serve Users and Groups from memory (empty on every start), demand the bearer token, and put
the enterprise extension and Winningtemp's user extension (schemas/winningtemp_user.json) on
User. `url` is the SCIM base URL and ends with "/". Two implementations on two stacks, because a
SCIM client that only ever met one server has only met that server's reading of the RFCs; their
differences are written down in docs/connectors/scim-test-servers.md.

A server that cannot start here (scim2-server not installed, no node or npm) raises
`ScimServerUnavailable`, whose message says what is missing; any other failure raises
`ScimServerError` with the tail of the server's log.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib.util import find_spec
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx2

SCHEMAS_DIR = Path(__file__).parent / "schemas"
WINNINGTEMP_USER_SCHEMA = SCHEMAS_DIR / "winningtemp_user.json"
USER_RESOURCE_TYPE = SCHEMAS_DIR / "user_resource_type.json"
SCIMMY_DIR = Path(__file__).parent / "scimmy"

ENTERPRISE_USER_URN = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
WINNINGTEMP_USER_URN = "urn:ietf:params:scim:schemas:extension:winningtemp:2.0:User"

DEFAULT_TOKEN = "test-token"  # noqa: S105 -- a throwaway server on loopback
STARTUP_TIMEOUT = 30.0
NPM_CI_TIMEOUT = 300.0
_LISTENING = re.compile(r"listening on (http://\S+)")

T = TypeVar("T")


class ScimServerError(RuntimeError):
    """The server did not start or answer; the message carries the tail of its log."""


class ScimServerUnavailable(ScimServerError):  # noqa: N818 -- reads as the condition it reports
    """This machine lacks what the server needs (a package, node or npm); the message says what."""


@dataclass
class ScimServer:
    """One running SCIM server. It serves until `stop()` (or the end of its `with` block).

    A scim2-server also hands out fresh, empty tenants of itself (`new_tenant()`): a test gets a
    store of its own without waiting for a process to start.
    """

    url: str
    token: str
    name: str
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False, compare=False)
    _workdir: Path | None = field(default=None, repr=False, compare=False)
    _tenants_root: str | None = field(default=None, repr=False, compare=False)

    def new_tenant(self) -> ScimServer:
        """The same server under a tenant path of its own, empty. Stopping it stops nothing (the
        server keeps every tenant in memory until it stops)."""
        if self._tenants_root is None:
            raise ScimServerError(f"{self.name} has no tenants")
        url = f"{self._tenants_root}{_tenant_name()}/v2/"
        return ScimServer(url, self.token, self.name, _tenants_root=self._tenants_root)

    def stop(self) -> None:
        """Stop the server (SIGTERM, then SIGKILL after 5 s) and remove its files."""
        if self._process is not None:
            _terminate(self._process)
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> ScimServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _tenant_name() -> str:
    return f"t{uuid.uuid4().hex[:12]}"


# --- scim2-server ---------------------------------------------------------------------------------


def start_scim2_server(
    *,
    token: str = DEFAULT_TOKEN,
    extra_schemas: Sequence[Path] = (),
    extra_resource_types: Sequence[Path] = (),
    service_provider_config: Path | None = None,
) -> ScimServer:
    """scim2-server on a free loopback port, with an empty in-memory store.

    `service_provider_config` replaces what the server says it supports (e.g. an app without
    PATCH), to mimic a less capable app.

    It serves RFC 7643's schemas, the Winningtemp user extension and each of `extra_schemas`;
    its resource types are User (with both extensions) and Group, where a resource type of
    `extra_resource_types` replaces the one of the same id. Each file holds one JSON object or
    a list of them. It runs with dynamic tenants, and the URL is one of them,
    http://127.0.0.1:PORT/TENANT/v2/ (the /v2 prefix is the one the server writes into every
    meta.location; it answers without it as well).
    """
    if find_spec("scim2_server") is None:
        raise ScimServerUnavailable(
            "scim2-server is not installed (pip install -e '.[dev]' installs it)"
        )
    workdir = Path(tempfile.mkdtemp(prefix="hrsync-scim2-server-"))
    try:
        schemas, resource_types = _scim2_discovery(extra_schemas, extra_resource_types)
        (workdir / "schemas.json").write_text(json.dumps(schemas))
        (workdir / "resource-types.json").write_text(json.dumps(resource_types))
        # scim2-server prints the port it was given, not the one it bound, so the port is picked
        # here; another process may take it in between, hence a few tries.
        for _ in range(3):
            server = _start_scim2_on(_free_port(), token, workdir, service_provider_config)
            if server is not None:
                return server
        raise ScimServerError(f"scim2-server found no free port: {_log_tail(workdir)}")
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise


def _start_scim2_on(
    port: int, token: str, workdir: Path, service_provider_config: Path | None = None
) -> ScimServer | None:
    log = workdir / "server.log"
    command = [
        sys.executable,
        "-m",
        "scim2_server.testserver.cli",
        "--hostname=127.0.0.1",
        "--dynamic-tenants",
        f"--port={port}",
        f"--bearer-token={token}",
        f"--schema={workdir / 'schemas.json'}",
        f"--resource-type={workdir / 'resource-types.json'}",
    ]
    if service_provider_config is not None:
        command.append(f"--service-provider-config={service_provider_config}")
    process = _spawn(command, log, cwd=workdir)
    root = f"http://127.0.0.1:{port}/"
    url = f"{root}{_tenant_name()}/v2/"
    try:
        _wait_until_answering(url, token, process, log)
    except ScimServerError:
        _terminate(process)
        if "Address already in use" in log.read_text(errors="replace"):
            return None
        raise
    return ScimServer(url, token, "scim2-server", process, workdir, root)


def _scim2_discovery(
    extra_schemas: Sequence[Path], extra_resource_types: Sequence[Path]
) -> tuple[list[Any], list[Any]]:
    """The lists for --schema and --resource-type: each flag takes one file and replaces the
    defaults, so the defaults are read from the package and merged with ours here."""
    from scim2_server.utils import load_json_resource  # noqa: PLC0415 -- an optional dev tool

    schemas = _by_id(load_json_resource("default-schemas.json"))
    resource_types = _by_id(load_json_resource("default-resource-types.json"))
    for path in (WINNINGTEMP_USER_SCHEMA, *extra_schemas):
        schemas |= _by_id(_json_objects(path))
    for path in (USER_RESOURCE_TYPE, *extra_resource_types):
        resource_types |= _by_id(_json_objects(path))
    return list(schemas.values()), list(resource_types.values())


def _json_objects(path: Path) -> list[Any]:
    loaded = json.loads(path.read_text())
    return loaded if isinstance(loaded, list) else [loaded]


def _by_id(objects: list[Any]) -> dict[str, Any]:
    return {item["id"]: item for item in objects}


# --- SCIMMY ---------------------------------------------------------------------------------------


def start_scimmy_server(*, token: str = DEFAULT_TOKEN) -> ScimServer:
    """The SCIMMY server of scimmy/server.js on a free loopback port, with an empty store.

    Runs `npm ci` in scimmy/ first when its node_modules is missing or older than the lock file.
    The URL is http://127.0.0.1:PORT/.
    """
    node = shutil.which("node")
    if node is None:
        raise ScimServerUnavailable(
            "node is not installed (Debian package nodejs): the SCIMMY server runs on Node.js"
        )
    ensure_scimmy_installed()
    workdir = Path(tempfile.mkdtemp(prefix="hrsync-scimmy-"))
    try:
        log = workdir / "server.log"
        process = _spawn(
            [node, str(SCIMMY_DIR / "server.js"), "0"],
            log,
            cwd=SCIMMY_DIR,
            env={**os.environ, "SCIM_BEARER_TOKEN": token},
        )
        try:
            url = _wait_for_line(_LISTENING, process, log)
            _wait_until_answering(url, token, process, log)
        except BaseException:
            _terminate(process)
            raise
        return ScimServer(url, token, "scimmy", process, workdir)
    except BaseException:
        shutil.rmtree(workdir, ignore_errors=True)
        raise


def ensure_scimmy_installed() -> None:
    """`npm ci` in scimmy/ unless its node_modules is at least as new as package-lock.json.

    A file lock keeps two test processes from installing into the same folder at once.
    """
    modules = SCIMMY_DIR / "node_modules"
    lock_file = SCIMMY_DIR / "package-lock.json"
    if _is_newer(modules, lock_file):
        return
    npm = shutil.which("npm")
    if npm is None:
        raise ScimServerUnavailable(
            f"npm is not installed (Debian package npm), and {modules} needs `npm ci`"
        )
    with (SCIMMY_DIR / ".npm-ci.lock").open("w") as guard:
        fcntl.flock(guard, fcntl.LOCK_EX)
        if _is_newer(modules, lock_file):
            return
        result = subprocess.run(
            [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
            cwd=SCIMMY_DIR,
            capture_output=True,
            text=True,
            timeout=NPM_CI_TIMEOUT,
            check=False,
        )
        if result.returncode != 0:
            raise ScimServerUnavailable(
                f"`npm ci` in {SCIMMY_DIR} failed (exit {result.returncode}): "
                f"{(result.stderr or result.stdout)[-2000:]}"
            )
        modules.touch()  # npm keeps the folder's own mtime when it only replaces its contents


def _is_newer(path: Path, than: Path) -> bool:
    return path.is_dir() and path.stat().st_mtime >= than.stat().st_mtime


# --- processes ------------------------------------------------------------------------------------


def _spawn(
    command: list[str], log: Path, *, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """A server in a process group of its own, its output in `log` (a pipe nobody reads would
    fill up and stall the server)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _terminate(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_line(pattern: re.Pattern[str], process: subprocess.Popen[bytes], log: Path) -> str:
    """The first group of `pattern` once the server's log shows it."""

    def found() -> str | None:
        match = pattern.search(log.read_text(errors="replace"))
        return match.group(1) if match else None

    return _poll(found, process, log, "did not say where it listens")


def _wait_until_answering(
    url: str, token: str, process: subprocess.Popen[bytes], log: Path
) -> None:
    headers = {"Authorization": f"Bearer {token}"}

    def answers() -> bool | None:
        try:
            response = httpx2.get(url + "ServiceProviderConfig", headers=headers, timeout=2)
        except httpx2.TransportError:
            return None
        return True if response.status_code == 200 else None

    _poll(answers, process, log, f"did not answer {url}ServiceProviderConfig")


def _poll(
    probe: Callable[[], T | None], process: subprocess.Popen[bytes], log: Path, failure: str
) -> T:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if (value := probe()) is not None:
            return value
        if process.poll() is not None:
            raise ScimServerError(
                f"the server exited ({process.returncode}) and {failure}: {_log_tail(log.parent)}"
            )
        time.sleep(0.05)
    raise ScimServerError(
        f"the server {failure} within {STARTUP_TIMEOUT:.0f} s: {_log_tail(log.parent)}"
    )


def _log_tail(workdir: Path) -> str:
    log = workdir / "server.log"
    return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"
