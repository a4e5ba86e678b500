"""Person fields as people read them: labels, managers by name, an id beside its named value
said once."""

from __future__ import annotations

from hrsync.domain.person_fields import field_label, people_referenced, readable_changes


def test_fields_are_labelled_as_an_admin_says_them() -> None:
    assert field_label("org.Office") == "Office"
    assert field_label("orgid.Office") == "Office"
    assert field_label("Orgid.Office") == "Office"
    assert field_label("company_id") == "Company"
    assert field_label("start_date") == "Start date"
    assert field_label("custom.gender") == "gender"
    assert field_label("unheard_of") == "unheard_of"


def test_a_manager_is_named_and_an_id_beside_its_value_is_left_out() -> None:
    changed = {
        "manager_id": ["p-1", "p-2"],
        "org.Office": ["Stockholm", "Göteborg"],
        "orgid.Office": ["u-1", "u-2"],
        "company_id": ["1", "2"],
        "company_name": ["Acme AB", "Beta AB"],
        "title": [None, "Controller"],
    }
    names = {"p-1": "Anna Berg (1002)", "p-2": "Per Ek (1040)"}

    rows = [(r.label, r.old, r.new) for r in readable_changes(changed, names)]

    assert rows == [
        ("Manager", "Anna Berg (1002)", "Per Ek (1040)"),
        ("Office", "Stockholm", "Göteborg"),
        ("Company", "Acme AB", "Beta AB"),
        ("Title", None, "Controller"),
    ]
    assert people_referenced(changed) == {"p-1", "p-2"}


def test_an_id_that_changed_alone_is_shown_and_an_unknown_manager_keeps_its_id() -> None:
    rows = readable_changes({"orgid.Office": ["u-1", "u-2"], "manager_id": [None, "p-9"]}, {})

    assert [(r.label, r.old, r.new) for r in rows] == [
        ("Office", "u-1", "u-2"),
        ("Manager", None, "p-9"),
    ]
