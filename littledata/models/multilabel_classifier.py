"""``MultiLabelClassifier``: a set of labels per text, from a featurizer and one head per label.

The multi-label model for use: the texts are featurized as for
:class:`~littledata.models.TextClassifier`, and a
:class:`~littledata.models.MultiLabelHead` fits one registered head per label (one-vs-rest), each
with its own decision threshold tuned on out-of-fold scores of the training rows. It saves as the
same folder (``task: multi-label``; the per-label heads' arrays, thresholds and priors in
``head.safetensors``) and loads with the same checks.

Labels are given as a list of label lists (``[["joy"], [], ["joy", "anger"]]``) or as a 0/1
matrix: a DataFrame (its columns name the labels) or an array (``label_names`` names its columns,
else they are ``0 .. k-1``). Following scikit-learn's multi-label convention, :meth:`predict`
returns the 0/1 matrix (columns in ``classes_`` order) and :meth:`predict_proba` each label's
probability; :meth:`predict_labels` gives the label names of each text.

>>> from littledata.models import MultiLabelClassifier
>>> texts = ["sunny and warm", "cold rain", "warm rain", "cold and sunny"] * 4
>>> labels = [["sun", "warm"], ["rain"], ["warm", "rain"], ["sun"]] * 4
>>> model = MultiLabelClassifier("tfidf", "logreg").fit(texts, labels)
>>> model.classes_.tolist()
['rain', 'sun', 'warm']
>>> model.predict_labels(["warm rain"])
[['rain', 'warm']]
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from littledata.errors import ArtifactError, DataFormatError
from littledata.models.classifier import TextClassifier, plain_labels
from littledata.models.multilabel import MultiLabelHead

__all__ = ["MULTI_LABEL_TASK", "MultiLabelClassifier", "label_matrix"]

MULTI_LABEL_TASK = "multi-label"


def label_matrix(
    y: Any, n: int, label_names: Sequence[Any] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """``(0/1 matrix, label names)`` of multi-label targets ``y`` for ``n`` rows.

    ``y`` is a list of label lists (names sorted, or ``label_names`` in that order, which must
    then hold every label used), a DataFrame of 0/1 columns, or a 0/1 array (columns named by
    ``label_names``, else ``0 .. k-1``).

    >>> m, names = label_matrix([["b"], ["a", "b"], []], 3)
    >>> m.tolist(), names.tolist()
    ([[0, 1], [1, 1], [0, 0]], ['a', 'b'])
    """
    import scipy.sparse as sp

    if hasattr(y, "columns") and hasattr(y, "to_numpy"):  # a DataFrame
        names: Any = list(y.columns)
        matrix = y.to_numpy()
    elif sp.issparse(y) or isinstance(y, np.ndarray):
        matrix = y.toarray() if sp.issparse(y) else y
        names = list(label_names) if label_names is not None else None
    else:
        rows = list(y)
        bad = next((i for i, r in enumerate(rows) if isinstance(r, str) or not _is_set(r)), None)
        if bad is not None:
            raise DataFormatError(
                f"labels row {bad} is {rows[bad]!r:.60}; a multi-label model takes a list of "
                "labels per text (e.g. [['joy'], [], ['joy', 'anger']]) or a 0/1 matrix"
            )
        found = sorted({label for r in rows for label in r}, key=lambda v: (str(type(v)), v))
        names = list(label_names) if label_names is not None else found
        unknown = [label for label in found if label not in set(names)]
        if unknown:
            raise DataFormatError(
                f"label {unknown[0]!r} is not among label_names {names!r}; add it there"
            )
        index = {name: j for j, name in enumerate(names)}
        matrix = np.zeros((len(rows), len(names)), dtype=np.uint8)
        for i, r in enumerate(rows):
            for label in r:
                matrix[i, index[label]] = 1
    matrix = np.asarray(matrix)
    if matrix.ndim != 2 or len(matrix) != n:
        raise DataFormatError(
            f"got {n} texts but labels of shape {matrix.shape}; give a 0/1 row (or a list of "
            "labels) per text"
        )
    if matrix.size and not np.isin(matrix, (0, 1)).all():
        raise DataFormatError("a multi-label matrix holds only 0 and 1")
    if names is None:
        names = list(range(matrix.shape[1]))
    if len(names) != matrix.shape[1] or len(set(names)) != len(names):
        raise DataFormatError(
            f"{len(names)} label names for {matrix.shape[1]} label columns (each name once)"
        )
    if matrix.shape[1] < 1:
        raise DataFormatError("there are no labels to learn")
    return matrix.astype(np.uint8), np.asarray(names)


def _is_set(row: Any) -> bool:
    return isinstance(row, list | tuple | set | frozenset | np.ndarray)


class MultiLabelClassifier(TextClassifier):
    """A multi-label text classifier: a featurizer (frozen encoder) and one head per label.

    Parameters are :class:`~littledata.models.TextClassifier`'s, and:

    threshold_cv : int, default=3
        Folds of each label's threshold search (:class:`~littledata.models.MultiLabelHead`).
    label_names : sequence or None, default=None
        The labels, in column order: the names of a 0/1 array's columns, or the full set (and
        order) of labels for lists of labels (otherwise the sorted labels found).

    Attributes
    ----------
    classes_ : ndarray of shape (n_labels,)
        The label names; column ``j`` of :meth:`predict` and :meth:`predict_proba` is
        ``classes_[j]``.
    head_ : MultiLabelHead
        The fitted per-label heads, their thresholds (``head_.thresholds_``) and priors.
    """

    TASK = MULTI_LABEL_TASK

    def __init__(
        self,
        featurizer: Any = "minilm",
        head: str = "logreg",
        *,
        head_params: Mapping[str, Any] | None = None,
        resampling: str | None = None,
        random_state: int = 0,
        featurizer_options: Mapping[str, Any] | None = None,
        cache: bool = True,
        threshold_cv: int = 3,
        label_names: Sequence[Any] | None = None,
    ) -> None:
        super().__init__(
            featurizer,
            head,
            head_params=head_params,
            resampling=resampling,
            random_state=random_state,
            featurizer_options=featurizer_options,
            cache=cache,
        )
        self.threshold_cv = threshold_cv
        self.label_names = label_names

    @property
    def thresholds_(self) -> np.ndarray:
        """Each label's decision threshold on its probability."""
        return np.asarray(self.head_.thresholds_)

    def _targets(self, y: Any, n: int) -> tuple[Any, np.ndarray | None]:
        return label_matrix(y, n, self.label_names)

    def _new_head(self, params: Mapping[str, Any] | None, kind: str) -> Any:
        return MultiLabelHead(
            self.head,
            head_params=dict(params) if params is not None else None,
            input_kind=kind,
            resampling=self.resampling,
            random_state=self.random_state,
            cv=self.threshold_cv,
        )

    @classmethod
    def _saved_head(cls, spec: Mapping[str, Any], state: Any) -> Any:
        return MultiLabelHead.from_saved(dict(spec), state)

    @classmethod
    def _saved_classes(cls, labels: np.ndarray, head: Any) -> np.ndarray:
        if len(labels) != len(head.classes_):
            raise ArtifactError(
                f"the manifest names {len(labels)} labels, the head has {len(head.classes_)}"
            )
        return labels

    @classmethod
    def _params_of_head(cls, head: Any) -> dict[str, Any]:
        return {**super()._params_of_head(head), "threshold_cv": head.cv}

    def labels_from_proba(self, proba: Any) -> list[Any]:
        """Each row's predicted labels (names, in ``classes_`` order) from its probabilities
        (a label where its probability reaches its threshold)."""
        classes = plain_labels(self.classes_)
        chosen = self.head_.predict_from_proba(proba)
        return [[classes[j] for j in np.flatnonzero(row)] for row in chosen]

    def predict_labels(self, X: Any) -> list[list[Any]]:
        """The predicted labels of each text in ``X`` (names)."""
        return self.labels_from_proba(self.predict_proba(X))

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.classifier_tags.multi_label = True
        return tags
