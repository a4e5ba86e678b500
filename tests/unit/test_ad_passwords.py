"""Initial AD passwords: every character class, none of the account's names, quoted UTF-16-LE."""

from __future__ import annotations

import string

from hrsync.connectors.active_directory.passwords import LENGTH, initial_password, unicode_pwd

CLASSES = [string.ascii_uppercase, string.ascii_lowercase, string.digits, "!#%+-.:=?@_~"]


def test_initial_passwords_meet_the_default_complexity_policy() -> None:
    for _ in range(500):
        password = initial_password(["abc", "Abc Bcd-Cde"])
        assert len(password) == LENGTH
        assert all(any(char in chars for char in password) for chars in CLASSES)
        assert not {"abc", "bcd", "cde"} & {password.casefold()[i : i + 3] for i in range(LENGTH)}
        assert not {'"', "\\"} & set(password)


def test_initial_passwords_differ() -> None:
    assert len({initial_password() for _ in range(50)}) == 50


def test_unicode_pwd_is_the_quoted_password_in_utf16le() -> None:
    assert unicode_pwd("Pä1!") == '"Pä1!"'.encode("utf-16-le")
