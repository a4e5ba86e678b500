"""/api/docs: the operations listed from the OpenAPI document, on one page with no JavaScript.

ninja's Swagger UI and Redoc pages load their scripts from a CDN unless ninja is an installed
app, and hrsync loads nothing from a CDN. This page needs no script at all: it groups the
operations by tag with their method, path, summary, the role each needs and the answers it may
give, and links the full document (/api/openapi.json) for tools that render or generate clients.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from ninja.openapi.docs import DocsBase

from hrsync.app.api.auth import ROLE_KEY

if TYPE_CHECKING:
    from ninja import NinjaAPI

METHODS = ("get", "post", "put", "patch", "delete")
STYLE = """
body { font: 15px/1.45 system-ui, sans-serif; margin: 2rem auto; max-width: 72rem; padding: 0 1rem }
table { border-collapse: collapse; width: 100%; margin-bottom: 2rem }
th, td { text-align: left; padding: .3rem .6rem; border-bottom: 1px solid #ddd }
td { vertical-align: top }
code { font-size: 14px } .method { font-weight: 600; text-transform: uppercase; width: 5rem }
"""


class OperationsPage(DocsBase):
    def render_page(self, request: HttpRequest, api: NinjaAPI, **kwargs: Any) -> HttpResponse:
        schema = api.get_openapi_schema(path_params=kwargs)
        url = self.get_openapi_url(api, kwargs)
        return HttpResponse(_page(api.title, api.description, url, schema))


def _page(title: str, description: str, url: str, schema: Mapping[str, Any]) -> str:
    sections = format_html_join(
        "", "<h2>{}</h2>{}", ((tag, _table(rows)) for tag, rows in _by_tag(schema).items())
    )
    return format_html(
        """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>{title} API</title><style>{style}</style></head><body>
<h1>{title} API</h1><p>{description}</p>
<p>The OpenAPI document: <a href="{url}">{url}</a>. Authenticate with
<code>Authorization: Bearer hrs_…</code> (create a token with <code>POST /api/tokens</code>) or
the console's session (unsafe methods then need the <code>X-CSRFToken</code> header). Every error
answers <code>{{"error": {{"status", "code", "message", "details"}}}}</code>.</p>
{sections}</body></html>""",
        title=title,
        style=mark_safe(STYLE),  # noqa: S308 (a constant of this module)
        description=description,
        url=url,
        sections=sections,
    )


def _by_tag(schema: Mapping[str, Any]) -> dict[str, list[tuple[str, str, Mapping[str, Any]]]]:
    groups: dict[str, list[tuple[str, str, Mapping[str, Any]]]] = {}
    for path, method, operation in _operations(schema):
        tag = (operation.get("tags") or ["other"])[0]
        groups.setdefault(tag, []).append((method, path, operation))
    return groups


def _operations(schema: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    for path, item in schema.get("paths", {}).items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def _table(rows: list[tuple[str, str, Mapping[str, Any]]]) -> SafeString:
    body = format_html_join(
        "",
        '<tr><td class="method">{}</td><td><code>{}</code></td><td>{}</td><td>{}</td>'
        "<td>{}</td></tr>",
        (
            (
                method,
                path,
                _what(operation),
                operation.get(ROLE_KEY, "anyone"),
                ", ".join(sorted(map(str, operation.get("responses", {})))),
            )
            for method, path, operation in rows
        ),
    )
    return format_html(
        "<table><tr><th>method</th><th>path</th><th>what</th><th>role</th><th>answers</th></tr>"
        "{}</table>",
        body,
    )


def _what(operation: Mapping[str, Any]) -> str:
    """The docstring's first line, else ninja's summary (the function name in words)."""
    description = str(operation.get("description") or "").strip()
    return description.splitlines()[0] if description else str(operation.get("summary", ""))
