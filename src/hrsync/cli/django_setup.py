"""Django for the commands: set up before any app import, and its 'does not exist' made readable."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import click


def setup_django() -> None:
    """Configure Django and bring the database schema up to date (quick when it is)."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrsync.app.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def setup_service() -> None:
    """Django set up for a long-running process (serve, worker, scheduler), which first makes
    sure the data directory and its files are private (hrsync.app.security.permissions)."""
    setup_django()
    from django.conf import settings

    from hrsync.app.security.permissions import secure_home

    secure_home(settings.HOME)


def known(call: Callable[[], Any]) -> Any:
    """Turn 'no such source/connection' into a clear message instead of a traceback."""
    from django.core.exceptions import ObjectDoesNotExist

    try:
        return call()
    except ObjectDoesNotExist as error:
        raise click.ClickException(f"not configured: {error} (see hrsync config load)") from error
