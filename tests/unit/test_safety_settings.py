"""A connection's safety thresholds as stored (hrsync.app.connection_settings.steps): the
defaults, a table giving some kinds only, and step 4 saved from a form that does not show every
kind. No database: the connection is never saved."""

from __future__ import annotations

from hrsync.app.connection_settings.steps import ScopeStep, apply_step, safety_of
from hrsync.app.models import Connection
from hrsync.engine.safety import SafetyPolicy, Threshold


def test_the_group_kinds_default_to_five_percent_and_ten_and_are_set_like_the_others() -> None:
    assert safety_of({}) == SafetyPolicy()
    assert safety_of({}).retire_group == safety_of({}).remove_members == Threshold(5, 10)
    stored = {"retire_group": {"percent": 1, "count": 2}, "remove_members": {"count": 50}}
    policy = safety_of({"safety": stored})
    assert (policy.retire_group, policy.remove_members) == (Threshold(1, 2), Threshold(5, 50))


def test_step_4_without_the_group_kinds_keeps_their_stored_thresholds() -> None:
    stored = {"retire_group": {"percent": 1, "count": 2}, "move": {"percent": 50, "count": 10}}
    connection = Connection(settings={"safety": stored})
    form = {"safety": {"move": {"percent": 20, "count": 9}}, "companies": []}
    apply_step(connection, 4, form)
    policy = safety_of(connection.settings)
    assert (policy.move, policy.retire_group) == (Threshold(20, 9), Threshold(1, 2))


def test_step_4_with_every_kind_replaces_them_all() -> None:
    connection = Connection(settings={"safety": {"retire_group": {"percent": 1, "count": 2}}})
    apply_step(connection, 4, ScopeStep().model_dump())
    assert safety_of(connection.settings) == SafetyPolicy()
