"""Console URLs: sign-in here; each area's pages in its own module."""

from django.contrib.auth import views as auth_views
from django.urls import include, path

app_name = "console"

urlpatterns = [
    path(
        "signin/",
        auth_views.LoginView.as_view(template_name="hrsync/signin.html"),
        name="signin",
    ),
    path("signout/", auth_views.LogoutView.as_view(next_page="/signin/"), name="signout"),
    path("", include("hrsync.app.console.connection_urls")),
    path("", include("hrsync.app.console.page_urls")),
]
