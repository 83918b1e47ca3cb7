"""The head-state protocol: every head hands over what it learned and takes it back exactly."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.dummy import DummyClassifier

from littledata.errors import ArtifactError, ConfigError
from littledata.heads import HEADS, RESAMPLINGS, make_head
from littledata.heads.state import (
    HeadState,
    export_state,
    import_state,
    json_value,
    labels_from_json,
)
from littledata.heads.text import count_terms

FAST = {
    "mlp": {"max_epochs": 20, "hidden": 16, "lr": 0.01},
    "layermix": {"max_epochs": 20, "lr": 0.02},
}
CASES = [
    (name, kind, resampling)
    for name in sorted(HEADS)
    for kind in ("dense", "layers", "sparse", "counts")
    if ("sparse" if kind == "counts" else kind) in HEADS[name].inputs
    and not HEADS[name].sentences  # token-crf tags sentences (tests/test_token_crf.py)
    for resampling in RESAMPLINGS
]


def _data(kind: str, n_per_class: int = 12):
    rng = np.random.default_rng(3)
    codes = np.repeat(np.arange(3), n_per_class)
    y = np.array(["cat", "dog", "emu"])[codes]
    if kind == "dense":
        X = rng.normal(size=(len(y), 6)) + 1.5 * np.eye(3, 6)[codes]
        return X.astype(np.float32), y
    if kind == "layers":
        X = rng.normal(size=(len(y), 3, 5))
        X[:, 2, :3] += 1.5 * np.eye(3)[codes]
        return X.astype(np.float32), y
    texts = [
        f"w{c}a{rng.integers(4)} w{c}b{rng.integers(4)} noise{rng.integers(15)} common"
        for c in codes
    ]
    if kind == "counts":
        return count_terms(texts), y
    return np.array(texts, dtype=object), y


def _fitted_attributes(est) -> set[str]:
    return {k for k in vars(est) if k.endswith("_") and not k.startswith("_")}


def _all_estimators(est):
    """The estimator and every (fitted) estimator inside it."""
    yield est
    for step in getattr(est, "steps", []):
        yield from _all_estimators(step[1])
    for name in ("estimator_", "transformer_", "_tfidf"):
        if name in vars(est):
            yield from _all_estimators(vars(est)[name])


@pytest.mark.parametrize(("name", "kind", "resampling"), CASES)
def test_every_head_restores_to_identical_probabilities(name, kind, resampling):
    X, y = _data(kind)
    train = np.r_[0:10, 12:22, 24:34]  # the rest stays unseen
    Xtr = X[train]
    params = {**FAST.get(name, {}), "input_kind": kind, "resampling": resampling}
    head = make_head(name, **params).fit(Xtr, y[train])
    state = export_state(head)
    assert all(a.dtype.kind in "biuf" for a in state.arrays.values())
    copy = import_state(make_head(name, **params), state)
    assert np.array_equal(copy.predict_proba(X), head.predict_proba(X))
    assert np.array_equal(copy.predict(X), head.predict(X))
    # nothing the fitted head learned is left out (a new attribute must join its state)
    for original, restored in zip(_all_estimators(head), _all_estimators(copy), strict=True):
        assert type(original) is type(restored)
        assert _fitted_attributes(original) <= _fitted_attributes(restored), type(original)


def test_sparse_rows_lists_and_memory_order_survive():
    X, y = _data("sparse")
    knn = make_head("knn", input_kind="sparse").fit(X, y)
    state = export_state(knn)
    assert {"head/X_fit_/data", "head/X_fit_/indices", "head/X_fit_/indptr"} <= set(state.arrays)
    copy = import_state(make_head("knn", input_kind="sparse"), state)
    stored, restored = knn.named_steps["head"].X_fit_, copy.named_steps["head"].X_fit_
    assert type(restored) is type(stored) and sp.issparse(restored)
    assert restored.dtype == stored.dtype and restored.indices.dtype == stored.indices.dtype

    Xd, yd = _data("dense")
    default = make_head("logreg-default").fit(Xd, yd)
    assert default.coef_.flags.f_contiguous and not default.coef_.flags.c_contiguous
    restored = import_state(make_head("logreg-default"), export_state(default))
    assert restored.coef_.flags.f_contiguous

    mlp = make_head("mlp", resampling="none", **FAST["mlp"]).fit(Xd, yd)
    assert {"coefs_/0", "coefs_/1", "intercepts_/0"} <= set(export_state(mlp).arrays)


def test_labels_keep_their_type():
    X, y = _data("dense")
    for labels in (y, np.array([3, 7, 9])[np.searchsorted(["cat", "dog", "emu"], y)]):
        head = make_head("centroid").fit(X, labels)
        copy = import_state(make_head("centroid"), export_state(head))
        assert copy.classes_.dtype == head.classes_.dtype
        assert np.array_equal(copy.predict(X), head.predict(X))


def test_labels_that_do_not_fit_their_dtype_are_refused():
    assert labels_from_json({"values": ["ab", "cd"], "dtype": "<U2"}).tolist() == ["ab", "cd"]
    for spec in (
        {"values": ["ab", "cdef"], "dtype": "<U2"},  # would be cut to "cd"
        {"values": [1.5, 2], "dtype": "<i8"},
        {"values": ["a"], "dtype": "<M8[s]"},
        {"values": [["a"]], "dtype": "O"},
    ):
        with pytest.raises(ArtifactError, match="label"):
            labels_from_json(spec)


def test_a_state_that_does_not_fit_the_head_is_refused():
    X, y = _data("dense")
    state = export_state(make_head("logreg").fit(X, y))
    with pytest.raises(ArtifactError, match="expects arrays"):
        import_state(make_head("centroid"), state)
    missing = HeadState(state.meta, {k: v for k, v in state.arrays.items() if k != "coef_"})
    with pytest.raises(ArtifactError, match="'coef_' is missing"):
        import_state(make_head("logreg"), missing)
    extra = HeadState(state.meta, {**state.arrays, "evil": np.zeros(2)})
    with pytest.raises(ArtifactError, match="unexpected arrays"):
        import_state(make_head("logreg"), extra)
    text_state = export_state(make_head("logreg", input_kind="sparse").fit(*_data("sparse")))
    with pytest.raises(ArtifactError, match="TfidfFromCounts expects arrays"):
        import_state(make_head("logreg", input_kind="counts"), text_state)
    with pytest.raises(ArtifactError, match="RandomOversampler expects arrays"):
        import_state(make_head("logreg", resampling="oversample"), state)


def test_only_registered_heads_and_their_parts_have_a_state():
    X, y = _data("dense")
    with pytest.raises(ConfigError, match="DummyClassifier cannot be saved"):
        export_state(DummyClassifier().fit(X, y))


def test_json_values_are_plain():
    assert json_value((1, 2.5, "a", None, True), "x") == [1, 2.5, "a", None, True]
    assert json_value({"a": np.float32(0.5)}, "x") == {"a": 0.5}
    with pytest.raises(ConfigError, match="non-string keys"):
        json_value({0: 1.0}, "class_weight")
    with pytest.raises(ConfigError, match="only finite"):
        json_value(float("nan"), "x")
    with pytest.raises(ConfigError, match="DummyClassifier"):
        json_value(DummyClassifier(), "estimator")
