"""Run a command and measure it: wall time and the child's own peak RSS (via wait4)."""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Measured:
    seconds: float
    peak_rss_mb: float
    output: str


def measure(command: list[str], env: dict[str, str], cwd: Path | None = None) -> Measured:
    """Wall time and peak resident memory of one process; raises when it fails."""
    # Output goes to files, not pipes: a pipe nobody reads until the end fills up and stalls the
    # child (ldapadd prints a line per entry).
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.perf_counter()
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=err, text=True)
        # wait4 gives this child's own rusage, not the maximum over every child we ever ran.
        _, status, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        output, errors = out.read(), err.read()
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{errors}{output}")
    return Measured(seconds, usage.ru_maxrss / 1024, output)
