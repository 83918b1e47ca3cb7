"""Saving and resuming an active-learning session as JSON.

A session file holds the settings (featurizer name and fingerprint, head, strategies, seed),
where the pool came from (its texts, a registry dataset's split, or a digest of the features),
the label state (:class:`~littledata.active.labels.LabelState`: labels, the pending batch, skipped
rows), the head's search state and the history. No features and no model: loading reads the
features back through the feature cache and refits the head.

A file only ever *selects* among registered heads and strategies, by name, with parameters
validated against them; nothing named in a file is imported or called. Reading checks the file
key by key first (:mod:`littledata.active.session_file`).

Format versions: 1 (labels and history), 2 (adds the pending batch, skipped rows and the head's
search state under ``search``). Version 1 files load.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from littledata.active.labels import LabelState
from littledata.active.session_file import (
    FORMAT,
    FORMAT_VERSION,
    head_from_session,
    read_session,
    strategy_from_session,
)
from littledata.errors import ConfigError, DataFormatError
from littledata.io import atomic_write_json

ActiveLearner = Any  # littledata.active.learner.ActiveLearner (not imported: it imports this)

__all__ = ["FORMAT", "FORMAT_VERSION", "features_digest", "load_session", "session_state"]


def features_digest(features: np.ndarray) -> str:
    """sha256 over a feature matrix's dtype, shape and bytes."""
    arr = np.ascontiguousarray(features)
    digest = hashlib.sha256(f"{arr.dtype.str}{arr.shape}".encode())
    digest.update(memoryview(arr.reshape(-1)).cast("B"))
    return digest.hexdigest()


def _head_spec(learner: ActiveLearner) -> dict[str, Any]:
    if isinstance(learner.head, str):
        return {"name": learner.head, "params": learner.head_params}
    from littledata.heads.saved import estimator_spec

    try:
        return estimator_spec(learner.head)
    except ConfigError:  # only a description for load()'s message; never imported
        cls = type(learner.head)
        return {"unregistered": f"{cls.__module__}.{cls.__qualname__}"}


def _featurizer_spec(learner: ActiveLearner) -> dict[str, Any] | None:
    fz = learner.featurizer
    if fz is None:
        return None
    if isinstance(fz, str):
        return {"name": fz, "options": learner.featurizer_options, "fingerprint": None}
    return {
        "name": getattr(fz, "name", None),
        "options": learner.featurizer_options,
        "fingerprint": getattr(fz, "fingerprint", None),
    }


def session_state(learner: ActiveLearner, *, include_texts: bool = True) -> dict[str, Any]:
    """The JSON-able session state that :meth:`ActiveLearner.save` writes."""
    if learner.words is not None:
        raise ConfigError(
            "Saving a sequence-labeling session is not built yet (its pool is word features "
            "without texts); keep the learner object, or simulate."
        )
    pool: dict[str, Any] = {**learner.pool_source, "n": learner.n_pool}
    if learner.texts is not None:
        from littledata.datasets.base import texts_fingerprint

        pool["texts_fingerprint"] = texts_fingerprint(learner.texts)
        if include_texts and pool["source"] == "texts":
            pool["texts"] = learner.texts
    if pool["source"] == "features":
        pool["features_sha256"] = features_digest(learner.features)
    search = learner.search_state
    return {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "featurizer": _featurizer_spec(learner),
        "head": _head_spec(learner),
        "strategy": learner.strategy.spec(),
        "cold_start": learner.cold_start.spec(),
        "seed": learner.seed,
        "task": learner.task.name,
        "classes": learner.classes,
        "pool": pool,
        "round": learner.round,
        "retune_growth": learner.retune_growth,
        "search": None if search is None else dict(search),
        **learner.label_state.to_json(),
        "history": learner.history,
    }


def save_session(learner: ActiveLearner, path: str | Path, *, include_texts: bool = True) -> Path:
    """Write :func:`session_state` as JSON, atomically."""
    path = Path(path)
    atomic_write_json(path, session_state(learner, include_texts=include_texts))
    return path


