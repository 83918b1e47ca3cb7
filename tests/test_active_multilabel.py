"""Active learning on multi-label data: strategies, the learner, sessions and the simulation."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from littledata.active import ActiveLearner
from littledata.active.labels import LabelState
from littledata.active.simulate import ActiveTask, run_trial, simulate
from littledata.active.strategies import QueryContext, get_strategy
from littledata.active.strategies.views import aggregate, uncertainty_parts
from littledata.errors import ConfigError, DataFormatError

HEAD = "logreg-default"  # plain logistic regression per label: fast and deterministic


class FixedScores:
    """A stand-in multi-label model: fixed per-row label scores and thresholds."""

    def __init__(self, scores: np.ndarray, thresholds: list[float]) -> None:
        self.scores = np.asarray(scores, dtype=float)
        self.thresholds_ = np.asarray(thresholds)
        self.classes_ = np.arange(self.scores.shape[1])

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.scores[np.asarray(X[:, 0], dtype=int)]


def _ctx(scores: list[list[float]], thresholds: list[float], n: int = 1) -> QueryContext:
    model = FixedScores(np.asarray(scores), thresholds)
    features = np.arange(len(scores), dtype=float)[:, None]  # row i's feature is i
    return QueryContext.from_features(
        model, features, [], np.arange(len(scores)), [], n, seed=0, task="multi-label"
    )


def test_margin_measures_each_label_against_its_tuned_threshold() -> None:
    # label 0's threshold is 0.2: row 0 sits on it (most uncertain), row 1 sits on 0.5, far
    # above it for this label; label 1 is equally sure for both rows
    ctx = _ctx([[0.2, 0.9], [0.5, 0.9]], thresholds=[0.2, 0.5])
    assert get_strategy("margin").query(ctx).tolist() == [0]
    # with 0.5 as every threshold, row 1 would be the uncertain one
    ctx = _ctx([[0.2, 0.9], [0.5, 0.9]], thresholds=[0.5, 0.5])
    assert get_strategy("margin").query(ctx).tolist() == [1]


def test_mean_and_max_aggregation_pick_different_rows() -> None:
    # row 0: one label on its threshold, two labels sure; row 1: every label fairly unsure
    scores = [[0.5, 0.0, 1.0], [0.35, 0.65, 0.35]]
    ctx = _ctx(scores, thresholds=[0.5, 0.5, 0.5])
    assert get_strategy("margin", aggregate="mean").query(ctx).tolist() == [1]  # 2/3 vs 0.3
    assert get_strategy("margin").query(ctx).tolist() == [0]  # default: the min margin, 0
    assert get_strategy("margin", aggregate="max").query(ctx).tolist() == [0]
    assert get_strategy("entropy").query(ctx).tolist() == [0]
    assert get_strategy("least-confidence", aggregate="mean").query(ctx).tolist() == [1]


def test_the_threshold_centred_distribution_and_aggregation() -> None:
    model = SimpleNamespace(thresholds_=np.array([0.2, 0.8]))
    proba = np.array([[0.2, 0.4], [0.1, 0.9]])
    parts, owner = uncertainty_parts("multi-label", model, proba, np.arange(2))
    assert owner.tolist() == [0, 0, 1, 1]
    # q = 1/2 at the threshold; p/(2t) below; 1/2 + (p - t)/(2(1 - t)) above
    assert parts[:, 1] == pytest.approx([0.5, 0.25, 0.25, 0.75])
    assert aggregate(np.array([1.0, 3.0, 2.0, 2.0]), owner, 2, "mean").tolist() == [2.0, 2.0]
    assert aggregate(np.array([1.0, 3.0, 2.0, 2.0]), owner, 2, "max").tolist() == [3.0, 2.0]
    with pytest.raises(ConfigError, match="aggregate must be one of mean, max"):
        get_strategy("margin", aggregate="median")


def test_strategies_that_cannot_read_multi_label_data_say_so() -> None:
    ctx = _ctx([[0.2, 0.9], [0.5, 0.9], [0.1, 0.1]], thresholds=[0.5, 0.5])
    for name in ("badge", "committee", "cluster-margin", "active-transfer", "typiclust-margin"):
        with pytest.raises(ConfigError, match=f"'{name}' does not handle multi-label data"):
            get_strategy(name).query(ctx)
    # strategies that read no labels work unchanged, and subsample follows its base
    for name in ("random", "kcenter", "cold-start"):
        assert len(get_strategy(name).query(ctx.replace(n=2))) == 2
    assert get_strategy("subsample", base="margin", size=2).supports("multi-label")
    assert not get_strategy("subsample", base="badge").supports("multi-label")
    from sklearn.linear_model import LogisticRegression

    X = np.zeros((5, 2))
    with pytest.raises(ConfigError, match="head is a registered head's name or a MultiLabelHead"):
        ActiveLearner(
            None, LogisticRegression(), features=X, classes=["a", "b"], task="multi-label"
        )
    with pytest.raises(ConfigError, match=r"'badge' does not handle multi-label.*margin"):
        ActiveLearner(None, HEAD, "badge", features=X, classes=["a", "b"], task="multi-label")


def _toy(n: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 6))
    Y = np.stack([X[:, 0] > 0, X[:, 1] > 0.8, X[:, 2] + X[:, 3] > 1.2], axis=1).astype(np.uint8)
    return X, Y


def _names(Y: np.ndarray, rows: np.ndarray) -> list[list[str]]:
    return [["abc"[j] for j in np.flatnonzero(Y[r])] for r in rows]


def test_the_learner_learns_label_sets_and_resumes_a_saved_session(tmp_path: Path) -> None:
    X, Y = _toy()
    al = ActiveLearner(
        None, HEAD, "margin", features=X, classes=["a", "b", "c"], task="multi-label", seed=3
    )
    first = al.query(8)
    assert al.history[-1]["strategy"] == "cold-start"  # nothing to learn from yet
    al.teach(first, _names(Y, first))
    for _ in range(6):
        idx = al.query(10)
        assert al.history[-1]["strategy"] == "margin"
        al.teach(idx, _names(Y, idx))
    assert al.label_state.codes.shape == (68, 3)
    counts = Y[al.labeled_indices].sum(0).tolist()
    assert al.label_state.counts() == dict(zip("abc", counts, strict=True))
    pred = al.predict(X[:50])
    assert all(isinstance(p, list) for p in pred)
    hits = np.mean([set(p) == set(q) for p, q in zip(pred, _names(Y, np.arange(50)), strict=True)])
    assert hits > 0.5  # a set of three linear labels is learnable from 68 examples
    assert al.predict_proba(X[:4]).shape == (4, 3)

    path = al.save(tmp_path / "s.json")
    saved = json.loads(path.read_text())
    assert saved["task"] == "multi-label"
    assert all(isinstance(row[1], list) for row in saved["labeled"])
    back = ActiveLearner.load(path, features=X)
    assert back.multi_label and back.labels == al.labels
    assert back.query(10).tolist() == al.query(10).tolist()  # the same next query


def test_bad_multi_label_answers_are_refused_and_nothing_is_recorded() -> None:
    X, _ = _toy(20)
    al = ActiveLearner(None, HEAD, "margin", features=X, classes=["a", "b"], task="multi-label")
    with pytest.raises(DataFormatError, match=r"multi-label: each example's label is a list"):
        al.teach([0, 1], [["a"], "b"])
    with pytest.raises(DataFormatError, match=r"Label 'z' is not in the label set"):
        al.teach([0, 1], [["a"], ["z"]])
    assert al.n_labeled == 0
    al.teach([0, 1], [["a", "b"], []])  # an empty set is an answer: none of the labels
    assert al.labels == [["a", "b"], []]
    assert al.undo() == (1, [])
    with pytest.raises(ConfigError, match=r"Exporting a multi-label session .* not built yet"):
        al.export("model")


def test_a_label_state_of_sets_round_trips_through_json() -> None:
    state = LabelState(["x", "y", "z"], 5, kind="set")
    state.teach([3, 1], [["z", "x"], ["y"]], 0)
    assert state.codes.tolist() == [[1, 0, 1], [0, 1, 0]]
    assert state.model_ready() and state.n_labeled_classes() == 3
    back = LabelState.from_json(state.to_json(), ["x", "y", "z"], 5, kind="set")
    assert back.labels == [["x", "z"], ["y"]]
    one = LabelState(["x", "y"], 5, kind="set")
    one.teach([0, 1], [["x"], ["x"]], 0)
    assert not one.model_ready()  # no label tells the rows apart yet


def _task() -> ActiveTask:
    X, Y = _toy(400, seed=1)
    return ActiveTask.from_arrays(
        X[:300], Y[:300], X[300:], Y[300:], ["a", "b", "c"], dataset="toy-ml", task="multi-label"
    )


def test_a_simulated_multi_label_run_is_scored_by_macro_f1_over_labels(tmp_path: Path) -> None:
    from littledata.report.active import render_active_section

    res = run_trial(_task(), "margin", head=HEAD, init=10, batch=10, budget=40, seed=0)
    assert res.metric == "macro_f1" and set(res.scores) >= {"macro_f1", "micro_f1"}
    assert "accuracy" not in res.scores
    assert res.labels == [10, 20, 30, 40] and res.curve[-1] > 0.5
    names = {m.metric for m in res.measurements(0.9)}
    assert {"macro_f1_at_budget", "stop_macro_f1", "reference_macro_f1"} <= names

    out = simulate(_task(), ["random", "margin"], head=HEAD, init=10, batch=10, budget=40, seeds=2)
    assert set(out.summary["metric"]) == {"macro_f1"}
    assert set(out.summary["strategy"]) == {"random", "margin"}
    ref = out.frame[out.frame["metric"] == "reference_macro_f1"]["value"]
    assert len(ref) and ref.iloc[0] > 0.5
    page = render_active_section(out.frame, tmp_path)  # the report names the curve's metric
    assert "macro-F1 at 40 labels" in page and "stop: macro-F1" in page
    with pytest.raises(ConfigError, match="'committee' does not handle multi-label"):
        simulate(_task(), ["committee"], head=HEAD, init=10, batch=10, budget=40, seeds=1)


def test_a_file_with_lists_of_labels_starts_a_multi_label_session(tmp_path: Path) -> None:
    from test_task_types import WordVec  # a small hashed-word featurizer

    path = tmp_path / "tags.jsonl"
    path.write_text(
        '{"text": "happy day", "labels": ["joy"]}\n'
        '{"text": "so mad and happy", "labels": ["joy", "anger"]}\n'
        '{"text": "calm", "labels": []}\n'
    )
    al = ActiveLearner.from_file(str(path), featurizer=WordVec(), head=HEAD)
    assert al.task.name == "multi-label" and al.classes == ["anger", "joy"]
    assert al.labels == [["joy"], ["anger", "joy"], []]
    # a wider label set: the file's columns land on the right labels
    al = ActiveLearner.from_file(
        str(path), featurizer=WordVec(), head=HEAD, classes=["joy", "fear", "anger"]
    )
    assert al.label_state.codes.tolist() == [[1, 0, 0], [1, 0, 1], [0, 0, 0]]


def test_the_labeling_page_refuses_multi_label_files_clearly(tmp_path: Path) -> None:
    from littledata.label_app.start import load_pool

    path = tmp_path / "tags.jsonl"
    path.write_text('{"text": "a", "labels": ["x"]}\n{"text": "b", "labels": ["y"]}\n')
    with pytest.raises(ConfigError, match=r"one label per example; tags\.jsonl is multi-label"):
        load_pool(str(path), None)
