"""Sharing a benchmark's trials between runs that execute at the same time.

Two runs of the same spec against one results store would otherwise both compute every trial
(and both report them as run). Before it runs a trial, a run *claims* it in the store (the
``claims`` table: the trial's key, the owner, an expiry). Another run skips trials that are
stored, failed since it started, or claimed by a live owner; when it has nothing left of its own,
it waits for the other runs' claims to be stored, so both finish with the whole grid stored, each
trial computed once.

An owner is ``<host>:<pid>:<process start time>:<random>``. Its claims stay live while it renews
them (a heartbeat thread, every :data:`HEARTBEAT_S`) until they expire (:data:`CLAIM_TTL_S`); on
the same host a claim whose process is gone (``kill -9``) is retaken at once, without waiting
for the expiry.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import secrets
import socket
import threading
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Generic, Protocol, TypeVar

from littledata.processes import pid_alive, start_time

if TYPE_CHECKING:
    from littledata.experiments.store import ResultsStore


class Keyed(Protocol):
    """What the feeder needs of a trial (:class:`littledata.experiments.runner.Trial`): its key."""

    @property
    def key(self) -> str: ...


Trial = TypeVar("Trial", bound=Keyed)

log = logging.getLogger(__name__)

CLAIM_TTL_S = 120.0
"""A claim not renewed for this long is retaken by other runs (its owner is presumed dead)."""
HEARTBEAT_S = 20.0
"""How often a run renews its claims."""
POLL_S = 0.5
"""How often a run with nothing left of its own checks the other runs' claims."""


def owner_id() -> str:
    """This process as a claim owner: host, pid, start time and a random part."""
    pid = os.getpid()
    return f"{socket.gethostname()}:{pid}:{start_time(pid) or '-'}:{secrets.token_hex(4)}"


def owner_gone(owner: str, _expires: dt.datetime, _now: dt.datetime) -> bool:
    """Whether the process that made a claim is gone (known only for claims made on this host)."""
    host, _, rest = owner.partition(":")
    pid_text, _, rest = rest.partition(":")
    started = rest.partition(":")[0]
    if host != socket.gethostname() or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    if not pid_alive(pid):
        return True
    return started not in ("-", "") and start_time(pid) not in (None, started)  # pid reused


class TrialFeeder(Generic[Trial]):
    """Hands out the trials of a plan that this run claimed, in plan order.

    Parameters
    ----------
    store, kind: where the trials go.
    trials: the trials still to run (not stored when the run started).
    since: the run's start: failures recorded since then (by any run) are not retried.
    on_elsewhere: called with the number of trials that other runs stored (or failed) meanwhile.
    """

    def __init__(
        self,
        store: ResultsStore,
        kind: str,
        trials: Sequence[Trial],
        *,
        since: dt.datetime,
        on_elsewhere: Callable[[int], object] | None = None,
        ttl_s: float = CLAIM_TTL_S,
        heartbeat_s: float = HEARTBEAT_S,
        poll_s: float = POLL_S,
    ) -> None:
        self.store, self.kind, self.since = store, kind, since
        self.owner = owner_id()
        self.ttl_s, self.poll_s = ttl_s, poll_s
        self.elsewhere = 0
        """Trials that other runs stored or failed while this one ran."""
        self._on_elsewhere = on_elsewhere
        self._todo = list(trials)  # not claimed by anyone when last looked
        self._deferred: list[Trial] = []  # claimed by another run when last looked
        self._checked = 0.0
        self._stop = threading.Event()
        self._heartbeat: threading.Thread | None = None
        if not store.in_memory:  # (no other process sees an in-memory store)
            self._heartbeat = threading.Thread(
                target=self._renew, args=(heartbeat_s,), name="littledata-claims", daemon=True
            )
            self._heartbeat.start()

    def take(self, n: int) -> list[Trial]:
        """Claim and return up to ``n`` trials ([] when none can be claimed right now)."""
        if not self._todo and self._deferred and time.monotonic() - self._checked >= self.poll_s:
            self._recheck()
        out: list[Trial] = []
        while len(out) < n and self._todo:
            batch, self._todo = self._todo[: n - len(out)], self._todo[n - len(out) :]
            got = set(
                self.store.claim(
                    self.kind,
                    [t.key for t in batch],
                    self.owner,
                    ttl_s=self.ttl_s,
                    failed_since=self.since,
                    is_stale=owner_gone,
                )
            )
            out += [t for t in batch if t.key in got]
            # stored, failed or claimed by another run: looked at again later
            self._deferred += [t for t in batch if t.key not in got]
        return out

    def take_all(self) -> list[Trial]:
        """Claim every trial that can be claimed now."""
        return self.take(len(self._todo) + len(self._deferred))

    @property
    def waiting(self) -> bool:
        """Whether trials remain that other runs have claimed (or that can be claimed again)."""
        return bool(self._todo or self._deferred)

    def wait(self) -> bool:
        """Wait a little for other runs' claims; return whether any trial is still open."""
        if self._todo:
            return True
        if not self._deferred:
            return False
        time.sleep(max(0.0, self.poll_s - (time.monotonic() - self._checked)))
        self._recheck()
        return self.waiting

    def done(self, key: str) -> None:
        """Release the claim on a trial that is now stored (or recorded as failed)."""
        self.store.release_claims(self.kind, self.owner, [key])

    def close(self) -> None:
        """Stop renewing and release every claim this run still holds."""
        self._stop.set()
        if self._heartbeat is not None:
            self._heartbeat.join(timeout=10)
        self.store.release_claims(self.kind, self.owner)

    def _recheck(self) -> None:
        self._checked = time.monotonic()
        keys = [t.key for t in self._deferred]
        still_open = self.store.open_keys(self.kind, keys, self.since)
        resolved = len(keys) - len(still_open)
        if resolved:
            self.elsewhere += resolved
            if self._on_elsewhere is not None:
                self._on_elsewhere(resolved)
        self._todo += [t for t in self._deferred if t.key in still_open]
        self._deferred = []

    def _renew(self, every_s: float) -> None:
        while not self._stop.wait(every_s):
            try:
                self.store.renew_claims(self.kind, self.owner, self.ttl_s)
            except Exception as exc:  # a busy database must not end the run
                log.warning("could not renew this run's claims: %s", exc)
