"""Worker processes end with their parent: ``kill -9`` of a run leaves nothing running."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

import _toybench as toy
import pytest

from littledata.experiments.store import ResultsStore
from littledata.processes import pid_alive

pytestmark = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")


def test_sigkill_of_a_running_benchmark_ends_its_workers_and_the_resource_tracker(
    tmp_path: Path,
) -> None:
    script = toy.write_script(tmp_path)
    db = tmp_path / "results.sqlite"
    url = f"sqlite:///{db}"
    ResultsStore(url).close()
    env = {"TOY_SLOW": "1.0", "LITTLEDATA_HOME": str(tmp_path / "home")}
    proc = toy.start(script, url, toy.GRID, env)
    try:
        # trials are running (one is stored, the others' fits sleep) in two workers, beside the
        # multiprocessing resource tracker
        assert toy.wait_until(
            lambda: toy.counts(db)[0] >= 1 and len(toy.children(proc.pid)) >= 3, timeout=120
        ), (proc.poll(), toy.children(proc.pid))
        kids = toy.children(proc.pid)
    finally:
        toy.kill(proc)  # the parent alone, as `kill -9 <pid>` does
    try:
        assert toy.wait_until(lambda: not any(pid_alive(k) for k in kids), timeout=5), [
            (k, Path(f"/proc/{k}/cmdline").read_bytes()[:120]) for k in kids if pid_alive(k)
        ]
    finally:  # a failing run must not leave them behind either
        for k in kids:
            if pid_alive(k):
                os.kill(k, signal.SIGKILL)


WATCHED = """
import sys, time
from littledata.processes import die_with_parent
die_with_parent(use_prctl=False, poll_s=0.1)
print("armed", flush=True)
time.sleep(60)
"""

MIDDLE = """
import subprocess, sys, time
child = subprocess.Popen([sys.executable, "-c", sys.argv[1]], stdout=subprocess.PIPE, text=True)
assert child.stdout.readline().strip() == "armed"
print(child.pid, flush=True)
time.sleep(60)
"""


@pytest.mark.parametrize("use_prctl", [False, True])
def test_die_with_parent_ends_a_process_whose_parent_was_killed(use_prctl: bool) -> None:
    """The watchdog thread alone (the fallback where prctl does not exist) and with prctl."""
    watched = WATCHED.replace("use_prctl=False", f"use_prctl={use_prctl}")
    middle = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(MIDDLE), watched], stdout=subprocess.PIPE, text=True
    )
    try:
        assert middle.stdout is not None
        grandchild = int(middle.stdout.readline())
        assert pid_alive(grandchild)
        os.kill(middle.pid, signal.SIGKILL)
        middle.wait(timeout=10)
        assert toy.wait_until(lambda: not pid_alive(grandchild), timeout=3)
    finally:
        if middle.poll() is None:
            middle.kill()


def test_pid_alive() -> None:
    assert pid_alive(os.getpid())
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    assert not pid_alive(proc.pid)
    assert not pid_alive(0) and not pid_alive(-5)
