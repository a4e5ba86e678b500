"""The CSV target delivering over SFTP to a real OpenSSH sshd on loopback, and the SftpDrop a
CSV source picks files up with: pinned host key, .part then rename, retries, Test connection."""

from __future__ import annotations

import hashlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paramiko
import pytest
from tests.sites import FLEX_PASSWORD, cli_env, flex_simulator
from tests.tcp_relay import TcpRelay
from tests.unit.test_csv_target import GOLDEN, TODAY, person

from hrsync.app.connection_settings import wiring
from hrsync.connectors.csv.config import CsvConfig
from hrsync.connectors.csv.target import CsvTarget
from hrsync.connectors.csv.writer import render
from hrsync.connectors.files.drop import PART
from hrsync.connectors.files.sftp import SftpDrop, SftpSettings, fingerprint
from hrsync.connectors.files.sftp_errors import (
    SftpAuthError,
    SftpHostKeyError,
    SftpNotFoundError,
    SftpUnavailableError,
)
from hrsync.domain.changes import CreateAccount
from hrsync.domain.errors import TransientError
from hrsync.domain.ids import EmployeeNumber, PersonId
from hrsync.engine.apply import apply_changes
from hrsync.engine.plan import plan_changes
from hrsync.testing.sshd import SshServer

FLEXWHERE_FILE = "flexwhere - users.csv"
OTHER_FINGERPRINT = "SHA256:" + "A" * 43


def sftp_config(settings: SftpSettings, state_dir: Path, **changes: object) -> CsvConfig:
    """A Flexwhere CSV target delivering to the settings' remote directory."""
    values: dict[str, object] = {
        "delivery": "sftp",
        "state_dir": str(state_dir),
        "receipt": True,
        "host": settings.host,
        "port": settings.port,
        "username": settings.username,
        "key_file": settings.key_file,
        "host_key_sha256": settings.host_key_sha256,
        "remote_dir": settings.remote_dir,
        "max_retries": settings.max_retries,
        "backoff_seconds": settings.backoff_seconds,
        "timeout_seconds": settings.timeout_seconds,
    }
    return CsvConfig.model_validate(values | changes)


def plan_and_apply(csv_target: CsvTarget, people: list[object] | None = None) -> None:
    """Plan Anna and Karl-Johan (the golden file's two rows) against the target and apply."""
    people = people or [person(1, "Anna", "Berg"), person(2, "Karl-Johan", "Vänsterhänt-Lindqvist")]
    accounts = list(csv_target.read_accounts())
    plan = plan_changes(people, accounts, {}, csv_target.policy, TODAY)  # type: ignore[arg-type]
    apply_changes(plan.changes, csv_target)


def remote(sshd: SshServer, settings: SftpSettings) -> Path:
    return sshd.root / settings.remote_dir


def test_the_flexwhere_file_is_uploaded_as_the_golden_file(
    sftp_settings: SftpSettings, sshd: SshServer, tmp_path: Path
) -> None:
    csv_target = CsvTarget(sftp_config(sftp_settings, tmp_path / "state"))
    plan_and_apply(csv_target)
    csv_target.close()
    folder = remote(sshd, sftp_settings)
    golden = (GOLDEN / FLEXWHERE_FILE).read_bytes()
    assert (folder / FLEXWHERE_FILE).read_bytes() == golden
    assert not list(folder.glob(f"*{PART}"))
    stored = json.loads((tmp_path / "state" / "rows.json").read_text())
    assert stored["sha256"] == hashlib.sha256(golden).hexdigest()
    assert len(list(CsvTarget(sftp_config(sftp_settings, tmp_path / "state")).read_accounts())) == 2


def test_the_receipt_holds_the_checksum_of_the_uploaded_file(
    sftp_settings: SftpSettings, sshd: SshServer, tmp_path: Path
) -> None:
    csv_target = CsvTarget(sftp_config(sftp_settings, tmp_path / "state"))
    plan_and_apply(csv_target)
    csv_target.close()
    folder = remote(sshd, sftp_settings)
    digest, name = (folder / f"{FLEXWHERE_FILE}.sha256").read_text().rstrip("\n").split("  ")
    assert name == FLEXWHERE_FILE
    assert digest == hashlib.sha256((folder / FLEXWHERE_FILE).read_bytes()).hexdigest()


