"""Tests of the core pieces every area uses: errors, data home, atomic writes, data types."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

from littledata import config, io
from littledata.datasets.base import Dataset, Split, Task, texts_fingerprint
from littledata.errors import LittleDataError, UnknownNameError, unknown_name


def test_unknown_name_suggests_closest() -> None:
    err = unknown_name("dataset", "sst", ["sst2", "subj", "trec", "mr"])
    assert isinstance(err, UnknownNameError)
    assert isinstance(err, LittleDataError)
    msg = str(err)
    assert "Unknown dataset 'sst'" in msg
    assert "Did you mean: sst2" in msg
    assert "Available: mr, sst2, subj, trec." in msg


def test_unknown_name_without_close_match_lists_all() -> None:
    msg = str(unknown_name("head", "zzz", ["logreg", "knn"]))
    assert "Did you mean" not in msg
    assert "knn, logreg" in msg


def test_data_home_follows_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LITTLEDATA_HOME", str(tmp_path / "home"))
    assert config.data_home() == tmp_path / "home"
    assert (tmp_path / "home").is_dir()
    assert config.subdir("features") == tmp_path / "home" / "features"


def test_default_mirror(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LITTLEDATA_MIRROR", "  ")
    assert config.default_mirror() is None
    monkeypatch.setenv("LITTLEDATA_MIRROR", "/data/mirror")
    assert config.default_mirror() == "/data/mirror"


def test_atomic_open_replaces_only_on_success(tmp_path: Path) -> None:
    target = tmp_path / "out.txt"
    io.atomic_write_text(target, "old")
    with pytest.raises(RuntimeError), io.atomic_open(target, "w") as fh:
        fh.write("half-written")
        raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert os.listdir(tmp_path) == ["out.txt"]  # no temporary file left behind
    io.atomic_write_text(target, "new")
    assert target.read_text() == "new"


def test_atomic_open_refuses_read_modes(tmp_path: Path) -> None:
    with pytest.raises(ValueError), io.atomic_open(tmp_path / "x", "r"):
        pass


def test_atomic_npy_and_sha256(tmp_path: Path) -> None:
    arr = np.arange(12, dtype=np.float32).reshape(3, 4)
    io.atomic_save_npy(tmp_path / "a.npy", arr)
    np.testing.assert_array_equal(np.load(tmp_path / "a.npy", allow_pickle=False), arr)
    io.atomic_write_bytes(tmp_path / "b.bin", b"abc")
    assert (
        io.sha256_file(tmp_path / "b.bin")
        == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    )


def test_texts_fingerprint_is_content_and_order_sensitive() -> None:
    base = texts_fingerprint(["a b", "c"])
    assert base == texts_fingerprint(["a b", "c"])
    assert base != texts_fingerprint(["c", "a b"])
    assert base != texts_fingerprint(["a", "b c"])  # boundaries matter, not just the concatenation
    assert base != texts_fingerprint(["a b", "c", ""])
    assert base != texts_fingerprint(["a b", "c"], ["x", "y"])


def test_split_validates_lengths_and_subsets() -> None:
    with pytest.raises(ValueError, match="2 texts but 3 labels"):
        Split(texts=["a", "b"], labels=np.array([0, 1, 1]))
    split = Split(
        texts=["a", "b", "c"],
        labels=np.array([0, 1, 0]),
        text_pairs=["x", "y", "z"],
        meta={"source": ["s1", "s2", "s3"]},
    )
    sub = split.subset([2, 0])
    assert sub.texts == ["c", "a"]
    assert sub.text_pairs == ["z", "x"]
    assert sub.labels.tolist() == [0, 0]
    assert sub.meta == {"source": ["s3", "s1"]}
    assert sub.fingerprint() != split.fingerprint()


def test_dataset_unknown_split_suggests() -> None:
    ds = Dataset(
        name="toy",
        task=Task.SINGLE_LABEL,
        label_names=["neg", "pos"],
        splits={"train": Split(["a"], np.array([0])), "test": Split(["b"], np.array([1]))},
    )
    assert ds.train.texts == ["a"]
    assert ds.num_labels == 2
    with pytest.raises(UnknownNameError, match="Did you mean: test"):
        ds["tets"]


def test_missing_role_split_is_a_clear_error() -> None:
    from littledata.errors import DataFormatError

    ds = Dataset(
        name="mine.csv",
        task=Task.SINGLE_LABEL,
        label_names=["a"],
        splits={"train": Split(["x"], np.array([0]))},
    )
    with pytest.raises(DataFormatError, match=r"no test split .*split_column"):
        _ = ds.test


def test_remote_file_url_and_archive_marker() -> None:
    from littledata.datasets.base import RemoteFile

    plain = RemoteFile("o/r", "Datasets/a b/c.txt", "abc", "0" * 64, 1, "c.txt")
    assert plain.url == "https://raw.githubusercontent.com/o/r/abc/Datasets/a%20b/c.txt"
    assert not plain.is_archive
    archive = RemoteFile(
        "o/r", "data/20ng/ (git archive of subtree: x/)", "abc", "0" * 64, 1, "x.tar.gz"
    )
    assert archive.is_archive


def test_atomic_writes_get_the_usual_file_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        io.atomic_write_text(tmp_path / "report.html", "<html></html>")
    finally:
        os.umask(old)
    assert (tmp_path / "report.html").stat().st_mode & 0o777 == 0o644
