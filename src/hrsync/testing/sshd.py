"""A real OpenSSH sshd on loopback for tests and benchmarks: SFTP only, one generated client key.

    with start_sshd() as server:
        server.host, server.port, server.user, server.client_key   # log in with this key
        server.host_key_sha256                                       # "SHA256:…", as ssh-keygen -lf
        server.upload_dir                                            # remote "upload", on disk

The server runs as the current user (root in CI, an ordinary user on a laptop) from a private
sshd_config in a temporary directory: its own host key, `ForceCommand internal-sftp` starting in
`root`, public-key authentication with only the generated client key, no PAM, `StrictModes no`
(the temporary directory's modes are not sshd's business). A chroot would need root-owned
directories and root, so the session is started in `root` (`internal-sftp -d`) instead.

Without PAM, sshd still refuses a locked account ("!" password), such as the `nobody` that
systemd's NSS module makes up: run as an account that can log in.

A machine without sshd raises `SshdUnavailable`; any other failure `SshdError` with the log.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

SSHD = Path("/usr/sbin/sshd")
SSH_KEYGEN = "ssh-keygen"
PRIVSEP_DIR = Path("/run/sshd")
"""Where sshd running as root chroots its unprivileged child; Debian makes it only at boot."""
REMOTE_DIR = "upload"
STARTUP_TIMEOUT = 15.0

_CONFIG = """\
ListenAddress {host}:{port}
HostKey {workdir}/ssh_host_ed25519_key
PidFile {workdir}/sshd.pid
AuthorizedKeysFile {workdir}/authorized_keys
AllowUsers {user}
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
StrictModes no
UsePAM no
PrintMotd no
X11Forwarding no
AllowTcpForwarding no
AllowAgentForwarding no
PermitTTY no
Subsystem sftp internal-sftp
ForceCommand internal-sftp -d {root}
LogLevel VERBOSE
"""


class SshdError(RuntimeError):
    """sshd did not start or answer; the message carries the tail of its log."""


class SshdUnavailable(SshdError):  # noqa: N818 -- reads as the condition it reports
    """This machine has no sshd or ssh-keygen (Debian package openssh-server)."""


@dataclass(frozen=True)
class SshServer:
    """A running sshd. `upload_dir` is `remote_dir` as seen on this machine's disk."""

    host: str
    port: int
    user: str
    client_key: Path
    host_key_sha256: str
    root: Path
    remote_dir: str
    process: subprocess.Popen[bytes]
    workdir: Path

    @property
    def upload_dir(self) -> Path:
        return self.root / self.remote_dir

    @property
    def log(self) -> str:
        return _log_tail(self.workdir)

    def stop(self) -> None:
        _terminate(self.process)


@contextlib.contextmanager
def start_sshd(host: str = "127.0.0.1") -> Iterator[SshServer]:
    """A started sshd, stopped and its directory removed afterwards."""
    require_sshd()
    workdir = Path(tempfile.mkdtemp(prefix="hrsync-sshd-"))
    try:
        server = _start_in(workdir, host)
        try:
            yield server
        finally:
            server.stop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def require_sshd() -> None:
    """Raise SshdUnavailable unless sshd and ssh-keygen are here."""
    if not SSHD.is_file() or shutil.which(SSH_KEYGEN) is None:
        raise SshdUnavailable(f"{SSHD} or {SSH_KEYGEN} is missing (Debian package openssh-server)")


def _start_in(workdir: Path, host: str) -> SshServer:
    root = workdir / "root"
    (root / REMOTE_DIR).mkdir(parents=True)
    host_key = _keygen(workdir / "ssh_host_ed25519_key")
    client_key = _keygen(workdir / "client_ed25519")
    shutil.copyfile(client_key.with_suffix(".pub"), workdir / "authorized_keys")
    if os.geteuid() == 0:
        _ensure_privsep_dir()
    user = pwd.getpwuid(os.geteuid()).pw_name  # not $USER: sshd goes by the uid it runs as
    port = _free_port(host)
    config = workdir / "sshd_config"
    config.write_text(
        _CONFIG.format(host=host, port=port, workdir=workdir, user=user, root=root),
        encoding="utf-8",
    )
    _test_config(config)
    process = subprocess.Popen(
        [str(SSHD), "-D", "-f", str(config), "-E", str(workdir / "sshd.log")],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    server = SshServer(
        host, port, user, client_key, _fingerprint(host_key), root, REMOTE_DIR, process, workdir
    )
    _wait_for_banner(server)
    return server


def _keygen(path: Path) -> Path:
    """A new ed25519 key pair without a passphrase at `path` and `path.pub`."""
    subprocess.run(
        [SSH_KEYGEN, "-q", "-t", "ed25519", "-N", "", "-C", "hrsync-test", "-f", str(path)],
        check=True,
        capture_output=True,
    )
    return path


def _fingerprint(private_key: Path) -> str:
    """The key's SHA256 fingerprint exactly as `ssh-keygen -lf` prints it ("SHA256:…")."""
    out = subprocess.run(
        [SSH_KEYGEN, "-l", "-E", "sha256", "-f", f"{private_key}.pub"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return out.split()[1]


def _ensure_privsep_dir() -> None:
    """As root, sshd refuses to start without its privilege-separation directory (root-owned,
    not group- or world-writable); a container never booted, so nothing made it."""
    PRIVSEP_DIR.mkdir(mode=0o755, parents=True, exist_ok=True)


def _test_config(config: Path) -> None:
    """`sshd -t`: a broken config says why here instead of in a log after a silent exit."""
    checked = subprocess.run(
        [str(SSHD), "-t", "-f", str(config)], capture_output=True, text=True, check=False
    )
    if checked.returncode != 0:
        raise SshdError(f"sshd -t rejected {config}: {checked.stderr.strip()}")


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def _wait_for_banner(server: SshServer) -> None:
    """Until sshd sends its "SSH-2.0-" banner; SshdError with its log if it exits or stalls."""
    deadline = time.monotonic() + STARTUP_TIMEOUT
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise SshdError(f"sshd exited with {server.process.returncode}:\n{server.log}")
        with (
            contextlib.suppress(OSError),
            socket.create_connection((server.host, server.port), timeout=1) as sock,
        ):
            if sock.recv(8).startswith(b"SSH-2.0"):
                return
        time.sleep(0.05)
    server.stop()
    raise SshdError(f"sshd did not answer on {server.host}:{server.port}:\n{server.log}")


def _terminate(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to sshd's process group (the listener and any session children), then wait."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _log_tail(workdir: Path, lines: int = 30) -> str:
    log = workdir / "sshd.log"
    if not log.exists():
        return "(no log)"
    return "\n".join(log.read_text(encoding="utf-8", errors="replace").splitlines()[-lines:])
