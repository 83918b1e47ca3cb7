"""Metrics against values computed by hand on tiny cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
from sklearn.metrics import brier_score_loss

from littledata.errors import DataFormatError, LittleDataError
from littledata.experiments.metrics import (
    LOG_LOSS_EPS,
    METRIC_NAMES,
    compute_metrics,
    expected_calibration_error,
)

CLASSES = np.array(["a", "b", "c"])
Y = np.array(["a", "b", "c", "a"])
P = np.array(
    [
        [0.7, 0.2, 0.1],  # a: right
        [0.1, 0.6, 0.3],  # b: right
        [0.5, 0.1, 0.4],  # c: wrong (a)
        [0.3, 0.4, 0.3],  # a: wrong (b)
    ]
)


def test_keys():
    assert set(compute_metrics(Y, P, CLASSES)) == set(METRIC_NAMES)


def test_multiclass_by_hand():
    m = compute_metrics(Y, P, CLASSES)
    assert m["accuracy"] == pytest.approx(0.5)
    # per class F1: a: tp1 fp1 fn1 -> 0.5; b: tp1 fp1 fn0 -> 2/3; c: tp0 -> 0
    assert m["macro_f1"] == pytest.approx((0.5 + 2 / 3 + 0) / 3)
    # log loss: -(ln .7 + ln .6 + ln .4 + ln .3) / 4
    assert m["log_loss"] == pytest.approx(-(math.log(0.7 * 0.6 * 0.4 * 0.3)) / 4)
    # brier rows: (.09+.04+.01) (.01+.16+.09) (.25+.01+.36) (.49+.16+.09)
    assert m["brier"] == pytest.approx((0.14 + 0.26 + 0.62 + 0.74) / 4)
    # one-vs-rest AUCs: a: pos {.7,.3} vs neg {.1,.5} -> 3/4; b: pos {.6} vs {.2,.1,.4} -> 1;
    # c: pos {.4} vs {.1,.3,.3} -> 1
    assert m["roc_auc"] == pytest.approx((0.75 + 1 + 1) / 3)
    # MCC from the confusion matrix [[1,1,0],[0,1,0],[1,0,0]] (rows true a,b,c)
    C = np.array([[1, 1, 0], [0, 1, 0], [1, 0, 0]])
    t, p, c, s = C.sum(1), C.sum(0), np.trace(C), C.sum()
    mcc = (c * s - t @ p) / math.sqrt((s**2 - p @ p) * (s**2 - t @ t))
    assert m["mcc"] == pytest.approx(mcc)


def test_ece_by_hand():
    # confidences .7 (right), .6 (right), .5 (wrong), .4 (wrong) fall in 4 separate bins
    # of width 1/15: |1-.7| + |1-.6| + |0-.5| + |0-.4| over 4 rows
    assert expected_calibration_error(Y, P, CLASSES) == pytest.approx((0.3 + 0.4 + 0.5 + 0.4) / 4)
    # one bin: mean confidence .55, accuracy .5
    assert expected_calibration_error(Y, P, CLASSES, n_bins=1) == pytest.approx(0.05)
    # perfectly calibrated: confidence 0.5 and half right
    y2 = np.array([0, 1, 0, 1])
    p2 = np.array([[0.5, 0.5]] * 4)
    assert expected_calibration_error(y2, p2, np.array([0, 1])) == pytest.approx(0.0)
    assert compute_metrics(Y, P, CLASSES)["ece"] == pytest.approx(0.4)


def test_binary_case_and_brier_relation():
    y = np.array([0, 1, 1, 0, 1])
    p1 = np.array([0.2, 0.9, 0.4, 0.6, 0.8])
    proba = np.column_stack([1 - p1, p1])
    m = compute_metrics(y, proba, np.array([0, 1]))
    assert m["accuracy"] == pytest.approx(3 / 5)
    # AUC of the positive class: pairs (pos, neg): .9>.2 .9>.6 .4>.2 .4<.6 .8>.2 .8>.6 -> 5/6
    assert m["roc_auc"] == pytest.approx(5 / 6)
    # our Brier sums both columns: exactly twice sklearn's positive-class Brier score
    assert m["brier"] == pytest.approx(2 * brier_score_loss(y, p1))
    assert m["brier"] == pytest.approx(2 * np.mean((p1 - y) ** 2))


def test_labels_the_head_never_saw():
    classes = np.array(["a", "b"])
    y = np.array(["a", "b", "z"])  # "z" was not in the training sample
    proba = np.array([[0.8, 0.2], [0.3, 0.7], [0.6, 0.4]])
    m = compute_metrics(y, proba, classes)
    assert m["accuracy"] == pytest.approx(2 / 3)  # "z" can never be predicted
    expected_ll = -(math.log(0.8) + math.log(0.7) + math.log(LOG_LOSS_EPS)) / 3
    assert m["log_loss"] == pytest.approx(expected_ll)
    # brier: (.04+.04) + (.09+.09) + (.36+.16 + 1 for the missing "z" column)
    assert m["brier"] == pytest.approx((0.08 + 0.18 + 1.52) / 3)
    # AUC over a and b, "z" a negative for both: a: pos {.8} vs {.3,.6} -> 1; b: {.7} vs {.2,.4}
    assert m["roc_auc"] == pytest.approx(1.0)
    # F1 over labels a, b, z: a has tp 1 and fp 1 (the "z" row) -> 2/3; b -> 1; z -> 0
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1 + 0) / 3)


def test_class_absent_from_test_rows_is_left_out_of_auc():
    classes = np.array([0, 1, 2])
    y = np.array([0, 0, 1, 1])  # class 2 absent: its AUC is undefined
    proba = np.array([[0.6, 0.3, 0.1], [0.5, 0.2, 0.3], [0.2, 0.7, 0.1], [0.4, 0.5, 0.1]])
    assert compute_metrics(y, proba, classes)["roc_auc"] == pytest.approx(1.0)
    single = compute_metrics(np.array([0, 0]), proba[:2], classes)
    assert math.isnan(single["roc_auc"])  # no class has both positives and negatives


def test_confident_mistake_log_loss_is_clipped():
    m = compute_metrics(np.array([1]), np.array([[1.0, 0.0]]), np.array([0, 1]))
    assert m["log_loss"] == pytest.approx(-math.log(LOG_LOSS_EPS))


def test_bad_input():
    with pytest.raises(DataFormatError, match="shape"):
        compute_metrics(Y, P[:, :2], CLASSES)
    with pytest.raises(DataFormatError, match="empty"):
        compute_metrics(Y[:0], P[:0], CLASSES)
    with pytest.raises(DataFormatError, match="NaN"):
        compute_metrics(Y, np.full_like(P, np.nan), CLASSES)


@pytest.mark.parametrize("k", [2, 3, 6, 151])
@pytest.mark.parametrize("seed", [0, 1])
def test_fast_metrics_equal_scikit_learn(k: int, seed: int) -> None:
    """The numpy formulations give scikit-learn's numbers, ties and unseen labels included."""
    from sklearn.metrics import f1_score, matthews_corrcoef, roc_auc_score

    rng = np.random.default_rng(seed)
    n = 400
    classes = np.array([f"c{j:03d}" for j in range(k)])
    y = classes[rng.integers(0, k, n)]
    y[:7] = "never-seen"  # labels the head never saw
    logits = rng.normal(size=(n, k)).round(1)  # rounding makes ties in the rankings
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    got = compute_metrics(y, proba, classes)

    pred = classes[proba.argmax(axis=1)]
    assert got["macro_f1"] == pytest.approx(f1_score(y, pred, average="macro", zero_division=0))
    assert got["mcc"] == pytest.approx(matthews_corrcoef(y, pred))
    aucs = [
        roc_auc_score(y == c, proba[:, j]) for j, c in enumerate(classes) if 0 < (y == c).sum() < n
    ]
    assert got["roc_auc"] == pytest.approx(np.mean(aucs))
    assert got["accuracy"] == pytest.approx(np.mean(pred == y))


