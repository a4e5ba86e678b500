"""Console URLs of connections and runs (included at the site root)."""

from django.urls import URLPattern, URLResolver, path

from hrsync.app.console import connection_actions as actions
from hrsync.app.console import connection_rules as rules
from hrsync.app.console import connections, runs

urlpatterns: list[URLPattern | URLResolver] = [
    path("connections/", connections.connection_list, name="connections"),
    path("connections/new/", connections.connection_new, name="connection-new"),
    path("connections/<slug:key>/", connections.connection_detail, name="connection"),
    path(
        "connections/<slug:key>/step/<int:number>/",
        connections.connection_step,
        name="connection-step",
    ),
    path(
        "connections/<slug:key>/compliance/",
        connections.connection_compliance,
        name="connection-compliance",
    ),
    path(
        "connections/<slug:key>/rules/rows/",
        rules.mapping_row,
        name="connection-rules-row",
    ),
    path(
        "connections/<slug:key>/simulate/",
        actions.connection_simulate,
        name="connection-simulate",
    ),
    path(
        "connections/<slug:key>/plan/<int:run_id>/",
        actions.connection_plan,
        name="connection-plan",
    ),
    path(
        "connections/<slug:key>/schedule/",
        actions.schedule_preview,
        name="connection-schedule",
    ),
    path(
        "connections/<slug:key>/activate/",
        actions.connection_activate,
        name="connection-activate",
    ),
    path(
        "connections/<slug:key>/deactivate/",
        actions.connection_deactivate,
        name="connection-deactivate",
    ),
    path(
        "connections/<slug:key>/delete/",
        actions.connection_delete,
        name="connection-delete",
    ),
    path("runs/", runs.run_list, name="runs"),
    path("runs/<int:run_id>/", runs.run_detail, name="run"),
    path("runs/<int:run_id>/approve/", runs.run_approve, name="run-approve"),
    path("runs/<int:run_id>/reject/", runs.run_reject, name="run-reject"),
]
