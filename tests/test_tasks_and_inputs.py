"""Adding a task type and a head that tunes its encoder touches one place each (issue 13).

A toy task type and two toy heads are defined here, registered, and run through the real
planner, preparation, executor and trial code; nothing in littledata knows about them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from littledata.datasets.base import Dataset, Split
from littledata.errors import ConfigError
from littledata.experiments.runner import run_benchmark
from littledata.experiments.spec import load_spec
from littledata.experiments.store import ResultsStore
from littledata.heads import HEADS, make_head, register_head
from littledata.tasks import TASK_TYPES, SingleLabel, register_task_type


class Parity(SingleLabel):
    """A toy task: predict whether the class index is even (two classes, whatever the labels)."""

    name = "toy-parity"
    summary = "the parity of a class"
    active_learning = False
    metrics = ("accuracy",)

    def targets(self, split: Split) -> np.ndarray:
        return np.asarray(split.labels, dtype=np.int64) % 2

    def n_classes(self, dataset: Dataset) -> int:
        return 2

    def score(self, y_true, proba, classes, metrics=None):  # type: ignore[no-untyped-def]
        return super().score(y_true, proba, classes, metrics or self.metrics)


class Remember:
    """A toy head that takes raw texts and records what it was given (text input)."""

    seen: list[dict[str, Any]] = []  # noqa: RUF012 - a class-level log for the test

    def __init__(self, encoder: str = "", random_state: int = 0) -> None:
        self.encoder = encoder
        self.random_state = random_state

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        return {"encoder": self.encoder, "random_state": self.random_state}

    def set_params(self, **params: Any) -> Remember:
        for k, v in params.items():
            setattr(self, k, v)
        return self

    def fit(self, X: Any, y: Any) -> Remember:
        Remember.seen.append({"encoder": self.encoder, "first": X[0], "n": len(X)})
        self.classes_ = np.unique(y)
        self._majority = self.classes_[
            np.argmax([np.sum(np.asarray(y) == c) for c in self.classes_])
        ]
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        out = np.full((len(X), len(self.classes_)), 0.1)
        out[:, list(self.classes_).index(self._majority)] = 1.0
        return out / out.sum(axis=1, keepdims=True)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


@pytest.fixture
def toys() -> Iterator[None]:
    register_task_type(Parity)
    register_head(
        "toy-parity-logreg",
        inputs={"dense", "sparse"},
        description="logreg for the toy parity task",
        tasks=("toy-parity",),
    )(lambda random_state=0, **p: make_head("logreg", random_state=random_state, **p))
    register_head(
        "toy-tuner",
        inputs={"text"},
        description="takes raw texts and the name of the encoder to tune",
        tunes_encoder=True,
    )(lambda random_state=0, **p: Remember(random_state=random_state, **p))
    Remember.seen.clear()
    try:
        yield
    finally:
        TASK_TYPES.pop("toy-parity")
        HEADS.remove("toy-parity-logreg")
        HEADS.remove("toy-tuner")


def _dataset(name: str, task: str) -> Dataset:
    rng = np.random.default_rng(0)

    def split(n: int) -> Split:
        y = np.arange(n) % 4
        texts = [f"even{c % 2} w{c} noise{int(rng.integers(0, 30))}" for c in y]
        return Split(texts, y.astype(np.int64))

    return Dataset(name, task, ["a", "b", "c", "d"], {"train": split(80), "test": split(40)})  # type: ignore[arg-type]


def test_a_toy_task_type_runs_through_the_real_runner(toys: None, tmp_path: Path) -> None:
    registry = {
        "toy": SimpleNamespace(task="toy-parity"),
        "plain": SimpleNamespace(task="single-label"),
    }
    spec = load_spec(
        overrides={
            "datasets": ["toy", "plain"],
            "featurizers": ["tfidf"],
            "heads": ["toy-parity-logreg", "centroid"],
            "sizes": [20],
            "seeds": 1,
            "baseline": False,
            "n_jobs": 1,
            "metrics": ["accuracy"],
        }
    )
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    loader = {
        "toy": lambda: _dataset("toy", "toy-parity"),
        "plain": lambda: _dataset("plain", "single-label"),
    }
    summary = run_benchmark(spec, store=store, loader=lambda n: loader[n](), registry=registry)
    assert summary.run == 2 and summary.failed == 0  # one trial per (dataset, serving head)
    reasons = {(s.dataset, s.head): s.reason for s in summary.skipped}
    assert "the parity of a class" in reasons[("toy", "centroid")]
    assert "predicts one label per text" in reasons[("toy", "centroid")]
    assert "predicts the parity of a class" in reasons[("plain", "toy-parity-logreg")]
    trials = store.trials("bench").set_index("dataset")
    assert trials.loc["toy", "task"] == "toy-parity" and trials.loc["toy", "n_classes"] == 2
    frame = store.frame("bench")
    toy = frame[(frame["dataset"] == "toy") & (frame["metric"] == "accuracy")]
    assert float(toy["value"].iloc[0]) > 0.9  # "even0"/"even1" gives the parity away
    assert "roc_auc" not in set(frame[frame["dataset"] == "toy"]["metric"])  # the task's metrics


def test_a_head_that_tunes_its_encoder_gets_raw_texts_and_the_encoder(
    toys: None, tmp_path: Path
) -> None:
    registry = {"plain": SimpleNamespace(task="single-label")}
    spec = load_spec(
        overrides={
            "datasets": ["plain"],
            "featurizers": ["glove50", "tfidf"],
            "heads": ["toy-tuner"],
            "sizes": [20],
            "seeds": 1,
            "baseline": False,
            "n_jobs": 1,
        }
    )
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    summary = run_benchmark(
        spec, store=store, loader=lambda n: _dataset(n, "single-label"), registry=registry
    )
    assert summary.run == 1 and summary.failed == 0, summary.failures
    (skip,) = summary.skipped  # tf-idf has no encoder to tune
    assert skip.featurizer == "tfidf" and "no encoder to tune" in skip.reason
    (call,) = Remember.seen
    assert call["encoder"] == "glove50" and isinstance(call["first"], str) and call["n"] == 20
    (trial,) = store.trials("bench").to_dict("records")
    assert trial["input"] == "text" and trial["featurizer_fingerprint"]  # the encoder's identity


def test_input_kinds_say_what_they_are() -> None:
    from littledata.features import get_featurizer

    assert get_featurizer("tfidf").kind == "sparse"
    texts = np.array(["good film", "bad film", "great film", "awful film"], dtype=object)
    tfidf = make_head("logreg", input_kind="sparse").fit(texts, [1, 0, 1, 0])
    assert tfidf.predict(texts).tolist() == [1, 0, 1, 0]
    with pytest.raises(ConfigError, match="use input_kind='sparse'"):
        make_head("logreg", input_kind="text")  # raw texts are for heads that tune an encoder
    assert HEADS["logreg"].tasks == ("single-label",) and HEADS["logreg"].threads == 1
    assert HEADS["mlp"].gpu == "no" and not HEADS["logreg"].tunes_encoder
    with pytest.raises(ValueError, match="gpu use"):
        register_head("x", inputs={"dense"}, description="", gpu="always")


def test_a_head_that_tunes_its_encoder_is_not_adapted_to_pairs_or_label_sets() -> None:
    # pairs and multi-label wrap heads that take features; a tuning head takes single texts
    from littledata.experiments.plan import DatasetInfo, FeaturizerInfo, HeadSupport
    from littledata.experiments.plan import _combination_problem as problem

    fz = FeaturizerInfo(name="minilm", kind="dense", fingerprint="f")
    tuning = HeadSupport(name="setfit", inputs=("text",), tunes_encoder=True)
    frozen = HeadSupport(name="logreg")
    for task in ("sentence-pair", "multi-label"):
        ds = DatasetInfo(name="d", task=task, n_classes=2)
        assert "fine-tunes its encoder on single-label data only" in problem(ds, fz, tuning)
        assert problem(ds, fz, frozen) == ""
    assert problem(DatasetInfo(name="d", task="single-label", n_classes=2), fz, tuning) == ""
