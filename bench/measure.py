"""Run a command and measure it: wall time and the child's own peak RSS (via wait4)."""

from __future__ import annotations

import os
import subprocess
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
    started = time.perf_counter()
    with subprocess.Popen(
        command, env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as process:
        # wait4 gives this child's own rusage, not the maximum over every child we ever ran.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        output = process.stdout.read() if process.stdout else ""
        errors = process.stderr.read() if process.stderr else ""
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({process.returncode}):\n{errors}{output}")
    return Measured(seconds, usage.ru_maxrss / 1024, output)
