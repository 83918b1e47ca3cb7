"""A tiny benchmark over made-up data, run as a script in a subprocess (not a test module).

The runner starts its workers with ``spawn``, which imports the script again as their
``__main__``: the made-up datasets, the ``toyvec`` featurizer (a cheap, cached dense featurizer)
and the ``TOY_SLOW`` hook (each fit sleeps that many seconds, so a run can be disturbed while its
trials run) exist in the workers too. Used by the hardening tests (kills, concurrent runs,
``cache clear`` during a run).
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

SCRIPT = r'''
"""Runs a spec over made-up datasets; imported again by each spawned worker."""
import hashlib
import json
import os
import sys
import time
from types import SimpleNamespace

import numpy as np

import littledata.heads
from littledata.datasets.base import Dataset, Split, Task
from littledata.features import BaseFeaturizer, register


def _toy_texts(n, n_classes, rng):
    labels = np.arange(n) % n_classes
    rng.shuffle(labels)
    texts = []
    for y in labels:
        words = [f"w{y}x{j}" for j in rng.integers(0, 6, size=4)]
        words += [f"noise{j}" for j in rng.integers(0, 30, size=4)]
        rng.shuffle(words)
        texts.append(" ".join(words))
    return texts, labels.astype(np.int64)


def toy(name):
    n_classes = {"toy_a": 3, "toy_b": 5}[name]
    rng = np.random.default_rng(len(name) * 7 + n_classes)
    train = Split(*_toy_texts(200, n_classes, rng))
    test = Split(*_toy_texts(80, n_classes, rng))
    return Dataset(name, Task.SINGLE_LABEL, [f"c{i}" for i in range(n_classes)],
                   {"train": train, "test": test})


REGISTRY = {"toy_a": SimpleNamespace(task="single-label"),
            "toy_b": SimpleNamespace(task="single-label")}


class ToyVec(BaseFeaturizer):
    """Each word hashed to a fixed random 16-d vector; a text is the mean of its words."""

    kind = "dense"

    def __init__(self):
        super().__init__()
        self.name = "toyvec"

    def _fingerprint_parts(self):
        return {"encoder": "toyvec", "version": 1}

    @property
    def dim(self):
        return 16

    def _transform_into(self, texts, out, batch_size, advance):
        for i, text in enumerate(texts):
            vecs = [np.random.default_rng(int(hashlib.sha256(w.encode()).hexdigest()[:8], 16))
                    .standard_normal(16) for w in text.split()]
            out[i] = np.mean(vecs, axis=0) if vecs else 0.0
            advance(1)


register("toyvec", description="toy hashed word vectors (tests)", dim=16)(ToyVec)

SLOW = float(os.environ.get("TOY_SLOW", "0"))
if SLOW:
    _make_head = littledata.heads.make_head

    def _slow_make_head(*args, **kwargs):
        model = _make_head(*args, **kwargs)
        fit = model.fit

        def slow_fit(*a, **k):
            time.sleep(SLOW)
            return fit(*a, **k)

        model.fit = slow_fit
        return model

    littledata.heads.make_head = _slow_make_head


if __name__ == "__main__":
    from littledata.experiments.runner import run_benchmark
    from littledata.experiments.spec import load_spec
    from littledata.experiments.store import ResultsStore

    spec = load_spec(overrides=json.loads(sys.argv[2]))
    summary = run_benchmark(spec, store=ResultsStore(sys.argv[1]), loader=toy, registry=REGISTRY)
    print(json.dumps(summary.to_dict()))
'''

GRID: dict[str, Any] = {
    "datasets": ["toy_a", "toy_b"],
    "featurizers": ["toyvec"],
    "heads": ["knn", "centroid"],
    "sizes": [10, 20],
    "seeds": 2,
    "train_pool_cap": 60,
    "test_cap": 30,
    "n_jobs": 2,
    "baseline": False,
}
PLANNED = 2 * 2 * 2 * 2  # datasets x heads x sizes x seeds


def write_script(folder: Path) -> Path:
    path = folder / "toy_bench.py"
    path.write_text(SCRIPT, encoding="utf-8")
    return path


def command(script: Path, url: str, overrides: dict[str, Any]) -> list[str]:
    return [sys.executable, str(script), url, json.dumps(overrides)]


def start(
    script: Path, url: str, overrides: dict[str, Any], env: dict[str, str] | None = None
) -> subprocess.Popen[str]:
    return subprocess.Popen(
        command(script, url, overrides),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def summary_of(proc: subprocess.Popen[str], timeout: float = 300) -> dict[str, Any]:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def counts(db: Path) -> tuple[int, int]:
    """(trials stored, distinct keys) in the store ``db``."""
    con = sqlite3.connect(db, timeout=30)
    try:
        return con.execute("select count(*), count(distinct key) from trials").fetchone()
    except sqlite3.OperationalError:  # no tables yet
        return (0, 0)
    finally:
        con.close()


def children(pid: int) -> list[int]:
    """The pids of the live processes whose parent is ``pid`` (Linux /proc)."""
    out = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_bytes()
        except OSError:
            continue
        fields = stat.rsplit(b")", 1)[1].split()
        if int(fields[1]) == pid and fields[0] not in (b"Z", b"X"):
            out.append(int(entry.name))
    return out


def alive(pid: int) -> bool:
    from littledata.processes import pid_alive

    return pid_alive(pid)


def wait_until(predicate: Any, timeout: float, poll: float = 0.05) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(poll)
    return bool(predicate())


def kill(proc: subprocess.Popen[str]) -> None:
    """SIGKILL ``proc`` alone (not its process group, as ``kill -9 <pid>`` does) and reap it.

    Its pipes are closed unread: processes it left behind may hold them open.
    """
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    for pipe in (proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
