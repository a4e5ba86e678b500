"""Initial passwords for new accounts: random, and within AD's default complexity rules."""

from __future__ import annotations

import re
import secrets
import string
from collections.abc import Iterable

LENGTH = 24
# No quote or backslash: unicodePwd carries the password inside double quotes.
_CLASSES = (string.ascii_uppercase, string.ascii_lowercase, string.digits, "!#%+-.:=?@_~")
_ALPHABET = "".join(_CLASSES)
# AD splits the display name into tokens at these characters (the "Passwords must meet
# complexity requirements" policy) and refuses a password that contains a token of 3+ characters.
_NAME_DELIMITERS = re.compile(r"[,.\-_#\s]+")


def initial_password(names: Iterable[str] = ()) -> str:
    """A random password with every character class that contains none of the account's names.

    `names` are the sAMAccountName and display name; nobody learns the password (the account must
    change it at first logon, so the helpdesk sets one), it only has to satisfy the domain policy.
    """
    forbidden = _forbidden_tokens(names)
    while True:
        candidate = _draw()
        folded = candidate.casefold()
        if not any(token in folded for token in forbidden):
            return candidate


def _draw() -> str:
    chars = [secrets.choice(alphabet) for alphabet in _CLASSES]
    chars += [secrets.choice(_ALPHABET) for _ in range(LENGTH - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def _forbidden_tokens(names: Iterable[str]) -> set[str]:
    tokens: set[str] = set()
    for name in names:
        tokens.add(name.casefold())
        tokens.update(part.casefold() for part in _NAME_DELIMITERS.split(name))
    return {token for token in tokens if len(token) >= 3}


def unicode_pwd(password: str) -> bytes:
    """The unicodePwd value AD expects: the password in double quotes, encoded UTF-16-LE."""
    return f'"{password}"'.encode("utf-16-le")
