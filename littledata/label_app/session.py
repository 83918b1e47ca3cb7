"""A labeling session: the database, the pool's features, and a model retrained in the background.

:class:`LabelSession` ties :class:`~littledata.label_app.store.LabelStore` (the truth: items,
answers, leases) to an :class:`~littledata.active.learner.ActiveLearner` retrained after every
``batch_size`` answers: a worker thread reads the labels and hands the round to a worker process
(spawned once with the pool's features; it ends with the server), so the training's Python code
never holds the server's GIL. A request never waits for training: it reads the queue order the
last round wrote to the database and the suggestions the last round kept in memory
(:meth:`LabelSession.suggest`). A round (:func:`compute_round`):

1. reads the agreed labels from the database and teaches them to a fresh learner over the fixed
   pool features (computed once, through the feature cache);
2. asks the learner's strategy for the next ``query_size`` rows (the cold-start strategy while
   fewer than two classes are labeled) and writes that order to the queue;
3. with two classes labeled: keeps the pool's class probabilities for the suggestions, measures
   the cross-validated accuracy on the labels so far, and updates the stopping criterion
   (stabilizing predictions on a fixed stop set); records the round in the database.

The stopping criterion's state survives a restart: its agreements come back from the recorded
rounds, the last stop-set predictions (and a fingerprint of the labels they came from) from the
``stopping`` meta entry (:meth:`LabelSession.restore_stopping`). A round trained on exactly the
labels of the criterion's last update (the round every start runs, or an undo and the same label
again) does not update it: the same labels give the same model, and its agreement of 1.0 would
say nothing about whether more labels pay.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from littledata.active.learner import ActiveLearner, thread_limit
from littledata.active.stopping import StabilizingPredictions
from littledata.active.tuned import refuse_in_label_app
from littledata.errors import ConfigError
from littledata.label_app.store import LabelStore

log = logging.getLogger(__name__)

__all__ = [
    "LabelSession",
    "labels_fingerprint",
    "queue_order",
    "session_meta",
    "texts_fingerprint",
]


def texts_fingerprint(texts: Sequence[str]) -> str:
    """sha256 over the pool's texts in order (a resumed session must have the same pool)."""
    h = hashlib.sha256()
    for t in texts:
        h.update(t.encode("utf-8"))
        h.update(b"\0")
    return h.hexdigest()


def labels_fingerprint(labels: Mapping[int, str]) -> str:
    """sha256 over the training labels (item -> label), whatever their order."""
    items = sorted((int(k), str(v)) for k, v in labels.items())
    return hashlib.sha256(json.dumps(items).encode("utf-8")).hexdigest()


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


def compute_round(
    features: np.ndarray,
    *,
    classes: Sequence[str],
    labels: Mapping[int, str],
    head: str,
    strategy: str,
    cold_start: str,
    seed: int,
    round_no: int,
    search_state: dict[str, Any] | None,
    query_size: int,
) -> dict[str, Any]:
    """The model's part of a round: teach ``labels`` to a fresh learner over ``features``, rank
    the next ``query_size`` rows; with two classes labeled also each row's predicted class and
    its probability (``pred``, ``conf``) and the cross-validated accuracy."""
    learner = ActiveLearner(
        None, head, strategy, features=features, classes=classes, seed=seed,
        cold_start=cold_start, collapse_check=False,
    )  # fmt: skip
    learner.round = round_no
    learner.search_state = search_state
    known = set(classes)
    rows = [r for r, lab in labels.items() if lab in known]
    if rows:
        learner.teach(rows, [labels[r] for r in rows])
    ranked: list[int] = []
    n_open = len(learner.unlabeled_indices)
    if n_open:
        ranked = [int(i) for i in learner.query(min(query_size, n_open))]  # type: ignore[union-attr]
    out: dict[str, Any] = {
        "n_labels": len(rows), "ranked": ranked, "pred": None, "conf": None,
        "cv_accuracy": None, "search_state": search_state,
        "strategy": learner.history[-1]["strategy"] if learner.history else "",
    }  # fmt: skip
    if learner.label_state.n_labeled_classes() >= 2:
        model = learner.model
        proba = learner.predict_proba()
        out["pred"] = np.argmax(proba, axis=1).astype(np.int32)
        out["conf"] = proba.max(axis=1).astype(np.float32)
        out["search_state"] = learner.search_state
        with thread_limit(1):
            out["cv_accuracy"] = cv_accuracy(
                model, np.asarray(features[learner.labeled_indices]), learner.label_codes, seed
            )
    return out


