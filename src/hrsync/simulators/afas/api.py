"""GetConnector semantics without IO: skip/take paging, orderbyfieldids, filters, metainfo.

Filters follow the AFAS help pages (research/vendor-apis.md §6.1 [S40]): `filterfieldids`,
`filtervalues` and `operatortypes` are parallel comma-separated lists that all must hold (AND);
a `;` separates alternative groups (OR). Operator numbers are AFAS's as documented on its help
pages; the research notes do not list them, so `OPERATORS` is the one place to change them.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from hrsync.simulators.afas.store import Field, JsonObject

DEFAULT_TAKE = 100
"""AFAS answers 100 rows when `take` is left out."""


class ConnectorError(Exception):
    """A request the GetConnector refuses: status and the message AFAS would show."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _is_empty(value: object) -> bool:
    return value is None or _text(value) == ""


def _like(value: object, wanted: str) -> bool:
    """AFAS's "bevat" (contains); `%` and `*` act as wildcards when the value has them."""
    text, pattern = _text(value).casefold(), wanted.casefold()
    if "%" not in pattern and "*" not in pattern:
        return pattern in text
    parts = (re.escape(part) for part in re.split(r"[%*]", pattern))
    return re.fullmatch(".*".join(parts), text, flags=re.DOTALL) is not None


Compare = Callable[[object, object], bool]


def _ordered(test: Callable[[int], bool]) -> Compare:
    def compare(value: object, wanted: object) -> bool:
        if _is_empty(value):
            return False
        return test(_cmp(value, wanted))

    return compare


OPERATORS: dict[int, Compare] = {
    1: lambda v, w: not _is_empty(v) and _cmp(v, w) == 0,  # gelijk aan
    2: _ordered(lambda c: c >= 0),  # groter dan of gelijk aan
    3: _ordered(lambda c: c <= 0),  # kleiner dan of gelijk aan
    4: _ordered(lambda c: c > 0),  # groter dan
    5: _ordered(lambda c: c < 0),  # kleiner dan
    6: lambda v, w: _like(v, _text(w)),  # bevat (like)
    7: lambda v, w: _is_empty(v) or _cmp(v, w) != 0,  # niet gelijk aan
    8: lambda v, _: _is_empty(v),  # is leeg
    9: lambda v, _: not _is_empty(v),  # is niet leeg
    10: lambda v, w: _text(v).casefold().startswith(_text(w).casefold()),  # begint met
    11: lambda v, w: not _like(v, _text(w)),  # bevat niet
    12: lambda v, w: not _text(v).casefold().startswith(_text(w).casefold()),  # begint niet met
    13: lambda v, w: _text(v).casefold().endswith(_text(w).casefold()),  # eindigt met
    14: lambda v, w: not _text(v).casefold().endswith(_text(w).casefold()),  # eindigt niet met
}


def _cmp(value: object, wanted: object) -> int:
    """Compare as dates when both read as ISO dates, as numbers when both are numbers, else as
    case-insensitive text (Profit's SQL collation ignores case)."""
    left, right = _comparable(value), _comparable(wanted)
    if type(left) is not type(right):
        left, right = _text(value).casefold(), _text(wanted).casefold()
    return (left > right) - (left < right)  # type: ignore[operator]


def _comparable(value: object) -> datetime | float | str:
    text = _text(value).strip()
    try:
        if "-" not in text[:5]:
            return float(text)
        # Profit's times are naive local ones; an offset a dataset may carry is dropped.
        return datetime.fromisoformat(text.removesuffix("Z")).replace(tzinfo=None)
    except ValueError:
        return text.casefold()


@dataclass(frozen=True, slots=True)
class Condition:
    field: str
    operator: int
    value: str

    def holds(self, row: Mapping[str, Any]) -> bool:
        return OPERATORS[self.operator](row.get(self.field), self.value)


@dataclass(frozen=True, slots=True)
class Query:
    """One GetConnector request: paging, ordering and the filter groups (OR of ANDs)."""

    skip: int = 0
    take: int = DEFAULT_TAKE
    order: tuple[tuple[str, bool], ...] = ()
    """(field id, descending)."""
    groups: tuple[tuple[Condition, ...], ...] = ()


