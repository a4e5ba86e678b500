"""Oversized request bodies: 401 for an anonymous caller, a JSON 413 for a signed-in one, and
file uploads up to their own, larger limit still accepted."""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import User
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.http import HttpRequest, JsonResponse
from django.test import Client
from django.urls import path
from tests.integration.api_data import client_for

from hrsync.app.body_limits import body_limit

pytestmark = pytest.mark.django_db

TEN_MB = b'{"name": "' + b"x" * (10 * 1024 * 1024) + b'"}'


def test_an_anonymous_caller_gets_401_before_the_size_is_judged() -> None:
    response = Client().post("/api/channels", TEN_MB, content_type="application/json")
    assert response.status_code == 401
    assert response.json() == {"detail": "Unauthorized"}
    console = Client().post("/channels/new/", TEN_MB, content_type="application/json")
    assert console.status_code == 401
    # A form within the upload limit reaches the console, which sends a stranger to sign in
    # before it reads the form.
    form = Client().post("/channels/new/", {"name": "x" * (10 * 1024 * 1024)})
    assert form.status_code == 302 and form["Location"].startswith("/signin/")


def test_a_token_holder_gets_a_json_413_naming_the_limit(users: dict[str, User]) -> None:
    response = client_for(users["admin"]).post(
        "/api/channels", TEN_MB, content_type="application/json"
    )
    assert response.status_code == 413
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "the request body is larger than the 5 MB hrsync accepts"}


def test_a_signed_in_console_user_gets_413_too(users: dict[str, User]) -> None:
    client = Client()
    client.force_login(users["admin"])
    form = {"name": "x" * (10 * 1024 * 1024)}
    # Multipart, under the upload limit; but its form field is over the 5 MB of form data,
    # which Django finds as it reads the form: the same JSON 413, not its HTML 400.
    response = client.post("/channels/new/", form)
    assert response.status_code == 413
    assert response.json()["detail"].endswith("5 MB hrsync accepts")
    big = client.post("/channels/new/", TEN_MB, content_type="application/x-www-form-urlencoded")
    assert big.status_code == 413


def test_a_body_under_the_limit_reaches_the_view(users: dict[str, User]) -> None:
    response = client_for(users["admin"]).post(
        "/api/channels", b'{"name": "hooks2"}', content_type="application/json"
    )
    assert response.status_code == 422  # the view's own validation answered


def test_a_csv_file_of_100000_rows_is_uploaded_to_disk(
    users: dict[str, User], settings: Any
) -> None:
    rows = "\n".join(
        f"{n},Person {n},person.{n}@example.org,Acme Sverige AB,Controller,Finance and Control,"
        f"2020-01-01,,Stockholm,{n % 97}"
        for n in range(100_000)
    )
    data = ("id,name,email,company,title,department,start,end,office,manager\n" + rows).encode()
    assert 10 * 1024 * 1024 < len(data) < body_limit("multipart/form-data")
    settings.ROOT_URLCONF = __name__  # a view that reports what it received
    client = Client()
    client.force_login(users["admin"])
    response = client.post("/upload/", {"file": SimpleUploadedFile("people.csv", data)})
    assert response.status_code == 200, response.content
    assert response.json() == {"size": len(data), "on_disk": True, "rows": 100_001}


def _upload(request: HttpRequest) -> JsonResponse:
    """What a CSV upload view sees: the file, spooled to disk by Django above 2.5 MB."""
    upload = request.FILES["file"]
    rows = sum(1 for _ in upload)
    on_disk = isinstance(upload, TemporaryUploadedFile)
    return JsonResponse({"size": upload.size, "on_disk": on_disk, "rows": rows})


urlpatterns = [path("upload/", _upload)]
"""The URL map of the upload test (settings.ROOT_URLCONF = this module)."""