def test_one_list_of_metric_names() -> None:
    """Spec validation, the report's labels and the ranking direction all read ``METRICS``."""
    from littledata.experiments import spec
    from littledata.experiments.metrics import KNOWN_METRICS, LOWER_IS_BETTER, METRICS
    from littledata.experiments.results import higher_is_better
    from littledata.report.figures import METRIC_NAMES as LABELS

    assert spec.KNOWN_METRICS == KNOWN_METRICS == tuple(METRICS)
    assert tuple(METRIC_NAMES) == tuple(n for n in METRICS if METRICS[n].score is not None)
    assert set(LABELS) == set(METRICS)
    for name in METRICS:
        assert higher_is_better(name) == (name not in LOWER_IS_BETTER)
        assert higher_is_better(name) != METRICS[name].lower_is_better
    assert {"log_loss", "ece", "brier", "fit_seconds"} <= LOWER_IS_BETTER


def test_a_metric_is_one_registration() -> None:
    """A metric added with ``@metric`` is computed by compute_metrics; a taken name is refused."""
    from littledata.errors import DuplicateNameError
    from littledata.experiments.metrics import METRICS, Scored, metric

    @metric("error_rate_test", label="error rate", lower_is_better=True)
    def _error_rate(s: Scored) -> float:
        return 1.0 - float(np.trace(s.cm) / len(s.y_true))

    try:
        m = compute_metrics(Y, P, CLASSES)
        assert m["error_rate_test"] == pytest.approx(1 - m["accuracy"]) == 0.5
        with pytest.raises(DuplicateNameError, match="metric 'accuracy' is already registered"):
            metric("accuracy", label="again")(_error_rate)
    finally:
        METRICS.remove("error_rate_test")
    assert "error_rate_test" not in compute_metrics(Y, P, CLASSES)