def test_a_wrong_host_key_is_refused_with_both_fingerprints_and_nothing_is_uploaded(
    sftp_settings: SftpSettings, sshd: SshServer, tmp_path: Path
) -> None:
    waits: list[float] = []
    log_before = (sshd.workdir / "sshd.log").read_text()
    pinned = sftp_settings.model_copy(update={"host_key_sha256": OTHER_FINGERPRINT})
    config = sftp_config(pinned, tmp_path / "state")
    csv_target = CsvTarget(config, drop=SftpDrop(pinned, sleep=waits.append))
    plan_and_apply(csv_target)
    with pytest.raises(SftpHostKeyError) as refused:
        csv_target.close()
    assert OTHER_FINGERPRINT in str(refused.value)
    assert sshd.host_key_sha256 in str(refused.value)
    assert "nothing was sent" in str(refused.value)
    assert waits == []  # a wrong key is not retried
    assert list(remote(sshd, sftp_settings).iterdir()) == []
    server_saw = (sshd.workdir / "sshd.log").read_text().removeprefix(log_before)
    assert "Connection from" in server_saw
    assert "publickey" not in server_saw  # the key was checked before any login attempt
    assert not (tmp_path / "state" / "rows.json").exists()


def big_file_changes(count: int) -> list[CreateAccount]:
    """Rows with long titles and departments: several MB, so an upload takes a while."""
    return [
        CreateAccount(
            PersonId(f"p{n}"),
            EmployeeNumber(str(n)),
            f"user{n}@example.test",
            {
                "CSV_USERNAME": f"user{n}@example.test",
                "CSV_FIRSTNAME": f"Given{n}",
                "CSV_SURNAME": f"Family{n}",
                "CSV_TITLE": f"Title {n} " + "x" * 200,
                "CSV_DEPARTMENT": f"Department {n} " + "y" * 200,
                "CSV_EMAIL": f"user{n}@example.test",
            },
            True,
            "new",
        )
        for n in range(count)
    ]


@pytest.fixture
def relay(sshd: SshServer) -> Iterator[TcpRelay]:
    proxy = TcpRelay(sshd.host, sshd.port)
    proxy.start()
    yield proxy
    proxy.cut()


def cut_when_part_grows(relay: TcpRelay, part: Path, at_least: int) -> threading.Thread:
    """Cut the relay as soon as `part` holds `at_least` bytes: an upload lost halfway."""

    def watch() -> None:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if part.exists() and part.stat().st_size >= at_least:
                relay.cut()
                return
            time.sleep(0.001)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    return watcher


def test_an_upload_cut_halfway_leaves_no_file_and_the_next_run_delivers_it(
    sftp_settings: SftpSettings, sshd: SshServer, relay: TcpRelay, tmp_path: Path
) -> None:
    through_relay = sftp_settings.model_copy(update={"port": relay.port})
    config = sftp_config(through_relay, tmp_path / "state")
    folder = remote(sshd, sftp_settings)
    changes = big_file_changes(30_000)
    csv_target = CsvTarget(config, drop=SftpDrop(through_relay, sleep=lambda _: None))
    apply_changes(changes, csv_target)
    expected = render(csv_target.file_format, (c.attributes for c in changes))
    assert len(expected) > 10_000_000
    watcher = cut_when_part_grows(relay, folder / f"{FLEXWHERE_FILE}{PART}", 1_000_000)

    with pytest.raises(TransientError) as lost:
        csv_target.close()
    watcher.join()

    assert "gave up after 2 attempts" in str(lost.value)
    assert not (folder / FLEXWHERE_FILE).exists()
    assert (folder / f"{FLEXWHERE_FILE}{PART}").stat().st_size < len(expected)
    assert not (tmp_path / "state" / "rows.json").exists()  # the changes are still pending

    relay.restore()
    next_run = CsvTarget(config)
    assert list(next_run.read_accounts()) == []  # nothing was recorded as delivered
    apply_changes(changes, next_run)
    next_run.close()
    assert (folder / FLEXWHERE_FILE).read_bytes() == expected
    assert not (folder / f"{FLEXWHERE_FILE}{PART}").exists()


def test_a_refused_connection_is_retried_with_back_off_then_transient(
    sftp_settings: SftpSettings, relay: TcpRelay
) -> None:
    relay.cut()
    waits: list[float] = []
    settings = sftp_settings.model_copy(
        update={"port": relay.port, "max_retries": 3, "backoff_seconds": 1.0}
    )
    with pytest.raises(SftpUnavailableError) as refused:
        SftpDrop(settings, sleep=waits.append).put("a.csv", b"a")
    assert "the connection was refused" in str(refused.value)
    assert "gave up after 4 attempts" in str(refused.value)
    assert len(waits) == 3
    assert [0.5 <= w <= 1.0 for w in waits[:1]] == [True]
    assert 2.0 <= waits[2] <= 4.0  # doubling: 1 s, 2 s, 4 s ceilings, half of each fixed


