"""Sequence labeling: a tag per word (named entities in IOB2 or IOBES tags).

- Inputs: the words of each sentence (``Split.tokens``); features are one vector per word
  (:mod:`littledata.features.tokens`: an encoder's hidden states aligned to words, or a static
  embedding per word), flat in sentence order.
- Targets: a padded int64 matrix, a row per sentence and a tag index per word, ``-1`` past the
  sentence's end (:func:`pad_tags`); a word's row in the flat features follows from the lengths.
- Training sizes count **sentences**; a sample is a seeded prefix of a seeded permutation of the
  pool (nested: the sentences at 100 are among those at 500), caps the same.
- Heads: token heads (``register_head(..., tasks=("sequence-labeling",))``: ``token-logreg``, a
  softmax per word, and ``token-crf``, a linear-chain CRF that tags whole sentences), fitted by
  :class:`~littledata.models.tagger.TokenTagger`; :meth:`SequenceLabeling.predict_proba` gives a
  sentence head the words per sentence of the rows it predicts.
- Metrics (:func:`entity_scores`): entity-level precision, recall and F1 with seqeval's strict
  mode (an entity counts only when its type and both boundaries match; ``IOB2`` tags, or
  ``IOBES`` when the tag set has ``E-``/``S-`` tags), micro-averaged over entities
  (``entity_f1`` is the primary metric), per entity type from :func:`entity_report`; and
  ``token_accuracy``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from littledata.errors import DataFormatError
from littledata.tasks.base import TaskType
from littledata.tasks.registry import register_task_type

if TYPE_CHECKING:
    from littledata.datasets.base import Split

__all__ = [
    "SEQUENCE_METRICS",
    "SequenceLabeling",
    "entity_report",
    "entity_scores",
    "pad_tags",
    "tag_scheme",
    "unpad_tags",
]

SEQUENCE_METRICS: tuple[str, ...] = (
    "entity_f1",
    "entity_precision",
    "entity_recall",
    "token_accuracy",
)


def pad_tags(tags: Sequence[Sequence[int]]) -> np.ndarray:
    """A padded int64 matrix (sentences x longest sentence) of tag sequences, ``-1`` after each.

    >>> pad_tags([[1, 2], [0]]).tolist()
    [[1, 2], [0, -1]]
    """
    width = max((len(t) for t in tags), default=0)
    out = np.full((len(tags), max(width, 1)), -1, dtype=np.int64)
    for i, t in enumerate(tags):
        out[i, : len(t)] = np.asarray(t, dtype=np.int64)
    return out


def unpad_tags(y: np.ndarray) -> list[np.ndarray]:
    """The tag sequences of a padded matrix (each sentence up to its first ``-1``)."""
    y = np.asarray(y)
    return [row[: int((row >= 0).sum())] for row in y]


def tag_scheme(names: Sequence[str]) -> str:
    """``"IOBES"`` when the tags have ``E-`` or ``S-`` prefixes, else ``"IOB2"``."""
    return "IOBES" if any(str(n)[:2] in ("E-", "S-") for n in names) else "IOB2"


def _seqeval_args(names: Sequence[str]) -> dict[str, Any]:
    from seqeval.scheme import IOB2, IOBES

    return {"mode": "strict", "scheme": IOBES if tag_scheme(names) == "IOBES" else IOB2}


def entity_scores(
    true_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]
) -> dict[str, float]:
    """Entity-level (strict) micro precision, recall and F1, and token accuracy.

    >>> s = entity_scores([["B-PER", "I-PER", "O"]], [["B-PER", "O", "O"]])
    >>> s["entity_f1"], s["token_accuracy"]
    (0.0, 0.6666666666666666)
    """
    from seqeval.metrics import f1_score, precision_score, recall_score

    true_tags, pred_tags = [list(t) for t in true_tags], [list(p) for p in pred_tags]
    if [len(t) for t in true_tags] != [len(p) for p in pred_tags]:
        raise DataFormatError("true and predicted tag sequences differ in length")
    names = {t for seq in (*true_tags, *pred_tags) for t in seq}
    kw = _seqeval_args(sorted(names))
    flat_true = [a for seq in true_tags for a in seq]
    flat_pred = [b for seq in pred_tags for b in seq]
    words = len(flat_true)
    same = sum(a == b for a, b in zip(flat_true, flat_pred, strict=True))
    return {
        "entity_f1": float(f1_score(true_tags, pred_tags, zero_division=0, **kw)),
        "entity_precision": float(precision_score(true_tags, pred_tags, zero_division=0, **kw)),
        "entity_recall": float(recall_score(true_tags, pred_tags, zero_division=0, **kw)),
        "token_accuracy": float(same / words) if words else 0.0,
    }


def entity_report(
    true_tags: Sequence[Sequence[str]], pred_tags: Sequence[Sequence[str]]
) -> dict[str, dict[str, float]]:
    """Strict entity-level precision, recall, F1 and support per entity type (seqeval's
    ``classification_report``), plus its ``micro avg`` and ``macro avg`` rows."""
    from seqeval.metrics import classification_report

    true_tags, pred_tags = [list(t) for t in true_tags], [list(p) for p in pred_tags]
    names = {t for seq in (*true_tags, *pred_tags) for t in seq}
    report = classification_report(
        true_tags, pred_tags, output_dict=True, zero_division=0, **_seqeval_args(sorted(names))
    )
    return {k: {m: float(v) for m, v in row.items()} for k, row in report.items()}


@register_task_type
class SequenceLabeling(TaskType):
    """A tag per word (see the module docstring)."""

    name = "sequence-labeling"
    summary = "one label per token"
    metrics = SEQUENCE_METRICS
    unit = "sentences"
    active_learning = True
    query_task = "sequence-labeling"
    scores_need_names = True
    no_confusion_matrix = (
        "tags are predicted per word and scored per entity (an entity counts only when its type "
        "and both boundaries match), so a confusion matrix of one label per text does not apply; "
        "entity precision, recall and F1 are in the curves and tables"
    )

    def tokens(self, split: Split) -> list[list[str]] | None:
        if split.tokens is None:
            raise DataFormatError("a sequence-labeling split needs tokens (the words)")
        return [list(t) for t in split.tokens]

    def featurize(self, fz: Any, split: Split) -> np.ndarray:
        """One vector per word, flat in sentence order
        (:func:`~littledata.features.tokens.token_features`, cached)."""
        from littledata.features.tokens import token_features

        return token_features(fz, self.tokens(split) or [])

    def targets(self, split: Split) -> np.ndarray:
        return pad_tags(list(split.labels))

    def class_counts(self, y: np.ndarray, n_classes: int) -> np.ndarray:
        y = np.asarray(y)
        return np.bincount(y[y >= 0], minlength=n_classes) if y.size else np.zeros(n_classes, int)

    def cap(
        self, y: np.ndarray, cap: int | None, seed: int, *, stratified: bool = True
    ) -> np.ndarray:
        n = len(y)
        if cap is None or n <= cap:
            return np.arange(n)
        return np.sort(np.random.default_rng(seed).permutation(n)[:cap])

    def sample(self, y: np.ndarray, size: int, seed: int, *, per_class: bool = False) -> np.ndarray:
        if per_class:
            raise DataFormatError("sequence-labeling training sizes count sentences")
        if size > len(y):
            raise DataFormatError(f"cannot sample {size} sentences from a pool of {len(y)}")
        return np.sort(np.random.default_rng(seed).permutation(len(y))[:size])

    def size_problem(
        self, *, dataset: str, n_classes: int, pool_size: int, size: int, per_class: bool
    ) -> str:
        if per_class:
            return f"{dataset!r} is sequence labeling: training sizes count sentences"
        if pool_size and size > pool_size:
            return (
                f"size {size} is larger than the {pool_size} sentences in the train pool of "
                f"{dataset!r}"
            )
        return ""

    def take(self, x: Any, y: np.ndarray, idx: np.ndarray) -> Any:
        """The word rows of the sentences at ``idx`` (``x`` flat, sentence lengths from ``y``)."""
        lengths = (np.asarray(y) >= 0).sum(axis=1)
        starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
        rows = np.concatenate(
            [np.arange(starts[i], starts[i] + lengths[i]) for i in idx] or [np.zeros(0, int)]
        )
        return np.ascontiguousarray(np.asarray(x)[rows])

    def make_model(
        self,
        head: str,
        *,
        head_params: dict[str, Any] | None = None,
        input_kind: str = "dense",
        random_state: int = 0,
        resampling: str | None = None,
    ) -> Any:
        from littledata.models.tagger import TokenTagger

        return TokenTagger(head, head_params=head_params, random_state=random_state)

    def predict_proba(self, model: Any, x: Any, y: np.ndarray | None = None) -> np.ndarray:
        """Each word's tag probabilities; a head that tags whole sentences (``token-crf``) is
        given the words per sentence, counted from ``y``'s padding (its tags are not read)."""
        from littledata.models.tagger import sentence_lengths

        if y is None or not getattr(model, "takes_sentences", False):  # TokenTagger's property
            return np.asarray(model.predict_proba(x))
        return np.asarray(model.predict_proba(x, lengths=sentence_lengths(y)))

    def score(
        self,
        y_true: np.ndarray,
        proba: np.ndarray,
        classes: np.ndarray,
        metrics: Sequence[str] | None = None,
        *,
        label_names: Sequence[str] | None = None,
    ) -> dict[str, float]:
        """Entity scores of the argmax tags (``proba``: words x ``classes``, flat)."""
        if label_names is None:
            raise DataFormatError("sequence-labeling scores need the tag names (label_names)")
        names = [str(n) for n in label_names]
        pred = np.asarray(classes)[np.argmax(np.asarray(proba), axis=1)]
        true_seqs = unpad_tags(y_true)
        out_true, out_pred, start = [], [], 0
        for seq in true_seqs:
            out_true.append([names[t] for t in seq])
            out_pred.append([names[t] for t in pred[start : start + len(seq)]])
            start += len(seq)
        if start != len(pred):
            raise DataFormatError(f"{len(pred)} predicted words but {start} words in y_true")
        values = entity_scores(out_true, out_pred)
        return {m: values[m] for m in (metrics or self.metrics)}

    def score_model(
        self,
        model: Any,
        y_true: np.ndarray,
        proba: np.ndarray,
        label_names: Sequence[str] | None = None,
    ) -> dict[str, float]:
        return self.score(y_true, proba, np.asarray(model.classes_), label_names=label_names)

    def diagnostics(
        self,
        model: Any,
        x_train: Any,
        y_train: np.ndarray,
        y_test: np.ndarray,
        proba: np.ndarray,
        classes: np.ndarray,
    ) -> dict[str, float]:
        """Training-word accuracy, and whether the test words' predictions collapsed onto one
        tag (:func:`~littledata.experiments.collapse.check_collapse` over words)."""
        from littledata.experiments.collapse import check_collapse
        from littledata.models.tagger import flat_tags

        collapse = check_collapse(flat_tags(y_test), classes[np.argmax(proba, axis=1)])
        train_proba = self.predict_proba(model, x_train, y_train)
        train_pred = np.asarray(model.classes_)[np.argmax(train_proba, axis=1)]
        return {
            "top_pred_share": collapse.predicted_share,
            "collapsed": float(collapse.collapsed),
            "train_accuracy": float(np.mean(train_pred == flat_tags(y_train))),
        }
