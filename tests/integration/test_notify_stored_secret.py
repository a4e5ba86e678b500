"""A channel secret entered in the console (stored encrypted) is read by notify from any process."""

from __future__ import annotations

import pytest

from hrsync.app.models import Channel
from hrsync.app.notify.config import read_secret
from hrsync.app.security.secrets import encrypt


@pytest.mark.django_db
def test_the_reserved_name_reads_the_encrypted_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    channel = Channel.objects.create(name="it", kind="webhook", secret=encrypt("whsec_c2VjcmV0"))
    name = f"HRSYNC_CHANNEL_{channel.pk}_SECRET"
    monkeypatch.delenv(name, raising=False)
    assert read_secret("secret_env", name) == "whsec_c2VjcmV0"


@pytest.mark.django_db
def test_an_ordinary_unset_variable_is_still_an_error() -> None:
    with pytest.raises(Exception, match="NOT_SET_ANYWHERE"):
        read_secret("password_env", "NOT_SET_ANYWHERE")
