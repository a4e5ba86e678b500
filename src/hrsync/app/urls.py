"""URL map: the console at /, the REST API at /api/."""

from django.urls import include, path

from hrsync.app.api import api

urlpatterns = [
    path("api/", api.urls),
    path("", include("hrsync.app.console.urls")),
]
