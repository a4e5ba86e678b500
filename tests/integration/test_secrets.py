"""Secrets at rest: encrypted with the data directory's key, readable after a key rotation."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.test import override_settings

from hrsync.app.models import Source
from hrsync.app.security import secrets


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.delenv("HRSYNC_FERNET_KEYS", raising=False)
    with override_settings(HOME=tmp_path):
        yield tmp_path


@pytest.mark.django_db
def test_a_key_is_created_once_with_a_warning_and_secrets_round_trip(
    home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    token = secrets.encrypt("hunter2")
    assert "hunter2" not in token
    assert "back it up" in capsys.readouterr().err
    assert (home / secrets.KEY_FILE).stat().st_mode & 0o077 == 0
    assert secrets.decrypt(token) == "hunter2"
    secrets.encrypt("again")
    assert "back it up" not in capsys.readouterr().err


@pytest.mark.django_db
def test_rotation_re_encrypts_with_a_new_first_key(home: Path) -> None:
    source = Source.objects.create(key="flex", kind="flexhrm", secret=secrets.encrypt("pw"))
    before = source.secret
    assert secrets.rotate() == 1
    source.refresh_from_db()
    assert source.secret != before
    assert secrets.decrypt(source.secret) == "pw"
    keys = (home / secrets.KEY_FILE).read_text().split()
    assert len(keys) == 2
    (home / secrets.KEY_FILE).write_text(keys[0] + "\n")  # the old key retired
    assert secrets.decrypt(source.secret) == "pw"
    with pytest.raises(secrets.SecretError):
        secrets.decrypt(before)


def test_keys_from_the_environment_are_not_rotated_here(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HRSYNC_FERNET_KEYS", Fernet.generate_key().decode())
    assert secrets.decrypt(secrets.encrypt("x")) == "x"
    with pytest.raises(secrets.SecretError, match="HRSYNC_FERNET_KEYS"):
        secrets.rotate()
