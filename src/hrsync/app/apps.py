"""Django application config for hrsync's stores."""

from django.apps import AppConfig


class HrsyncConfig(AppConfig):
    name = "hrsync.app"
    label = "hrsync"
    verbose_name = "hrsync"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        """Tell the job workers what each kind of JobRun does. hrsync.app.jobs sits below imports
        and runs (they queue and lease through it), so it learns their work here."""
        # Modules that use the models may only be imported once the app registry is ready.
        from hrsync.app.contracts.jobs import run_contract_step  # noqa: PLC0415
        from hrsync.app.imports.import_job import run_import_job  # noqa: PLC0415
        from hrsync.app.jobs.work import register_work  # noqa: PLC0415
        from hrsync.app.models import JobRun  # noqa: PLC0415
        from hrsync.app.runs.connection_job import run_connection_job  # noqa: PLC0415
        from hrsync.app.security import signins  # noqa: PLC0415 (connects its receivers)

        signins.connect()
        register_work(JobRun.Kind.IMPORT, run_import_job)
        register_work(JobRun.Kind.CONNECTION, run_connection_job)
        register_work(JobRun.Kind.CONTRACT, run_contract_step)
