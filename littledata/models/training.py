"""Train a model for use: cross-validate the head on the training rows, then fit it on them all.

:func:`cross_validate_head` measures what a head gets from a featurizer's features before the
model is deployed: accuracy and macro-F1 over stratified folds (mean and standard deviation) and
the pairs of classes the out-of-fold predictions confuse most; :func:`cross_validate_multilabel`
measures micro- and macro-F1 and subset accuracy of a multi-label head (thresholds tuned inside
each fold) and each label's out-of-fold F1. :func:`train_model` does that for a model of any task
(:data:`~littledata.models.MODEL_CLASSES`: single labels, sentence pairs, multi-label) and fits it
on every row; :func:`train_text_classifier` is the single-label case. The metrics go into the
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

__all__ = [
    "confused_pairs",
    "cross_validate_head",
    "cross_validate_multilabel",
    "cross_validate_tagger",
    "train_model",
    "train_text_classifier",
]


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


_ML_METRICS = ("micro_f1", "macro_f1", "subset_accuracy")


def cross_validate_multilabel(
    head: Any, X: Any, Y: Any, *, folds: int = 5, seed: int = 0, names: Sequence[Any] = ()
) -> dict[str, Any] | None:
    """``folds``-fold cross-validation (shuffled, seeded) of the multi-label ``head`` (a
    :class:`~littledata.models.MultiLabelHead`, cloned per fold: each fold tunes its own
    thresholds) on features ``X`` and the 0/1 matrix ``Y``.

    Returns
    -------
    dict or None
        ``folds``, ``rows``, ``seed``, the mean and standard deviation over folds of
        ``micro_f1``, ``macro_f1`` and ``subset_accuracy`` (``micro_f1_mean`` ...), and
        ``label_f1``: each label's F1 over the out-of-fold predictions (``names``, else the
        column numbers); None with fewer than two rows.
    """
    from sklearn.base import clone
    from sklearn.model_selection import KFold

    from littledata.tasks.multi_label import multilabel_scores

    _check_folds(folds)
    Y = np.asarray(Y)
    k = min(folds, len(Y))
    if k < 2:
        return None
    predicted = np.zeros_like(Y, dtype=np.uint8)
    per_fold: dict[str, list[float]] = {m: [] for m in _ML_METRICS}
    for train, test in KFold(k, shuffle=True, random_state=seed).split(np.zeros(len(Y))):
        model = clone(head).fit(_rows(X, train), Y[train])
        proba = np.asarray(model.predict_proba(_rows(X, test)))
        pred = model.predict_from_proba(proba)
        predicted[test] = pred
        for metric, value in multilabel_scores(Y[test], pred, proba, _ML_METRICS).items():
            per_fold[metric].append(value)
    t, p = Y.astype(bool), predicted.astype(bool)
    denom = t.sum(axis=0) + p.sum(axis=0)
    f1 = np.where(denom > 0, 2 * (t & p).sum(axis=0) / np.maximum(denom, 1), 1.0)
    labels = list(names) if len(names) else list(range(Y.shape[1]))
    out: dict[str, Any] = {"folds": k, "rows": len(Y), "seed": seed}
    for metric, values in per_fold.items():
        out[f"{metric}_mean"] = float(np.mean(values))
        out[f"{metric}_std"] = float(np.std(values))
    out["label_f1"] = {str(_plain(n)): float(v) for n, v in zip(labels, f1, strict=True)}
    return out


_TAG_METRICS = ("entity_f1", "entity_precision", "entity_recall", "token_accuracy")


def cross_validate_tagger(
    head: Any,
    X: Any,
    lengths: Sequence[int],
    tags: Sequence[Sequence[Any]],
    *,
    folds: int = 5,
    seed: int = 0,
) -> dict[str, Any] | None:
    """``folds``-fold cross-validation (shuffled, seeded) over sentences of the token ``head``
    (cloned per fold) on flat word features ``X`` of sentences of ``lengths`` words and their
    ``tags``: the mean and standard deviation of strict entity F1, precision, recall (seqeval)
    and token accuracy (``entity_f1_mean`` ...); None with fewer than two sentences."""
    from sklearn.base import clone
    from sklearn.model_selection import KFold

    from littledata.tasks.sequence_labeling import entity_scores

    _check_folds(folds)
    k = min(folds, len(lengths))
    if k < 2:
        return None
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    flat = np.asarray([t for sentence in tags for t in sentence])

    def rows(idx: np.ndarray) -> np.ndarray:
        return np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in idx])

    per_fold: dict[str, list[float]] = {m: [] for m in _TAG_METRICS}
    for train, test in KFold(k, shuffle=True, random_state=seed).split(np.zeros(len(lengths))):
        model = clone(head).fit(X[rows(train)], flat[rows(train)])
        pred = np.asarray(model.predict(X[rows(test)]))
        cuts = np.cumsum([lengths[i] for i in test])[:-1]
        predicted = [p.tolist() for p in np.split(pred, cuts)]
        scores = entity_scores([list(tags[i]) for i in test], predicted)
        for metric in _TAG_METRICS:
            per_fold[metric].append(scores[metric])
    out: dict[str, Any] = {"folds": k, "rows": len(lengths), "seed": seed}
    for metric, values in per_fold.items():
        out[f"{metric}_mean"] = float(np.mean(values))
        out[f"{metric}_std"] = float(np.std(values))
    return out


def evaluate(model: TextClassifier, X: Any, labels: Any) -> dict[str, Any]:
    """Accuracy, macro-F1 and the most confused pairs of ``model`` on held-out rows (micro- and
    macro-F1 and subset accuracy for a multi-label model)."""
    from sklearn.metrics import accuracy_score, f1_score

    if model.TASK == "sequence-labeling":
        from littledata.tasks.sequence_labeling import entity_scores

        scores = entity_scores([list(t) for t in labels], model.predict(X))
        return {"rows": len(labels), **{m: scores[m] for m in _TAG_METRICS}}
    if model.TASK == "multi-label":
        from littledata.models.classifier import plain_labels
        from littledata.models.multilabel_classifier import label_matrix
        from littledata.tasks.multi_label import multilabel_scores

        # the model's label order, whatever order lists of labels would sort into
        Y, _ = label_matrix(labels, len(model._sides(X)[0]), plain_labels(model.classes_))
        proba = np.asarray(model.predict_proba(X))
        pred = model.head_.predict_from_proba(proba)
        return {"rows": len(Y), **multilabel_scores(Y, pred, proba, _ML_METRICS)}
    y, _ = model._targets(labels, len(model._sides(X)[0]))
    pred = np.asarray(model.predict(X))
    classes = model.classes_
    return {
        "rows": len(y),
        "accuracy": float(accuracy_score(y, pred)),
        "macro_f1": float(f1_score(y, pred, labels=classes, average="macro", zero_division=0)),
        "confused_pairs": confused_pairs(y, pred, classes),
    }


def train_model(
    X: Any,
    labels: Any,
    *,
    task: str = "single-label",
    featurizer: Any = "minilm",
    head: str | None = None,
    head_params: Mapping[str, Any] | None = None,
    resampling: str | None = None,
    featurizer_options: Mapping[str, Any] | None = None,
    folds: int = 5,
    seed: int = 0,
    test: tuple[Any, Any] | None = None,
    data: Mapping[str, Any] | None = None,
    label_names: Sequence[Any] | None = None,
) -> TextClassifier:
    """Cross-validate a featurizer + head on ``X`` and ``labels``, then fit it on them all.

    Parameters
    ----------
    X, labels : the training rows: texts (pairs of texts for ``task="sentence-pair"``, word
        lists for ``task="sequence-labeling"``) and their labels (label lists or a 0/1 matrix
        for ``task="multi-label"``, a tag list per sentence for ``"sequence-labeling"``).
    task : str, default="single-label"
        ``"single-label"``, ``"sentence-pair"``, ``"multi-label"`` or ``"sequence-labeling"``
        (:data:`~littledata.models.MODEL_CLASSES`).
    featurizer, head, head_params, resampling, featurizer_options : as for
        :class:`~littledata.models.TextClassifier`.
    folds : int, default=5
        Folds of the cross-validation (stratified and capped by the smallest class's count; a
        multi-label model's are plain shuffled folds).
    seed : int, default=0
        Seed of the folds and of the head.
    test : (X, labels) or None
        Held-out rows to evaluate the fitted model on as well (a file's test split).
    data : dict or None
        Where the rows came from (e.g. ``{"source": "questions.csv"}``), kept in the manifest's
        ``training_data``.
    label_names : sequence or None
        A multi-label model's label names (the columns of a 0/1 matrix).

    Returns
    -------
    TextClassifier
        The task's model class, fitted; ``metrics_`` holds ``cv`` (:func:`cross_validate_head`
        or :func:`cross_validate_multilabel`, or None when there is too little to hold out) and
        ``test`` (when ``test`` was given). ``save`` writes them into the manifest.
    """
    from littledata.heads import HEADS
    from littledata.models.classifier import MODEL_CLASSES

    if head is None:  # the task's default head
        head = "token-logreg" if task == "sequence-labeling" else "logreg"
    _check_folds(folds)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ConfigError(f"the seed must be an integer of 0 or more; got {seed!r}")
    if head not in HEADS:
        from littledata.errors import unknown_name

        raise unknown_name("head", head, HEADS)
    if task not in MODEL_CLASSES:
        raise ConfigError(
            f"littledata cannot train a model for task {task!r} yet; it trains "
            f"{', '.join(sorted(MODEL_CLASSES))} models"
        )
    from littledata.tasks.registry import head_serves, task_summary

    if not head_serves(task, HEADS[head].tasks):
        raise ConfigError(
            f"head {head!r} does not serve {task} ({task_summary(task)}); it serves "
            f"{', '.join(HEADS[head].tasks)}; pick another head (--head)"
        )
    options: dict[str, Any] = {"label_names": label_names} if task == "multi-label" else {}
    model = MODEL_CLASSES[task](
        featurizer=featurizer,
        head=head,
        head_params=head_params,
        resampling=resampling,
        random_state=seed,
        featurizer_options=featurizer_options,
        **options,
    )
    model.fit(X, labels)  # checks inputs and labels; computes (and caches) the features
    sides = model._sides(X)
    features = model._features(sides, model._checked_featurizer())  # from the cache
    y = None if task == "sequence-labeling" else model._targets(labels, len(sides[0]))[0]
    if task == "sequence-labeling":
        cv = cross_validate_tagger(
            model.head_, features, [len(s) for s in sides[0]], labels, folds=folds, seed=seed
        )
    elif task == "multi-label":
        cv = cross_validate_multilabel(
            model.head_, features, y, folds=folds, seed=seed, names=model.classes_
        )
    else:
        cv = cross_validate_head(model.head_, features, y, folds=folds, seed=seed)
    metrics: dict[str, Any] = {"cv": cv}
    if test is not None:
        metrics["test"] = evaluate(model, test[0], test[1])
    model.metrics_ = metrics
    if data:
        model.training_data_ = {**model.training_data_, **dict(data)}
    return model


def train_text_classifier(texts: Sequence[str], labels: Any, **options: Any) -> TextClassifier:
    """:func:`train_model` of a single-label model on ``texts`` (options as there)."""
    return train_model(texts, labels, task="single-label", **options)
