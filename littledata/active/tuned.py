"""A head that fine-tunes its encoder (``setfit``, ``finetune``) as the active learner's head.

Such a head reads raw texts, not features (its input kind is ``text``, see
:class:`~littledata.heads.HeadInfo`). For a single-label pool given as texts, the learner then:

- fits the head on the labeled rows' *texts*, tuning the encoder of the learner's featurizer
  (``encoder=`` its name; a featurizer without trainable weights is refused by the head's own
  check, before any work);
- embeds the pool with the tuned encoder after each fit (once per fit, with a progress bar)
  and hands strategies that use a model a
  :class:`~littledata.active.strategies.QueryContext` whose features are those tuned embeddings
  and whose model is the head's classifier on them
  (:meth:`~littledata.heads.tuned.SetFitHead.embedding_classifier`: ``setfit``'s logistic
  regression, ``finetune``'s linear head and softmax), with the same probabilities as the head
  on the texts. So every strategy works unchanged; strategies without a model (``kcenter``,
  ``random``, the cold start before two classes are labeled) read the frozen features;
- predicts texts with the tuned head (:meth:`ActiveLearner.predict_proba`).

A refit fine-tunes again from the base encoder (tens of seconds to minutes on a CPU) and
re-embeds the pool: affordable for small pools and few rounds (a simulation, an offline
session), not for the labeling app's seconds-per-round loop, which refuses these heads
(:func:`refuse_in_label_app`). See ``docs/finetuning.md``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from littledata.errors import ConfigError, DataFormatError

__all__ = [
    "TUNED_CHUNK",
    "check_text_head_task",
    "learner_head",
    "pool_embeddings",
    "query_view",
    "refuse_in_label_app",
    "text_head",
    "text_rows",
]

TUNED_CHUNK = 256
"""Texts embedded per step of the pool's progress bar."""


def text_head(head: Any) -> Any:
    """The :class:`~littledata.heads.HeadInfo` of ``head`` when it is a registered head's name
    that takes raw texts (input kind ``text``), else ``None``."""
    from littledata.heads import HEADS

    if not isinstance(head, str) or head not in HEADS:
        return None
    info = HEADS[head]
    return info if "text" in info.inputs else None


def _featurizer_name(learner: Any) -> str:
    fz = learner.featurizer
    name = fz if isinstance(fz, str) else getattr(fz, "name", None)
    if not isinstance(name, str) or not name:
        raise ConfigError(
            f"The head {learner.head!r} fine-tunes the encoder of the learner's featurizer; give "
            "the featurizer by name (featurizer='minilm')."
        )
    return name


def check_text_head_task(info: Any, task: str) -> None:
    """A ConfigError unless the text head ``info`` can be the learner's head for ``task`` data."""
    if task != "single-label" or "single-label" not in info.tasks:
        raise ConfigError(
            f"The head {info.name!r} fine-tunes its encoder on raw texts, which active learning "
            f"handles for single-label pools only, not {task}; use a head on frozen features "
            "(logreg)."
        )


def _check(learner: Any, info: Any) -> str:
    """The name of the encoder to tune, or a ConfigError for a learner that cannot use ``info``."""
    check_text_head_task(info, learner.task.name)
    if learner.texts is None:
        raise ConfigError(
            f"The head {info.name!r} fine-tunes its encoder on the pool's texts; this pool was "
            "given as features only. Give texts=[...] (features may come too)."
        )
    if "encoder" in learner.head_params:
        raise ConfigError(
            f"The head {info.name!r} tunes the learner's featurizer; set featurizer=..., not "
            "head_params['encoder']."
        )
    from littledata.finetune.encoder import tunable_source

    name = _featurizer_name(learner)
    tunable_source(name)  # the head's own refusal of a featurizer without trainable weights
    return name


def learner_head(learner: Any) -> Any:
    """An unfitted head for a single-label learner: a text head tuning the learner's
    featurizer (checked, see :func:`_check`), or any other registered head on features."""
    from littledata.heads import make_head

    info = text_head(learner.head)
    if info is None:
        return make_head(learner.head, random_state=learner.seed, **learner.head_params)
    encoder = _check(learner, info)
    return make_head(
        learner.head, input_kind="text", random_state=learner.seed, encoder=encoder,
        **learner.head_params,
    )  # fmt: skip


def labeled_texts(learner: Any) -> np.ndarray:
    """The texts of the labeled rows, in :attr:`labeled_indices` order (a 1-D object array)."""
    texts = learner.texts
    return np.asarray([texts[i] for i in learner.labeled_indices], dtype=object)


def _is_tuned(model: Any) -> bool:
    from littledata.heads.tuned import _TunedHead

    return isinstance(model, _TunedHead)


def pool_embeddings(learner: Any, head: Any) -> np.ndarray:
    """The pool's embeddings by ``head``'s tuned encoder, computed once per fitted head."""
    cached = getattr(learner, "_tuned_pool", None)
    if cached is not None and cached[0] is head:
        return cached[1]  # type: ignore[no-any-return]
    from littledata.progress import bar

    texts = learner.texts
    parts = []
    with bar(total=len(texts), desc="embedding the pool (tuned encoder)", unit="text") as b:
        for start in range(0, len(texts), TUNED_CHUNK):
            parts.append(head.transform(texts[start : start + TUNED_CHUNK]))
            b.update(len(parts[-1]))
    emb = np.concatenate(parts)
    learner._tuned_pool = (head, emb)
    return emb


def query_view(learner: Any, model: Any) -> tuple[Any, np.ndarray]:
    """``(model, pool features)`` for a round's :class:`QueryContext`: a fitted tuned head
    becomes its classifier on the tuned embeddings and the pool's tuned embeddings; anything
    else (no model, the prior before two classes) stays on the frozen features."""
    if not _is_tuned(model):
        return model, learner.features
    return model.embedding_classifier(), pool_embeddings(learner, model)


def text_rows(learner: Any, X: Any) -> np.ndarray:
    """What a tuned learner's model predicts: texts as a 1-D object array (``None``: the
    pool's); feature rows are refused (the tuned encoder reads texts)."""
    if X is None:
        return np.asarray(learner.texts, dtype=object)
    if isinstance(X, str):
        raise DataFormatError(f"Pass a list of texts, not a single string: predict([{X[:40]!r}]).")
    items = list(X) if getattr(X, "ndim", 1) == 1 else [None]
    if not all(isinstance(t, str) for t in items):
        raise ConfigError(
            f"The head {learner.head!r} predicts from texts with its tuned encoder; pass a list "
            "of texts, not feature rows."
        )
    return np.asarray(items, dtype=object)


def refuse_in_label_app(head: str | None) -> None:
    """A one-line ConfigError for a head that fine-tunes its encoder in the labeling app."""
    if head is not None and text_head(head) is not None:
        raise ConfigError(
            f"The labeling app refits its model every round in seconds; the head {head!r} "
            "fine-tunes its encoder (minutes a round). Label with logreg, then train the tuned "
            "model on the labels ('littledata train --head ...')."
        )
