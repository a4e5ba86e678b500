"""The list pages and their API under load: 100,000 tickets, 1,000,000 audit events and 200
connections in PostgreSQL, served by `hrsync serve` (waitress), measured with wrk.

Each URL is loaded for a few seconds by one client (the latency a person sees) and by several at
once (what a busy morning looks like), after a warm-up. Pages carry a session cookie from the
sign-in form; the API carries a personal token. Figures are printed, never asserted.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import psycopg
from psycopg import sql

from bench.measure import measure

HRSYNC = str(Path(sys.executable).with_name("hrsync"))
POSTGRES_URL = os.environ.get(
    "HRSYNC_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/postgres"
)
ADMIN_PASSWORD = "bench-admin-password"
# The first page of each list, and each list narrowed the way people narrow it: a search over the
# tickets' titles, the audit log of one connection, the connections of one kind.
PAGES = (
    "/connections/",
    "/tickets/",
    "/audit/",
    "/connections/?q=SCIM",
    "/tickets/?q=Lindqvist",
    "/audit/?connection=conn-007",
)
API = (
    "/api/connections",
    "/api/tickets",
    "/api/audit",
    "/api/connections?q=SCIM",
    "/api/tickets?q=Lindqvist",
    "/api/audit?connection=conn-007",
)
CONCURRENCY = (1, 4)
GOAL_P95_MS = 200.0

# wrk calls done() once at the end; its latency object holds every request's time in µs.
REPORT_LUA = """
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %f, "socket_errors": %d, "status_errors": %d, '
    .. '"p50": %f, "p95": %f, "p99": %f}\\n',
    summary.requests, summary.duration / 1e6, e.connect + e.read + e.write + e.timeout,
    e.status, latency:percentile(50) / 1000, latency:percentile(95) / 1000,
    latency:percentile(99) / 1000))
