"""Process lifetime: worker processes that end with their parent, and whether a process lives.

A worker pool's processes must not outlive the process that started them: after ``kill -9`` of
``littledata bench`` nothing would ever collect their results, yet they would keep their memory
(hundreds of MB each) and keep the multiprocessing resource tracker alive, forever.
:func:`die_with_parent`, called in each worker's initializer, ends the worker when its parent
dies, by two means:

- on Linux, ``prctl(PR_SET_PDEATHSIG, SIGKILL)``: the kernel kills the worker the moment its parent
  dies (strictly: the moment the parent *thread* that started it ends; a pool's workers are started
  by the thread that submits to it, which waits for them);
- everywhere, a daemon thread that checks every :data:`PARENT_POLL_S` seconds whether the worker's
  parent changed (it is reparented when its parent dies) and then exits the process.

Once the workers are gone, the resource tracker sees its last writer close and exits too.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time

PARENT_POLL_S = 0.5
"""How often the watchdog thread checks that the parent is still there (seconds)."""

_PR_SET_PDEATHSIG = 1  # <linux/prctl.h>


def die_with_parent(
    parent_pid: int | None = None, *, use_prctl: bool = True, poll_s: float = PARENT_POLL_S
) -> None:
    """Make the calling process exit when its parent ``parent_pid`` (default: the current parent)
    dies, however it dies.

    Parameters
    ----------
    parent_pid: the pid whose death ends this process (``os.getppid()`` by default).
    use_prctl: arm Linux's parent-death signal (SIGKILL) as well as the watchdog thread.
    poll_s: the watchdog's polling interval in seconds.
    """
    if parent_pid is None:
        parent_pid = os.getppid()
    if use_prctl and sys.platform.startswith("linux"):
        with contextlib.suppress(OSError, AttributeError):
            import ctypes

            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    if os.getppid() != parent_pid:  # the parent died before the signal was armed
        os._exit(1)
    watchdog = threading.Thread(
        target=_watch_parent, args=(parent_pid, poll_s), name="littledata-parent-watch", daemon=True
    )
    watchdog.start()


def _watch_parent(parent_pid: int, poll_s: float) -> None:
    while True:
        time.sleep(poll_s)
        if os.getppid() != parent_pid:
            os._exit(1)  # no cleanup to run: the parent that wanted the results is gone


def pid_alive(pid: int) -> bool:
    """Whether a process with this pid exists on this machine (a zombie counts as gone)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, owned by someone else
        return True
    except OSError:  # pragma: no cover - e.g. Windows without the pid
        return False
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            state = fh.read().rsplit(b")", 1)[1].split()[0]
        return state not in (b"Z", b"X")
    except (OSError, IndexError):
        return True  # no /proc (not Linux): kill(pid, 0) succeeded


def start_time(pid: int) -> str | None:
    """When process ``pid`` started, in clock ticks since boot (Linux), or None where unknown.

    With the pid it names one process: a pid reused by a later process has another start time.
    """
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            return fh.read().rsplit(b")", 1)[1].split()[19].decode()
    except (OSError, IndexError):
        return None
