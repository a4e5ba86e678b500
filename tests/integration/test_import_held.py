"""A full import held by the source-shrink guard tells someone: it fires `import.held`, a rule's
notify action mails the admins, the hold is in the audit log and on the source's console page.
An import whose shrink was accepted fires nothing of the kind.

Real parts: the Flex HRM simulator over HTTP, an aiosmtpd sink (STARTTLS, AUTH), the database,
the console through Django's test client.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from tests.mail_sink import PASSWORD, USERNAME, MailSink, run_mail_sink

from hrsync.app.imports.source_import import import_source
from hrsync.app.models import AuditEvent, Source, TriggerFiring
from hrsync.app.notify import load_channels
from hrsync.app.triggers.config import load_triggers
from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset

pytestmark = pytest.mark.django_db

PEOPLE, KEPT = 30, 18
"""The source lists 30 people, then 18: 12 fewer (40 %), held by the default guard (more than
10 % and at least 10 fewer)."""
HELD_REASON = (
    "the source listed 18 people, 12 fewer than the 30 of the last import "
    "(40 % fewer; held when more than 10 % and at least 10 fewer)"
)
CREDENTIALS = Credentials("acme", "api", "flex-pw")


@dataclass
class Flex:
    everyone: FlexSimulator
    fewer: FlexSimulator
    """The same people, less the last 12."""


@pytest.fixture
def flex() -> Iterator[Flex]:
    dataset = generate_dataset(count=PEOPLE, seed=43)
    everyone = FlexSimulator(dataset, credentials=CREDENTIALS)
    fewer = FlexSimulator(
        dataset | {"employees": dataset["employees"][:KEPT]}, credentials=CREDENTIALS
    )
    everyone.start()
    fewer.start()
    yield Flex(everyone, fewer)
    everyone.stop()
    fewer.stop()


@pytest.fixture
def mail_sink(tmp_path: Path) -> Iterator[MailSink]:
    with run_mail_sink(tmp_path) as sink:
        yield sink


@pytest.fixture
def admins_told(mail_sink: MailSink, monkeypatch: pytest.MonkeyPatch) -> MailSink:
    """An e-mail channel to the admins and a rule mailing them on `import.held`."""
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    load_channels(
        {
            "admins": {
                "type": "email",
                "host": mail_sink.host,
                "port": mail_sink.port,
                "security": mail_sink.mode,
                "username": USERNAME,
                "password_env": "SMTP_PASSWORD",
                "from_address": "hrsync <hrsync@example.org>",
                "to": ["admins@example.org"],
                "tls_verify": False,
            }
        }
    )
    rule = {"do": "notify", "channel": "admins", "template": "import_held"}
    load_triggers({"tell-admins": {"event": "import.held", "actions": [rule]}})
    return mail_sink


def read_from(sim: FlexSimulator, monkeypatch: pytest.MonkeyPatch) -> None:
    """Point the source `flex` at this simulator (created on first use)."""
    monkeypatch.setenv("FLEX_PW", CREDENTIALS.password)
    settings = {"url": sim.url, "instance": "acme", "username": "api", "password_env": "FLEX_PW"}
    Source.objects.update_or_create(key="flex", defaults={"kind": "flexhrm", "settings": settings})


def operator() -> Client:
    user = User.objects.create_user("olle", email="olle@example.org")
    user.groups.add(Group.objects.get(name="operator"))
    client = Client()
    client.force_login(user)
    return client


def test_a_held_import_fires_import_held_and_a_rule_mails_the_admins(
    flex: Flex, admins_told: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_from(flex.everyone, monkeypatch)
    assert import_source("flex").fetched == PEOPLE  # the baseline
    read_from(flex.fewer, monkeypatch)

    page = operator().post("/sources/flex/import/", {"full": "1"}, follow=True).content.decode()

    assert f"was held by the shrink guard and recorded nothing: {HELD_REASON}" in page
    assert "hrsync import flex --accept-shrink" in page
    assert '<span class="badge held">held</span>' in page
    (mail,) = admins_told.mails
    assert mail.rcpt_tos == ["admins@example.org"]
    assert mail.message["Subject"] == "Import held by the shrink guard: flex"
    assert HELD_REASON in mail.part("text/plain")
    assert "hrsync import flex --accept-shrink" in mail.part("text/plain")
    firing = TriggerFiring.objects.get(event="import.held")
    held_id = firing.subject["import_id"]
    assert firing.is_ok and firing.subject == {
        "source": "FlexHR",
        "source_key": "flex",
        "count": KEPT,
        "previous_count": PEOPLE,
        "import_id": held_id,
        "reason": HELD_REASON,
    }
    audited = AuditEvent.objects.get(action="source.import_held")
    assert (audited.actor, audited.object_key) == ("system", "flex")
    assert audited.after == {"import": held_id, "reason": HELD_REASON}


def test_an_accepted_shrink_fires_no_import_held(
    flex: Flex, admins_told: MailSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    read_from(flex.everyone, monkeypatch)
    import_source("flex")
    read_from(flex.fewer, monkeypatch)

    accepted = import_source("flex", full=True, accepted_by="cli")

    assert (accepted.held, accepted.fetched) == ("", KEPT)
    assert admins_told.mails == []
    assert not TriggerFiring.objects.filter(event="import.held").exists()
    assert not AuditEvent.objects.filter(action="source.import_held").exists()
    assert AuditEvent.objects.filter(action="source.shrink_accepted").count() == 1
