"""Heads that fine-tune their encoder (``setfit``, ``finetune``) as the active learner's head.

Fast tests build learners over made-up texts with made-up frozen features (no model loaded) and
check the refusals; the integration tests fine-tune the packaged MiniLM for a step or two.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from littledata.active import ActiveLearner
from littledata.active.tuned import query_view, refuse_in_label_app
from littledata.errors import ConfigError, DataFormatError
from littledata.heads.tuned import LinearSoftmax

GOOD = [
    "a great film, loved it", "wonderful acting and a moving story", "brilliant and funny",
    "one of the best movies this year", "I enjoyed every minute of it", "superb direction",
    "a clever script and a warm heart", "the cast is delightful", "pure joy from start to end",
    "beautiful images and music", "a triumph", "funny, smart and kind", "I would see it again",
    "a moving, lovely story", "the best comedy in years",
]  # fmt: skip
BAD = [
    "a dull, boring film", "awful acting and a silly plot", "I hated it from the first scene",
    "the worst movie this year", "a waste of two hours", "terrible, tedious and far too long",
    "a mess of a script", "the cast looks bored", "painful to sit through", "ugly and loud",
    "a disaster", "not funny at all", "I walked out", "a lazy, cynical sequel",
    "the worst comedy in years",
]  # fmt: skip
TEXTS = GOOD + BAD
TRUTH = ["good"] * len(GOOD) + ["bad"] * len(BAD)
TINY = {"setfit": {"iterations": 1, "max_pairs": 16}, "finetune": {"epochs": 1, "max_steps": 2}}


def _learner(head: str = "setfit", **kwargs: object) -> ActiveLearner:
    """A learner over TEXTS with made-up frozen features (nothing is featurized)."""
    features = np.random.default_rng(0).normal(size=(len(TEXTS), 8))
    options = {"texts": TEXTS, "features": features, "classes": ["bad", "good"], **kwargs}
    return ActiveLearner("minilm", head, "margin", head_params=TINY[head], **options)  # type: ignore[arg-type]


@pytest.mark.parametrize("head", ["setfit", "finetune"])
def test_a_text_head_needs_texts_a_tunable_featurizer_and_single_labels(head: str) -> None:
    features = np.zeros((len(TEXTS), 4))
    with pytest.raises(ConfigError, match="given as features only"):
        ActiveLearner("minilm", head, "margin", features=features, classes=["bad", "good"])
    with pytest.raises(ConfigError, match=r"cannot be fine-tuned: .*static"):
        ActiveLearner("glove50", head, "margin", texts=TEXTS, classes=["bad", "good"])
    for task in ("multi-label", "sequence-labeling"):
        with pytest.raises(ConfigError, match=f"handles for single-label pools only, not {task}"):
            ActiveLearner("minilm", head, "margin", texts=TEXTS, classes=["a", "b"], task=task)
    with pytest.raises(ConfigError, match=r"not head_params\[.encoder.\]"):
        ActiveLearner(
            "minilm", head, "margin", texts=TEXTS, features=features, classes=["bad", "good"],
            head_params={"encoder": "mpnet"},
        )  # fmt: skip
    with pytest.raises(ConfigError, match=r"labeling app .* fine-tunes its encoder"):
        refuse_in_label_app(head)
    refuse_in_label_app("logreg")  # a head on features is welcome


def test_the_labeling_app_refuses_a_text_head_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from _cli import run_main

    monkeypatch.setenv("LITTLEDATA_HOME", str(tmp_path / "home"))
    data = tmp_path / "reviews.csv"
    data.write_text("text\n" + "\n".join(TEXTS) + "\n", encoding="utf-8")
    args = ["label", "serve", str(data), "--labels", "bad,good", "--head", "finetune"]
    code, _out, err = run_main([*args, "--port", "38517"], capsys)
    assert code == 2 and "Traceback" not in err
    assert err.strip().splitlines()[-1].startswith("Error: The labeling app refits its model")
    assert not (tmp_path / "home" / "labels.sqlite").exists()  # refused before any work


def test_a_labeling_session_refuses_a_text_head(tmp_path: Path) -> None:
    from littledata.label_app.session import LabelSession
    from littledata.label_app.store import LabelStore

    store = LabelStore(f"sqlite:///{tmp_path / 'l.sqlite'}")
    with pytest.raises(ConfigError, match="labeling app refits its model"):
        LabelSession(store, ["bad", "good"], texts=TEXTS, head="setfit", use_process=False)


def test_before_two_classes_the_prior_predicts_texts_and_export_is_refused(tmp_path: Path) -> None:
    learner = _learner()
    first = learner.query(4)  # the cold start, on the frozen features
    assert learner.history[-1]["strategy"] == "cold-start"
    learner.teach(first[:1], ["good"])
    assert np.allclose(learner.predict_proba(["a new text"]), [[0.0, 1.0]])
    with pytest.raises(ConfigError, match="texts, not feature rows"):
        learner.predict_proba(np.zeros((2, 8)))
    with pytest.raises(DataFormatError, match="not a single string"):
        learner.predict("a new text")
    with pytest.raises(ConfigError, match="fine-tunes its encoder is not built"):
        learner.export(tmp_path / "model")


def test_a_saved_session_with_a_text_head_resumes(tmp_path: Path) -> None:
    learner = _learner("finetune")
    learner.teach([0, len(GOOD)], ["good", "bad"])
    path = learner.save(tmp_path / "session.json")
    with pytest.raises(ConfigError, match="given as features only"):  # it kept no texts
        ActiveLearner.load(path, features=learner.features)
    again = ActiveLearner.load(path, texts=TEXTS, features=learner.features)
    assert again.head == "finetune" and again.tuned and again.head_params == TINY["finetune"]
    assert again.labels == ["good", "bad"]


def test_linear_softmax_refits_as_a_logistic_regression() -> None:
    from sklearn.base import clone
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 5)), np.array([0, 1] * 20)
    for labels in (y, np.arange(40) % 3):  # two classes: the sigmoid as a softmax
        model = clone(LinearSoftmax.from_weights(np.zeros((2, 5)), np.zeros(2), [0, 1]))
        expected = LogisticRegression(max_iter=1000).fit(X, labels).predict_proba(X)
        assert np.allclose(model.fit(X, labels).predict_proba(X), expected, atol=1e-8)


@pytest.mark.integration
@pytest.mark.model
@pytest.mark.parametrize("head", ["setfit", "finetune"])
def test_queries_read_the_tuned_embeddings_and_the_heads_probabilities(head: str) -> None:
    learner = _learner(head, seed=1)
    learner.teach([0, 1, len(GOOD), len(GOOD) + 1], ["good", "good", "bad", "bad"])
    picked = learner.query(4)
    assert learner.history[-1]["strategy"] == "margin" and learner.history[-1]["fit_seconds"] > 0
    tuned = learner.model
    assert type(tuned).__name__ in ("SetFitHead", "FineTuneHead")
    clf, emb = query_view(learner, tuned)
    assert emb.shape == (len(TEXTS), 384) and not np.allclose(emb[:, :8], learner.features)
    expected = tuned.predict_proba(np.asarray(TEXTS, dtype=object))
    np.testing.assert_allclose(clf.predict_proba(emb), expected, atol=1e-5)
    np.testing.assert_allclose(learner.predict_proba(), expected, atol=1e-5)  # the pool's texts
    assert learner.predict(TEXTS[:2]) == [["bad", "good"][i] for i in expected[:2].argmax(1)]
    # strategies that cluster or refit members on the features: the same embeddings, no refit
    for strategy in ("cluster-margin", "committee"):
        more = learner.query(3, strategy=strategy)
        assert len(set(more)) == 3 and not set(more) & set(learner.labeled_indices)
        assert learner.history[-1]["fit_seconds"] == 0.0
        assert query_view(learner, learner.model)[1] is emb
    learner.teach(picked, [TRUTH[i] for i in picked])
    learner.query(2)
    assert learner.model is not tuned and learner.history[-1]["fit_seconds"] > 0


def test_the_simulation_checks_a_text_head_before_any_work() -> None:
    from littledata.active.simulate import simulate

    with pytest.raises(ConfigError, match=r"cannot be fine-tuned: .*static"):
        simulate("trec", ["margin"], featurizer="glove50", head="setfit", mirror="/nonexistent")
    with pytest.raises(ConfigError, match="has no parameter 'no_such'"):
        simulate("trec", ["margin"], head="finetune", head_params={"no_such": 1})


@pytest.mark.integration
@pytest.mark.model
def test_a_simulation_fine_tunes_on_the_pool_texts() -> None:
    from littledata.active.loop import ActiveTask
    from littledata.active.simulate import simulate

    rng = np.random.default_rng(0)
    y = np.array([int(t == "good") for t in TRUTH])
    test = [1, 2, 20, 21, 14, 29]
    task = ActiveTask(
        "made-up", "minilm", ["bad", "good"], rng.normal(size=(30, 8)), y,
        rng.normal(size=(len(test), 8)), y[test], {"task": "single-label"},
        texts_pool=np.asarray(TEXTS, dtype=str), texts_test=np.asarray(TEXTS, dtype=str)[test],
    )  # fmt: skip
    result = simulate(
        task, ["margin"], head="finetune", head_params=TINY["finetune"], init=4, batch=2,
        budget=6, seeds=1, stop_set_size=10,
    )  # fmt: skip
    frame = result.frame
    runs = frame[frame["role"] == "run"]
    assert sorted(runs.loc[runs["metric"] == "accuracy", "x"]) == [4.0, 6.0]
    assert (runs.loc[runs["metric"] == "fit_seconds", "value"] > 0).all()
    assert frame.loc[frame["role"] == "reference", "value"].between(0, 1).all()
