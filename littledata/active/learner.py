"""The active learner: a pool of unlabeled texts, a head, a query strategy, and the labels so far.

:class:`ActiveLearner` drives the loop a person (or the labeling page, or the simulation) runs::

    learner = ActiveLearner.from_texts(texts, classes=["ham", "spam"], featurizer="minilm")
    idx = learner.query(10)              # which pool rows to label next
    learner.teach(idx, ["ham", ...])     # their labels
    learner.model                        # the head refit on every label so far
    learner.save("session.json")         # labels + history as JSON; resume with load()

Features are computed once (cached when the pool is texts); a round refits the head on the
labeled rows and scores the pool: well under a second with a logistic-regression head.

Until the labels hold two classes, no head can be fit: :attr:`ActiveLearner.model` is then a
prior (:class:`sklearn.dummy.DummyClassifier`) and :meth:`ActiveLearner.query` uses the
``cold_start`` strategy (a diverse, representative batch) for strategies that need a model.

Longer than the ~600-line guide as the loop's one public class (state and saving live apart).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import time
from collections.abc import Hashable, Mapping, Sequence
from itertools import pairwise
from pathlib import Path
from typing import Any

import numpy as np

from littledata.active import tuned
from littledata.active.labels import LabelState, check_label_set
from littledata.active.persistence import load_session, save_session, session_state
from littledata.active.strategies import QueryContext, QueryStrategy, _check_n, get_strategy
from littledata.errors import ConfigError, DataFormatError
from littledata.labels import as_names

log = logging.getLogger(__name__)

__all__ = ["ActiveLearner", "check_head_supports", "check_strategy_task", "thread_limit"]


def thread_limit(threads: int | None) -> contextlib.AbstractContextManager[Any]:
    """Limit BLAS/OpenMP threads to ``threads`` inside a ``with`` block (``None``: no limit).

    A round's matrices are small (hundreds of labeled rows, a pool of thousands): one thread is
    about as fast as several on a quiet machine and far faster on a busy one, where threads that
    wait for each other made a 151-class logistic-regression fit 40x slower in our measurement
    (0.4 s with one thread, 16-20 s with two on a loaded 2-core machine).
    """
    from littledata.threads import thread_limit as limit

    return limit(threads)


def check_head_supports(strategy: QueryStrategy, head: Any) -> None:
    """Raise a :class:`~littledata.errors.ConfigError` when ``strategy`` needs class
    probabilities and ``head`` (an estimator, fitted or not) has no ``predict_proba``."""
    if strategy.needs_proba and not hasattr(head, "predict_proba"):
        raise ConfigError(
            f"Strategy {strategy.name!r} needs class probabilities, but the head "
            f"{type(head).__name__} has no predict_proba. Use a head that has them (logreg, "
            "mlp, knn, centroid), wrap it in sklearn.calibration.CalibratedClassifierCV, or "
            "choose a strategy that needs none (random, kcenter, cold-start, committee with "
            "disagreement='vote')."
        )


def check_strategy_task(strategy: QueryStrategy, task: str) -> None:
    """Raise a :class:`~littledata.errors.ConfigError` when ``strategy`` does not handle the
    task type's query view ``task`` (``TaskType.query_task``), naming the strategies that do."""
    if strategy.supports(task):
        return
    from littledata.active.strategies import STRATEGIES

    able = [n for n in STRATEGIES.names() if get_strategy(n).supports(task)]
    raise ConfigError(
        f"Strategy {strategy.name!r} does not handle {task} data; for {task} use one of: "
        f"{', '.join(able)}."
    )


