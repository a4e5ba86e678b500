"""Notification templates: named subject/text/HTML sources, rendered safely from plain data.

The safety argument: a context is first copied into plain, read-only data — mappings become
`MappingProxyType`, sequences tuples, strings exact `str`, numbers exact `int`/`float`; anything
else becomes its `str()`. A template therefore reaches no caller object, model, manager or
database: the only methods a `{{ a.b }}` lookup can find are the pure read methods of Python's
built-in types, on a private copy. Templates are compiled by an `Engine` of our own with no
template loaders (so `{% include %}`/`{% extends %}` reach no file) and the default
`string_if_invalid` (an undefined variable renders empty). Text parts are rendered without
autoescape, the e-mail HTML part with it, and every rendered part is cut at `MAX_RENDERED_CHARS`.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Any

from django.template import Context, Engine, Template, TemplateSyntaxError

MAX_RENDERED_CHARS = 100_000
"""Each rendered part (subject, text, HTML) is cut here: no context can make a huge message."""

MAX_DEPTH = 8
"""Nesting deeper than this in a context is shown as its `str()`; no caller needs more."""

TRUNCATED_NOTE = "\n… (cut: the message was longer than {limit} characters)"

PlainData = None | bool | int | float | str | list["PlainData"] | dict[str, "PlainData"]
"""What a context becomes before rendering, and what a webhook carries as JSON."""


class RenderError(Exception):
    """A template could not be rendered; the message says why, in plain words."""


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """A named template: the subject line, the plain-text body and the e-mail HTML body."""

    name: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True, slots=True)
class RenderedMessage:
    subject: str
    text: str
    html: str


_TEXT_ENGINE = Engine(autoescape=False, loaders=[])
_HTML_ENGINE = Engine(autoescape=True, loaders=[])


def plain_data(value: object, depth: int = 0) -> PlainData:
    """A copy of `value` made only of JSON types; every other object becomes its `str()`.

    Subclasses are reduced to their base type (a `SafeString` becomes a plain `str`, so it is
    escaped like any other text; an `IntEnum` becomes its number).
    """
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str.__str__(value)
    if depth >= MAX_DEPTH:
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): plain_data(item, depth + 1) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [plain_data(item, depth + 1) for item in value]
    return str(value)


def _read_only(value: PlainData) -> Any:
    """Plain data as immutable containers, so no template lookup can change it."""
    if isinstance(value, dict):
        return MappingProxyType({key: _read_only(item) for key, item in value.items()})
    if isinstance(value, list):
        return tuple(_read_only(item) for item in value)
    return value


def render_message(
    template: MessageTemplate, context: Mapping[str, Any], subject_prefix: str = ""
) -> RenderedMessage:
    """Subject (one line, prefixed), text and HTML of `template` for `context`."""
    data = _read_only(plain_data(context))
    subject = " ".join(render_text(template.subject, data).split())
    return RenderedMessage(
        subject=f"{subject_prefix}{subject}" if subject_prefix else subject,
        text=_tidy(render_text(template.text, data)),
        html=_render(_HTML_ENGINE, template.html, data),
    )


def render_text(source: str, data: Any) -> str:
    """`source` rendered without autoescape; `data` is a context already made plain."""
    return _render(_TEXT_ENGINE, source, data)


def render_line(source: str, context: Mapping[str, Any]) -> str:
    """One line (an address, a header) of `source` rendered for a raw context."""
    return " ".join(render_text(source, _read_only(plain_data(context))).split())


def check_syntax(source: str) -> None:
    """Raise RenderError when `source` is not a valid template."""
    _compiled(_TEXT_ENGINE, source)


def _render(engine: Engine, source: str, data: Any) -> str:
    template = _compiled(engine, source)
    try:
        rendered = template.render(Context(dict(data), autoescape=engine.autoescape))
    except Exception as error:
        # A filter may raise anything on odd data; a notification must never break its caller.
        raise RenderError(f"the template could not be rendered: {error}") from error
    return _bounded(rendered)


@functools.lru_cache(maxsize=256)
def _compiled(engine: Engine, source: str) -> Template:
    try:
        return engine.from_string(source)
    except TemplateSyntaxError as error:
        raise RenderError(f"template syntax error: {error}") from error


def _bounded(text: str) -> str:
    if len(text) <= MAX_RENDERED_CHARS:
        return text
    note = TRUNCATED_NOTE.format(limit=MAX_RENDERED_CHARS)
    return text[: MAX_RENDERED_CHARS - len(note)] + note


def _tidy(text: str) -> str:
    """Template tags leave blank runs and trailing spaces; a message reads better without."""
    lines = [line.rstrip() for line in text.strip().splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines))


def load_default_templates() -> dict[str, MessageTemplate]:
    """The templates shipped in `default_templates/`, one TOML file each, checked on load."""
    folder = resources.files("hrsync.app.notify") / "default_templates"
    templates: dict[str, MessageTemplate] = {}
    for entry in sorted(folder.iterdir(), key=lambda item: item.name):
        if entry.name.endswith(".toml"):
            name = entry.name.removesuffix(".toml")
            templates[name] = _parse_template(name, tomllib.loads(entry.read_text("utf-8")))
    return templates


def _parse_template(name: str, raw: dict[str, Any]) -> MessageTemplate:
    parts = {key: raw.get(key) for key in ("subject", "text", "html")}
    missing = [key for key, value in parts.items() if not isinstance(value, str)]
    if missing:
        raise RenderError(f"template {name}: {', '.join(missing)} missing")
    template = MessageTemplate(
        name=name, subject=raw["subject"], text=raw["text"], html=raw["html"]
    )
    for source in (template.subject, template.text):
        _compiled(_TEXT_ENGINE, source)
    _compiled(_HTML_ENGINE, template.html)
    return template


DEFAULT_TEMPLATES: Mapping[str, MessageTemplate] = MappingProxyType(load_default_templates())
"""name → template. Callers validate a template name against these keys when saving a rule."""