def test_a_subset_of_metrics_equals_the_full_computation_and_sklearn() -> None:
    # the active-learning simulation scores every round with ("accuracy", "macro_f1") only
    from sklearn.metrics import accuracy_score, f1_score

    rng = np.random.default_rng(0)
    for k, n in ((2, 50), (7, 300), (60, 400)):
        proba = rng.dirichlet(np.ones(k) * 0.3, size=n)
        y = rng.integers(0, k, n)
        full = compute_metrics(y, proba, np.arange(k))
        part = compute_metrics(y, proba, np.arange(k), metrics=("macro_f1", "accuracy"))
        assert list(part) == ["macro_f1", "accuracy"]
        assert part == {"macro_f1": full["macro_f1"], "accuracy": full["accuracy"]}
        pred = proba.argmax(axis=1)
        assert part["accuracy"] == accuracy_score(y, pred)
        assert part["macro_f1"] == f1_score(y, pred, average="macro", zero_division=0)
    with pytest.raises(LittleDataError, match="Did you mean: accuracy"):
        compute_metrics(y, proba, np.arange(k), metrics=("acuracy",))
    with pytest.raises(LittleDataError, match="measured by the runner"):
        compute_metrics(y, proba, np.arange(k), metrics=("fit_seconds",))


def test_compute_metrics_gives_plain_floats_printed_rounded() -> None:
    from littledata.experiments.metrics import compute_metrics

    m = compute_metrics(["a", "b", "b"], [[0.8, 0.2], [0.4, 0.6], [0.7, 0.3]], ["a", "b"])
    assert all(type(v) is float for v in m.values())  # not numpy floats
    assert m["accuracy"] == 2 / 3  # full precision kept
    text = repr(m)
    assert "'accuracy': 0.6667" in text and "np." not in text and "666666" not in text
    assert dict(m) == m and str(m) == text