end
"""


@dataclass(frozen=True)
class Load:
    path: str
    clients: int
    requests_per_second: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int


def run(workdir: Path) -> dict[str, float]:
    """Seed, serve, load every URL; returns the worst p95 with one client and with several."""
    if shutil.which("wrk") is None:
        print("lists: wrk is not installed (Debian package wrk); skipped")
        return {}
    sizes = _sizes()
    workdir.mkdir(parents=True, exist_ok=True)
    with _throwaway_database() as url:
        env = os.environ | {
            "DATABASE_URL": url,
            "HRSYNC_HOME": str(workdir),
            "HRSYNC_BENCH_ADMIN_PASSWORD": ADMIN_PASSWORD,
        }
        measure(
            [HRSYNC, "createadmin", "admin", "--password-env", "HRSYNC_BENCH_ADMIN_PASSWORD"], env
        )
        seeded = measure([sys.executable, "-m", "bench.seed_lists", *map(str, sizes)], env)
        print(
            f"seeded {sizes[0]:,} tickets, {sizes[1]:,} audit events, {sizes[2]} connections "
            f"in {seeded.seconds:.0f} s"
        )
        with _serving(env, workdir / "serve.log") as base:
            cookies = _signed_in_cookies(base)
            loads = _load_all(base, cookies, _api_token(base, cookies))
    _print_table(loads)
    figures = {}
    for name, clients in (("lists_p95_ms_1_client", 1), ("lists_p95_ms", max(CONCURRENCY))):
        measured = [load.p95_ms for load in loads if load.clients == clients]
        if measured:
            figures[name] = max(measured)
    return figures


def _sizes() -> tuple[int, int, int]:
    tickets = int(os.environ.get("HRSYNC_BENCH_TICKETS", "100000"))
    events = int(os.environ.get("HRSYNC_BENCH_AUDIT_EVENTS", "1000000"))
    connections = int(os.environ.get("HRSYNC_BENCH_CONNECTIONS", "200"))
    return tickets, events, connections


@contextmanager
def _throwaway_database() -> Iterator[str]:
    name = f"hrsync_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        try:
            yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
        finally:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def _serving(env: dict[str, str], log_path: Path) -> Iterator[str]:
    """`hrsync serve` on a free loopback port until the block ends."""
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [HRSYNC, "serve", "--port", str(port)], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    try:
        deadline = time.monotonic() + 60
        while not _is_answering(f"{base}/signin/"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"hrsync serve did not come up:\n{log_path.read_text()}")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)


def _is_answering(url: str) -> bool:
    try:
        return httpx2.get(url, timeout=2).status_code == 200
    except httpx2.TransportError:
        return False


def _signed_in_cookies(base: str) -> httpx2.Cookies:
    """Sign in through the form once; the session cookie then rides on every page request."""
    with httpx2.Client(base_url=base) as client:
        client.get("/signin/").raise_for_status()
        signed = client.post(
            "/signin/",
            data={
                "username": "admin",
                "password": ADMIN_PASSWORD,
                "csrfmiddlewaretoken": client.cookies["csrftoken"],
            },
        )
        if signed.status_code != 302:
            raise RuntimeError(f"sign-in failed: {signed.status_code}")
        return client.cookies


def _api_token(base: str, cookies: httpx2.Cookies) -> str | None:
    """A personal token made the way a signed-in user makes one; None when the API has none."""
    created = httpx2.post(
        f"{base}/api/tokens",
        json={"name": "bench"},
        cookies=cookies,
        headers={"X-CSRFToken": cookies["csrftoken"]},
        timeout=30,
    )
    if created.status_code != 201:
        print(f"lists: POST /api/tokens answered {created.status_code}; the API is left out")
        return None
    token: str = created.json()["token"]
    return token


def _load_all(base: str, cookies: httpx2.Cookies, token: str | None) -> list[Load]:
    seconds = int(os.environ.get("HRSYNC_BENCH_SECONDS", "10"))
    script = Path(tempfile.mkstemp(suffix=".lua")[1])
    script.write_text(REPORT_LUA)
    cookie = "; ".join(f"{name}={value}" for name, value in cookies.items())
    targets = [(path, f"Cookie: {cookie}") for path in PAGES]
    targets += [(path, f"Authorization: Bearer {token}") for path in API if token]
    loads = []
    try:
        for path, header in targets:
            if not _is_served(base + path, header):
                continue
            _wrk(base + path, header, script, clients=2, seconds=2)  # warm-up
            loads += [_load(base, path, header, script, n, seconds) for n in CONCURRENCY]
    finally:
        script.unlink()
    return loads


def _is_served(url: str, header: str) -> bool:
    """A URL not built yet (404) or refusing the credentials is reported and left out."""
    name, value = header.split(": ", 1)
    reply = httpx2.get(url, headers={name: value}, timeout=30)
    if reply.status_code != 200:
        print(f"lists: {url} answered {reply.status_code}; left out")
        return False
    return True


def _load(base: str, path: str, header: str, script: Path, clients: int, seconds: int) -> Load:
    report = _wrk(base + path, header, script, clients=clients, seconds=seconds)
    return Load(
        path,
        clients,
        report["requests"] / report["seconds"],
        report["p50"],
        report["p95"],
        report["p99"],
        int(report["socket_errors"] + report["status_errors"]),
    )


def _wrk(url: str, header: str, script: Path, *, clients: int, seconds: int) -> dict[str, float]:
    threads = min(clients, 2)
    done = subprocess.run(
        [
            *("wrk", f"-t{threads}", f"-c{clients}", f"-d{seconds}s", "--timeout", "10s"),
            *("-H", header, "-s", str(script), url),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    report: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return report


def _print_table(loads: list[Load]) -> None:
    print(
        f"{'url':<32}{'clients':>8}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'errors':>8}"
    )
    for load in loads:
        mark = "" if load.p95_ms <= GOAL_P95_MS else "  over 200 ms"
        print(
            f"{load.path:<32}{load.clients:>8}{load.requests_per_second:>9.1f}"
            f"{load.p50_ms:>9.1f}{load.p95_ms:>9.1f}{load.p99_ms:>9.1f}{load.errors:>8}{mark}"
        )
