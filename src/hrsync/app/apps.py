"""Django application config for hrsync's stores."""

from django.apps import AppConfig


class HrsyncConfig(AppConfig):
    name = "hrsync.app"
    label = "hrsync"
    verbose_name = "hrsync"
    default_auto_field = "django.db.models.BigAutoField"
