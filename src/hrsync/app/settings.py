"""Django settings, driven by the environment: HRSYNC_HOME (data directory) and DATABASE_URL."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

import dj_database_url

from hrsync.app.security.permissions import create_private_file, make_private_directory

HOME = Path(os.environ.get("HRSYNC_HOME", ".hrsync")).resolve()
make_private_directory(HOME)


def _secret_key() -> str:
    """From the environment, else a key created once in the data directory (kept private)."""
    if key := os.environ.get("HRSYNC_SECRET_KEY"):
        return key
    path = HOME / "secret_key"
    if not path.exists():
        create_private_file(path)
        path.write_text(secrets.token_urlsafe(50))
    return path.read_text().strip()


def _database() -> dict[str, Any]:
    if url := os.environ.get("DATABASE_URL"):
        return dict(dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True))
    # SQLite: WAL lets readers work during a run; IMMEDIATE transactions and a busy timeout
    # make concurrent writers wait instead of failing with "database is locked".
    name = HOME / "hrsync.sqlite3"
    if not name.exists():
        create_private_file(name)  # SQLite gives its -wal and -shm files the database's mode
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": name,
        "OPTIONS": {
            "timeout": 30,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        },
    }


def _seconds(name: str, default: float) -> float:
    return float(os.environ.get(name) or default)


def _trusted_origins(hosts: list[str]) -> list[str]:
    """The origins a signed-in form may be posted from: as set, else https:// and each allowed
    host (the documented deployment: a TLS proxy in front)."""
    if listed := os.environ.get("HRSYNC_TRUSTED_ORIGINS"):
        return [origin.strip() for origin in listed.split(",") if origin.strip()]
    return [f"https://{host}" for host in hosts if host and host != "*"]


SECRET_KEY = _secret_key()
DEBUG = os.environ.get("HRSYNC_DEBUG") == "1"
ALLOWED_HOSTS = os.environ.get("HRSYNC_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "hrsync.app.apps.HrsyncConfig",
    "axes",
]
MIDDLEWARE = [
    "hrsync.app.request_ids.RequestIdMiddleware",  # first: Django's own request log has it
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # After authentication (anonymous callers get 401 first), before CSRF reads a form body.
    "hrsync.app.body_limits.BodyLimitMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "hrsync.app.security.headers.NoStoreMiddleware",
    "axes.middleware.AxesMiddleware",
]
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Sign-in failures (docs/operations/deployment.md): HRSYNC_SIGNIN_FAILURES wrong passwords in a
# row lock the user name, and separately the address, for HRSYNC_LOCKOUT_MINUTES, or until an
# admin lifts it (`hrsync users unlock`). A right password resets the count.
AXES_FAILURE_LIMIT = int(os.environ.get("HRSYNC_SIGNIN_FAILURES") or 8)
AXES_LOCKOUT_PARAMETERS = ["username", "ip_address"]
AXES_COOLOFF_TIME = _seconds("HRSYNC_LOCKOUT_MINUTES", 30) / 60
"""Hours, as django-axes counts a number."""
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "hrsync/locked.html"
AXES_VERBOSE = False
ROOT_URLCONF = "hrsync.app.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ]
        },
    }
]
STATIC_URL = "/static/"
STATIC_ROOT = HOME / "static"
LOGIN_URL = "/signin/"
LOGIN_REDIRECT_URL = "/"
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = os.environ.get("HRSYNC_SECURE_COOKIES") == "1"
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
# An admin console's session: it ends with the browser, and after HRSYNC_SESSION_HOURS idle
# (each request starts the clock again).
SESSION_COOKIE_AGE = int(_seconds("HRSYNC_SESSION_HOURS", 8) * 3600)
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
CSRF_TRUSTED_ORIGINS = _trusted_origins(ALLOWED_HOSTS)
if os.environ.get("HRSYNC_BEHIND_PROXY") == "1":
    # The TLS proxy says the request came over HTTPS; trusted only when the admin says so.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_HSTS_SECONDS = 31_536_000 if SESSION_COOKIE_SECURE else 0
"""HSTS only behind HTTPS (with secure cookies): a browser told it on plain HTTP would lock
itself out of a test install."""
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Request bodies (hrsync.app.body_limits): forms and JSON up to HRSYNC_MAX_BODY_MB,
# file uploads up to HRSYNC_MAX_UPLOAD_MB (a CSV of 100,000 rows is about 20 MB), their files
# streamed to a temporary file on disk above 2.5 MB instead of held in memory.
DATA_UPLOAD_MAX_MEMORY_SIZE = int(_seconds("HRSYNC_MAX_BODY_MB", 5) * 1024 * 1024)
HRSYNC_MAX_UPLOAD_BYTES = int(_seconds("HRSYNC_MAX_UPLOAD_MB", 50) * 1024 * 1024)
FILE_UPLOAD_MAX_MEMORY_SIZE = 2_621_440
DATABASES = {"default": _database()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
TIME_ZONE = "Europe/Stockholm"
LANGUAGE_CODE = "en"
PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
LOGGING_CONFIG = None

# Scheduling and the task queue (docs/operations/scheduling.md).
HRSYNC_QUEUE_URL = os.environ.get("HRSYNC_QUEUE_URL", "")
"""sqlite:///path, redis://host:6379/0 or postgresql://…; empty: the database's own PostgreSQL
when DATABASE_URL names one, else a SQLite file in the data directory."""
HRSYNC_QUEUE_NAME = os.environ.get("HRSYNC_QUEUE_NAME") or "hrsync"
"""The queue's name in its storage: installations sharing one Redis use different names."""
HRSYNC_LEASE_SECONDS = _seconds("HRSYNC_LEASE_SECONDS", 600)
HRSYNC_RETRY_BASE_SECONDS = _seconds("HRSYNC_RETRY_BASE_SECONDS", 30)
HRSYNC_RETRY_CAP_SECONDS = _seconds("HRSYNC_RETRY_CAP_SECONDS", 900)
HRSYNC_MAX_ATTEMPTS = int(os.environ.get("HRSYNC_MAX_ATTEMPTS") or 5)
