"""Links and planned changes name an account by its target's ref (AD: the DN), not a DN."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("hrsync", "0010_run_derivations")]

    operations = [
        migrations.RenameField("link", "dn", "ref"),
        migrations.RenameField("runchange", "dn", "ref"),
    ]
