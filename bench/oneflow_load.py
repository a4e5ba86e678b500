"""Oneflow write-back under a burst: 200 contracts signed at once, each signature a webhook
delivered by the simulator over HTTP to `hrsync serve` (embedded queue, two workers), as the
integration tests do it end to end. Measured: seconds from the last signature to the last
Signed PDF in Flex HRM, documents uploaded twice, and the serving process's peak RSS."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx2

from hrsync.simulators.flexhrm import Credentials, FlexSimulator, generate_dataset
from hrsync.simulators.oneflow import OneflowSimulator

GOAL_SECONDS = 30.0
GOAL_DUPLICATES = 0.0
HRSYNC = str(Path(sys.executable).with_name("hrsync"))
HR, TOKEN, KEY = "hr@acme.example", "bench-token", "bench-sign-key"
CONFIG = """
[sources.flex]
type = "flexhrm"
url = "{flex}"
instance = "acme"
username = "api"
password_env = "FLEX_PASSWORD"

[integrations.oneflow]
type = "oneflow"
source = "flex"
url = "{oneflow}"
token_env = "ONEFLOW_TOKEN"
user_email = "{hr}"
sign_key_env = "ONEFLOW_SIGN_KEY"
"""


def run(count: int, home: Path) -> dict[str, float]:
    home.mkdir(parents=True)
    dataset = generate_dataset(count=count * 4, seed=15)  # numbers repeat across companies
    with FlexSimulator(dataset, credentials=Credentials("acme", "api", "flex-pw")) as flex:
        people = _signable(flex)[:count]
        if len(people) < count:
            raise RuntimeError(f"only {len(people)} employees can sign a contract")
        with OneflowSimulator(token=TOKEN, users=[HR], sign_key=KEY, time_factor=100) as oneflow:
            env = _env(home)
            (home / "hrsync.toml").write_text(
                CONFIG.format(flex=flex.url, oneflow=oneflow.url, hr=HR), "utf-8"
            )
            subprocess.run([HRSYNC, "config", "load", str(home / "hrsync.toml")], env=env,
                           check=True, capture_output=True)  # fmt: skip
            port = _free_port()
            oneflow.add_webhook(f"http://127.0.0.1:{port}/hooks/oneflow/oneflow")
            serve = _serve(home, env, port)
            try:
                return _burst(flex, oneflow, people, serve)
            finally:
                serve.send_signal(signal.SIGTERM)
                serve.wait(timeout=90)


def _burst(
    flex: FlexSimulator,
    oneflow: OneflowSimulator,
    people: list[dict[str, Any]],
    serve: subprocess.Popen[bytes],
) -> dict[str, float]:
    """Contracts created and published (hrsync fills them and files the Pending PDF), then all
    signed at once; the clock runs from the last signature."""
    headers = {"x-oneflow-api-token": TOKEN, "x-oneflow-user-email": HR}
    with httpx2.Client(base_url=oneflow.url + "/", headers=headers, timeout=30) as api:
        ids = [_create(api, person, n) for n, person in enumerate(people)]
        _wait(lambda: all(_has_counterparty(oneflow.contract(c)) for c in ids), "filled", 600)
        for contract_id in ids:
            assert api.post(f"contracts/{contract_id}/publish", json={}).status_code == 200
    _wait(lambda: _count(flex, people, "Pending") == len(people), "Pending PDFs", 600)
    print(f"  {len(ids)} contracts filled and published; signing them all at once")
    with httpx2.Client(base_url=oneflow.base_url, timeout=30) as sim:
        for contract_id in ids:
            assert sim.post(f"/_sim/contracts/{contract_id}/sign").status_code == 200
    signed_at = time.perf_counter()
    _wait(lambda: _count(flex, people, "Signed") == len(people), "Signed PDFs", 600)
    seconds = time.perf_counter() - signed_at
    duplicates = sum(
        n - 1
        for person in people
        for n in Counter(d["fileName"] for d in flex.documents(person["id"])).values()
    )
    rss = _peak_rss_mb(serve.pid)
    print(f"  last signature → last Signed PDF: {seconds:.1f} s; duplicates {duplicates}; "
          f"hrsync serve peak RSS {rss:.0f} MB")  # fmt: skip
    return {"oneflow_signed_s": seconds, "oneflow_duplicates": float(duplicates),
            "oneflow_rss_mb": rss}  # fmt: skip


def _signable(flex: FlexSimulator) -> list[dict[str, Any]]:
    """Employees with a work e-mail (the template delivers by e-mail) and an employment number
    no other company uses (the workflow refuses to guess between companies)."""
    employees = list(flex.store.employees())
    numbers = Counter(_number(e) for e in employees)
    return [e for e in employees if numbers[_number(e)] == 1 and e.get("emailWork")]


def _create(api: httpx2.Client, person: dict[str, Any], n: int) -> int:
    fields = [{"custom_id": "employee_number", "value": _number(person)}]
    answer = api.post("contracts/create", json={"workspace_id": 1, "template_id": 200,
                      "name": f"Employment contract {n}", "data_fields": fields})  # fmt: skip
    answer.raise_for_status()
    return int(answer.json()["id"])


def _has_counterparty(contract: dict[str, Any]) -> bool:
    return any(not p["my_party"] and p.get("participants") for p in contract["parties"])


def _count(flex: FlexSimulator, people: list[dict[str, Any]], status: str) -> int:
    return sum(
        1 for p in people if any(d["fileName"].endswith(f" - {status}.pdf")
                                 for d in flex.documents(p["id"]))
    )  # fmt: skip


def _number(employee: dict[str, Any]) -> str:
    return str(employee["employment"][0]["employmentNumber"])


def _wait(check: Callable[[], bool], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _peak_rss_mb(pid: int) -> float:
    """VmHWM: the process's high-water mark of resident memory (Linux)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _env(home: Path) -> dict[str, str]:
    # The embedded queue and SQLite in HRSYNC_HOME: no broker or database URL from outside.
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "HRSYNC_QUEUE_URL", "HRSYNC_QUEUE_NAME")}  # fmt: skip
    return env | {"HRSYNC_HOME": str(home), "FLEX_PASSWORD": "flex-pw",
                  "ONEFLOW_TOKEN": TOKEN, "ONEFLOW_SIGN_KEY": KEY}  # fmt: skip


def _serve(home: Path, env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    log = (home / "serve.log").open("wb")
    serve = subprocess.Popen([HRSYNC, "serve", "--port", str(port), "--workers", "2"],
                             env=env, stdout=log, stderr=subprocess.STDOUT)  # fmt: skip
    _wait(lambda: _is_up(port), "hrsync serve", 60)
    return serve


def _is_up(port: int) -> bool:
    try:
        return httpx2.get(f"http://127.0.0.1:{port}/signin/").status_code == 200
    except httpx2.TransportError:
        return False


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
