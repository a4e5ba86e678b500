"""`hrsync createadmin`, `hrsync users` and `hrsync keys`: the first admin, the console's users
and their sign-in lockouts, and the keys of stored secrets."""

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

    password = _password(password_env)
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


ROLES = ("viewer", "operator", "admin")


@click.group()
def users() -> None:
    """The console's users: add one with a role, lift a sign-in lockout."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(ROLES), required=True)
@click.option("--password-env", help="Read the password from this environment variable.")
@click.option("--email", default="")
def add_user(username: str, role: str, password_env: str | None, email: str) -> None:
    """Add a user with one role (or give an existing user that role and a new password)."""
    setup_django()
    from django.contrib.auth.models import Group, User
    from django.contrib.auth.password_validation import validate_password
    from django.core.exceptions import ValidationError

    from hrsync.app.security import audit

    password = _password(password_env)
    user = User.objects.filter(username=username).first() or User(username=username, email=email)
    try:
        validate_password(password, user)
    except ValidationError as error:
        weak = " ".join(error.messages)
        raise click.ClickException(f"the password is too weak: {weak}") from error
    is_new = user.pk is None
    user.set_password(password)
    user.save()
    user.groups.set([Group.objects.get(name=role)])
    audit.record("cli", "user.added" if is_new else "user.changed", "user", username,
                 after={"role": role})  # fmt: skip
    click.echo(f"{'added' if is_new else 'updated'} {role} {username}")


@users.command("unlock")
@click.argument("username")
def unlock(username: str) -> None:
    """Lift the sign-in lockout of a user name (and the failures counted against it)."""
    setup_django()
    from axes.utils import reset

    from hrsync.app.security import audit

    lifted = reset(username=username)
    audit.record("cli", "auth.unlocked", "user", username, after={"lockouts_lifted": lifted})
    click.echo(f"{username}: {lifted} lockout(s) lifted")


def _password(password_env: str | None) -> str:
    if not password_env:
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    password = os.environ.get(password_env)
    if not password:
        raise click.ClickException(f"the environment variable {password_env} is not set")
    return password


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
