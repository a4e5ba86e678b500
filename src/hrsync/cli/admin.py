"""`hrsync createadmin` and `hrsync keys`: the first admin, and the keys of stored secrets."""

from __future__ import annotations

import os

import click

from hrsync.cli.django_setup import setup_django


@click.command("createadmin")
@click.argument("username")
@click.option("--password-env", help="Read the password from this environment variable.")
@click.option("--email", default="")
def createadmin(username: str, password_env: str | None, email: str) -> None:
    """Create (or reset) an admin without prompting when --password-env is given."""
    setup_django()
    from django.contrib.auth.models import Group, User

    if password_env:
        password = os.environ.get(password_env)
        if not password:
            raise click.ClickException(f"the environment variable {password_env} is not set")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    user = User.objects.filter(username=username).first()
    created = user is None
    user = user or User(username=username, email=email)
    try:
        validate_password(password, user)  # the console's rules (settings.AUTH_PASSWORD_VALIDATORS)
    except ValidationError as error:
        weak = " ".join(error.messages)
        raise click.ClickException(f"the password is too weak: {weak}") from error
    user.set_password(password)
    user.is_staff = True
    user.save()
    user.groups.add(Group.objects.get(name="admin"))
    click.echo(f"{'created' if created else 'updated'} admin {username}")


@click.group()
def keys() -> None:
    """The keys that encrypt stored secrets."""


@keys.command("rotate")
def keys_rotate() -> None:
    """Add a new encryption key and re-encrypt every stored secret with it."""
    setup_django()
    from hrsync.app.security.secrets import SecretError, key_file, rotate

    try:
        count = rotate()
    except SecretError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"re-encrypted {count} secrets with a new key in {key_file()}; back it up")
