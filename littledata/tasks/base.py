"""The task-type interface: what a kind of prediction means for every part of littledata.

A :class:`TaskType` owns, for one kind of prediction (single-label classification today; sentence
pairs, multi-label and sequence labeling join as new classes):

- how a split becomes inputs for a featurizer (:meth:`TaskType.texts`) and targets for a head
  (:meth:`TaskType.targets`);
- how many classes a dataset has for it and how the rows are counted (:attr:`TaskType.unit`);
- how a pool or a test set is capped and how training rows are sampled from a pool
  (:meth:`TaskType.cap`, :meth:`TaskType.sample`), and which training sizes are impossible
  (:meth:`TaskType.size_problem`);
- which metrics apply and how predictions are scored (:attr:`TaskType.metrics`,
  :meth:`TaskType.score`).

Which heads serve a task is declared by the heads (``register_head(..., tasks=...)``); the
planner explains a mismatch with :func:`littledata.tasks.registry.head_task_problem`.

The runner, the active-learning simulation and the report ask the task type and never compare task
names. Task types live in :data:`littledata.tasks.TASK_TYPES`, filled by
:func:`littledata.tasks.register_task_type`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np

if TYPE_CHECKING:
    from littledata.datasets.base import Dataset, Split

__all__ = ["TaskType"]


class TaskType(ABC):
    """One kind of prediction (see the module docstring).

    Class attributes
    ----------------
    name: the task's name as datasets state it (``Dataset.task``), e.g. ``"single-label"``.
    summary: what is predicted, in a few words (used in explanations: "one label per text").
    metrics: the metric names that apply, the first one the default primary metric.
    unit: what a training size counts (``"rows"``; ``"sentences"`` for token tasks).
    active_learning: whether the active-learning loop (query, teach, simulate) supports it.
    query_task: what a query strategy sees of it (:data:`littledata.active.strategies.TASKS`):
        ``"single-label"`` (one class distribution per example, sentence pairs included),
        ``"multi-label"`` (a score and a tuned threshold per label) or ``"sequence-labeling"``
        (a tag distribution per word); ``""`` where active learning does not apply.
    head_task: a task whose heads serve this one too, the task type adapting them (sentence
        pairs: pair features for any single-label head; multi-label: one-vs-rest over them);
        ``""``: only heads that list this task in ``register_head(..., tasks=...)``.
    """

    name: ClassVar[str] = ""
    summary: ClassVar[str] = ""
    metrics: ClassVar[tuple[str, ...]] = ()
    unit: ClassVar[str] = "rows"
    active_learning: ClassVar[bool] = False
    query_task: ClassVar[str] = ""
    head_task: ClassVar[str] = ""
    scores_need_names: ClassVar[bool] = False
    """Whether :meth:`score_model` needs the label names (sequence labeling's entity spans)."""
    no_confusion_matrix: ClassVar[str] = ""
    """Why a confusion matrix and misclassified examples do not apply to this task (the report
    says so instead of showing them); ``""`` where they do: one label per example."""

    # -- data ---------------------------------------------------------------------------------

    def texts(self, split: Split) -> list[str]:
        """The texts a featurizer encodes for ``split`` (one per example)."""
        return list(split.texts)

    def examples(self, split: Split) -> list[Any]:
        """What a head that reads raw examples (one that fine-tunes its encoder, input kind
        ``"text"``) gets for each example of ``split``, JSON-able: :meth:`texts` by default;
        sentence pairs give ``[first, second]`` so a cross-encoder reads the two texts apart."""
        return self.texts(split)

    def sides(self, split: Split) -> list[list[str]]:
        """The text sequences an encoder featurizer encodes apart for ``split`` (one list per
        side, each one text per example); :meth:`combine` joins their features. One side,
        :meth:`texts`, unless a task reads several texts per example (sentence pairs)."""
        return [self.texts(split)]

    def featurize(self, fz: Any, split: Split) -> np.ndarray:
        """The features heads see for every example of ``split`` under the dense featurizer
        ``fz``: each of :meth:`sides` featurized through the feature cache, then
        :meth:`combine` (what active learning's pool and test set hold)."""
        from littledata.features import featurize

        return self.combine([np.asarray(featurize(side, fz)) for side in self.sides(split)])

    def tokens(self, split: Split) -> list[list[str]] | None:
        """The words of each example when features are one vector per word (sequence
        labeling); ``None``: one vector per example."""
        return None

    def take(self, x: Any, y: np.ndarray, idx: np.ndarray) -> Any:
        """The features of the examples at ``idx`` of ``x`` (whose targets are ``y``): rows of
        an array or of sparse term counts, items of a list of texts."""
        if isinstance(x, list):
            return [x[i] for i in idx]
        if hasattr(x, "tocsr"):  # sparse term counts
            return x[idx]
        return np.ascontiguousarray(x[idx])

    def combine(self, features: Sequence[np.ndarray]) -> np.ndarray:
        """The features heads see, from the features of each of :meth:`sides` (the one side's
        features unchanged by default)."""
        if len(features) != 1:
            raise ValueError(f"{self.name} has one side, got {len(features)} feature matrices")
        return features[0]

    @abstractmethod
    def targets(self, split: Split) -> np.ndarray:
        """The split's labels as the array heads are fitted on and metrics read."""

    def n_classes(self, dataset: Dataset) -> int:
        """Number of classes (labels, tags) of ``dataset`` for this task."""
        return int(dataset.num_labels)

    @abstractmethod
    def class_counts(self, y: np.ndarray, n_classes: int) -> np.ndarray:
        """Rows per class in ``y`` (length ``n_classes``)."""

    # -- sampling -----------------------------------------------------------------------------

    @abstractmethod
    def cap(
        self, y: np.ndarray, cap: int | None, seed: int, *, stratified: bool = True
    ) -> np.ndarray:
        """Sorted positions of at most ``cap`` rows of ``y`` (``None``: every row), seeded."""

    @abstractmethod
    def sample(self, y: np.ndarray, size: int, seed: int, *, per_class: bool = False) -> np.ndarray:
        """Sorted positions of a seeded sample of ``size`` training rows (or ``size`` per class)."""

    @abstractmethod
    def size_problem(
        self, *, dataset: str, n_classes: int, pool_size: int, size: int, per_class: bool
    ) -> str:
        """Why ``size`` training rows cannot be drawn from the pool ("" when they can)."""

    # -- models and metrics -------------------------------------------------------------------

    def make_model(
        self,
        head: str,
        *,
        head_params: dict[str, Any] | None = None,
        input_kind: str = "dense",
        random_state: int = 0,
        resampling: str | None = None,
    ) -> Any:
        """An unfitted model of ``head`` for this task (a
        :class:`~littledata.models.HeadClassifier` by default), with scikit-learn's ``fit`` /
        ``predict`` / ``predict_proba`` / ``classes_``."""
        from littledata.models import HeadClassifier

        return HeadClassifier(
            head,
            head_params=head_params,
            input_kind=input_kind,
            random_state=random_state,
            resampling=resampling,
        )

    def predict_proba(self, model: Any, x: Any, y: np.ndarray | None = None) -> np.ndarray:
        """A fitted model's probabilities for the rows ``x`` (``model.predict_proba(x)``); ``y``:
        their targets where known, for task types whose models need their shape (sequence
        labeling: the words per sentence), never their labels."""
        return np.asarray(model.predict_proba(x))

    def diagnostics(
        self,
        model: Any,
        x_train: Any,
        y_train: np.ndarray,
        y_test: np.ndarray,
        proba: np.ndarray,
        classes: np.ndarray,
    ) -> dict[str, float]:
        """What a trial records beside the metrics: ``train_accuracy``, and whether the test
        predictions collapsed onto one class (``collapsed``, ``top_pred_share``; see
        :mod:`littledata.experiments.collapse`)."""
        from littledata.experiments.collapse import check_collapse

        collapse = check_collapse(y_test, classes[np.argmax(proba, axis=1)])
        train_pred = model.predict(x_train)
        return {
            "top_pred_share": collapse.predicted_share,
            "collapsed": float(collapse.collapsed),
            "train_accuracy": float(np.mean(np.asarray(train_pred) == y_train)),
        }

    @abstractmethod
    def score(
        self,
        y_true: np.ndarray,
        proba: np.ndarray,
        classes: np.ndarray,
        metrics: Sequence[str] | None = None,
    ) -> dict[str, float]:
        """The task's metrics (``metrics``: a subset of :attr:`metrics`; ``None``: all)."""

    def score_model(
        self,
        model: Any,
        y_true: np.ndarray,
        proba: np.ndarray,
        label_names: Sequence[str] | None = None,
    ) -> dict[str, float]:
        """The metrics of a fitted model's test probabilities: :meth:`score` against the model's
        ``classes_`` (a task type whose models decide more than the argmax, such as multi-label
        thresholds, reads that from the model; ``label_names`` for those that need them,
        :attr:`scores_need_names`)."""
        return self.score(y_true, proba, np.asarray(model.classes_))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"

    def describe(self) -> dict[str, Any]:
        """A JSON-able description (for listings)."""
        return {
            "name": self.name,
            "summary": self.summary,
            "metrics": list(self.metrics),
            "unit": self.unit,
            "active_learning": self.active_learning,
            "head_task": self.head_task,
        }
