"""Keyset pagination, newest first: `?before=<pk>` instead of OFFSET, one more row instead of COUNT.

Deep pages cost what the first does (the primary key index), which the audit log's million
events need; a list never counts its rows, it only knows whether more follow.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from django.db.models import Model, QuerySet
from django.http import QueryDict

from hrsync.app.console.responses import query_with

PAGE_SIZE = 50

RowT = TypeVar("RowT", bound=Model)


@dataclass(frozen=True, slots=True)
class Page(Generic[RowT]):
    rows: list[RowT]
    next_before: int | None
    """The `before` of the next page; None on the last page."""
    is_first: bool


def read_page(rows: QuerySet[RowT], before: str | None, size: int = PAGE_SIZE) -> Page[RowT]:
    """The rows with a primary key below `before` (all when it is not a number), newest first."""
    cursor = parse_cursor(before)
    if cursor is not None:
        rows = rows.filter(pk__lt=cursor)
    found = list(rows.order_by("-pk")[: size + 1])
    more = len(found) > size
    shown = found[:size]
    return Page(shown, shown[-1].pk if more else None, is_first=cursor is None)


def parse_cursor(before: str | None) -> int | None:
    if before is None or not before.isdigit():
        return None
    return int(before)


def pager_context(query: QueryDict, page: Page[RowT]) -> dict[str, object]:
    """What templates/hrsync/shared/pager.html needs: the page and its two links."""
    more = str(page.next_before) if page.next_before is not None else None
    return {
        "page": page,
        "first_query": query_with(query, before=None),
        "more_query": query_with(query, before=more),
    }
