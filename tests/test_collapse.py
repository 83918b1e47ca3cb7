"""Collapsed predictions: the definition on hand-made predictions, the cross-validated check,
the active learner's warning, and the benchmark trial's flag."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from littledata.experiments.collapse import (
    check_collapse,
    cross_validated_collapse,
    warn_if_collapsed,
)


def test_collapse_on_hand_made_predictions() -> None:
    truth = ["ham"] * 80 + ["spam"] * 20
    # everything "ham": collapsed, whatever the accuracy (0.80 here)
    c = check_collapse(truth, ["ham"] * 100)
    assert c.collapsed and c.label == "ham" and c.predicted_share == 1.0
    assert c.true_share == pytest.approx(0.8) and c.n_rows == 100
    assert c.describe() == "100% of 100 rows predicted 'ham' (truly 80%)"
    # exactly 95% of the predictions one class counts; 94% does not
    assert check_collapse(truth, ["ham"] * 95 + ["spam"] * 5).collapsed
    assert not check_collapse(truth, ["ham"] * 94 + ["spam"] * 6).collapsed
    # a collapse onto the minority class is one too
    minority = check_collapse(truth, ["spam"] * 100)
    assert minority.collapsed and minority.label == "spam" and minority.true_share == 0.2


def test_no_collapse_when_the_rows_truly_are_one_class() -> None:
    # 90% truly "a" (10% others): predicting "a" everywhere still collapses ...
    assert check_collapse([0] * 90 + [1] * 10, [0] * 100).collapsed
    # ... but with 91% truly "a", 96% "a" predictions may be right: no flag
    assert not check_collapse([0] * 91 + [1] * 9, [0] * 96 + [1] * 4).collapsed
    # several classes, none of them dominant, predicted as one: collapsed
    assert check_collapse([0, 1, 2, 3] * 25, [2] * 100).collapsed
    # a test set of one class only can never show a collapse
    assert not check_collapse([1] * 50, [1] * 50).collapsed


def test_collapse_input_checks_and_empty_predictions() -> None:
    assert not check_collapse([], []).collapsed
    with pytest.raises(ValueError, match="same length"):
        check_collapse([0, 1], [0])
    with pytest.raises(ValueError, match="1-D"):
        check_collapse([[0, 1]], [[0, 1]])


def _imbalanced(n: int, minority: float, signal: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < minority).astype(int)
    X = rng.normal(size=(n, 5))
    X[:, 0] += signal * y
    return X, y


def test_cross_validated_collapse_sees_a_majority_class_model() -> None:
    X, y = _imbalanced(60, 0.25, 4.0, seed=0)
    majority = cross_validated_collapse(DummyClassifier(strategy="most_frequent"), X, y)
    assert majority is not None and majority.collapsed and majority.label == 0
    assert majority.n_rows == 60
    fair = cross_validated_collapse(LogisticRegression(), X, y)
    assert fair is not None and not fair.collapsed
    # too few rows, or too few classes with two rows, to cross-validate: no verdict
    assert cross_validated_collapse(DummyClassifier(), X[:9], y[:9]) is None
    assert cross_validated_collapse(DummyClassifier(), X[:12], np.r_[np.zeros(11), 1]) is None


def test_warn_if_collapsed_logs_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    X, y = _imbalanced(60, 0.25, 4.0, seed=1)
    logger = logging.getLogger("littledata.test")
    with caplog.at_level(logging.WARNING, logger="littledata.test"):
        check = warn_if_collapsed(
            DummyClassifier(strategy="most_frequent"), X, y, what="My model", logger=logger
        )
    assert check is not None and check.collapsed
    assert len(caplog.records) == 1
    message = caplog.records[0].getMessage()
    assert message.startswith("My model predicts one class for nearly everything")
    assert "resampling='class_weight'" in message
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="littledata.test"):
        warn_if_collapsed(LogisticRegression(), X, y, logger=logger)
    assert not caplog.records


def test_active_learner_warns_when_its_model_collapses(caplog: pytest.LogCaptureFixture) -> None:
    from littledata.active.learner import ActiveLearner

    X, y = _imbalanced(200, 0.2, 4.0, seed=2)
    labeled = np.arange(40)
    learner = ActiveLearner(
        None, DummyClassifier(strategy="most_frequent"), "random", features=X, classes=[0, 1]
    )
    learner.teach(labeled, y[labeled])
    with caplog.at_level(logging.WARNING, logger="littledata.active.learner"):
        learner.fit()
    assert learner.collapse_ is not None and learner.collapse_.collapsed
    assert any(
        "active learner's model predicts one class" in r.getMessage() for r in caplog.records
    )
    caplog.clear()
    learner = ActiveLearner(None, LogisticRegression(), "random", features=X, classes=[0, 1])
    learner.teach(labeled, y[labeled])
    with caplog.at_level(logging.WARNING, logger="littledata.active.learner"):
        learner.fit()
    assert learner.collapse_ is not None and not learner.collapse_.collapsed
    assert not caplog.records
    off = ActiveLearner(
        None, DummyClassifier(strategy="most_frequent"), "random", features=X, classes=[0, 1],
        collapse_check=False,
    )  # fmt: skip
    off.teach(labeled, y[labeled])
    off.fit()
    assert off.collapse_ is None


def test_benchmark_trial_records_top_share_and_the_collapse_flag() -> None:
    from littledata.experiments.trials import run_trial

    X_pool, y_pool = _imbalanced(300, 0.15, 0.0, seed=3)  # no signal: only the prior to learn
    X_test, y_test = _imbalanced(200, 0.15, 0.0, seed=4)
    out = run_trial(
        X_pool, y_pool, X_test, y_test, head="logreg", input_kind="dense", size=40,
        resampling="none",
    )  # fmt: skip
    expected = check_collapse(y_test, np.zeros_like(y_test))
    assert out["collapsed"] == 1.0 and out["top_pred_share"] >= 0.95
    assert out["accuracy"] == pytest.approx(1 - y_test.mean()) == pytest.approx(expected.true_share)
