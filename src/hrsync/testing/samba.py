"""A throwaway Samba AD DC on a loopback address: provisioned from a cached template, LDAPS only.

    dc = SambaDC.provision(tmp_path / "dc")
    dc.start()
    dc.wait_ready()
    ...  # dc.url, dc.base_dn, dc.bind_dn, dc.admin_password, dc.ca_file
    dc.stop()

Samba hard-codes its LDAP ports (389, 636, 3268, 3269; there is no smb.conf option for them), so
a second DC on the same machine gets a second loopback address instead: Linux answers on all of
127.0.0.0/8, and Samba binds an address given as `127.0.0.N/8` even though `lo` only carries
127.0.0.1. `provision(host=None)` picks the first 127.0.0.N whose LDAP ports are free.

Provisioning a domain takes a few seconds, so the first one is provisioned into a template
directory (`$HRSYNC_SAMBA_CACHE`, else `~/.cache/hrsync/samba-template`, one per realm, domain and
password) and every fresh domain is a copy of it with its own smb.conf and TLS certificate.

As a command (for the demo script), `python -m hrsync.testing.samba up DIR` provisions DIR when
needed, starts the DC in the background (pid file `DIR/run/dc.pid`) and prints JSON with url,
base_dn, bind_dn, password and ca_file; `down DIR` stops it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import ldap

from hrsync.testing.tls import write_server_tls

DEFAULT_REALM = "EXAMPLE.TEST"
DEFAULT_DOMAIN = "EXAMPLE"
DEFAULT_PASSWORD = "Passw0rd!Samba"  # noqa: S105 -- a throwaway test domain on loopback
HOST_NAME = "DC1"
LDAP_PORTS = (389, 636, 3268, 3269)
STATE_FILE = "hrsync-dc.json"

# Only the LDAP server: no SMB file server, NetBIOS, WINS, DNS, KDC, replication or RPC.
_SMB_CONF = """\
[global]
	netbios name = {host_name}
	workgroup = {domain}
	realm = {realm}
	server role = active directory domain controller
	server services = ldap
	interfaces = {host}/8
	bind interfaces only = yes
	ldap server require strong auth = no
	tls enabled = yes
	tls keyfile = {workdir}/tls/key.pem
	tls certfile = {workdir}/tls/cert.pem
	tls cafile = {workdir}/tls/ca.pem
	private dir = {workdir}/private
	binddns dir = {workdir}/bind-dns
	lock directory = {workdir}
	state directory = {workdir}/state
	cache directory = {workdir}/cache
	pid directory = {workdir}/run
	ncalrpc dir = {workdir}/run/ncalrpc
	log file = {workdir}/log/samba.log
	max log size = 10000
	idmap_ldb:use rfc2307 = yes
"""


class SambaError(RuntimeError):
    """Provisioning or starting the DC failed; the message carries the tail of Samba's output."""


def samba_available() -> bool:
    """True when this machine has the `samba` daemon and `samba-tool` (Debian: samba-ad-dc)."""
    return shutil.which("samba") is not None and shutil.which("samba-tool") is not None


