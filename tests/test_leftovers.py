"""What killed processes leave behind is removed by the next run, and only that: temporary files
of killed featurizations and atomic writes, and benchmark work folders. A file or folder that a
live process holds (its lock) is never removed.

A "live holder" here is a lock taken through another open file description in this process:
``flock`` locks belong to the open file, so it conflicts exactly as another process's would.
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

import numpy as np
import pytest

from littledata import io
from littledata.features import BaseFeaturizer, featurize
from littledata.features import cache as feature_cache

OLD = time.time() - 3600  # past the grace period: only the lock protects a file


def _age(path: Path) -> None:
    os.utime(path, (OLD, OLD))


class Tiny(BaseFeaturizer):
    kind = "dense"

    def __init__(self) -> None:
        super().__init__()
        self.name = "tiny"

    def _fingerprint_parts(self) -> dict[str, str]:
        return {"encoder": "tiny"}

    @property
    def dim(self) -> int:
        return 3

    def _transform_into(self, texts, out, batch_size, advance):  # type: ignore[no-untyped-def]
        for i, t in enumerate(texts):
            out[i] = [len(t), i, 1.0]
        advance(len(texts))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("LITTLEDATA_HOME", str(tmp_path))
    feature_cache._VERIFIED.clear()
    return tmp_path


def test_the_next_featurization_removes_temporary_files_of_killed_ones(home: Path) -> None:
    cache = feature_cache.cache_dir()
    dead = cache / ".0123456789abcdef-0123456789abcdef.x1y2z3ab.npy.tmp"
    dead.write_bytes(b"\0" * 4096)  # a killed featurization's matrix
    dead_json = cache / ".0123456789abcdef-0123456789abcdef.json.ab12cd34.tmp"
    dead_json.write_text("{")
    young = cache / ".fedcba9876543210-fedcba9876543210.q1w2e3r4.npy.tmp"
    young.write_bytes(b"\0")
    for path in (dead, dead_json):
        _age(path)
    with io.locked_temp_file(cache, ".1111111111111111-2222222222222222.", ".npy.tmp") as (_, live):
        _age(live)
        featurize(["some text", "another"], Tiny())
        assert live.exists()  # a live writer's file
    assert not dead.exists() and not dead_json.exists()
    assert young.exists()  # within the grace period its writer may not have locked it yet


def test_atomic_writes_remove_what_killed_writes_of_the_same_file_left(tmp_path: Path) -> None:
    target = tmp_path / "index.html"
    dead = tmp_path / ".index.html.k1ll3d00.tmp"
    dead.write_text("half a report")
    other = tmp_path / ".other.html.k1ll3d00.tmp"  # another file's: not this write's business
    other.write_text("x")
    for path in (dead, other):
        _age(path)
    with io.locked_temp_file(tmp_path, ".index.html.", ".tmp") as (_, live):
        _age(live)
        io.atomic_write_text(target, "<html></html>")
        assert live.exists()
        live.unlink()
    assert target.read_text() == "<html></html>"
    assert not dead.exists() and other.exists()
    assert sorted(p.name for p in tmp_path.iterdir()) == [".other.html.k1ll3d00.tmp", "index.html"]


def test_an_atomic_write_keeps_its_temporary_file_locked_until_the_rename(tmp_path: Path) -> None:
    target = tmp_path / "data.json"
    with io.atomic_open(target, "w") as fh:
        fh.write("{}")
        (tmp,) = [p for p in tmp_path.iterdir() if p.name.startswith(".data.json.")]
        _age(tmp)
        assert not io.remove_if_abandoned(tmp)  # its writer (this block) is alive
    assert target.read_text() == "{}" and not tmp.exists()


def test_abandoned_work_folders_are_removed_and_live_ones_kept(tmp_path: Path) -> None:
    prefix = "littledata-bench-"
    with io.locked_temp_dir(prefix, tmp_path) as live:
        (live / "x.npy").write_bytes(b"data")
        dead = tmp_path / f"{prefix}dead1234"
        dead.mkdir()
        (dead / ".lock").touch()
        (dead / "y.npy").write_bytes(b"data")
        legacy = tmp_path / f"{prefix}legacy99"  # made by an older version: no lock file
        legacy.mkdir()
        recent = tmp_path / f"{prefix}recent77"
        recent.mkdir()
        unrelated = tmp_path / "something-else"
        unrelated.mkdir()
        other_tool = tmp_path / f"{prefix}time-abcd1234"  # another tool's folder with the prefix
        other_tool.mkdir()
        for folder in (live, dead, unrelated):
            _age(folder)
        for folder in (legacy, other_tool):
            os.utime(folder, (time.time() - io.TEMP_STALE_S - 60,) * 2)
        removed = io.remove_abandoned_dirs(prefix, tmp_path)
        assert sorted(removed) == sorted([dead, legacy])
        assert live.exists() and recent.exists() and unrelated.exists() and other_tool.exists()
    assert not live.exists()  # removed by its own run at the end


def test_a_held_entry_survives_cache_clear_until_released(home: Path) -> None:
    x = featurize(["held text", "more"], Tiny())
    path = Path(x.filename)
    with contextlib.ExitStack() as stack:
        assert feature_cache.hold(path, stack)
        cleared = feature_cache.clear()
        assert cleared.removed == 0 and cleared.in_use == 1
        assert path.exists() and path.with_suffix(".json").exists()
        assert np.load(path, allow_pickle=False).shape == (2, 3)
    size = sum(path.with_suffix(s).stat().st_size for s in (".npy", ".json", ".index"))
    again = feature_cache.clear()
    assert again.removed == 1 and again.in_use == 0 and again.freed == size
    assert not path.exists() and list(feature_cache.cache_dir().iterdir()) == []
    with contextlib.ExitStack() as stack:
        assert not feature_cache.hold(path, stack)  # gone: nothing to hold


def test_an_entry_damaged_while_held_is_computed_in_memory_not_replaced(
    home: Path, caplog: pytest.LogCaptureFixture
) -> None:
    texts = ["damaged while in use", "second"]
    x = featurize(texts, Tiny())
    path = Path(x.filename)
    with contextlib.ExitStack() as stack:
        assert feature_cache.hold(path, stack)
        data = bytearray(path.read_bytes())
        data[-2] ^= 0xFF
        path.write_bytes(bytes(data))
        feature_cache._VERIFIED.clear()
        again = featurize(texts, Tiny())
        assert not isinstance(again, np.memmap)  # not cached: the holder's entry stays
        np.testing.assert_array_equal(again, Tiny().transform(texts))
        assert "another process holds it" in caplog.text
    feature_cache._VERIFIED.clear()
    fixed = featurize(texts, Tiny())  # no holder any more: replaced
    assert isinstance(fixed, np.memmap)
    np.testing.assert_array_equal(fixed, Tiny().transform(texts))


def test_the_next_report_removes_what_a_killed_report_left(tmp_path: Path) -> None:
    from littledata.experiments.store import Measurement, ResultsStore, trial_key
    from littledata.report import write_report

    store = ResultsStore("sqlite://")
    for size in (20, 50):
        for seed in range(2):
            config = {"dataset": "alpha", "n_classes": 2, "featurizer": "glove50",
                      "head": "knn", "resampling": "none", "size_mode": "total", "size": size,
                      "seed": seed, "train_pool_cap": 500, "test_cap": 200}  # fmt: skip
            acc = 0.6 + size / 1000 + seed / 100
            store.add_trial(kind="bench", key=trial_key(config), config=config,
                            measurements=[Measurement("accuracy", acc)])  # fmt: skip
    out = tmp_path / "report"
    out.mkdir()
    dead = [out / ".report.html.k1ll3d00.tmp", out / ".curves_gone_dataset.png.ab12cd34.tmp",
            out / ".curves_gone_dataset.svg.ab12cd34.tmp"]  # fmt: skip
    foreign = out / ".notes.txt.ab12cd34.tmp"  # not a file the report writes: left alone
    for path in (*dead, foreign):
        path.write_text("half written")
        _age(path)
    write_report(store, out)
    assert (out / "report.html").exists()
    assert not any(p.exists() for p in dead) and foreign.exists()
