"""A labeling session: the database, the pool's features, and a model retrained in the background.

:class:`LabelSession` ties :class:`~littledata.label_app.store.LabelStore` (the truth: items,
answers, leases) to an :class:`~littledata.active.learner.ActiveLearner` that a worker thread
retrains after every ``batch_size`` answers. A request never waits for training: it reads the
queue order the last round wrote to the database and the class probabilities the last round kept
in memory (:meth:`LabelSession.suggest`). A round:

1. reads the agreed labels from the database and teaches them to a fresh learner over the fixed
   pool features (computed once, through the feature cache);
2. asks the learner's strategy for the next ``query_size`` rows (the cold-start strategy while
   fewer than two classes are labeled) and writes that order to the queue;
3. with two classes labeled: keeps the pool's class probabilities for the suggestions, measures
   the cross-validated accuracy on the labels so far, and updates the stopping criterion
   (stabilizing predictions on a fixed stop set); records the round in the database.
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from littledata.active.learner import ActiveLearner, thread_limit
from littledata.active.stopping import StabilizingPredictions
from littledata.errors import ConfigError
from littledata.label_app.store import LabelStore

log = logging.getLogger(__name__)

__all__ = ["LabelSession", "queue_order", "session_meta", "texts_fingerprint"]


def texts_fingerprint(texts: Sequence[str]) -> str:
    """sha256 over the pool's texts in order (a resumed session must have the same pool)."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def queue_order(n: int, seed: int) -> list[int]:
    """The queue's order before a model ranks anything: a seeded permutation of the rows."""
    return [int(i) for i in np.random.default_rng([seed, 17]).permutation(n)]


def cv_accuracy(model: Any, X: np.ndarray, y: np.ndarray, seed: int) -> float | None:
    """Cross-validated accuracy of ``model``'s kind on the labeled rows (up to 5 stratified
    folds; ``None`` until every labeled class has two rows)."""
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    from littledata.active.strategies import member_clone

    counts = np.bincount(y)
    counts = counts[counts > 0]
    if len(counts) < 2 or counts.min() < 2:
        return None
    folds = int(min(5, counts.min()))
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    return float(np.mean(cross_val_score(member_clone(model), X, y, cv=cv)))


