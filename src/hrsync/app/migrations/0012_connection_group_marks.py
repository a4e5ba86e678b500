"""Connections keep hrsync's "empty since" marks for targets that cannot keep them (SCIM)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("hrsync", "0011_account_refs")]

    operations = [
        migrations.AddField(
            model_name="connection",
            name="group_marks",
            field=models.JSONField(blank=True, default=dict),
        ),
    ]
