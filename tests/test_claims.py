"""Claims in the results store: how concurrent runs share trials (littledata.experiments.claims)."""

from __future__ import annotations

import datetime as dt
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from littledata.experiments.claims import TrialFeeder, owner_gone, owner_id
from littledata.experiments.plan import Trial
from littledata.experiments.store import Measurement, ResultsStore

KEYS = [f"{i:064x}" for i in range(6)]


@pytest.fixture
def store(tmp_path: Path) -> ResultsStore:
    return ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")


def _dead_owner() -> str:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return f"{socket.gethostname()}:{proc.pid}:1:dead"


def test_a_live_claim_excludes_other_runs_and_a_dead_or_expired_one_is_retaken(
    store: ResultsStore,
) -> None:
    me, other = owner_id(), owner_id()
    assert store.claim("bench", KEYS[:3], me, ttl_s=60, is_stale=owner_gone) == KEYS[:3]
    # this process is alive: its claims hold, even for another owner in the same process
    assert store.claim("bench", KEYS[:4], other, ttl_s=60, is_stale=owner_gone) == [KEYS[3]]
    # claiming again what one holds is fine
    assert store.claim("bench", KEYS[:2], me, ttl_s=60, is_stale=owner_gone) == KEYS[:2]

    dead = _dead_owner()  # a run killed with kill -9 on this host: retaken at once
    assert store.claim("bench", [KEYS[4]], dead, ttl_s=600) == [KEYS[4]]
    assert store.claim("bench", [KEYS[4]], me, ttl_s=60) == []  # without the liveness check
    assert store.claim("bench", [KEYS[4]], me, ttl_s=60, is_stale=owner_gone) == [KEYS[4]]

    far = "elsewhere.example:123:1:x"  # another host: only the expiry frees it
    assert store.claim("bench", [KEYS[5]], far, ttl_s=600) == [KEYS[5]]
    assert store.claim("bench", [KEYS[5]], me, ttl_s=60, is_stale=owner_gone) == []
    store.renew_claims("bench", far, ttl_s=-1)  # its heartbeat stopped long ago
    assert store.claim("bench", [KEYS[5]], me, ttl_s=60, is_stale=owner_gone) == [KEYS[5]]

    store.release_claims("bench", me, [KEYS[0]])
    assert {c["key"] for c in store.claims("bench")} == set(KEYS[1:])
    store.release_claims("bench", me)
    store.release_claims("bench", other)
    assert store.claims("bench") == []


def test_stored_and_recently_failed_trials_are_not_claimed(store: ResultsStore) -> None:
    me = owner_id()
    store.add_trial(kind="bench", key=KEYS[0], config={"a": 0}, measurements=[Measurement("m", 1)])
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(seconds=5)
    store.add_failure(kind="bench", key=KEYS[1], config={"a": 1}, message="boom")
    got = store.claim("bench", KEYS[:3], me, ttl_s=60, failed_since=before)
    assert got == [KEYS[2]]
    later = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=5)
    # a failure from before this run started is retried
    assert store.claim("bench", KEYS[:3], me, ttl_s=60, failed_since=later) == [KEYS[1], KEYS[2]]


def test_a_feeder_waits_for_another_runs_claims_and_takes_over_a_dead_runs(
    store: ResultsStore,
) -> None:
    trials = [Trial(k, {"i": i}) for i, k in enumerate(KEYS[:4])]
    since = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    dead, alive = _dead_owner(), owner_id()
    store.claim("bench", [KEYS[0]], dead, ttl_s=600)
    store.claim("bench", [KEYS[1]], alive, ttl_s=600)
    seen: list[int] = []
    feeder = TrialFeeder(store, "bench", trials, since=since, on_elsewhere=seen.append, poll_s=0.01)
    try:
        assert [t.key for t in feeder.take(10)] == [KEYS[0], KEYS[2], KEYS[3]]
        for key in (KEYS[0], KEYS[2], KEYS[3]):
            store.add_trial(kind="bench", key=key, config={}, measurements=[])
            feeder.done(key)
        assert feeder.take(10) == [] and feeder.waiting  # KEYS[1] is the other run's
        # the other run stores it: nothing is left, and it counts as done elsewhere
        store.add_trial(kind="bench", key=KEYS[1], config={}, measurements=[])
        store.release_claims("bench", alive)
        assert not feeder.wait()
        assert feeder.elsewhere == 1 and seen == [1]
    finally:
        feeder.close()
    assert store.claims("bench") == []


def test_owner_gone_notices_a_reused_pid() -> None:
    import os

    from littledata.processes import start_time

    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    host, pid = socket.gethostname(), os.getpid()
    assert not owner_gone(f"{host}:{pid}:{start_time(pid)}:x", now, now)
    if start_time(pid) is not None:
        assert owner_gone(f"{host}:{pid}:0:x", now, now)  # same pid, another process
    assert not owner_gone(f"other-host:{pid}:0:x", now, now)
