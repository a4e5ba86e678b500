"""A CSV source picking its files up over SFTP from a real OpenSSH sshd, with the same settings
a CSV target delivers with: each file taken once and moved to processed/ on the server; a
server whose key is not the pinned one refuses the pickup with the reason and takes nothing."""

from __future__ import annotations

import pytest
from tests.integration.test_csv_source_import import csv_file

from hrsync.app.imports.uploads import pick_up
from hrsync.app.models import Import, Person, Source
from hrsync.connectors.files.sftp import SftpSettings
from hrsync.domain.errors import SourceError
from hrsync.testing.sshd import SshServer

pytestmark = pytest.mark.django_db
OTHER_KEY = "SHA256:" + "uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s"


def sftp_source(settings: SftpSettings, **changes: object) -> Source:
    values = {
        "format": "flexwhere",
        "delivery": "sftp",
        "host": settings.host,
        "port": settings.port,
        "username": settings.username,
        "key_file": settings.key_file,
        "host_key_sha256": settings.host_key_sha256,
        "remote_dir": settings.remote_dir,
        "max_retries": 0,
    } | changes
    return Source.objects.create(key="people", kind="csv", settings=values)


def test_files_are_picked_up_over_sftp_once_and_moved(
    sshd: SshServer, sftp_settings: SftpSettings
) -> None:
    remote = sshd.root / sftp_settings.remote_dir
    name = "flexwhere \N{EN DASH} users.csv"  # the seed name with an en dash, as Excel saves it
    (remote / name).write_bytes(csv_file(range(1, 5)))
    sftp_source(sftp_settings)
    (taken,) = pick_up("people")
    assert taken.summary.new == 4 and Person.objects.filter(source__key="people").count() == 4
    assert [p.name for p in (remote / "processed").iterdir()] == [name]
    assert not [p for p in remote.iterdir() if p.is_file()]
    (remote / "again.csv").write_bytes(csv_file(range(1, 5)))  # the same bytes again
    assert pick_up("people") == [] and Import.objects.count() == 1


def test_a_server_with_another_key_is_refused_and_nothing_is_taken(
    sshd: SshServer, sftp_settings: SftpSettings
) -> None:
    remote = sshd.root / sftp_settings.remote_dir
    (remote / "people.csv").write_bytes(csv_file(range(1, 3)))
    sftp_source(sftp_settings, host_key_sha256=OTHER_KEY)
    with pytest.raises(SourceError, match="host key") as refused:
        pick_up("people")
    assert sftp_settings.host_key_sha256 in str(refused.value)
    assert (remote / "people.csv").exists() and not Import.objects.exists()
