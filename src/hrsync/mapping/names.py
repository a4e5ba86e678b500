"""Name building blocks for login names: ASCII folding and login tokens (pure)."""

from __future__ import annotations

import re
import unicodedata

# Letters NFKD cannot take apart; Swedish and Nordic names need these to fold sensibly.
_FOLDS = str.maketrans(
    {
        "æ": "ae",
        "Æ": "Ae",
        "ø": "o",
        "Ø": "O",
        "ß": "ss",
        "đ": "d",
        "Đ": "D",
        "ł": "l",
        "Ł": "L",
        "þ": "th",
        "Þ": "Th",
        "ð": "d",
        "Ð": "D",
    }
)
_NOT_LOGIN = re.compile(r"[^a-z0-9.-]+")


def fold_to_ascii(text: str) -> str:
    """Åsa Öberg → Asa Oberg; Ødegaard → Odegaard. Characters without an ASCII form are dropped."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_FOLDS))
    return "".join(c for c in decomposed if c.isascii() and not unicodedata.combining(c))


def login_part(text: str) -> str:
    """A lower-case token fit for sAMAccountName and UPN prefixes: a-z, 0-9, dot and hyphen."""
    return _NOT_LOGIN.sub("", fold_to_ascii(text).lower().replace(" ", "")).strip(".-")