def _search_state(state: Mapping[str, Any]) -> dict[str, Any] | None:
    if state.get("search"):
        return dict(state["search"])
    tuned = state.get("tuned")  # format 1
    if tuned:
        return {"C": float(tuned["C"]), "n_rows": int(tuned["n_labeled"])}
    return None


def load_session(
    cls: Any,
    path: str | Path,
    *,
    texts: Sequence[str] | None = None,
    features: np.ndarray | None = None,
    head: Any = None,
    mirror: str | None = None,
) -> ActiveLearner:
    """Resume a session written by :func:`save_session` (see :meth:`ActiveLearner.load`)."""
    path = Path(path)
    state = read_session(path)
    pool = state["pool"]
    fz_spec = state.get("featurizer")
    featurizer = None
    options: dict[str, Any] = {}
    if fz_spec:
        featurizer, options = fz_spec.get("name"), dict(fz_spec.get("options") or {})
    head_obj, head_params = (
        (head, {}) if head is not None else head_from_session(state["head"], path)
    )
    kwargs: dict[str, Any] = {
        "classes": state["classes"],
        "task": state.get("task", "single-label"),
        "seed": state["seed"],
        "cold_start": strategy_from_session(state["cold_start"], path),
        "featurizer_options": options,
        "retune_growth": float(state.get("retune_growth", 0.25)),
    }
    if isinstance(head_obj, str):
        kwargs["head_params"] = head_params
    strategy = strategy_from_session(state["strategy"], path)
    source = pool.get("source")
    if source == "dataset" and texts is None and features is None:
        from littledata.active.data import load_active_dataset

        ds = load_active_dataset(pool["dataset"], mirror=mirror)
        texts = ds[pool["split"]].texts
    elif texts is None and "texts" in pool:
        texts = pool["texts"]
    if features is not None:
        learner = cls(featurizer, head_obj, strategy, features=features, texts=texts, **kwargs)
        if source == "features" and features_digest(features) != pool.get("features_sha256"):
            raise DataFormatError(
                "These features are not the ones the session was saved with (sha256 differs)."
            )
    elif texts is not None:
        if featurizer is None:
            raise DataFormatError(f"{path} names no featurizer; pass features=... to load().")
        try:
            learner = cls(featurizer, head_obj, strategy, texts=texts, **kwargs)
        except TypeError as exc:  # an option the featurizer does not take
            if not options:
                raise
            raise ConfigError(f"The featurizer options in {path} are not valid: {exc}") from None
    else:
        raise ConfigError(
            f"{path} holds no texts (it was saved from a features-only pool or without "
            "texts); pass texts=... or features=... to load()."
        )
    learner.pool_source = {k: v for k, v in pool.items() if k in ("source", "dataset", "split")}
    if learner.n_pool != pool["n"]:
        raise DataFormatError(
            f"The pool has {learner.n_pool} examples; the session was saved with {pool['n']}."
        )
    if learner.texts is not None and pool.get("texts_fingerprint"):
        from littledata.datasets.base import texts_fingerprint

        if texts_fingerprint(learner.texts) != pool["texts_fingerprint"]:
            raise DataFormatError(
                "The pool's texts differ from the ones the session was saved with."
            )
    saved_fp = (fz_spec or {}).get("fingerprint")
    now_fp = getattr(learner.featurizer, "fingerprint", None)
    if saved_fp and now_fp and saved_fp != now_fp:
        raise DataFormatError(
            f"The featurizer {fz_spec['name']!r} now has fingerprint {now_fp[:12]}…, the "
            f"session was saved with {saved_fp[:12]}…; its features would differ."
        )
    learner.label_state = LabelState.from_json(
        state, learner.classes, learner.n_pool, kind=learner.label_kind
    )
    learner.history = list(state.get("history", []))
    learner.search_state = _search_state(state)
    learner.round = int(state.get("round", len(learner.history)))
    return learner