def test_test_connection_shows_the_servers_fingerprint(
    sftp_settings: SftpSettings, sshd: SshServer, tmp_path: Path
) -> None:
    found = wiring.check_target("csv", sftp_config(sftp_settings, tmp_path / "state"))
    assert sshd.host_key_sha256 in found
    assert f"the remote directory '{sftp_settings.remote_dir}' is writable" in found
    assert found.endswith(f"the file goes there as {FLEXWHERE_FILE}.")
    assert list(remote(sshd, sftp_settings).iterdir()) == []  # the probe file is gone
    assert fingerprint(sshd.host, sshd.port) == sshd.host_key_sha256


def test_a_server_that_never_answers_times_out_and_is_retried(
    sftp_settings: SftpSettings,
) -> None:
    """A listener that accepts and then says nothing (a hung server, a black-holing firewall)."""
    waits: list[float] = []
    with socket.create_server(("127.0.0.1", 0)) as silent:
        settings = sftp_settings.model_copy(
            update={"port": silent.getsockname()[1], "connect_timeout_seconds": 0.5}
        )
        started = time.monotonic()
        with pytest.raises(SftpUnavailableError) as stalled:
            SftpDrop(settings, sleep=waits.append).put("a.csv", b"a")
    assert "did not complete the SSH handshake in 0.5 s" in str(stalled.value)
    assert "gave up after 2 attempts" in str(stalled.value)
    assert len(waits) == 1
    assert time.monotonic() - started < 10


def test_reading_the_fingerprint_of_nothing_says_so(relay: TcpRelay) -> None:
    relay.cut()
    with pytest.raises(SftpUnavailableError, match="read the host key: the connection was refused"):
        fingerprint(relay.host, relay.port, timeout=2)


def test_test_connection_names_a_missing_remote_directory(
    sftp_settings: SftpSettings, tmp_path: Path
) -> None:
    config = sftp_config(sftp_settings, tmp_path / "state", remote_dir="no/such/dir")
    with pytest.raises(SftpNotFoundError, match="the remote directory 'no/such/dir' does not"):
        wiring.check_target("csv", config)


def test_a_key_the_server_does_not_know_is_refused_by_name_without_retries(
    sftp_settings: SftpSettings, tmp_path: Path
) -> None:
    stranger = tmp_path / "stranger_rsa"
    paramiko.RSAKey.generate(2048).write_private_key_file(str(stranger))
    waits: list[float] = []
    settings = sftp_settings.model_copy(update={"key_file": str(stranger)})
    with pytest.raises(SftpAuthError) as refused:
        SftpDrop(settings, sleep=waits.append).put("a.csv", b"a")
    assert f"refused user '{settings.username}' with the key file given" in str(refused.value)
    assert waits == []


def test_a_password_where_the_server_takes_keys_only_is_refused_by_name(
    sftp_settings: SftpSettings, tmp_path: Path
) -> None:
    config = sftp_config(sftp_settings, tmp_path / "state", key_file=None, password="s3cret-pw")
    with pytest.raises(SftpAuthError) as refused:
        CsvTarget(config).check_delivery()
    message = str(refused.value)
    assert "refused user" in message and "with the password given" in message
    assert "publickey" in message  # what the server allows instead
    assert "s3cret-pw" not in message


def test_the_private_key_as_the_connections_secret_logs_in(
    sftp_settings: SftpSettings, sshd: SshServer, tmp_path: Path
) -> None:
    """auth = "key": the secret entered (or named by password_env) is the private key's text."""
    assert sftp_settings.key_file is not None
    settings = sftp_config(sftp_settings, tmp_path / "state").model_dump(exclude_none=True)
    settings = {k: v for k, v in settings.items() if k != "key_file"} | {"auth": "key"}
    key_text = Path(sftp_settings.key_file).read_text()
    config = wiring.config_with_secret("csv", settings, key_text)
    assert isinstance(config, CsvConfig)
    assert config.private_key is not None and config.password is None
    assert sshd.host_key_sha256 in wiring.check_target("csv", config)
    assert key_text not in repr(config)


