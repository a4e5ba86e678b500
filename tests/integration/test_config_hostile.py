"""Hostile config files give one-line errors, never tracebacks, and keys follow the one rule the
console and the API keep (hrsync.app.keys)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hrsync.app.config_errors import ConfigError
from hrsync.app.config_file import load_config
from hrsync.app.models import Source

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"x = " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested too deeply"),
        (b'a = "\xff\xfe"\n', "not UTF-8 text"),
        (b'[sources."../../etc"]\ntype = "flexhrm"\n', "a key is letters, digits, - and _"),
        (b'[connections."a b"]\nsource = "x"\ntype = "csv"\n', "a key is letters"),
        (b"[sources." + b"k" * 65 + b']\ntype = "flexhrm"\n', "at most 64 characters"),
    ],
)
def test_a_hostile_file_is_one_clear_line_and_records_nothing(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "hostile.toml"
    path.write_bytes(content)
    with pytest.raises(ConfigError, match=message) as raised:
        load_config(path)
    assert "\n" not in str(raised.value) and len(str(raised.value)) < 300
    assert not Source.objects.exclude(key="manual").exists()