class LabelSession:
    """The store, the pool and the background retraining (see the module docstring).

    Parameters
    ----------
    store: the session's database (filled already, or filled here from ``texts``).
    classes: the label set (strings).
    texts: the pool's texts (row ``i`` is item ``i``); ``None``: read them from ``store``.
    featurizer: a featurizer name or object (dense).
    head, strategy, cold_start: as for :class:`~littledata.active.learner.ActiveLearner`.
    batch_size: retrain after this many answers (labels, undos).
    query_size: how many rows each round ranks at the front of the queue.
    seed: every random choice (the first queue order, folds, the stop set).
    stop_threshold, stop_window: the stopping criterion's parameters.
    """

    def __init__(
        self,
        store: LabelStore,
        classes: Sequence[str],
        *,
        texts: Sequence[str] | None = None,
        featurizer: str | Any = "minilm",
        head: str = "logreg",
        strategy: str = "margin",
        cold_start: str = "cold-start",
        batch_size: int = 10,
        query_size: int = 200,
        seed: int = 0,
        stop_threshold: float = 0.99,
        stop_window: int = 3,
        stop_set: int = 2000,
    ) -> None:
        if batch_size < 1 or query_size < 1:
            raise ConfigError("batch_size and query_size must be at least 1.")
        self.store = store
        self.classes = [str(c) for c in classes]
        self.head, self.strategy, self.cold_start = head, strategy, cold_start
        self.batch_size, self.query_size, self.seed = int(batch_size), int(query_size), int(seed)
        if texts is None:
            texts = store.texts()
        self.texts = list(texts)
        probe = ActiveLearner(
            featurizer,
            head,
            strategy,
            texts=self.texts,
            classes=self.classes,
            seed=self.seed,
            cold_start=cold_start,
            collapse_check=False,
        )  # fmt: skip  (featurizes the pool once; checks the names)
        self.featurizer = probe.featurizer
        self.features = probe.features
        self.base_order = queue_order(len(self.texts), self.seed)
        rng = np.random.default_rng([self.seed, 18])
        self.stop_rows = np.sort(rng.permutation(len(self.texts))[:stop_set])
        self.stopper = StabilizingPredictions(stop_threshold, stop_window)
        self._lock = threading.Lock()
        self._proba: np.ndarray | None = None
        self._search_state: dict[str, Any] | None = None
        self._changes = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.training = False
        self.last_error: str | None = None
        self.rounds_done = 0

    # -- what requests read -----------------------------------------------------------------------

    def suggest(self, item_id: int) -> tuple[str, float] | None:
        """The current model's label for an item and its probability (``None`` before a model)."""
        proba = self._proba
        if proba is None:
            return None
        row = proba[item_id]
        k = int(np.argmax(row))
        return self.classes[k], float(row[k])

    def stopping_message(self) -> dict[str, Any]:
        """The stopping criterion's state for the page."""
        s = self.stopper
        recent = s.kappas[-s.window :]
        mean = float(np.mean(recent)) if recent else math.nan
        if s.stopped:
            text = (
                f"Predictions have stabilized (agreement between successive models "
                f"{mean:.3f} ≥ {s.threshold} over {s.window} rounds): more labels are unlikely "
                "to change the model much. You can stop here."
            )
        elif not recent:
            text = "Not enough rounds yet to judge when to stop."
        else:
            text = (
                f"Keep labeling: successive models agree {mean:.3f} over the last "
                f"{len(recent)} round(s); the criterion waits for {s.threshold} over "
                f"{s.window} rounds."
            )
        return {"stopped": s.stopped, "kappa": None if math.isnan(mean) else mean, "text": text}

    # -- the worker -------------------------------------------------------------------------------

    def changed(self, n: int = 1) -> None:
        """Count answers; wake the worker once a batch has come in."""
        with self._lock:
            self._changes += n
            due = self._changes >= self.batch_size
        if due:
            self._wake.set()

    def start(self) -> None:
        """Start the worker thread; it trains once at start (the labels the database holds)."""
        if self._thread is not None:
            return
        self._wake.set()
        self._thread = threading.Thread(target=self._run, name="littledata-retrain", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the worker (after the round in progress)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait()
            if self._stop.is_set():
                return
            self._wake.clear()
            with self._lock:
                self._changes = 0
            try:
                self.retrain()
            except Exception as exc:  # a failed round must not end the session
                self.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("retraining failed")

    def retrain(self) -> dict[str, Any]:
        """One round (see the module docstring); returns what it recorded."""
        self.training = True
        try:
            return self._round()
        finally:
            self.training = False

    def _round(self) -> dict[str, Any]:
        start = time.perf_counter()
        labels = self.store.training_labels()
        learner = ActiveLearner(
            None, self.head, self.strategy, features=self.features, classes=self.classes,
            seed=self.seed, cold_start=self.cold_start, collapse_check=False,
        )  # fmt: skip
        learner.round = self.rounds_done
        learner.search_state = self._search_state
        known = {c for c in self.classes}
        rows = [r for r, lab in labels.items() if lab in known]
        if rows:
            learner.teach(rows, [labels[r] for r in rows])
        ranked: list[int] = []
        if len(learner.unlabeled_indices):
            n = min(self.query_size, len(learner.unlabeled_indices))
            ranked = [int(i) for i in learner.query(n)]  # type: ignore[union-attr]
        strategy = learner.history[-1]["strategy"] if learner.history else ""
        record: dict[str, Any] = {"n_labels": len(rows), "strategy": strategy}
        if learner.label_state.n_labeled_classes() >= 2:
            model = learner.model
            self._search_state = learner.search_state
            proba = learner.predict_proba()
            with thread_limit(1):
                acc = cv_accuracy(
                    model, np.asarray(self.features[learner.labeled_indices]),
                    learner.label_codes, self.seed,
                )  # fmt: skip
            kappa = self.stopper.update(np.argmax(proba[self.stop_rows], axis=1))
            self._proba = proba
            record.update(
                cv_accuracy=acc,
                kappa=None if math.isnan(kappa) else kappa,
                stopped=self.stopper.stopped,
                message=self.stopping_message()["text"],
            )
        self.store.set_ranking(ranked, self.base_order)
        record["fit_seconds"] = round(time.perf_counter() - start, 4)
        self.store.add_round(**record)
        self.rounds_done += 1
        return record

    # -- status -----------------------------------------------------------------------------------

    def status(self) -> dict[str, Any]:
        """Stats for the side panel: counts, the learning curve, the stopping message."""
        stats = self.store.stats(self.classes)
        latest = {  # one point per label count: the latest round's
            r["n_labels"]: r["cv_accuracy"]
            for r in self.store.rounds()
            if r["cv_accuracy"] is not None
        }
        curve = [{"n_labels": n, "cv_accuracy": a} for n, a in sorted(latest.items())]
        return {
            **stats,
            "labels": self.classes,
            "curve": curve,
            "stopping": self.stopping_message(),
            "training": self.training,
            "rounds": self.rounds_done,
            "error": self.last_error,
        }


def session_meta(
    classes: Sequence[str], texts: Sequence[str], settings: Mapping[str, Any]
) -> dict[str, Any]:
    """What the database records about its session (checked when it is opened again)."""
    return {
        "format": "littledata-labels",
        "format_version": 1,
        "labels": list(classes),
        "n_items": len(texts),
        "texts_sha256": texts_fingerprint(texts),
        **dict(settings),
    }
