"""ActiveLearner: the loop, bad inputs, and save / resume."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from littledata.active import ActiveLearner
from littledata.active.strategies import STRATEGIES, get_strategy
from littledata.errors import ConfigError, DataFormatError, LittleDataError


def _pool(n_per: int = 60, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    centres = np.array([[0, 0, 0, 0], [3, 0, 0, 0], [0, 3, 0, 0]], dtype=float)
    X = np.vstack([rng.normal(c, 1.0, size=(n_per, 4)) for c in centres])
    y = np.repeat(np.arange(3), n_per)
    return X, y


CLASSES = ["red", "green", "blue"]


def _learner(strategy: str = "margin", seed: int = 0, **kw: object) -> ActiveLearner:
    X, _ = _pool()
    return ActiveLearner(
        None,
        LogisticRegression(max_iter=200),
        strategy,
        features=X,
        classes=CLASSES,
        seed=seed,
        **kw,  # type: ignore[arg-type]
    )


def _run(learner: ActiveLearner, y: np.ndarray, rounds: int, batch: int) -> list[list[int]]:
    batches = []
    for _ in range(rounds):
        unlabeled_before = set(learner.unlabeled_indices.tolist())
        idx = learner.query(batch)
        assert set(idx.tolist()) <= unlabeled_before  # never a labeled index
        batches.append(idx.tolist())
        learner.teach(idx, [CLASSES[c] for c in y[idx]])
    return batches


@pytest.mark.parametrize("strategy", sorted(set(STRATEGIES) - {"subsample"}))
def test_the_loop_never_queries_a_labeled_index(strategy: str) -> None:
    _X, y = _pool()
    learner = _learner(strategy)
    batches = _run(learner, y, rounds=6, batch=7)
    flat = [i for b in batches for i in b]
    assert len(flat) == len(set(flat)) == learner.n_labeled == 42
    assert set(learner.labeled_indices.tolist()) == set(flat)
    assert not set(learner.unlabeled_indices.tolist()) & set(flat)


def test_cold_start_until_two_classes_then_the_strategy() -> None:
    _X, y = _pool()
    learner = _learner("margin")
    first = learner.query(5)
    assert learner.history[0]["strategy"] == "cold-start"
    learner.teach(first[:1], [CLASSES[y[first[0]]]])  # one class only so far
    learner.query(3)
    assert learner.history[1]["strategy"] == "cold-start"
    both = [i for i in range(len(y)) if y[i] != y[first[0]]][:1]
    learner.teach(both, [CLASSES[y[both[0]]]])
    learner.query(3)
    assert learner.history[2]["strategy"] == "margin"
    assert learner.history[2]["n_labeled"] == 2
    assert {"round", "queried", "fit_seconds", "query_seconds", "time"} <= set(learner.history[2])


def test_model_and_probabilities_follow_the_labels() -> None:
    X, y = _pool()
    learner = _learner("random")
    _run(learner, y, rounds=4, batch=15)
    model = learner.model
    assert model is learner.model  # not refit without new labels
    proba = learner.predict_proba(X[:10])
    assert proba.shape == (10, 3) and np.allclose(proba.sum(axis=1), 1.0)
    acc = np.mean(np.array(learner.predict()) == np.array(CLASSES)[y])
    assert acc > 0.8
    idx = learner.query(5)
    learner.teach(idx, [CLASSES[c] for c in y[idx]])
    assert learner.model is not model  # refit after teaching


def test_same_seed_same_queries_and_different_seed_differs() -> None:
    _X, y = _pool()
    a = _run(_learner("badge", seed=3), y, rounds=4, batch=5)
    b = _run(_learner("badge", seed=3), y, rounds=4, batch=5)
    c = _run(_learner("badge", seed=4), y, rounds=4, batch=5)
    assert a == b
    assert a != c


def test_teach_by_text_and_relabel() -> None:
    X, y = _pool(n_per=4)
    texts = [f"text {i}" for i in range(len(y))]
    learner = ActiveLearner(
        None, LogisticRegression(), "margin", texts=texts, features=X, classes=CLASSES
    )
    idx, shown = learner.query(3, return_texts=True)  # type: ignore[misc]
    assert shown == [texts[i] for i in idx]
    learner.teach(shown, ["red", "green", "blue"])
    assert learner.labeled_indices.tolist() == idx.tolist()
    learner.relabel(int(idx[0]), "blue")
    assert learner.labels[0] == "blue"
    with pytest.raises(DataFormatError, match="not in the pool"):
        learner.teach(["no such text"], ["red"])
    with pytest.raises(DataFormatError, match="not labeled yet"):
        learner.relabel(int(learner.unlabeled_indices[0]), "red")


def test_bad_inputs_raise_clear_errors() -> None:
    X, _y = _pool()
    learner = _learner()
    idx = learner.query(4)
    with pytest.raises(DataFormatError, match=r"Label 'purple' is not in the label set"):
        learner.teach(idx, ["red", "green", "purple", "blue"])
    assert learner.n_labeled == 0  # a bad batch records nothing
    numbered = ActiveLearner(None, LogisticRegression(), features=X, classes=[0, 1, 2])
    with pytest.raises(DataFormatError, match="Label True is not in the label set"):
        numbered.teach([0], [True])  # True == 1 in Python, but it is not the label 1
    with pytest.raises(DataFormatError, match="Label '1' is not in the label set"):
        numbered.teach([0], ["1"])
    numbered.teach([0, 1], [np.int64(1), 2])
    assert numbered.labels == [1, 2]
    learner.teach(idx, ["red", "green", "blue", "red"])
    with pytest.raises(DataFormatError, match="already labeled"):
        learner.teach(idx[:1], ["red"])
    free = learner.unlabeled_indices[:1]
    with pytest.raises(DataFormatError, match="twice in this batch"):
        learner.teach([free[0], free[0]], ["red", "red"])
    with pytest.raises(ConfigError, match="at least 1"):
        learner.query(0)
    with pytest.raises(ConfigError, match="empty"):
        learner.teach([], [])
    with pytest.raises(ConfigError, match=r"only 176 unlabeled"):
        learner.query(177)
    with pytest.raises(DataFormatError, match="outside the pool"):
        learner.teach([999], ["red"])
    with pytest.raises(DataFormatError, match="2 examples but 1 labels"):
        learner.teach([*free.tolist(), int(learner.unlabeled_indices[1])], ["red"])
    with pytest.raises(DataFormatError, match="features only"):
        learner.teach(["some text"], ["red"])
    with pytest.raises(ConfigError, match="label set"):
        ActiveLearner(None, LogisticRegression(), features=X)
    with pytest.raises(ConfigError, match="at least two"):
        ActiveLearner(None, LogisticRegression(), features=X, classes=["only"])
    with pytest.raises(ConfigError, match="Give the pool"):
        ActiveLearner("minilm", classes=CLASSES)
    with pytest.raises(DataFormatError, match="2-D"):
        ActiveLearner(None, LogisticRegression(), features=X[:, 0], classes=CLASSES)


def test_a_head_without_probabilities_gets_a_clear_error() -> None:
    X, y = _pool()
    with pytest.raises(ConfigError, match=r"needs class probabilities.*LinearSVC"):
        ActiveLearner(None, LinearSVC(), "entropy", features=X, classes=CLASSES)
    with pytest.raises(ConfigError, match=r"needs class probabilities.*LinearSVC"):
        ActiveLearner(
            None,
            LinearSVC(),
            "subsample",
            strategy_params={"base": "margin", "size": 50},
            features=X,
            classes=CLASSES,
        )
    plain = ActiveLearner(None, LinearSVC(), "random", features=X, classes=CLASSES)
    plain.teach([0, 60, 120], ["red", "green", "blue"])
    assert len(plain.predict(X[:4])) == 4
    with pytest.raises(ConfigError, match="no predict_proba; use predict"):
        plain.predict_proba(X[:4])
    with pytest.raises(ConfigError, match="needs class probabilities"):
        plain.query(3, strategy="margin")
    first = np.r_[0:3, 60:63, 120:123]
    for strategy in ("kcenter", "random", get_strategy("committee", disagreement="vote")):
        ok = ActiveLearner(None, LinearSVC(), strategy, features=X, classes=CLASSES)
        ok.teach(first, [CLASSES[c] for c in y[first]])
        assert len(ok.query(5)) == 5


def test_everything_labeled_then_nothing_to_query() -> None:
    X, y = _pool(n_per=3)
    learner = ActiveLearner(None, LogisticRegression(), "margin", features=X, classes=CLASSES)
    learner.teach(np.arange(9), [CLASSES[c] for c in y])
    with pytest.raises(LittleDataError, match="nothing to query"):
        learner.query(1)


def test_save_and_resume_gives_the_same_next_query(tmp_path) -> None:  # type: ignore[no-untyped-def]
    X, y = _pool()
    learner = _learner("committee", seed=7)
    _run(learner, y, rounds=3, batch=6)
    path = learner.save(tmp_path / "session.json")
    state = json.loads(path.read_text())
    assert state["format"] == "littledata-active-learner"
    assert len(state["labeled"]) == 18 and len(state["history"]) == 3
    # a registered head (logreg-default's class), by name: no dotted path in the file
    assert state["head"]["class"] == "logreg-default"
    assert state["head"]["params"]["max_iter"] == 200
    assert not list(tmp_path.glob(".*tmp"))  # atomic write left no temporary file

    resumed = ActiveLearner.load(path, features=X)
    assert resumed.labeled_indices.tolist() == learner.labeled_indices.tolist()
    assert resumed.labels == learner.labels
    assert resumed.history == learner.history
    assert resumed.strategy == learner.strategy
    expected = learner.query(6)
    assert resumed.query(6).tolist() == expected.tolist()
    np.testing.assert_allclose(resumed.predict_proba(X[:5]), learner.predict_proba(X[:5]))

    with pytest.raises(DataFormatError, match="sha256"):
        ActiveLearner.load(path, features=X + 1.0)
    with pytest.raises(ConfigError, match="no texts"):
        ActiveLearner.load(path)


def test_load_rejects_files_that_are_not_sessions(tmp_path) -> None:  # type: ignore[no-untyped-def]
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DataFormatError, match="invalid JSON"):
        ActiveLearner.load(bad)
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"format": "something else"}))
    with pytest.raises(DataFormatError, match="not an ActiveLearner session"):
        ActiveLearner.load(other)
    with pytest.raises(DataFormatError, match="No saved session"):
        ActiveLearner.load(tmp_path / "missing.json")


class _ThreadProbe(LogisticRegression):
    """Records the BLAS thread counts it ran under."""

    def fit(self, X, y, sample_weight=None):  # type: ignore[no-untyped-def]
        from threadpoolctl import threadpool_info

        self.threads_seen_ = {i["num_threads"] for i in threadpool_info()}
        return super().fit(X, y, sample_weight)


def test_fits_run_single_threaded_by_default_and_the_limit_is_lifted_after() -> None:
    from threadpoolctl import threadpool_info

    X, _y = _pool()
    before = [i["num_threads"] for i in threadpool_info()]
    learner = ActiveLearner(None, _ThreadProbe(), "margin", features=X, classes=CLASSES)
    learner.teach([0, 60, 120], ["red", "green", "blue"])
    assert learner.model.threads_seen_ == {1}
    assert [i["num_threads"] for i in threadpool_info()] == before
    free = ActiveLearner(None, _ThreadProbe(), features=X, classes=CLASSES, threads=None)
    free.teach([0, 60, 120], ["red", "green", "blue"])
    assert free.model.threads_seen_ == set(before)


def test_logreg_searches_c_again_only_as_the_labels_grow_and_resume_keeps_that(tmp_path) -> None:  # type: ignore[no-untyped-def]
    X, y = _pool()
    learner = ActiveLearner(None, "logreg", "margin", features=X, classes=CLASSES, seed=2)
    first = np.r_[0:4, 60:64, 120:124]
    learner.teach(first, [CLASSES[c] for c in y[first]])
    _run(learner, y, rounds=6, batch=2)
    tuned = [h["n_labeled"] for h in learner.history if h["head_tuned"]]
    assert tuned == [12, 16, 20]  # 12 labels, then once they grew by 25%: 16 (>= 15), 20 (>= 20)
    assert learner.search_state == {"C": learner.model.C_, "n_rows": 20}
    path = learner.save(tmp_path / "s.json")
    resumed = ActiveLearner.load(path, features=X)
    assert resumed.query(4).tolist() == learner.query(4).tolist()
    every = ActiveLearner(None, "logreg", features=X, classes=CLASSES, retune_growth=0)
    every.teach(first, [CLASSES[c] for c in y[first]])
    _run(every, y, rounds=3, batch=2)
    assert all(h["head_tuned"] for h in every.history)


def test_the_learner_tells_a_class_count_strategy_the_size_of_the_label_set() -> None:
    # six far-apart blobs, one per class; two classes labeled. typiclust-margin with one label
    # per class stays typical until 6 labels, so it must know there are six classes: its next
    # four picks are the middles of the four blobs nobody has labeled yet.
    rng = np.random.default_rng(0)
    X = np.vstack([rng.normal(3.0 * c, 0.3, size=(30, 2)) for c in range(6)])
    y = np.repeat(np.arange(6), 30)
    names = [f"c{c}" for c in range(6)]
    learner = ActiveLearner(
        None,
        LogisticRegression(max_iter=2000),
        get_strategy("typiclust-margin", per_class=1),
        features=X,
        classes=names,
    )
    learner.teach([0, 30], ["c0", "c1"])
    picked = learner.query(4)
    assert sorted(y[picked].tolist()) == [2, 3, 4, 5]
    learner.teach(picked, [names[c] for c in y[picked]])
    margin = get_strategy("cluster-margin").query_features(
        learner.model,
        X,
        learner.labeled_indices,
        learner.unlabeled_indices,
        learner.label_codes,
        3,
        seed=np.random.default_rng([0, learner.round]),
    )
    assert learner.query(3).tolist() == margin.tolist()  # 6 labels: cluster-margin now


@pytest.mark.parametrize("strategy", ["typiclust", "typiclust-margin"])
def test_a_resumed_session_clusters_the_pool_as_before(tmp_path, strategy: str) -> None:  # type: ignore[no-untyped-def]
    # the clustering is not saved: a resumed session must compute the same one again
    X, y = _pool()
    learner = _learner(
        get_strategy(strategy, **({"per_class": 10} if "margin" in strategy else {}))
    )
    _run(learner, y, rounds=2, batch=4)  # 8 labels of 3 classes: typiclust-margin still typical
    resumed = ActiveLearner.load(learner.save(tmp_path / "s.json"), features=X)
    assert resumed.query(5).tolist() == learner.query(5).tolist()


def test_skip_pending_and_undo_and_they_survive_a_save(tmp_path) -> None:  # type: ignore[no-untyped-def]
    X, y = _pool()
    learner = ActiveLearner(None, "logreg", "margin", features=X, classes=CLASSES, seed=1)
    first = learner.query(6)  # no labels yet: a cold-start batch, handed out
    assert learner.pending == first.tolist()
    with pytest.raises(DataFormatError, match="not handed out"):
        learner.teach([int(np.setdiff1d(np.arange(len(X)), first)[0])], ["red"], only_pending=True)
    learner.teach(first[:4], [CLASSES[c] for c in y[first[:4]]], only_pending=True)
    learner.skip(first[4:5])
    assert learner.pending == first[5:].tolist() and learner.skipped == [int(first[4])]
    with pytest.raises(DataFormatError, match="not handed out"):
        learner.skip(first[4:5])  # skipped already
    assert int(first[4]) not in learner.unlabeled_indices.tolist()  # queries stop offering it
    for _ in range(3):
        idx = learner.query(5)
        assert int(first[4]) not in idx.tolist()
        learner.teach(idx, [CLASSES[c] for c in y[idx]], only_pending=True)
    row, label = learner.undo()
    assert row == int(idx[-1]) and label == CLASSES[y[row]] and row in learner.pending
    assert learner.n_labeled == 18

    path = learner.save(tmp_path / "s.json")
    state = json.loads(path.read_text())
    assert state["version"] == 2 and [int(first[4]), 0] in state["skipped"]
    again = ActiveLearner.load(path, features=X)
    assert again.pending == learner.pending and again.skipped == learner.skipped
    assert again.labels == learner.labels and again.search_state == learner.search_state
    assert again.query(4).tolist() == learner.query(4).tolist()
    learner.unskip()
    assert int(first[4]) in learner.unlabeled_indices.tolist()


def test_a_format_1_session_file_still_loads(tmp_path) -> None:  # type: ignore[no-untyped-def]
    X, y = _pool()
    learner = ActiveLearner(None, "logreg", "margin", features=X, classes=CLASSES, seed=2)
    learner.teach(np.r_[0:4, 60:64, 120:124], [CLASSES[c] for c in y[np.r_[0:4, 60:64, 120:124]]])
    _run(learner, y, rounds=2, batch=3)
    state = learner.state()
    search = state.pop("search")
    state.update(version=1, tuned={"C": search["C"], "n_labeled": search["n_rows"]})
    for key in ("pending", "skipped"):
        state.pop(key)
    path = tmp_path / "old.json"
    path.write_text(json.dumps(state))
    old = ActiveLearner.load(path, features=X)
    assert old.search_state == learner.search_state and old.pending == []
    assert old.query(3).tolist() == learner.query(3).tolist()


def test_the_learner_hands_its_strategy_a_query_context() -> None:
    from littledata.active.strategies import QueryContext, QueryStrategy

    X, _ = _pool()
    seen: list[QueryContext] = []

    class Recorder(QueryStrategy):
        def _query(self, ctx: QueryContext) -> np.ndarray:
            seen.append(ctx)
            return ctx.unlabeled[: ctx.n]

    learner = _learner(Recorder())  # type: ignore[arg-type]
    learner.teach([0, 60, 120], ["red", "green", "blue"])
    picked = learner.query(4)
    (ctx,) = seen
    assert picked.tolist() == ctx.unlabeled[:4].tolist()
    assert ctx.model is learner.model and ctx.n_classes == 3 and ctx.task == "single-label"
    assert ctx.labeled.tolist() == [0, 60, 120] and ctx.y.tolist() == [0, 1, 2]
    assert ctx.n_pool == len(X) and ctx.pool_features() is learner.features
    np.testing.assert_array_equal(ctx.proba(np.array([5])), learner.predict_proba(X[[5]]))
