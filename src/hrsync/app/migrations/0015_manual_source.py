"""The built-in source `manual` (kind "manual"), for people an admin adds by hand: there from
the start, so a connection can be set up on it before anyone is added. An existing source of
another kind under that key is left alone; hrsync then refuses manual people until it is renamed."""

from __future__ import annotations

from typing import Any

from django.db import migrations

KEY = KIND = "manual"


def _create(apps: Any, schema_editor: Any) -> None:
    source = apps.get_model("hrsync", "Source")
    if not source.objects.filter(key=KEY).exists():
        source.objects.create(key=KEY, kind=KIND, settings={})


def _remove(apps: Any, schema_editor: Any) -> None:
    source = apps.get_model("hrsync", "Source")
    source.objects.filter(key=KEY, kind=KIND, people__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("hrsync", "0014_plans_with_refs")]

    operations = [migrations.RunPython(_create, _remove)]
