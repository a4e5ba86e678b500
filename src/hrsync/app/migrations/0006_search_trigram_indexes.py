"""Trigram indexes for free-text search on PostgreSQL (ticket titles, person names).

`icontains` becomes `UPPER(col) LIKE UPPER('%word%')`, which no B-tree can serve; a GIN trigram
index on UPPER(col) can. SQLite has no such index and needs none at its sizes: nothing happens
there.
"""

from django.db import migrations

INDEXES = (
    ("hrsync_ticket_title_trgm", "hrsync_ticket", "title"),
    ("hrsync_person_name_trgm", "hrsync_person", "display_name"),
)


def create(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _, _ in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("hrsync", "0005_roles")]

    operations = [migrations.RunPython(create, drop)]
