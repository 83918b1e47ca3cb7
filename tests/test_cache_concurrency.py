"""The feature cache under concurrent processes: writers of the same entries, `cache clear` racing
a writer, leftovers of killed writers. Every process here is a real process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from littledata.features import cache as feature_cache

SCRIPT = r'''
import json, sys, time
from pathlib import Path

import numpy as np

from littledata.features import BaseFeaturizer, featurize
from littledata.features import cache as feature_cache


class Det(BaseFeaturizer):
    """Deterministic 8-d features; counts the rows it computes."""

    kind = "dense"

    def __init__(self):
        super().__init__()
        self.name = "det"
        self.rows = 0

    def _fingerprint_parts(self):
        return {"encoder": "det"}

    @property
    def dim(self):
        return 8

    def _transform_into(self, texts, out, batch_size, advance):
        for i, t in enumerate(texts):
            out[i] = np.arange(8, dtype=np.float32) * len(t) + i
        self.rows += len(texts)
        advance(len(texts))


def texts_of(key):
    return [f"{key} text {j}" for j in range(40 + len(key))]


def expected(texts):
    return np.stack([np.arange(8, dtype=np.float32) * len(t) + i for i, t in enumerate(texts)])


mode, folder = sys.argv[1], Path(sys.argv[2])
while not (folder / "go").exists():  # start together
    time.sleep(0.001)
if mode == "write":
    fz = Det()
    keys = json.loads(sys.argv[3])
    for key in keys:
        texts = texts_of(key)
        x = featurize(texts, fz, label=key)
        assert np.array_equal(np.asarray(x), expected(texts)), key
    print(json.dumps({"rows": fz.rows, "fingerprint": fz.fingerprint}))
else:  # clear until told to stop
    n = 0
    while not (folder / "stop").exists():
        feature_cache.clear()
        n += 1
    print(json.dumps({"clears": n}))
'''


def _texts_of(key: str) -> list[str]:
    return [f"{key} text {j}" for j in range(40 + len(key))]


@pytest.fixture
def race(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    home = tmp_path / "home"
    monkeypatch.setenv("LITTLEDATA_HOME", str(home))
    feature_cache._VERIFIED.clear()
    (tmp_path / "race.py").write_text(SCRIPT, encoding="utf-8")
    return tmp_path


def _start(folder: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(folder / "race.py"), args[0], str(folder), *args[1:]],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )


def _result(proc: subprocess.Popen[str]) -> dict[str, object]:
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _check_cache_sound(home: Path, fp: str, keys: list[str], *, all_present: bool) -> None:
    """Every entry is complete and verifies (from a cold process's point of view); no leftovers."""
    from littledata.datasets.base import texts_fingerprint

    folder = home / "features"
    stems = {p.with_suffix("") for p in folder.glob("*.npy")} | {
        p.with_suffix("") for p in folder.glob("*.json")
    }
    for stem in stems:  # never one file of an entry without the other
        assert stem.with_suffix(".npy").exists() and stem.with_suffix(".json").exists(), stem
    assert [p.name for p in folder.glob(".*.tmp")] == []
    feature_cache._VERIFIED.clear()
    present = 0
    for key in keys:
        texts = _texts_of(key)
        x = feature_cache.load(fp, texts_fingerprint(texts), (len(texts), 8))
        if x is None:
            assert not all_present, f"entry {key} was lost"
            continue
        present += 1
        expected = np.stack(
            [np.arange(8, dtype=np.float32) * len(t) + i for i, t in enumerate(texts)]
        )
        np.testing.assert_array_equal(np.asarray(x), expected)
    assert present == len(stems)


def test_two_writers_of_the_same_entries_never_crash_and_compute_each_once(race: Path) -> None:
    keys = [f"k{i}" for i in range(60)]
    procs = [_start(race, "write", json.dumps(keys)) for _ in range(2)]
    time.sleep(1.5)  # both imported and waiting
    (race / "go").touch()
    results = [_result(p) for p in procs]
    _check_cache_sound(race / "home", str(results[0]["fingerprint"]), keys, all_present=True)
    # the second writer of an entry waits for the first and reads its result
    assert sum(int(r["rows"]) for r in results) == sum(len(_texts_of(k)) for k in keys)


def test_cache_clear_in_a_loop_never_breaks_a_writer_or_leaves_half_an_entry(race: Path) -> None:
    keys = [f"c{i}" for i in range(30)]
    writer = _start(race, "write", json.dumps(keys))
    clearer = _start(race, "clear")
    time.sleep(1.5)
    (race / "go").touch()
    try:
        written = _result(writer)  # every featurize call returned the right matrix
    finally:
        (race / "stop").touch()
    assert int(_result(clearer)["clears"]) > 0
    _check_cache_sound(race / "home", str(written["fingerprint"]), keys, all_present=False)
