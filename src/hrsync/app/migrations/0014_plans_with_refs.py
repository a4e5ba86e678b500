"""Plans stored before account refs (0011) name accounts by `dn`, `new_parent_dn` and `new_cn`;
read back now they would lose their refs, and a held run could not be approved. Each such
change is rewritten as today's planner records it (`ref`, `new_container`, `new_name`, and the
`new_ref` a move or rename ends with, worked out from the DN as AD names it), and a run whose
stored plan still proves its fingerprint gets the fingerprint of the rewritten plan, so its
approval still binds to exactly these changes. Only Active Directory had runs then."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.db import migrations

from hrsync.connectors.active_directory.dn import escape_dn_value, first_rdn_value, parent_of

BATCH = 1000


def _rewritten(old: dict[str, Any]) -> dict[str, Any]:
    record = {("ref" if key == "dn" else key): value for key, value in old.items()}
    dn = str(old.get("dn") or "")
    kind = old.get("kind")
    if kind == "move":
        container = str(record.pop("new_parent_dn", "") or "")
        record["new_container"] = container
        record["new_ref"] = f"CN={escape_dn_value(first_rdn_value(dn))},{container}"
    elif kind in ("rename", "update_group"):
        name = record.pop("new_cn", None)
        record["new_name"] = name
        record["new_ref"] = f"CN={escape_dn_value(name)},{parent_of(dn)}" if name else ""
    return record


def _digest(records: list[dict[str, Any]]) -> str:
    digest = hashlib.sha256()
    for record in records:
        digest.update(json.dumps(record, sort_keys=True, ensure_ascii=False).encode())
    return digest.hexdigest()


def forwards(apps: Any, schema_editor: Any) -> None:
    run_model = apps.get_model("hrsync", "Run")
    change_model = apps.get_model("hrsync", "RunChange")
    old_runs = change_model.objects.filter(payload__has_key="dn").values_list("run_id", flat=True)
    for run in run_model.objects.filter(pk__in=set(old_runs)).iterator():
        rows = list(change_model.objects.filter(run=run).order_by("pk"))
        before = [row.payload for row in rows]
        proven = bool(run.fingerprint) and _digest(before) == run.fingerprint
        for row in rows:
            if "dn" in row.payload:
                row.payload = _rewritten(row.payload)
        change_model.objects.bulk_update(rows, ["payload"], batch_size=BATCH)
        if proven:
            run.fingerprint = _digest([row.payload for row in rows])
            run.save(update_fields=["fingerprint"])


class Migration(migrations.Migration):
    dependencies = [("hrsync", "0013_contracts")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
