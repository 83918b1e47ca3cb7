"""Train a model for use: cross-validate the head on the training rows, then fit it on them all.

:func:`cross_validate_head` measures what a head gets from a featurizer's features before the
model is deployed: accuracy and macro-F1 over stratified folds (mean and standard deviation) and
the pairs of classes the out-of-fold predictions confuse most. :func:`train_text_classifier` does
that and fits a :class:`~littledata.models.TextClassifier` on every row; the metrics go into the
saved model's manifest (``metrics``), where ``littledata train`` and ``GET /v1/models`` show them.

>>> from littledata.models.training import train_text_classifier
>>> texts = ["great film", "loved it", "awful film", "hated it"] * 5
>>> labels = ["pos", "pos", "neg", "neg"] * 5
>>> model = train_text_classifier(texts, labels, featurizer="tfidf", head="logreg", folds=3)
>>> model.metrics_["cv"]["folds"], round(model.metrics_["cv"]["accuracy_mean"], 2)
(3, 1.0)
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from littledata.errors import ConfigError
from littledata.models.classifier import TextClassifier
from littledata.models.head import HeadClassifier

__all__ = ["confused_pairs", "cross_validate_head", "train_text_classifier"]


def confused_pairs(
    y_true: Sequence[Any], y_pred: Sequence[Any], classes: Sequence[Any], top: int = 3
) -> list[dict[str, Any]]:
    """The ``top`` pairs of classes most often mistaken for each other (either way round).

    Each pair is ``{"a", "b", "a_as_b", "b_as_a"}``: how many rows of class ``a`` were predicted
    ``b`` and the reverse; pairs never confused are left out; most confused first.

    >>> confused_pairs(["x", "x", "y", "z"], ["y", "x", "x", "z"], ["x", "y", "z"])
    [{'a': 'x', 'b': 'y', 'a_as_b': 1, 'b_as_a': 1}]
    """
    from sklearn.metrics import confusion_matrix

    labels = list(classes)
    matrix = confusion_matrix(list(y_true), list(y_pred), labels=labels)
    pairs = []
    for i in range(len(labels)):
        for j in range(i + 1, len(labels)):
            total = int(matrix[i, j] + matrix[j, i])
            if total:
                pairs.append((total, i, j))
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    return [
        {
            "a": _plain(labels[i]),
            "b": _plain(labels[j]),
            "a_as_b": int(matrix[i, j]),
            "b_as_a": int(matrix[j, i]),
        }
        for _, i, j in pairs[:top]
    ]


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _check_folds(folds: Any) -> None:
    if isinstance(folds, bool) or not isinstance(folds, int) or folds < 2:
        raise ConfigError(f"folds must be an integer of 2 or more (--folds); got {folds!r}")


def _rows(X: Any, idx: np.ndarray) -> Any:
    return X[idx] if hasattr(X, "shape") else np.asarray(X, dtype=object)[idx]


def cross_validate_head(
    head: HeadClassifier, X: Any, y: Any, *, folds: int = 5, seed: int = 0
) -> dict[str, Any] | None:
    """Stratified ``folds``-fold cross-validation of ``head`` (cloned per fold) on features ``X``.

    The number of folds is capped by the smallest class's count; with fewer than two rows in
    some class there is nothing to hold out and the result is ``None``.

    Returns
    -------
    dict or None
        ``folds``, ``rows``, ``seed``, ``accuracy_mean``, ``accuracy_std``, ``macro_f1_mean``,
        ``macro_f1_std`` (over folds) and ``confused_pairs`` (:func:`confused_pairs` of the
        out-of-fold predictions).
    """
    from sklearn.base import clone
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    _check_folds(folds)
    y = np.asarray(y)
    classes, counts = np.unique(y, return_counts=True)
    k = min(folds, int(counts.min())) if len(classes) > 1 else 0
    if k < 2:
        return None
    splitter = StratifiedKFold(n_splits=k, shuffle=True, random_state=seed)
    predicted = np.empty(len(y), dtype=y.dtype)
    accuracy, macro_f1 = [], []
    for train, test in splitter.split(np.zeros(len(y)), y):
        model = clone(head).fit(_rows(X, train), y[train])
        pred = np.asarray(model.predict(_rows(X, test)))
        predicted[test] = pred
        accuracy.append(accuracy_score(y[test], pred))
        macro_f1.append(f1_score(y[test], pred, labels=classes, average="macro", zero_division=0))
    return {
        "folds": k,
        "rows": len(y),
        "seed": seed,
        "accuracy_mean": float(np.mean(accuracy)),
        "accuracy_std": float(np.std(accuracy)),
        "macro_f1_mean": float(np.mean(macro_f1)),
        "macro_f1_std": float(np.std(macro_f1)),
        "confused_pairs": confused_pairs(y, predicted, classes),
    }


def evaluate(model: TextClassifier, texts: Sequence[str], labels: Any) -> dict[str, Any]:
    """Accuracy, macro-F1 and the most confused pairs of ``model`` on held-out rows."""
    from sklearn.metrics import accuracy_score, f1_score

    from littledata.labels import named

    y = np.asarray(named(labels))
    pred = np.asarray(model.predict(list(texts)))
    classes = model.classes_
    return {
        "rows": len(y),
        "accuracy": float(accuracy_score(y, pred)),
        "macro_f1": float(f1_score(y, pred, labels=classes, average="macro", zero_division=0)),
        "confused_pairs": confused_pairs(y, pred, classes),
    }


def train_text_classifier(
    texts: Sequence[str],
    labels: Any,
    *,
    featurizer: Any = "minilm",
    head: str = "logreg",
    head_params: Mapping[str, Any] | None = None,
    resampling: str | None = None,
    featurizer_options: Mapping[str, Any] | None = None,
    folds: int = 5,
    seed: int = 0,
    test: tuple[Sequence[str], Any] | None = None,
    data: Mapping[str, Any] | None = None,
) -> TextClassifier:
    """Cross-validate a featurizer + head on ``texts`` and ``labels``, then fit it on them all.

    Parameters
    ----------
    texts, labels : the training rows.
    featurizer, head, head_params, resampling, featurizer_options : as for
        :class:`~littledata.models.TextClassifier`.
    folds : int, default=5
        Stratified folds of the cross-validation (capped by the smallest class's count).
    seed : int, default=0
        Seed of the folds and of the head.
    test : (texts, labels) or None
        Held-out rows to evaluate the fitted model on as well (a file's test split).
    data : dict or None
        Where the rows came from (e.g. ``{"source": "questions.csv"}``), kept in the manifest's
        ``training_data``.

    Returns
    -------
    TextClassifier
        Fitted; ``metrics_`` holds ``cv`` (:func:`cross_validate_head`, or None when a class has
        fewer than two rows) and ``test`` (when ``test`` was given). ``save`` writes them into
        the manifest.
    """
    from littledata.features import featurize
    from littledata.heads import HEADS
    from littledata.labels import named

    _check_folds(folds)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"the seed must be an integer of 0 or more; got {seed!r}")
    if head not in HEADS:
        from littledata.errors import unknown_name

        raise unknown_name("head", head, HEADS)
    model = TextClassifier(
        featurizer=featurizer,
        head=head,
        head_params=head_params,
        resampling=resampling,
        random_state=seed,
        featurizer_options=featurizer_options,
    )
    model.fit(texts, labels)  # checks texts and labels; computes (and caches) the features
    X = featurize(list(texts), model._checked_featurizer())  # from the cache
    y = np.asarray(named(labels))
    metrics: dict[str, Any] = {"cv": cross_validate_head(model.head_, X, y, folds=folds, seed=seed)}
    if test is not None:
        metrics["test"] = evaluate(model, test[0], test[1])
    model.metrics_ = metrics
    if data:
        model.training_data_ = {**model.training_data_, **dict(data)}
    return model
