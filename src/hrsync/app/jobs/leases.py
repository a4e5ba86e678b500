"""Leases: one run of a connection at a time, across threads, processes and machines.

A lease is a row (name, owner, expiry, heartbeat). A free, expired or already-owned lease can be
taken; a live lease of another owner cannot. While the work lasts a heartbeat thread renews it,
so only a crashed owner's lease runs out. Workers take a connection's lease before a scheduled
run (hrsync.app.jobs.scheduler); runs started by hand — the CLI, the console, the API, triggers —
take it in `run_connection`, and say plainly when the connection is busy.
"""

from __future__ import annotations

import os
import socket
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta

import structlog
from django import db
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from hrsync.app import models
from hrsync.domain.errors import TransientError

log = structlog.get_logger(__name__)

LEASE_TTL = timedelta(minutes=10)
"""The default of how long a lease holds without a heartbeat; lease_ttl() is the setting."""


class ConnectionBusyError(TransientError):
    """Another run of the connection holds its lease: try later. The message is for an admin."""


def lease_ttl() -> timedelta:
    return timedelta(seconds=settings.HRSYNC_LEASE_SECONDS)


def acquire_lease(name: str, owner: str, now: datetime, ttl: timedelta = LEASE_TTL) -> bool:
    """Take the lease `name` for `owner` until now + ttl: when free, expired, or already ours."""
    values = {"owner": owner, "expires": now + ttl, "heartbeat": now}
    try:
        with transaction.atomic():
            models.Lease.objects.create(connection_key=name, **values)
        return True
    except IntegrityError:
        pass
    # One conditional UPDATE: of two workers stealing the same expired lease, the second finds
    # the condition no longer true once the first has committed.
    taken = (
        models.Lease.objects.filter(connection_key=name)
        .filter(Q(expires__lte=now) | Q(owner=owner))
        .update(**values)
    )
    return taken == 1


def renew_lease(name: str, owner: str, now: datetime, ttl: timedelta = LEASE_TTL) -> bool:
    """The heartbeat: push the expiry on while the lease is still ours."""
    renewed = models.Lease.objects.filter(connection_key=name, owner=owner).update(
        expires=now + ttl, heartbeat=now
    )
    return renewed == 1


def release_lease(name: str, owner: str) -> None:
    models.Lease.objects.filter(connection_key=name, owner=owner).delete()


@contextmanager
def heartbeat(name: str, owner: str, ttl: timedelta = LEASE_TTL) -> Iterator[None]:
    """Renew the lease every third of its ttl while the block runs, so a long run keeps it and
    only a crashed worker's lease expires. The renewals run in a thread with its own connection."""
    stop = threading.Event()

    def beat() -> None:
        try:
            while not stop.wait((ttl / 3).total_seconds()):
                if not renew_lease(name, owner, timezone.now(), ttl):
                    log.warning("lease lost", lease=name, owner=owner)
                    return
        finally:
            db.connection.close()

    thread = threading.Thread(target=beat, name=f"lease-{name}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _take_from_dead(name: str, owner: str, now: datetime, ttl: timedelta) -> bool:
    """Take a live lease over when its owner was a process on this host that no longer exists
    (a run killed by hand or a crash): no need to wait for the expiry. An owner on another host,
    or a process id now used by another process, is left to expire."""
    holder = models.Lease.objects.filter(connection_key=name).first()
    if holder is None or not _is_dead_here(holder.owner):
        return False
    taken = models.Lease.objects.filter(connection_key=name, owner=holder.owner).update(
        owner=owner, expires=now + ttl, heartbeat=now
    )
    if taken:
        log.warning("lease taken from a process that is gone", lease=name, owner=holder.owner)
    return taken == 1


def _is_dead_here(owner: str) -> bool:
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False
    try:
        os.kill(int(pid), 0)  # signal 0: only asks whether the process exists
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, under another user
        return False
    return False


@contextmanager
def holding(name: str, owner: str = "") -> Iterator[str]:
    """Hold the lease `name` while the block runs, renewed by a heartbeat; ConnectionBusyError
    when another owner holds it. The owner defaults to this host, process and thread."""
    # Unique per call: a nested run of the same connection (a trigger) must find it busy.
    thread = threading.current_thread().name
    owner = owner or f"{socket.gethostname()}:{os.getpid()}:{thread}:{uuid.uuid4().hex[:8]}"
    ttl = lease_ttl()
    now = timezone.now()
    if not acquire_lease(name, owner, now, ttl) and not _take_from_dead(name, owner, now, ttl):
        holder = models.Lease.objects.filter(connection_key=name).first()
        by = f" ({holder.owner})" if holder is not None else ""
        raise ConnectionBusyError(
            f"{name} is running now{by}: try again when that run has finished"
        )
    try:
        with heartbeat(name, owner, ttl):
            yield owner
    finally:
        release_lease(name, owner)
