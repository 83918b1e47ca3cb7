"""TextClassifier: the scikit-learn contract, save / load to identical probabilities, refusals."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer

from littledata.errors import (
    ArtifactError,
    ArtifactIntegrityError,
    ArtifactVersionError,
    ConfigError,
    DataFormatError,
    FeaturizerMismatchError,
    LittleDataError,
)
from littledata.features.base import BaseFeaturizer
from littledata.heads import HEADS, RESAMPLINGS
from littledata.models import HeadClassifier, TextClassifier, load_model
from littledata.models.artifact import ARRAYS_FILE, MANIFEST_FILE, read_manifest

FAST = {
    "mlp": {"max_epochs": 20, "hidden": 16, "lr": 0.01},
    "layermix": {"max_epochs": 20, "lr": 0.02},
}


class HashFeaturizer(BaseFeaturizer):
    """A made-up encoder: each word hashes to a fixed random vector; a text is their sum."""

    def __init__(self, kind: str = "dense", seed: int = 0) -> None:
        super().__init__()
        self.kind = kind  # type: ignore[assignment]
        self.seed = seed
        self.name = f"test-hash-{kind}"

    def _fingerprint_parts(self) -> dict[str, Any]:
        return {"encoder": "test-hash", "seed": self.seed}

    @property
    def dim(self) -> int:
        return 12

    @property
    def num_layers(self) -> int:
        return 3 if self.kind == "layers" else 1

    def _transform_into(self, texts, out, batch_size, advance) -> None:
        for i, text in enumerate(texts):
            row = np.zeros(out.shape[1:], dtype=np.float32)
            for word in text.split():
                seed = int.from_bytes(hashlib.sha256(f"{self.seed}:{word}".encode()).digest()[:8])
                row += np.random.default_rng(seed).normal(size=row.shape).astype(np.float32)
            out[i] = row
        advance(len(texts))


def corpus(n_per_class: int = 12, seed: int = 0) -> tuple[list[str], list[str]]:
    rng = np.random.default_rng(seed)
    texts, labels = [], []
    for label in ("sports", "music", "food"):
        for _ in range(n_per_class):
            words = [f"{label}{rng.integers(5)}" for _ in range(3)]
            words += [f"the{rng.integers(12)}", "and"]
            texts.append(" ".join(rng.permutation(words)))
            labels.append(label)
    return texts, labels


TEXTS, LABELS = corpus()
NEW_TEXTS, _ = corpus(4, seed=1)


def featurizer_for(kind: str) -> Any:
    return "tfidf" if kind == "sparse" else HashFeaturizer(kind)


CASES = [
    (name, kind, resampling)
    for name in sorted(HEADS)
    for kind in ("dense", "layers", "sparse")
    if kind in HEADS[name].inputs and not HEADS[name].sentences  # token-crf: sentences only
    for resampling in RESAMPLINGS
]


@pytest.mark.parametrize(("name", "kind", "resampling"), CASES)
def test_save_and_load_give_identical_probabilities(name, kind, resampling, tmp_path):
    fz = featurizer_for(kind)
    model = TextClassifier(fz, name, head_params=FAST.get(name), resampling=resampling)
    model.fit(TEXTS, LABELS)
    folder = model.save(tmp_path / "model")
    loaded = load_model(folder, featurizer=None if kind == "sparse" else HashFeaturizer(kind))
    assert np.array_equal(loaded.predict_proba(NEW_TEXTS), model.predict_proba(NEW_TEXTS))
    assert loaded.predict(NEW_TEXTS).tolist() == model.predict(NEW_TEXTS).tolist()
    assert loaded.classes_.tolist() == ["food", "music", "sports"]
    assert loaded.get_params() == {**model.get_params(), "featurizer": fz if kind == "sparse" else
                                   f"test-hash-{kind}"}  # fmt: skip
    manifest = read_manifest(folder)
    assert manifest["head"]["name"] == name and manifest["head"]["resampling"] == resampling
    assert manifest["labels"] == ["food", "music", "sports"]
    assert manifest["training_data"]["rows"] == len(TEXTS)


def test_the_estimator_contract(tmp_path):
    model = TextClassifier("tfidf", "logreg", head_params={"cv": 2}, random_state=3)
    assert model.get_params()["head_params"] == {"cv": 2}
    twin = clone(model)
    assert twin.get_params() == model.get_params() and not hasattr(twin, "classes_")
    model.set_params(head="centroid", head_params=None)
    assert model.head == "centroid" and model.head_params is None
    model.fit(TEXTS, LABELS)
    assert model.classes_.tolist() == ["food", "music", "sports"]
    assert set(model.predict(NEW_TEXTS)) <= set(LABELS)
    proba = model.predict_proba(NEW_TEXTS)
    assert proba.shape == (len(NEW_TEXTS), 3) and np.allclose(proba.sum(axis=1), 1)
    assert model.score(TEXTS, LABELS) > 0.9


def test_cross_val_score_pipeline_and_grid_search():
    scores = cross_val_score(TextClassifier("tfidf", "logreg"), TEXTS, LABELS, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.8

    pipe = Pipeline(
        [
            ("lower", FunctionTransformer(lambda xs: [x.lower() for x in xs])),
            ("clf", TextClassifier(HashFeaturizer(), "centroid")),
        ]
    )
    pipe.fit([t.upper() for t in TEXTS], LABELS)
    assert pipe.score(TEXTS, LABELS) > 0.9
    assert pipe.predict(NEW_TEXTS).tolist() == pipe.named_steps["clf"].predict(NEW_TEXTS).tolist()

    search = GridSearchCV(TextClassifier("tfidf"), {"head": ["centroid", "knn"]}, cv=3).fit(
        TEXTS, LABELS
    )
    assert search.best_params_["head"] in ("centroid", "knn")


def test_labels_are_names_never_codes():
    ints = [{"sports": 30, "music": 10, "food": 20}[label] for label in LABELS]
    model = TextClassifier("tfidf", "centroid").fit(TEXTS, ints)
    assert model.classes_.tolist() == [10, 20, 30]
    assert set(model.predict(NEW_TEXTS).tolist()) <= {10, 20, 30}
    with pytest.raises(DataFormatError, match="one label per text"):
        TextClassifier("tfidf").fit(TEXTS, LABELS[:-1])
    with pytest.raises(DataFormatError, match="Text at row 1"):
        TextClassifier("tfidf").fit(["a", None, "c"], ["x", "y", "x"])


def test_fit_features_is_fit_on_the_same_features():
    from littledata.features import featurize

    fz = HashFeaturizer()
    on_texts = TextClassifier(fz, "logreg").fit(TEXTS, LABELS)
    on_features = TextClassifier(fz, "logreg").fit_features(featurize(TEXTS, fz), LABELS)
    assert np.array_equal(on_features.predict_proba(NEW_TEXTS), on_texts.predict_proba(NEW_TEXTS))
    X_new = featurize(NEW_TEXTS, fz)
    assert np.array_equal(
        on_features.predict_proba_features(X_new), on_texts.predict_proba(NEW_TEXTS)
    )
    assert on_texts.training_data_["input"] == "texts"
    assert on_features.training_data_["input"] == "features"


def test_a_featurizer_with_another_fingerprint_is_refused(tmp_path):
    model = TextClassifier(HashFeaturizer(seed=0), "logreg").fit(TEXTS, LABELS)
    folder = model.save(tmp_path / "m")
    with pytest.raises(FeaturizerMismatchError, match="fingerprint"):
        load_model(folder, featurizer=HashFeaturizer(seed=1))
    # deferred: loads, and the first prediction on texts refuses
    lazy = load_model(folder, check_featurizer=False)
    assert np.array_equal(
        lazy.predict_proba_features(np.zeros((1, 12), np.float32)),
        model.predict_proba_features(np.zeros((1, 12), np.float32)),
    )
    with pytest.raises(LittleDataError, match="test-hash-dense"):
        lazy.predict(NEW_TEXTS)  # the name is not registered, so it cannot be built
    model.set_params(featurizer=HashFeaturizer(seed=2))
    with pytest.raises(FeaturizerMismatchError):
        model.predict(NEW_TEXTS)


def test_a_logreg_head_on_a_registered_encoder_is_kilobytes_and_names_it(tmp_path):
    model = TextClassifier("tfidf", "logreg").fit(TEXTS, LABELS)
    folder = model.save(tmp_path / "m")
    manifest = read_manifest(folder)
    assert manifest["featurizer"]["name"] == "tfidf"
    assert manifest["featurizer"]["fingerprint"] == model.featurizer_fingerprint_
    assert manifest["format"] == "littledata-model" and manifest["format_version"] == 1
    sha = hashlib.sha256((folder / ARRAYS_FILE).read_bytes()).hexdigest()
    assert manifest["files"] == {
        ARRAYS_FILE: {"bytes": (folder / ARRAYS_FILE).stat().st_size, "sha256": sha}
    }
    assert sum(f.stat().st_size for f in folder.iterdir()) < 20_000
    loaded = load_model(folder)  # featurizer built from its name and checked
    assert np.array_equal(loaded.predict_proba(NEW_TEXTS), model.predict_proba(NEW_TEXTS))


def test_saving_never_clobbers_another_folder(tmp_path):
    model = TextClassifier("tfidf", "centroid").fit(TEXTS, LABELS)
    folder = model.save(tmp_path / "m")
    with pytest.raises(ConfigError, match="already exists"):
        model.save(folder)
    other = TextClassifier("tfidf", "knn").fit(TEXTS, LABELS)
    other.save(folder, overwrite=True)
    assert read_manifest(folder)["head"]["name"] == "knn"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m"]  # no temporary folders left
    precious = tmp_path / "notes"
    precious.mkdir()
    (precious / "keep.txt").write_text("mine")
    with pytest.raises(ConfigError, match="not a saved model"):
        model.save(precious, overwrite=True)
    assert (precious / "keep.txt").read_text() == "mine"


# -- refusals -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved(tmp_path_factory) -> Path:
    model = TextClassifier("tfidf", "logreg").fit(TEXTS, LABELS)
    return model.save(tmp_path_factory.mktemp("saved") / "model")


def _copy(saved: Path, tmp_path: Path) -> Path:
    import shutil

    return Path(shutil.copytree(saved, tmp_path / "copy"))


def _edit_manifest(folder: Path, change: Callable[[dict], None]) -> None:
    manifest = json.loads((folder / MANIFEST_FILE).read_text())
    change(manifest)
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest))


def test_an_altered_truncated_or_missing_array_file_is_refused(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    data = bytearray((folder / ARRAYS_FILE).read_bytes())
    data[-3] ^= 0x01
    (folder / ARRAYS_FILE).write_bytes(bytes(data))
    with pytest.raises(ArtifactIntegrityError, match="sha256"):
        load_model(folder)
    (folder / ARRAYS_FILE).write_bytes(bytes(data[:-10]))
    with pytest.raises(ArtifactIntegrityError, match="truncated"):
        load_model(folder)
    (folder / ARRAYS_FILE).unlink()
    with pytest.raises(ArtifactIntegrityError, match="missing"):
        load_model(folder)


def test_a_truncated_manifest_or_foreign_folder_is_refused(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    text = (folder / MANIFEST_FILE).read_text()
    (folder / MANIFEST_FILE).write_text(text[: len(text) // 2])
    with pytest.raises(ArtifactIntegrityError, match="not valid JSON"):
        load_model(folder)
    (folder / MANIFEST_FILE).write_text(json.dumps({"format": "sentence-transformers"}))
    with pytest.raises(ArtifactVersionError, match="not a littledata model"):
        load_model(folder)
    (folder / MANIFEST_FILE).unlink()
    (folder / "modules.json").write_text("[]")
    with pytest.raises(ArtifactError, match=r"no manifest\.json"):
        load_model(folder)
    with pytest.raises(ArtifactError, match="not a folder"):
        load_model(folder / "modules.json")


def test_an_unknown_format_version_is_refused(saved, tmp_path):
    folder = _copy(saved, tmp_path)
    _edit_manifest(folder, lambda m: m.update(format_version=2))
    with pytest.raises(ArtifactVersionError, match="Upgrade littledata"):
        load_model(folder)


def test_an_unknown_head_or_parameter_is_refused_and_nothing_named_is_called(
    saved, tmp_path, monkeypatch
):
    import littledata.io

    called = []
    monkeypatch.setattr(littledata.io, "atomic_write_text", lambda *a, **k: called.append(a))
    folder = _copy(saved, tmp_path)
    target = tmp_path / "evil.pth"

    def dotted(m: dict) -> None:
        m["head"]["name"] = "littledata.io.atomic_write_text"
        m["head"]["params"] = {"path": str(target), "text": "import os"}

    _edit_manifest(folder, dotted)
    with pytest.raises(ArtifactError, match=r"Unknown head 'littledata\.io\.atomic_write_text'"):
        load_model(folder)
    assert not called and not target.exists()

    folder = _copy(saved, tmp_path / "b")
    _edit_manifest(folder, lambda m: m["head"]["params"].update(evil=1))
    with pytest.raises(ArtifactError, match="no parameter 'evil'"):
        load_model(folder)

    folder = _copy(saved, tmp_path / "c")
    _edit_manifest(folder, lambda m: m["head"].update(name="logregg"))
    with pytest.raises(ArtifactError, match="Did you mean: logreg"):
        load_model(folder)

    folder = _copy(saved, tmp_path / "d")
    _edit_manifest(folder, lambda m: m["featurizer"].update(options={"evil": 1}))
    with pytest.raises(ArtifactError, match="cannot be built with options"):
        load_model(folder)


def test_a_state_that_does_not_fit_is_refused(saved, tmp_path):
    from safetensors.numpy import load, save

    folder = _copy(saved, tmp_path)
    arrays = load((folder / ARRAYS_FILE).read_bytes())
    arrays["head/coef_"] = arrays["head/coef_"][:, :-1]  # one column short, checksums redone
    data = save(arrays)
    (folder / ARRAYS_FILE).write_bytes(data)

    def rehash(m: dict) -> None:
        m["files"][ARRAYS_FILE] = {"bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()}

    _edit_manifest(folder, rehash)
    with pytest.raises(ArtifactError, match="do not make a working 'logreg' head"):
        load_model(folder)

    folder = _copy(saved, tmp_path / "b")
    _edit_manifest(folder, lambda m: m["head"]["state"]["estimators"].pop("head"))
    with pytest.raises(ArtifactError, match="sub-estimators"):
        load_model(folder)

    for i, bad in enumerate((1, "x", [1], None)):  # any malformed value is refused cleanly
        folder = _copy(saved, tmp_path / f"s{i}")
        _edit_manifest(
            folder, lambda m, bad=bad: m["head"]["state"]["estimators"].update(tfidf=bad)
        )
        with pytest.raises(ArtifactError, match=r"not a JSON object|malformed"):
            load_model(folder)

    folder = _copy(saved, tmp_path / "c")
    _edit_manifest(folder, lambda m: m.update(labels=["food", "music", "x"]))
    with pytest.raises(ArtifactError, match="labels"):
        load_model(folder)


def test_head_classifier_is_the_features_level_model():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 4)) + np.repeat(np.eye(3, 4), 10, axis=0) * 3
    y = np.repeat(["a", "b", "c"], 10)
    clf = HeadClassifier("logreg", resampling="oversample", random_state=1).fit(X, y)
    assert clf.classes_.tolist() == ["a", "b", "c"]
    assert np.array_equal(clf.predict_proba(X), clf.estimator_.predict_proba(X))
    assert cross_val_score(HeadClassifier("centroid"), X, y, cv=3).mean() > 0.9
    with pytest.raises(ConfigError, match="cannot set input_kind"):
        HeadClassifier("logreg", head_params={"input_kind": "sparse"}).fit(X, y)


@pytest.mark.model
def test_minilm_model_is_a_few_kilobytes_and_loads_identically(tmp_path):
    model = TextClassifier("minilm", "logreg").fit(TEXTS, LABELS)
    folder = model.save(tmp_path / "minilm-logreg")
    sizes = {p.name: p.stat().st_size for p in folder.iterdir()}
    assert set(sizes) == {MANIFEST_FILE, ARRAYS_FILE}
    # 3 classes x 384 float64 weights: about 10 KB; the 90 MB encoder is named, not copied
    assert sizes[ARRAYS_FILE] < 16_000 and sum(sizes.values()) < 24_000
    manifest = read_manifest(folder)
    assert manifest["featurizer"]["name"] == "minilm" and manifest["featurizer"]["kind"] == "dense"
    loaded = load_model(folder)  # builds minilm and checks its fingerprint
    assert np.array_equal(loaded.predict_proba(NEW_TEXTS), model.predict_proba(NEW_TEXTS))
