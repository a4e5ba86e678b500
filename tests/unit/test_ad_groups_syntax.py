"""The AD group connector's pure parts: the marker, groupType values, ranged member names."""

from __future__ import annotations

import pytest

from hrsync.connectors.active_directory.groups import group_type, marker, next_range, parse_marker


def test_the_marker_carries_the_id_and_the_day_a_group_was_found_empty() -> None:
    assert marker("abc") == "hrsync-group:abc"
    assert marker("abc", "2026-11-28") == "hrsync-group:abc;empty-since=2026-11-28"
    assert parse_marker("hrsync-group:abc") == ("abc", None)
    assert parse_marker("hrsync-group:abc;empty-since=2026-11-28") == ("abc", "2026-11-28")
    assert parse_marker("hrsync-group:") is None
    assert parse_marker("Finance team, ask Bo") is None


@pytest.mark.parametrize(
    ("scope", "value"),
    [("global", -2147483646), ("universal", -2147483640)],
)
def test_security_group_types_are_the_signed_values_ad_stores(scope: str, value: int) -> None:
    assert group_type(scope) == value


@pytest.mark.parametrize(
    ("key", "start"),
    [
        ("member;range=0-1499", 1500),
        ("member;range=1500-2999", 3000),
        ("Member;Range=3000-*", None),
        ("member", None),
    ],
)
def test_ranged_member_values_name_where_the_next_range_starts(key: str, start: int | None) -> None:
    assert next_range(key) == start