class ActiveLearner:
    """Pool-based active learning over a fixed pool of examples.

    Parameters
    ----------
    featurizer: a featurizer name (``"minilm"``, ``"glove50"``, a sentence-transformers id, ...),
        a featurizer object, or ``None`` when ``features`` are given directly.
    head: a head name for :func:`littledata.heads.make_head` (``"logreg"``, ``"svm"``, ``"knn"``,
        ``"centroid"``, ``"mlp"``; ``"setfit"``, ``"finetune"`` fine-tune the featurizer's encoder
        on the labeled texts at every fit, see :mod:`littledata.active.tuned`) or an unfitted
        scikit-learn classifier (cloned for every fit).
    strategy: a strategy name or object (see :mod:`littledata.active.strategies`).
    texts: the unlabeled pool as texts (featurized once, through the feature cache).
    features: the pool as a precomputed ``(n, d)`` matrix (instead of, or as well as, texts).
        For sequence labeling, one row per word, sentence after sentence, with ``lengths``.
    lengths: sequence labeling only: the number of words of each pool sentence (``features``
        holds their word features); labels are then a list of tags per sentence, one per word.
    classes: the label set; every taught label must be one of them (strings or integers).
    task: the task type (``"single-label"``, ``"sentence-pair"``, ``"multi-label"``,
        ``"sequence-labeling"``; a dataset's own with :meth:`from_dataset` and
        :meth:`from_file`). Multi-label: each example's label is a list of labels from
        ``classes`` (possibly empty), the head is one-vs-rest with tuned thresholds
        (:class:`~littledata.models.MultiLabelHead` over the named head), and the uncertainty
        strategies score each label's margin to its threshold. Sequence labeling: a tag per
        word, a token head (``token-logreg``), sentences scored by their words
        (:mod:`littledata.active.strategies.views`).
    seed: the seed of every random choice; round ``r`` uses ``numpy.random.default_rng([seed, r])``,
        so a resumed session asks the same next query.
    cold_start: strategy for batches before two classes are labeled (default ``"cold-start"``).
    head_params, strategy_params, featurizer_options: passed to the factories.
    threads: BLAS/OpenMP threads while fitting, querying and predicting (default 1, see
        :func:`thread_limit`; ``None`` leaves the libraries' own setting).
    retune_growth: for a head that tunes its regularisation by inner cross-validation (the
        ``logreg`` head), search again only once the labels have grown by this fraction since
        the last search (default 0.25: at 20, 25, 32, ... labels; about every 10 rounds of 10 at
        500 labels); in between, the head is refit once at the C it chose last
        (:func:`~littledata.active.strategies.member_clone`), several times faster. ``0``
        searches at every fit.
    collapse_check: check the model's cross-validated predictions on the labeled rows for a
        collapse onto one class (:func:`~littledata.experiments.collapse.warn_if_collapsed`) and
        log a warning when they collapse (default ``True``). It costs a few plain fits of the
        head, so it runs on the same schedule as ``retune_growth`` (when the labels have grown
        by that fraction since the last check); the simulation turns it off.

    Attributes
    ----------
    history: one dict per :meth:`query` call: ``round``, ``n_labeled`` (labels so far), ``queried``
        (indices), ``strategy`` (the one used), ``fit_seconds``, ``query_seconds``, ``time`` (UTC).
    collapse_: the latest collapse check (:class:`~littledata.experiments.collapse.Collapse`),
        or ``None`` before the first one (fewer than 10 labels, or fewer than two classes with
        two or more labels each).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.random.default_rng(0).normal(size=(100, 5))
    >>> al = ActiveLearner(None, LogisticRegression(), "margin", features=X, classes=["a", "b"])
    >>> first = al.query(4)          # no labels yet: a cold-start batch
    >>> al.teach(first, ["a", "b", "a", "b"])
    >>> len(al.query(5)), al.n_labeled
    (5, 4)
    """

    def __init__(
        self,
        featurizer: str | Any | None = "minilm",
        head: str | Any = "logreg",
        strategy: str | QueryStrategy = "margin",
        *,
        texts: Sequence[str] | None = None,
        features: np.ndarray | None = None,
        lengths: Sequence[int] | None = None,
        classes: Sequence[Hashable] | None = None,
        task: str = "single-label",
        seed: int = 0,
        cold_start: str | QueryStrategy = "cold-start",
        head_params: Mapping[str, Any] | None = None,
        strategy_params: Mapping[str, Any] | None = None,
        featurizer_options: Mapping[str, Any] | None = None,
        threads: int | None = 1,
        retune_growth: float = 0.25,
        collapse_check: bool = True,
    ) -> None:
        self.threads = threads
        self.collapse_check = bool(collapse_check)
        self.collapse_: Any = None
        self._checked_n = 0
        if not retune_growth >= 0:
            raise ConfigError(f"retune_growth must be 0 or more, got {retune_growth}.")
        self.retune_growth = float(retune_growth)
        self.search_state: dict[str, Any] | None = None
        """What the head's last cross-validated search left (see ``fit_reusing`` on the head)."""
        self.last_fit_tuned = False
        if texts is None and features is None:
            raise ConfigError("Give the pool: texts=[...] or features=<(n, d) matrix>.")
        self.classes: list[Any] = check_label_set(classes)
        if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
            raise ConfigError(f"seed must be an integer, got {seed!r}.")
        self.seed = int(seed)
        from littledata.tasks import get_task_type

        self.task = get_task_type(str(task))
        if not self.task.active_learning:
            from littledata.active.data import check_active_task

            check_active_task("this pool", self.task.name)
        self.head = head
        self.head_params = dict(head_params or {})
        if not isinstance(head, str) and self.head_params:
            raise ConfigError("head_params go with a head name; set them on the estimator instead.")
        self.strategy = get_strategy(strategy, **dict(strategy_params or {}))
        self.cold_start = get_strategy(cold_start)
        if self.cold_start.needs_model:
            raise ConfigError(
                f"cold_start must work without a model (cold-start, typiclust, kcenter, random); "
                f"{self.cold_start.name!r} needs one."
            )
        self.featurizer_options = dict(featurizer_options or {})
        self.featurizer = featurizer
        self.texts: list[str] | None = None if texts is None else [str(t) for t in texts]
        self.tuned = tuned.text_head(head) is not None  # it fine-tunes its encoder on the texts
        probe = self._new_head()  # an unknown head name (or a text head's misfit) fails here
        check_head_supports(self.strategy, probe)
        for strat in (self.strategy, self.cold_start):
            check_strategy_task(strat, self.task.query_task)
        self.pool_source: dict[str, Any] = {}
        """Where the pool came from: ``{"source": "texts" | "features" | "dataset", ...}``."""
        self.pool_rows: list[tuple[str, Any]] | None = None
        """For a pool from a file (:meth:`from_file`): each pool row's (split, row in the file)."""
        from littledata.active.rows import sentence_pool

        self.words, features = sentence_pool(self.label_kind, features, lengths, texts)
        """Sequence labeling: the pool's word features (``features`` then holds each sentence's
        mean word vector, for strategies that read the pool); ``None`` otherwise."""
        if features is None:
            if featurizer is None:
                raise ConfigError("Texts need a featurizer to turn them into features.")
            features = self._featurize(self.texts)
            self.pool_source = {"source": "texts"}
        else:
            self.pool_source = {"source": "features"}
        if not hasattr(features, "shape") or len(features.shape) != 2:
            raise DataFormatError(
                f"The pool features must be a 2-D (n, d) matrix, got shape "
                f"{getattr(features, 'shape', None)}; active learning needs a dense featurizer."
            )
        if self.texts is not None and len(self.texts) != features.shape[0]:
            raise DataFormatError(
                f"{len(self.texts)} texts but {features.shape[0]} feature rows; give one per text."
            )
        if features.shape[0] < 2:
            raise DataFormatError("The pool needs at least two examples.")
        self.features: np.ndarray = features
        self.label_state = LabelState(self.classes, self.n_pool, kind=self.label_kind)
        """Labels, the pending batch and skipped rows (:class:`LabelState`)."""
        self.history: list[dict[str, Any]] = []
        self.round = 0
        self._model: Any = None
        self._model_n = -1
        self._fit_seconds = 0.0
        self._text_index: dict[str, list[int]] | None = None

    # -- construction ---------------------------------------------------------------------------

    @classmethod
    def from_texts(
        cls,
        texts: Sequence[str],
        classes: Sequence[Hashable],
        *,
        featurizer: str | Any = "minilm",
        head: str | Any = "logreg",
        strategy: str | QueryStrategy = "margin",
        **kwargs: Any,
    ) -> ActiveLearner:
        """Start a session over a user's unlabeled ``texts`` with the label set ``classes``."""
        return cls(featurizer, head, strategy, texts=texts, classes=classes, **kwargs)

    @classmethod
    def from_dataset(
        cls,
        name: str,
        *,
        split: str | None = None,
        featurizer: str | Any = "minilm",
        head: str | Any = "logreg",
        strategy: str | QueryStrategy = "margin",
        mirror: str | None = None,
        **kwargs: Any,
    ) -> ActiveLearner:
        """Start a session over a registry dataset's split (the train split by default), its
        labels hidden; the label set is the dataset's label names, the task its task."""
        from littledata.active.sources import learner_from_dataset

        return learner_from_dataset(
            cls, name, split=split, featurizer=featurizer, head=head, strategy=strategy,
            mirror=mirror, **kwargs,
        )  # fmt: skip

    @classmethod
    def from_file(
        cls,
        data: str | Any,
        *,
        classes: Sequence[Hashable] | None = None,
        featurizer: str | Any = "minilm",
        head: str | Any = "logreg",
        strategy: str | QueryStrategy = "margin",
        mirror: str | None = None,
        **kwargs: Any,
    ) -> ActiveLearner:
        """Start a session over your file: its rows without a label are the pool to query, its
        labeled rows (the train split) are taught at once.

        Parameters
        ----------
        data: a file path, or a :class:`~littledata.datasets.source.DataSource` (the file with
            its reading options: ``DataSource(path="q.csv", text_column="question")``). Rows
            with an empty label cell (or every row, in a file without a label column) are
            unlabeled. With a split column, rows of other splits (``test``) stay out of the pool.
        classes: the label set; default: the labels in the file (needed when it has none).
            Every label in the file must be one of them.
        featurizer, head, strategy, kwargs: as for the constructor.

        The pool's rows are the train split's, then the unlabeled rows, each in file order;
        :attr:`pool_rows` gives each pool row's ``(split, row in the file)``.
        """
        from littledata.active.sources import learner_from_file

        return learner_from_file(
            cls, data, classes=classes, featurizer=featurizer, head=head, strategy=strategy,
            mirror=mirror, **kwargs,
        )  # fmt: skip

    def _get_featurizer(self) -> Any:
        if not isinstance(self.featurizer, str):
            return self.featurizer
        from littledata.features import get_featurizer

        return get_featurizer(self.featurizer, **self.featurizer_options)

    def _featurize(self, texts: list[str]) -> np.ndarray:
        from littledata.features import featurize

        fz = self._get_featurizer()
        if getattr(fz, "kind", "dense") != "dense":
            raise ConfigError(
                f"Active learning needs a dense featurizer (one vector per text); "
                f"{getattr(fz, 'name', fz)!r} is {fz.kind!r}."
            )
        self.featurizer = fz
        return featurize(texts, fz)

    # -- state ----------------------------------------------------------------------------------

    @property
    def n_pool(self) -> int:
        """Number of examples in the pool."""
        return int(self.features.shape[0])

    @property
    def n_labeled(self) -> int:
        """Number of labeled examples."""
        return self.label_state.n_labeled

    @property
    def labeled_indices(self) -> np.ndarray:
        """Labeled pool rows, in the order they were taught."""
        return self.label_state.labeled_indices

    @property
    def unlabeled_indices(self) -> np.ndarray:
        """Pool rows without a label that queries may offer (skipped rows left out), ascending."""
        return self.label_state.unlabeled_indices()

    @property
    def labels(self) -> list[Any]:
        """The labels of :attr:`labeled_indices` (values from :attr:`classes`)."""
        return self.label_state.labels

    @property
    def label_codes(self) -> np.ndarray:
        """The labels of :attr:`labeled_indices` as indices into :attr:`classes`."""
        return self.label_state.codes

    @property
    def pending(self) -> list[int]:
        """Rows the last query handed out that are not labeled or skipped yet."""
        return list(self.label_state.pending)

    @property
    def skipped(self) -> list[int]:
        """Rows set aside with :meth:`skip` (not offered by queries)."""
        return list(self.label_state.skipped)

    @property
    def multi_label(self) -> bool:
        """Whether each example's label is a set of labels (the task's query view)."""
        return self.task.query_task == "multi-label"

    @property
    def label_kind(self) -> str:
        """What an example's label is (:class:`LabelState`'s ``kind``)."""
        return {"multi-label": "set", "sequence-labeling": "sequence"}.get(
            self.task.query_task, "one"
        )

    def _new_head(self) -> Any:
        if isinstance(self.head, str) and (self.label_kind == "one" or self.tuned):
            return tuned.learner_head(self)  # a head on texts refuses other tasks
        if isinstance(self.head, str):
            from littledata.active.rows import check_head_task

            check_head_task(self.head, self.task)
            return self.task.make_model(
                self.head, head_params=self.head_params, random_state=self.seed
            )
        if self.label_kind != "one":
            from littledata.active.rows import check_head_object

            check_head_object(self.head, self.task)
        from sklearn.base import clone

        return clone(self.head)

    def fit(self) -> Any:
        """Fit the head on every label so far (if they changed) and return it."""
        if self._model is not None and self._model_n == self.n_labeled:
            return self._model
        if self.n_labeled == 0:
            raise ConfigError("No labels yet: teach() some examples before asking for the model.")
        if self.words is not None:  # the labeled sentences' words
            X = np.asarray(self.words.matrix[self.words.rows_of(self.labeled_indices)])
        else:
            X = np.asarray(self.features[self.labeled_indices])
        y = self.label_codes
        start = time.perf_counter()
        if self.label_kind != "set" and self.label_state.n_labeled_classes() < 2:
            from sklearn.dummy import DummyClassifier

            model = DummyClassifier(strategy="prior").fit(X, y[y >= 0])  # padding dropped
        else:
            head = self._new_head()
            if self.tuned:  # it reads the labeled rows' texts (see littledata.active.tuned)
                X = tuned.labeled_texts(self)
            with thread_limit(self.threads):
                if hasattr(head, "fit_reusing"):  # the head decides when to search again
                    model, self.search_state, self.last_fit_tuned = head.fit_reusing(
                        X, y, self.search_state, self.retune_growth
                    )
                else:
                    model, self.last_fit_tuned = head.fit(X, y), False
            if (
                self.collapse_check
                and self.label_kind == "one"
                and not self.tuned  # its check would fine-tune once per fold
                and self.n_labeled >= self._checked_n * (1.0 + self.retune_growth)
            ):
                self._check_collapse(model, X, y)
        self._fit_seconds = time.perf_counter() - start
        self._model, self._model_n = model, self.n_labeled
        return model

    def _check_collapse(self, model: Any, X: np.ndarray, y: np.ndarray) -> None:
        """Warn (logging) when the model's cross-validated predictions collapse onto one class."""
        from littledata.active.strategies import member_clone
        from littledata.experiments.collapse import warn_if_collapsed

        try:
            with thread_limit(self.threads):
                check = warn_if_collapsed(
                    member_clone(model), X, y, what="The active learner's model", logger=log,
                    random_state=self.seed,
                )  # fmt: skip
        except Exception as exc:  # a diagnostic never breaks the loop
            log.debug("collapse check skipped: %s: %s", type(exc).__name__, exc)
            return
        if check is not None:
            self.collapse_, self._checked_n = check, self.n_labeled

    @property
    def model(self) -> Any:
        """The current head, fitted on every label so far (a prior until two classes are seen)."""
        return self.fit()

    def _model_rows(self, X: Any) -> tuple[Any, np.ndarray]:
        """The model and the rows it reads for ``X``; for a tuned head's whole pool, its
        classifier on the pool's tuned embeddings (computed once per fit, as queries use)."""
        if self.tuned and X is None:
            return tuned.query_view(self, self.model)
        from littledata.active.rows import feature_rows

        rows = feature_rows(self, X)
        return self.model, rows

    def predict_proba(self, features: Any = None) -> np.ndarray:
        """Class probabilities over :attr:`classes` (columns in that order; 0 for classes not
        labeled yet) for ``features``: texts (when the learner has a featurizer), feature rows,
        or ``None`` for the whole pool."""
        model, X = self._model_rows(features)
        if not hasattr(model, "predict_proba"):
            raise ConfigError(
                f"The head {type(model).__name__} has no predict_proba; use predict(), or a head "
                "with probabilities (logreg, mlp, knn, centroid, svm)."
            )
        out = np.zeros((X.shape[0], len(self.classes)))
        with thread_limit(self.threads):
            proba = model.predict_proba(np.asarray(X))
        out[:, np.asarray(model.classes_, dtype=np.int64)] = proba
        return out

    def predict(self, features: Any = None) -> list[Any]:
        """Predicted labels (values from :attr:`classes`) for ``features``: texts (when the
        learner has a featurizer), feature rows, or ``None`` for the whole pool."""
        model, X = self._model_rows(features)
        with thread_limit(self.threads):
            codes = np.asarray(model.predict(np.asarray(X)), dtype=np.int64)
        if self.multi_label:  # a 0/1 row per example: its list of labels
            return [[self.classes[j] for j in np.flatnonzero(row)] for row in codes]
        if self.words is not None:  # a tag per word of the pool: a list per sentence
            return [[self.classes[c] for c in codes[a:b]] for a, b in pairwise(self.words.offsets)]
        return [self.classes[c] for c in codes]

    # -- the loop -------------------------------------------------------------------------------

    def query(
        self, n: int, *, strategy: str | QueryStrategy | None = None, return_texts: bool = False
    ) -> np.ndarray | tuple[np.ndarray, list[str]]:
        """Choose the next ``n`` pool rows to label.

        Parameters
        ----------
        n: batch size, at least 1 and at most the number of unlabeled rows.
        strategy: use this strategy for this round instead of the learner's own.
        return_texts: also return the chosen texts (pools given as texts only).

        Returns
        -------
        The indices (``int64``, most wanted first), or ``(indices, texts)``.
        """
        unlabeled = self.unlabeled_indices
        if len(unlabeled) == 0:
            raise ConfigError("Every example in the pool is labeled; there is nothing to query.")
        n = _check_n(n, len(unlabeled))
        chosen_strategy = self.strategy if strategy is None else get_strategy(strategy)
        check_strategy_task(chosen_strategy, self.task.query_task)
        if chosen_strategy.needs_model and not self.label_state.model_ready():
            log.info(
                "%d class(es) labeled so far, too few to fit a head: using %r instead of %r",
                self.label_state.n_labeled_classes(),
                self.cold_start.name,
                chosen_strategy.name,
            )
            chosen_strategy = self.cold_start
        fit_seconds = 0.0
        model = None
        refit = False
        if chosen_strategy.needs_model:
            refit = self._model is None or self._model_n != self.n_labeled
            model = self.fit()
            fit_seconds = self._fit_seconds if refit else 0.0
        start = time.perf_counter()  # with a tuned head: embedding the pool with its encoder
        model, features = tuned.query_view(self, model) if self.tuned else (model, self.features)
        rng = np.random.default_rng([self.seed, self.round])
        ctx = QueryContext.from_features(
            model,
            features,
            self.labeled_indices,
            unlabeled,
            self.label_codes,
            n,
            seed=rng,
            n_classes=len(self.classes),
            task=self.task.query_task,
            words=self.words,
        )
        with thread_limit(self.threads):
            indices = chosen_strategy.query(ctx)
        query_seconds = time.perf_counter() - start
        self.label_state.hand_out(indices, self.round)
        self.history.append(
            {
                "round": self.round,
                "n_labeled": self.n_labeled,
                "queried": [int(i) for i in indices],
                "strategy": chosen_strategy.name,
                "fit_seconds": round(fit_seconds, 6),
                "head_tuned": bool(refit and self.last_fit_tuned),
                "query_seconds": round(query_seconds, 6),
                "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            }
        )
        self.round += 1
        if return_texts:
            if self.texts is None:
                raise ConfigError("This pool was given as features only; it has no texts.")
            return indices, [self.texts[i] for i in indices]
        return indices

    def _resolve(self, items: Sequence[Any]) -> list[int]:
        from littledata.active.rows import resolve_rows

        return resolve_rows(self, items)

    @staticmethod
    def _as_list(items: Any) -> list[Any]:
        if isinstance(items, (str, int, np.integer)):
            return [items]
        return list(items)

    @staticmethod
    def _values(labels: Any) -> list[Any]:
        labels = as_names(labels)  # labels that carry their names are taught as those names
        return [labels] if isinstance(labels, (str, int, np.integer)) else list(labels)

    def teach(self, indices_or_texts: Any, labels: Any, *, only_pending: bool = False) -> None:
        """Record the labels of pool rows (given by index or by text).

        Labels that carry their names (a dataset split's labels, see :mod:`littledata.labels`)
        are taught as those names, never as their integers. The whole batch is checked before
        anything is recorded. Raises a
        :class:`~littledata.errors.LittleDataError` for an empty batch, a length mismatch, a
        label outside :attr:`classes`, an index outside the pool, a text not in the pool, or a row
        that is already labeled (or given twice in the batch; use :meth:`relabel` to correct a
        label). With ``only_pending=True``, also for a row the last query did not hand out (or
        that was answered or skipped since): a page that shows the queried examples uses it to
        refuse stale answers.
        """
        items = self._as_list(indices_or_texts)
        values = self._values(labels)
        if not items:
            raise ConfigError("Nothing to teach: the batch is empty (batch size 0).")
        rows = self._resolve(items) if len(items) == len(values) else items
        if self.words is not None:
            from littledata.active.rows import check_tag_counts

            check_tag_counts(self.words, rows, values)
        self.label_state.teach(rows, values, self.round - 1, only_pending=only_pending)

    def relabel(self, indices_or_texts: Any, labels: Any) -> None:
        """Change the labels of examples already taught (a person's correction)."""
        items = self._as_list(indices_or_texts)
        values = self._values(labels)
        rows = self._resolve(items) if len(items) == len(values) else items
        self.label_state.relabel(rows, values)
        self._model = None

    def skip(self, indices_or_texts: Any) -> None:
        """Set examples of the pending batch aside (a person was not sure): they stay unlabeled
        and queries stop offering them until :meth:`unskip`."""
        self.label_state.skip(self._resolve(self._as_list(indices_or_texts)))

    def unskip(self, indices_or_texts: Any = None) -> None:
        """Offer skipped examples (all by default) to queries again."""
        rows = None if indices_or_texts is None else self._resolve(self._as_list(indices_or_texts))
        self.label_state.unskip(rows)

    def undo(self) -> tuple[int, Any]:
        """Take back the last label taught; returns ``(row, label)``. The row is pending again."""
        row, label = self.label_state.undo()
        self._model = None
        return row, label

    # -- persistence ----------------------------------------------------------------------------

    def state(self, *, include_texts: bool = True) -> dict[str, Any]:
        """The JSON-able session state that :meth:`save` writes
        (:func:`littledata.active.persistence.session_state`)."""
        return session_state(self, include_texts=include_texts)

    def save(self, path: str | Path, *, include_texts: bool = True) -> Path:
        """Write the session (labels, the pending batch, skipped rows, history, settings; the
        pool's texts unless it came from a registry dataset or ``include_texts=False``) as JSON,
        atomically. No features, no model: :meth:`load` reads the features back from the
        feature cache and refits the head."""
        return save_session(self, path, include_texts=include_texts)

    def export(self, path: str | Path, *, folds: int = 5, overwrite: bool = False) -> Path:
        """Save the current model as a model folder (``littledata predict`` / ``serve`` read it;
        :func:`littledata.active.export.export_model`)."""
        from littledata.active.export import export_model

        return export_model(self, path, folds=folds, overwrite=overwrite)

    @classmethod
    def load(
        cls,
        path: str | Path,
        *,
        texts: Sequence[str] | None = None,
        features: np.ndarray | None = None,
        head: Any = None,
        mirror: str | None = None,
    ) -> ActiveLearner:
        """Resume a session written by :meth:`save`.

        The pool comes back from the saved texts (or ``texts``), from the registry dataset, or
        from ``features`` for a features-only pool; features are read through the feature cache
        (computed again only when the cache lost them) and checked against the saved
        fingerprints. A session file only selects registered heads and strategies by name:
        ``head`` is needed when the session's head was an estimator object.
        """
        return load_session(cls, path, texts=texts, features=features, head=head, mirror=mirror)

    def __repr__(self) -> str:
        fz = self.featurizer
        fz = fz if isinstance(fz, str) else getattr(fz, "name", None)
        head = self.head if isinstance(self.head, str) else type(self.head).__name__
        return (
            f"ActiveLearner(featurizer={fz!r}, head={head!r}, strategy={self.strategy.name!r}, "
            f"pool={self.n_pool}, labeled={self.n_labeled}, classes={len(self.classes)})"
        )
