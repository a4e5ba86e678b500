"""The REST API (django-ninja): everything the console does, at /api/, with OpenAPI."""

from hrsync.app.api.main import api

__all__ = ["api"]
