"""Child of the list benchmark: migrate a PostgreSQL database and fill it in bulk with SQL.

    DATABASE_URL=postgresql://… HRSYNC_HOME=… python -m bench.seed_lists TICKETS EVENTS CONNECTIONS

Rows are made by `INSERT … SELECT … FROM generate_series` in the server, so a million audit
events take seconds. Column lists come from the models: a column the overrides below do not name
gets its field's default (or NULL, or now() for timestamps), so a field added later with a default
does not break the benchmark.
"""

from __future__ import annotations

import os
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrsync.app.settings")
django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.db.models import Model  # noqa: E402

from hrsync.app.models import (  # noqa: E402
    AuditEvent,
    Connection,
    Person,
    Run,
    Source,
    Ticket,
    TicketEntry,
)

ENTRIES_PER_TICKET = 3
RUNS_PER_CONNECTION = 10
FIRST = "ARRAY['Anna','Erik','Maria','Lars','Karin','Johan','Eva','Anders','Sara','Nils']"
KINDS = "ARRAY['Joiner','Update','Mover','Leaver','Rehire']"
LAST = "ARRAY['Andersson','Lindqvist','Berg','Nilsson','Holm','Ek','Sjöberg','Lund','Öberg']"


def pick(array: str, index: str = "g") -> str:
    """SQL: the element of ARRAY[...] that `index` (1-based series) falls on, cycling."""
    return f"({array})[1 + ({index} % cardinality({array}))]"


def insert_series(model: type[Model], count: int, values: dict[str, str]) -> None:
    """INSERT `count` rows of `model`, one per g in generate_series(1, count)."""
    columns, expressions, params = [], [], []
    for field in model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(connection.ops.quote_name(field.column))
        if field.name in values:
            expressions.append(values[field.name].replace("%", "%%"))  # % is SQL's modulo
        elif getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            expressions.append("now()")
        elif (default := field.get_default()) is not None or field.null:
            # get_default() is "" for a text field without a default, None for a nullable one.
            expressions.append("%s")
            params.append(field.get_db_prep_save(default, connection))
        else:
            raise SystemExit(f"seed_lists: no value for {model.__name__}.{field.name}")
    table = connection.ops.quote_name(model._meta.db_table)
    statement = (
        f"INSERT INTO {table} ({', '.join(columns)}) "
        f"SELECT {', '.join(expressions)} FROM generate_series(1, {int(count)}) AS g"
    )
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
    print(
        f"  {count:>9,} {model.__name__} in {time.perf_counter() - started:.1f} s", file=sys.stderr
    )


def first_pk(model: type[Model]) -> int:
    """The first primary key of a table filled in one statement (identity values are contiguous)."""
    found = model.objects.order_by("pk").values_list("pk", flat=True).first()
    assert found is not None
    return int(found)


def seed_connections(count: int) -> list[Source]:
    sources = [
        Source.objects.create(key="flex", kind="flexhrm", settings={"url": "http://flex/api/"}),
        Source.objects.create(key="afas", kind="afas", settings={"url": "http://afas/"}),
    ]
    states = list(Connection.State)
    Connection.objects.bulk_create(
        Connection(
            key=f"conn-{n:03d}",
            name=f"{'Active Directory' if n % 3 else 'SCIM app'} {n:03d}",
            source=sources[n % 2],
            kind="active_directory" if n % 3 else "scim",
            settings={"url": f"ldaps://dc{n}.example.test", "base_dn": "DC=example,DC=test"},
            state=states[n % len(states)],
            step=6,
            schedule="*/15 * * * *",
        )
        for n in range(count)
    )
    first = first_pk(Connection)
    insert_series(
        Run,
        count * RUNS_PER_CONNECTION,
        {
            "connection": f"{first} + (g % {count})",
            "started": "now() - g * interval '7 minutes'",
            "finished": "now() - g * interval '7 minutes' + interval '40 seconds'",
            "status": pick("ARRAY['succeeded','succeeded','succeeded','failed','held']"),
            "plan_counts": """jsonb_build_object('create', g % 5, 'update', g % 11)""",
            "applied": "g % 16",
        },
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE hrsync_connection c SET last_run_at = r.latest, "
            "next_run_at = r.latest + interval '15 minutes' "
            "FROM (SELECT connection_id, max(started) AS latest FROM hrsync_run "
            "GROUP BY connection_id) r WHERE r.connection_id = c.id"
        )
    return sources


def seed_tickets(count: int, source: Source) -> None:
    name = f"{pick(FIRST)} || ' ' || {pick(LAST, 'g / 7')}"
    insert_series(
        Person,
        count,
        {
            "source": str(source.pk),
            "person_id": "'P' || g",
            "employee_number": "lpad(g::text, 6, '0')",
            "display_name": name,
            "fields": f"jsonb_build_object('email', 'p' || g || '@example.test', 'name', {name})",
            "content_hash": "md5(g::text)",
            "first_seen": "now() - g * interval '3 minutes'",
        },
    )
    person = first_pk(Person)
    insert_series(
        Ticket,
        count,
        {
            "source": str(source.pk),
            "person": f"{person} + g - 1",
            "kind": f"lower({pick(KINDS)})",
            "title": f"{pick(KINDS)} || ' · ' || {name}",
            "status": pick("ARRAY['closed','closed','closed','closed','new','in_progress']"),
            "opened": "now() - g * interval '3 minutes'",
            "updated": "now() - g * interval '3 minutes'",
        },
    )
    ticket = first_pk(Ticket)
    insert_series(
        TicketEntry,
        count * ENTRIES_PER_TICKET,
        {
            "ticket": f"{ticket} + (g - 1) / {ENTRIES_PER_TICKET}",
            "text": "'Account created. Base DN: OU=People,DC=example,DC=test; username u' || g",
            "created": "now() - g * interval '1 minute'",
        },
    )


def seed_audit(count: int, connections: int) -> None:
    insert_series(
        AuditEvent,
        count,
        {
            "created": "now() - g * interval '2 seconds'",
            "actor": pick("ARRAY['system','schedule','trigger','admin','operator']"),
            "action": pick(
                "ARRAY['change.applied','change.applied','change.applied','connection.updated',"
                "'connection.activated','source.updated','ticket.commented']"
            ),
            "object_type": pick("ARRAY['account','account','account','connection','source']"),
            "object_key": "'CN=Person ' || g || ',OU=People,DC=example,DC=test'",
            "connection_key": f"'conn-' || lpad((g % {connections})::text, 3, '0')",
            "person_id": "'P' || (g % 100000)",
            "before": "jsonb_build_object('title', 'Engineer ' || (g % 13))",
            "after": "jsonb_build_object('title', 'Engineer ' || (g % 17))",
        },
    )


def main(tickets: int, events: int, connections: int) -> None:
    call_command("migrate", interactive=False, verbosity=0)
    sources = seed_connections(connections)
    seed_tickets(tickets, sources[0])
    seed_audit(events, connections)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


if __name__ == "__main__":
    tickets_, events_, connections_ = (int(arg) for arg in sys.argv[1:4])
    main(tickets_, events_, connections_)