def parse_query(params: Mapping[str, str], fields: Sequence[Field]) -> Query:
    """The query of `/connectors/{id}?…`; ConnectorError (400) for what AFAS would refuse."""
    known = {f.id for f in fields}
    skip = _int(params.get("skip"), "skip", 0)
    take = _int(params.get("take"), "take", DEFAULT_TAKE)
    if skip < -1 or take < -1:
        raise ConnectorError(400, "skip en take moeten 0 of groter zijn (of -1 voor alles)")
    order = tuple(_order(entry, known) for entry in _split(params.get("orderbyfieldids"), ","))
    return Query(max(skip, 0), take, order, _groups(params, known))


def _int(raw: str | None, name: str, default: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConnectorError(400, f"{name} is geen geheel getal: {raw!r}") from None


def _split(raw: str | None, separator: str) -> list[str]:
    return [part.strip() for part in (raw or "").split(separator) if part.strip()]


def _order(entry: str, known: set[str]) -> tuple[str, bool]:
    descending = entry.startswith("-")
    field = entry.lstrip("-+")
    _check_field(field, known)
    return field, descending


def _check_field(field: str, known: set[str]) -> None:
    if field not in known:
        raise ConnectorError(400, f"Het veld '{field}' bestaat niet in deze GetConnector")


def _groups(params: Mapping[str, str], known: set[str]) -> tuple[tuple[Condition, ...], ...]:
    ids = (params.get("filterfieldids") or "").split(";")
    values = (params.get("filtervalues") or "").split(";")
    operators = (params.get("operatortypes") or "").split(";")
    if not params.get("filterfieldids"):
        return ()
    if not len(ids) == len(values) == len(operators):
        raise ConnectorError(400, "filterfieldids, filtervalues en operatortypes passen niet")
    return tuple(_group(*triple, known) for triple in zip(ids, values, operators, strict=True))


def _group(ids: str, values: str, operators: str, known: set[str]) -> tuple[Condition, ...]:
    fields, texts, kinds = ids.split(","), values.split(","), operators.split(",")
    if not len(fields) == len(texts) == len(kinds):
        raise ConnectorError(400, "filterfieldids, filtervalues en operatortypes passen niet")
    conditions = []
    for field, text, kind in zip(fields, texts, kinds, strict=True):
        _check_field(field.strip(), known)
        operator = _int(kind, "operatortypes", 1)
        if operator not in OPERATORS:
            raise ConnectorError(400, f"Onbekend operatortype {operator}")
        conditions.append(Condition(field.strip(), operator, text))
    return tuple(conditions)


def run_query(rows: Sequence[JsonObject], query: Query) -> JsonObject:
    """`{"skip", "take", "rows"}` for the rows that pass the filter, ordered, then paged."""
    kept = [row for row in rows if _passes(row, query.groups)]
    for field, descending in reversed(query.order):  # stable sorts, last key first
        kept.sort(key=_field_key(field), reverse=descending)
    page = kept[query.skip :] if query.take == -1 else kept[query.skip : query.skip + query.take]
    return {"skip": query.skip, "take": query.take, "rows": page}


def _field_key(field: str) -> Callable[[JsonObject], tuple[int, Any]]:
    return lambda row: _sort_key(row.get(field))


def _passes(row: Mapping[str, Any], groups: tuple[tuple[Condition, ...], ...]) -> bool:
    return not groups or any(all(c.holds(row) for c in group) for group in groups)


def _sort_key(value: object) -> tuple[int, Any]:
    """Empty values first, then by value; mixed types sort as text."""
    if _is_empty(value):
        return (0, "")
    key = _comparable(value)
    return (1, key) if isinstance(key, str) else (2 if isinstance(key, float) else 3, key)


def metainfo(connectors: Mapping[str, str]) -> JsonObject:
    """`GET /metainfo`: the GetConnectors (id → description) the token may use."""
    listed = [{"id": cid, "description": text} for cid, text in connectors.items()]
    return {"updateConnectors": [], "getConnectors": listed}


def connector_metainfo(connector: str, description: str, fields: Sequence[Field]) -> JsonObject:
    """`GET /metainfo/get/{id}`: the connector's fields with types, labels and lengths."""
    return {"name": connector, "description": description, "fields": [f.to_json() for f in fields]}