_WORKER_FEATURES: np.ndarray | None = None


def _init_worker(features: np.ndarray, parent_pid: int) -> None:
    """The retraining process: it ends with the server, and holds the pool's features."""
    global _WORKER_FEATURES
    from littledata.processes import die_with_parent

    die_with_parent(parent_pid)
    _WORKER_FEATURES = features


def _round_in_worker(job: dict[str, Any]) -> dict[str, Any]:
    if _WORKER_FEATURES is None:
        raise RuntimeError("the retraining process has no features")
    return compute_round(_WORKER_FEATURES, **job)


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
    stop_set: how many pool rows (seeded) the stopping criterion's models predict.
    use_process: train in a worker process (default), so that requests never wait for the
        training's hold on Python's GIL; ``False``: in the worker thread itself (tests).
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
        use_process: bool = True,
    ) -> None:
        if batch_size < 1 or query_size < 1:
            raise ConfigError("batch_size and query_size must be at least 1.")
        refuse_in_label_app(head)
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
        self._stop_labels: str | None = None  # the labels of the criterion's last update
        self.restore_stopping()
        self._lock = threading.Lock()
        self._suggestions: tuple[np.ndarray, np.ndarray] | None = None
        self._executor: Any = None
        self.use_process = bool(use_process)
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
        suggestions = self._suggestions
        if suggestions is None:
            return None
        pred, conf = suggestions
        return self.classes[int(pred[item_id])], float(conf[item_id])

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

    def restore_stopping(self) -> None:
        """Take the stopping criterion's state up from the database (a resumed session): the
        agreements of the recorded rounds, and the last stop-set predictions when they were kept
        for the same stop set. A new session has no rounds: nothing changes."""
        model_rounds = [r for r in self.store.rounds() if r["message"]]  # rounds with a model
        if not model_rounds:
            return
        kept = self.store.get_meta().get("stopping") or {}
        previous = kept.get("predictions")
        if previous is not None and len(previous) != len(self.stop_rows):
            previous = None  # another stop set: compare anew
        stopped = [k for k, r in enumerate(model_rounds) if r["stopped"]]
        self.stopper.restore(
            [float(r["kappa"]) for r in model_rounds if r["kappa"] is not None],
            rounds=len(model_rounds),
            stopped_at=stopped[0] if stopped else None,
            previous=None if previous is None else np.asarray(previous),
        )
        self._stop_labels = kept.get("labels_sha256") if previous is not None else None

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
        """Stop the worker thread and process (after the round in progress)."""
        self._stop.set()
        self._wake.set()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
            self._executor = None
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

    def _pool(self) -> Any:
        """The worker process (started on first use; again after it died)."""
        if self._executor is None:
            import multiprocessing
            import os
            from concurrent.futures import ProcessPoolExecutor

            self._executor = ProcessPoolExecutor(
                max_workers=1,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_init_worker,
                initargs=(np.asarray(self.features), os.getpid()),
            )
        return self._executor

    def _round(self) -> dict[str, Any]:
        from concurrent.futures.process import BrokenProcessPool

        start = time.perf_counter()
        job = {
            "classes": self.classes, "labels": self.store.training_labels(), "head": self.head,
            "strategy": self.strategy, "cold_start": self.cold_start, "seed": self.seed,
            "round_no": self.rounds_done, "search_state": self._search_state,
            "query_size": self.query_size,
        }  # fmt: skip
        try:
            if self.use_process:
                result = self._pool().submit(_round_in_worker, job).result()
            else:
                result = compute_round(self.features, **job)
        except BrokenProcessPool:
            self._executor = None  # the next round starts a new worker
            raise
        self._search_state = result["search_state"]
        record: dict[str, Any] = {"n_labels": result["n_labels"], "strategy": result["strategy"]}
        if result["pred"] is not None:
            kappa = math.nan
            seen = labels_fingerprint(job["labels"])
            if seen != self._stop_labels:  # the same labels as last time: nothing to compare
                stop_pred = result["pred"][self.stop_rows]
                kappa = self.stopper.update(stop_pred)
                self._stop_labels = seen
                self.store.set_meta(
                    {"stopping": {"labels_sha256": seen, "predictions": stop_pred.tolist()}}
                )
            self._suggestions = (result["pred"], result["conf"])
            record.update(
                cv_accuracy=result["cv_accuracy"],
                kappa=None if math.isnan(kappa) else kappa,
                stopped=self.stopper.stopped,
                message=self.stopping_message()["text"],
            )
        self.store.set_ranking(result["ranked"], self.base_order)
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
