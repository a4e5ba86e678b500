"""One import in this process, timed: `python -m bench.import_once [--no-tickets]`.

Run by bench.tickets in a fresh HRSYNC_HOME, so the Django settings read that environment.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time

import django


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hrsync.app.settings")
    django.setup()
    from django.core.management import call_command  # noqa: PLC0415 (after django.setup)

    from hrsync.app.imports.source_import import import_source  # noqa: PLC0415

    call_command("migrate", interactive=False, verbosity=0)
    started = time.perf_counter()
    summary = import_source("flex", full=True, with_tickets="--no-tickets" not in sys.argv)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": peak, **summary.counts()}))


if __name__ == "__main__":
    main()
