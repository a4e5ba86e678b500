from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("hrsync", "0009_schedule_last_slot"),
    ]

    operations = [
        migrations.AddField(
            model_name="run",
            name="derivations",
            field=models.JSONField(blank=True, default=dict),
        ),
        migrations.AddField(
            model_name="run",
            name="managed_groups",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
    ]