@dataclass(frozen=True, slots=True)
class SambaDC:
    """One provisioned domain in `workdir`. It runs while `start()`ed, until `stop()`."""

    workdir: Path
    realm: str
    domain: str
    admin_password: str
    host: str

    @classmethod
    def provision(
        cls,
        workdir: Path,
        realm: str = DEFAULT_REALM,
        domain: str = DEFAULT_DOMAIN,
        admin_password: str = DEFAULT_PASSWORD,
        host: str | None = None,
    ) -> SambaDC:
        """A fresh domain in `workdir` (absent or empty), copied from the cached template."""
        workdir = workdir.resolve()
        if workdir.exists() and any(workdir.iterdir()):
            raise SambaError(f"{workdir} is not empty; a fresh domain needs an empty directory")
        template = _template(realm, domain, admin_password)
        shutil.copytree(template, workdir, symlinks=True, dirs_exist_ok=True)
        dc = cls(workdir, realm, domain, admin_password, host or pick_loopback_host())
        dc._write_config()
        return dc

    @classmethod
    def open(cls, workdir: Path) -> SambaDC:
        """The DC provisioned earlier in `workdir`."""
        state = json.loads((workdir / STATE_FILE).read_text())
        return cls(workdir=Path(state.pop("workdir")), **state)

    @property
    def url(self) -> str:
        return f"ldaps://{self.host}:636"

    @property
    def base_dn(self) -> str:
        return ",".join(f"DC={part}" for part in self.realm.lower().split("."))

    @property
    def bind_dn(self) -> str:
        return f"Administrator@{self.realm.lower()}"

    @property
    def ca_file(self) -> Path:
        """The CA that signed the DC's certificate (which names its loopback address)."""
        return self.workdir / "tls" / "ca.pem"

    @property
    def config_file(self) -> Path:
        return self.workdir / "etc" / "smb.conf"

    @property
    def log_file(self) -> Path:
        return self.workdir / "log" / "samba.out"

    @property
    def pid_file(self) -> Path:
        return self.workdir / "run" / "dc.pid"

    def connection_info(self) -> dict[str, str]:
        return {
            "url": self.url,
            "base_dn": self.base_dn,
            "bind_dn": self.bind_dn,
            "password": self.admin_password,
            "ca_file": str(self.ca_file),
        }

    def start(self) -> None:
        """Start `samba` in the background, in its own session, with its output in the workdir."""
        if self.is_running():
            raise SambaError(f"the DC in {self.workdir} is already running")
        command = ["samba", "--foreground", "--no-process-group", "--model=single"]
        command += ["--debug-stdout", "--configfile", str(self.config_file)]
        log = os.open(self.log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        try:
            # posix_spawn rather than Popen: the DC outlives this object (and, for `up`, this
            # process), and a Popen dropped while its child runs warns at garbage collection.
            pid = os.posix_spawnp(
                "samba",
                command,
                os.environ,
                file_actions=[
                    (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
                    (os.POSIX_SPAWN_DUP2, log, 1),
                    (os.POSIX_SPAWN_DUP2, log, 2),
                ],
                setsid=True,
            )
        finally:
            os.close(log)
        self.pid_file.write_text(f"{pid}\n")

    def wait_ready(self, timeout: float = 60) -> None:
        """Block until an LDAPS bind as the administrator succeeds; raise SambaError on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.is_running():
                raise SambaError(f"samba exited during start-up:\n{self._log_tail()}")
            if self._can_bind():
                return
            time.sleep(0.05)
        raise SambaError(f"no LDAPS bind on {self.url} within {timeout} s:\n{self._log_tail()}")

    def stop(self, timeout: float = 10) -> None:
        """Stop the DC started by `start()` (SIGTERM to its session, then SIGKILL)."""
        pid = self._pid()
        if pid is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(pid, signal.SIGTERM)
            if not _wait_gone(pid, timeout):
                os.killpg(pid, signal.SIGKILL)
                _wait_gone(pid, timeout)
        self.pid_file.unlink(missing_ok=True)

    def is_running(self) -> bool:
        pid = self._pid()
        return pid is not None and _is_alive(pid)

    def _pid(self) -> int | None:
        with contextlib.suppress(FileNotFoundError, ValueError):
            return int(self.pid_file.read_text())
        return None

    def _can_bind(self) -> bool:
        connection = ldap.initialize(self.url)
        connection.set_option(ldap.OPT_NETWORK_TIMEOUT, 2)
        connection.set_option(ldap.OPT_X_TLS_REQUIRE_CERT, ldap.OPT_X_TLS_NEVER)
        connection.set_option(ldap.OPT_X_TLS_NEWCTX, 0)  # must come last: applies the TLS options
        try:
            connection.simple_bind_s(self.bind_dn, self.admin_password)
        except ldap.LDAPError:
            return False
        connection.unbind_s()
        return True

    def _write_config(self) -> None:
        for name in ("etc", "run", "log", "cache", "tls"):
            (self.workdir / name).mkdir(exist_ok=True)
        values = {"host_name": HOST_NAME, **asdict(self), "workdir": str(self.workdir)}
        self.config_file.write_text(_SMB_CONF.format(**values))
        write_server_tls(self.workdir / "tls", self.host, f"{HOST_NAME}.{self.realm}".lower())
        state = {**asdict(self), "workdir": str(self.workdir)}
        (self.workdir / STATE_FILE).write_text(json.dumps(state, indent=2) + "\n")

    def _log_tail(self, lines: int = 30) -> str:
        with contextlib.suppress(FileNotFoundError):
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        return "(no output)"


def pick_loopback_host() -> str:
    """The first 127.0.0.N (N = 1…254) on which Samba's LDAP ports are all free."""
    for last in range(1, 255):
        host = f"127.0.0.{last}"
        if all(_is_port_free(host, port) for port in LDAP_PORTS):
            return host
    raise SambaError("no loopback address with free LDAP ports (389, 636, 3268, 3269)")


def _is_port_free(host: str, port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def _is_alive(pid: int) -> bool:
    try:
        waited, _ = os.waitpid(pid, os.WNOHANG)  # reaps our own child once it has exited
    except ChildProcessError:
        waited = 0  # not our child (started by another process): fall back to a signal probe
    if waited == pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not _is_alive(pid):
            return True
        time.sleep(0.05)
    return False


def template_cache() -> Path:
    configured = os.environ.get("HRSYNC_SAMBA_CACHE")
    return Path(configured) if configured else Path.home() / ".cache" / "hrsync" / "samba-template"


def _template(realm: str, domain: str, admin_password: str) -> Path:
    """The provisioned template for these settings, provisioned once under a file lock."""
    digest = hashlib.sha256(f"{realm}\0{domain}\0{admin_password}".encode()).hexdigest()[:12]
    cache = template_cache()
    cache.mkdir(parents=True, exist_ok=True)
    template = cache / f"{realm.lower()}-{domain.lower()}-{digest}"
    with _locked(cache / f"{template.name}.lock"):
        if not (template / "private" / "sam.ldb").exists():
            _provision_template(template, realm, domain, admin_password)
    return template


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    with path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _provision_template(template: Path, realm: str, domain: str, admin_password: str) -> None:
    """Provision into a scratch directory, then rename it into place so no half-template stays."""
    if not samba_available():
        raise SambaError(
            "samba and samba-tool are not installed (Debian: apt-get install samba-ad-dc)"
        )
    scratch = Path(tempfile.mkdtemp(prefix=".provision-", dir=template.parent))
    try:
        _run_provision(scratch, realm, domain, admin_password)
        shutil.rmtree(template, ignore_errors=True)
        scratch.rename(template)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _run_provision(target: Path, realm: str, domain: str, admin_password: str) -> None:
    # An empty config file of our own keeps provision from merging /etc/samba/smb.conf.
    config = target / "etc" / "smb.conf"
    config.parent.mkdir(parents=True)
    config.touch()
    command = ["samba-tool", "domain", "provision", f"--configfile={config}"]
    command += [f"--targetdir={target}", f"--realm={realm}", f"--domain={domain}"]
    command += ["--server-role=dc", "--dns-backend=NONE", "--use-rfc2307"]
    command += [f"--host-name={HOST_NAME}", f"--adminpass={admin_password}"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-30:])
        raise SambaError(f"samba-tool domain provision failed:\n{tail}")


def _command_up(workdir: Path) -> None:
    dc = SambaDC.open(workdir) if (workdir / STATE_FILE).exists() else SambaDC.provision(workdir)
    if not dc.is_running():
        dc.start()
    dc.wait_ready()
    print(json.dumps(dc.connection_info()))


def _command_down(workdir: Path) -> None:
    if (workdir / STATE_FILE).exists():
        SambaDC.open(workdir).stop()


def main(argv: list[str]) -> int:
    """`up DIR` or `down DIR`; see the module docstring."""
    if len(argv) != 2 or argv[0] not in ("up", "down"):
        print("usage: python -m hrsync.testing.samba up|down DIR", file=sys.stderr)
        return 2
    workdir = Path(argv[1]).resolve()
    try:
        (_command_up if argv[0] == "up" else _command_down)(workdir)
    except SambaError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
