"""`limit`/`offset` pages that stay cheap on tables of a million rows, whatever the filter.

A page is ordered (newest first, mostly) and filtered, and a database answers "the first 50 in
this order that match" by walking the ordering's index and skipping what does not match. That is
quick when matches are dense, and a walk through the whole table when they are rare: the audit
log of a connection made yesterday holds three of a million events. So a page first asks for the
keys of up to SPARSE + 1 matches in no order, which the filter's own index answers at once:

- SPARSE or fewer: they are all the matches. The page is taken from those keys (the database
  sorts a few thousand rows), and `count` is exact.
- more: matches are dense, and the ordered walk finds a page quickly. `count` is exact up to
  COUNT_CAP (`SELECT COUNT(*) FROM (SELECT id … LIMIT COUNT_CAP + 1)`, never a whole table);
  beyond that it is COUNT_CAP and `is_count_capped` is true. The last page knows its count.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db.models import Model, QuerySet
from ninja import Field, Schema

MAX_LIMIT = 200
DEFAULT_LIMIT = 50
MAX_OFFSET = 100_000
COUNT_CAP = 10_000
SPARSE = 2_000

Row = TypeVar("Row", bound=Model)


class Paged(Schema):
    """What every list answers besides its `items` (declared by each resource's page)."""

    count: int
    is_count_capped: bool


class PageQuery(Schema):
    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    offset: int = Field(0, ge=0, le=MAX_OFFSET)


def page(
    rows: QuerySet[Row],
    query: PageQuery,
    present: Callable[[list[Row]], Iterable[Any]],
) -> dict[str, Any]:
    """One page of `rows` (already filtered and ordered) as `{items, count, is_count_capped}`."""
    window = slice(query.offset, query.offset + query.limit)
    keys = list(rows.order_by().values_list("pk", flat=True)[: SPARSE + 1])
    if len(keys) <= SPARSE:
        items = list(rows.filter(pk__in=keys)[window]) if keys else []
        return _page(present(items), len(keys), is_capped=False)
    items = list(rows[window])
    if items and len(items) < query.limit:
        return _page(present(items), query.offset + len(items), is_capped=False)  # the last page
    # Only the keys, without the joins a page needs to show its rows.
    counted = rows.select_related(None).order_by().values("pk")[: COUNT_CAP + 1].count()
    return _page(present(items), min(counted, COUNT_CAP), is_capped=counted > COUNT_CAP)


def _page(items: Iterable[Any], count: int, *, is_capped: bool) -> dict[str, Any]:
    return {"items": list(items), "count": count, "is_count_capped": is_capped}
