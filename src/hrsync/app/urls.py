"""URL map: the console at /, the REST API at /api/."""

from django.urls import include, path

from hrsync.app import health, metrics
from hrsync.app.api import api
from hrsync.app.body_limits import bad_request
from hrsync.app.contracts.hooks import oneflow_hook

handler400 = bad_request

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.metrics_view, name="metrics"),
    path("api/", api.urls),
    path("hooks/oneflow/<slug:key>", oneflow_hook, name="oneflow-hook"),
    path("", include("hrsync.app.console.urls")),
]