def test_folder_delivery_still_works(tmp_path: Path) -> None:
    (tmp_path / "out").mkdir()
    config = CsvConfig(folder=str(tmp_path / "out"), state_dir=str(tmp_path / "state"))
    assert wiring.check_target("csv", config).startswith(f"{tmp_path / 'out'} is a folder")
    csv_target = CsvTarget(config)
    plan_and_apply(csv_target)
    csv_target.close()
    golden = (GOLDEN / FLEXWHERE_FILE).read_bytes()
    assert (tmp_path / "out" / FLEXWHERE_FILE).read_bytes() == golden
    assert not list((tmp_path / "out").glob(f"*{PART}"))


def test_the_sftp_drop_lists_reads_and_moves_files_to_processed(
    sftp_settings: SftpSettings, sshd: SshServer
) -> None:
    folder = remote(sshd, sftp_settings)
    drop = SftpDrop(sftp_settings)
    drop.put("b.csv", b"second")
    drop.put("a.csv", b"first")
    drop.put("a.csv", b"first, again")  # renamed over the earlier file
    (folder / f"c.csv{PART}").write_bytes(b"half")
    (folder / "subdir").mkdir()

    assert drop.names() == ["a.csv", "b.csv"]
    assert drop.read("a.csv") == b"first, again"
    drop.move_to_processed("a.csv")
    drop.put("a.csv", b"a newer a")
    drop.move_to_processed("a.csv")  # over the one processed before

    assert drop.names() == ["b.csv"]
    assert (folder / "processed" / "a.csv").read_bytes() == b"a newer a"
    assert drop.describe() == (
        f"sftp://{sshd.user}@{sshd.host}:{sshd.port}/{sftp_settings.remote_dir}"
    )


def test_reading_a_file_that_is_not_there_is_not_found(sftp_settings: SftpSettings) -> None:
    with pytest.raises(SftpNotFoundError, match=r"read gone\.csv: no such file"):
        SftpDrop(sftp_settings).read("gone.csv")


HRSYNC = str(Path(sys.executable).with_name("hrsync"))


def hrsync(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = cli_env(home, FLEX_PW=FLEX_PASSWORD)
    return subprocess.run([HRSYNC, *args], env=env, capture_output=True, text=True, check=False)


def flexwhere_over_sftp(flex_url: str, settings: SftpSettings, state_dir: Path) -> str:
    """The issue's example config: Flex HRM to a Flexwhere file delivered over SFTP."""
    return f"""
[sources.flex]
type = "flexhrm"
url = "{flex_url}"
instance = "acme"
username = "api"
password_env = "FLEX_PW"

[connections.flexwhere]
source = "flex"
type = "csv"
format = "flexwhere"
delivery = "sftp"
host = "{settings.host}"
port = {settings.port}
username = "{settings.username}"
key_file = "{settings.key_file}"
host_key_sha256 = "{settings.host_key_sha256}"
remote_dir = "{settings.remote_dir}"
state_dir = "{state_dir}"
receipt = true
max_retries = 0
"""


def test_a_run_whose_upload_fails_delivers_on_the_next_run(
    sftp_settings: SftpSettings, sshd: SshServer, relay: TcpRelay, tmp_path: Path
) -> None:
    """Through the CLI as an admin runs it: Test connection, a run while the server is away
    fails and records no delivery, the next run delivers every row, the one after has nothing
    to do."""
    home, folder = tmp_path / "home", remote(sshd, sftp_settings)
    through_relay = sftp_settings.model_copy(update={"port": relay.port})
    with flex_simulator(12, seed=3) as (sim, _):
        path = tmp_path / "hrsync.toml"
        path.write_text(flexwhere_over_sftp(sim.url, through_relay, tmp_path / "state"))
        for args in (("config", "load", str(path)), ("import", "flex")):
            done = hrsync(home, *args)
            assert done.returncode == 0, done.stderr
    checked = hrsync(home, "connections", "check", "flexwhere")
    assert checked.returncode == 0, checked.stderr
    assert sshd.host_key_sha256 in checked.stdout

    relay.cut()
    failed = hrsync(home, "run", "flexwhere", "--json")
    assert failed.returncode != 0
    assert "the connection was refused" in failed.stderr
    assert not (folder / FLEXWHERE_FILE).exists()

    relay.restore()
    delivered = hrsync(home, "run", "flexwhere", "--json")
    assert delivered.returncode == 0, delivered.stderr
    assert json.loads(delivered.stdout)["plan"].get("create", 0) > 0
    rows = (folder / FLEXWHERE_FILE).read_text(encoding="utf-8").splitlines()
    assert rows[0].startswith('"CSV_USERNAME";') and len(rows) > 1
    again = hrsync(home, "run", "flexwhere", "--json")
    assert again.returncode == 0, again.stderr
    assert not any(json.loads(again.stdout)["plan"].values())
