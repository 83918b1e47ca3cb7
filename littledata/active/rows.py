"""Reading what a caller hands an :class:`~littledata.active.learner.ActiveLearner`: rows to
predict (the pool, texts, feature rows), examples to teach (pool row indices or texts), and a
sequence-labeling pool (word features and sentence lengths)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from littledata.errors import ConfigError, DataFormatError

__all__ = [
    "check_head_object",
    "check_head_task",
    "check_tag_counts",
    "feature_rows",
    "resolve_rows",
    "sentence_pool",
]


def feature_rows(learner: Any, X: Any) -> np.ndarray:
    """``X`` as feature rows: the pool (``None``), texts (featurized with the learner's
    featurizer, through the cache) or a feature matrix. A sequence-labeling learner reads its
    pool's words only; a learner whose head tunes its encoder reads texts
    (:func:`littledata.active.tuned.text_rows`)."""
    if getattr(learner, "tuned", False):
        from littledata.active.tuned import text_rows

        return text_rows(learner, X)
    if learner.words is not None:
        if X is not None:
            raise ConfigError(
                "A sequence-labeling learner predicts the words of its pool (predict() with no "
                "argument); for other sentences use learner.model on their word features."
            )
        return learner.words.matrix  # type: ignore[no-any-return]
    if X is None:
        return learner.features
    if isinstance(X, str):
        raise DataFormatError(
            "Pass a list of texts (or a feature matrix), not a single string: "
            f"predict([{X[:40]!r}])."
        )
    if not hasattr(X, "shape") or getattr(X, "ndim", 2) == 1:  # a sequence: texts?
        items = list(X)
        if items and all(isinstance(t, str) for t in items):
            if learner.featurizer is None:
                raise ConfigError(
                    "This learner was built from features, without a featurizer: it cannot "
                    "featurize texts. Pass feature rows of the pool's featurizer instead."
                )
            from littledata.features import featurize

            return np.asarray(featurize(items, learner._get_featurizer()))
        arr = np.asarray(items)
    else:
        arr = np.asarray(X)
    d = learner.features.shape[1]
    if arr.ndim != 2 or arr.dtype.kind not in "fiub":
        raise DataFormatError(
            f"predict takes a list of texts or a 2-D feature matrix (n, {d}); got "
            f"{type(X).__name__} of shape {arr.shape}."
        )
    if arr.shape[1] != learner.features.shape[1]:
        raise DataFormatError(
            f"The feature rows have {arr.shape[1]} columns but the pool's have "
            f"{learner.features.shape[1]}: pass features of the same featurizer, or texts."
        )
    return arr


def resolve_rows(learner: Any, items: Sequence[Any]) -> list[int]:
    """Pool rows of ``items`` (row indices, or pool texts: a text given twice takes its next
    unlabeled copy); a clear error for a text not in the pool or an index outside it."""
    out: list[int] = []
    for item in items:
        if isinstance(item, str):
            if learner.texts is None:
                raise DataFormatError(
                    "This pool was given as features only; teach by row index, not by text."
                )
            if learner._text_index is None:
                learner._text_index = {}
                for i, t in enumerate(learner.texts):
                    learner._text_index.setdefault(t, []).append(i)
            rows = learner._text_index.get(item)
            if not rows:
                raise DataFormatError(
                    f"The text {item[:60]!r} is not in the pool; teach texts from the pool "
                    "(or their row indices)."
                )
            free = [r for r in rows if not learner.label_state.is_labeled(r) and r not in out]
            out.append(free[0] if free else rows[0])
        elif isinstance(item, (int, np.integer)) and not isinstance(item, bool):
            i = int(item)
            if not 0 <= i < learner.n_pool:
                raise DataFormatError(
                    f"Index {i} is outside the pool (rows 0..{learner.n_pool - 1})."
                )
            out.append(i)
        else:
            raise DataFormatError(
                f"teach() takes pool row indices or pool texts, got {item!r} "
                f"({type(item).__name__})."
            )
    return out


def sentence_pool(
    kind: str, features: Any, lengths: Sequence[int] | None, texts: Any
) -> tuple[Any, Any]:
    """``(words, features)`` of a pool: for sequence labeling (``kind="sequence"``) the word
    features as :class:`~littledata.active.strategies.views.WordRows` and each sentence's mean
    word vector (what strategies that read the pool see); otherwise ``(None, features)``."""
    if kind != "sequence":
        if lengths is not None:
            raise ConfigError("lengths (words per sentence) go with a sequence-labeling pool.")
        return None, features
    if features is None or lengths is None or texts is not None:
        raise ConfigError(
            "A sequence-labeling pool is given as word features and sentence lengths "
            "(features=<(words, d) matrix>, lengths=[words per sentence]); "
            "ActiveLearner.from_dataset builds them for a registered dataset."
        )
    from littledata.active.strategies.views import WordRows

    words = WordRows.from_lengths(np.asarray(features), lengths)
    _, owner = words(np.arange(len(words.lengths)))
    sums = np.zeros((len(words.lengths), words.matrix.shape[1]))
    np.add.at(sums, owner, words.matrix)
    return words, sums / np.maximum(words.lengths, 1)[:, None]


def check_tag_counts(words: Any, rows: Sequence[int], tags: Sequence[Any]) -> None:
    """A DataFormatError when a sentence's list of tags is not one tag per word."""
    for row, seq in zip(rows, tags, strict=True):
        if isinstance(row, (int, np.integer)) and 0 <= row < len(words.lengths):
            n = int(words.lengths[row])
            if not isinstance(seq, str) and hasattr(seq, "__len__") and len(seq) != n:
                raise DataFormatError(
                    f"Example {int(row)} has {n} words but {len(seq)} tags were given; give one "
                    "tag per word."
                )


def check_head_task(head: str, task: Any) -> None:
    """A ConfigError when the registered head ``head`` serves neither ``task`` nor the task
    whose heads it adapts (multi-label: one-vs-rest over single-label heads)."""
    from littledata.heads import HEADS

    def per_word(name: str) -> bool:
        # a head that tags whole sentences (token-crf) needs each sentence's bounds to predict,
        # which the learner's queries over the pool's words do not pass yet
        return not getattr(HEADS.get(name), "sentences", False)

    served = set(HEADS.get(head).tasks)
    if (task.name in served and per_word(head)) or (task.head_task and task.head_task in served):
        return
    able = [n for n in HEADS.names() if task.name in HEADS.get(n).tasks and per_word(n)]
    why = (
        "tags whole sentences, which active learning does not handle yet"
        if task.name in served
        else f"does not serve {task.name} data"
    )
    raise ConfigError(
        f"The head {head!r} {why}; use {', '.join(able) or 'a head that does'} (--head)."
    )


def check_head_object(head: Any, task: Any) -> None:
    """A ConfigError when an estimator object cannot be a head for ``task``'s labels (a set of
    labels needs a :class:`~littledata.models.multilabel.MultiLabelHead`, tags per word a
    :class:`~littledata.models.tagger.TokenTagger`)."""
    from littledata.models.multilabel import MultiLabelHead
    from littledata.models.tagger import TokenTagger

    wanted = MultiLabelHead if task.query_task == "multi-label" else TokenTagger
    if not isinstance(head, wanted):
        raise ConfigError(
            f"A {task.name} learner's head is a registered head's name or a {wanted.__name__}; "
            f"got a {type(head).__name__}."
        )
