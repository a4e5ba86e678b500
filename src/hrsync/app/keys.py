"""One rule for the keys of sources, connections, integrations, channels and triggers, wherever
they are entered (the console, the API, a config file): a slug of at most 64 characters, so a
key is safe in a URL, a file name and a log line."""

from __future__ import annotations

import re

KEY_PATTERN = r"^[-a-zA-Z0-9_]{1,64}$"
KEY_RULE = "letters, digits, - and _, at most 64 characters"


def is_key(text: str) -> bool:
    return re.fullmatch(KEY_PATTERN, text) is not None
