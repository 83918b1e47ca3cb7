"""Models for use: a featurizer and a head as one scikit-learn classifier, saved as a small folder.

>>> from littledata.models import TextClassifier
>>> clf = TextClassifier(featurizer="minilm", head="logreg")  # doctest: +SKIP
>>> clf.fit(texts, labels).save("my-model")  # doctest: +SKIP
>>> TextClassifier.load("my-model").predict(["a new text"])  # doctest: +SKIP

- :class:`TextClassifier`: ``fit(texts, labels)``, ``predict``, ``predict_proba``, ``classes_``
  (label names), ``save`` / ``load``; works with ``cross_val_score`` and in a ``Pipeline``.
- :class:`PairClassifier`: the same for pairs of texts (``fit(pairs, labels)``, each pair a
  ``(text, text_pair)``), on the pair features ``[u, v, |u - v|, u * v]``.
- :class:`MultiLabelClassifier`: a set of labels per text (one head per label, tuned
  thresholds); ``predict_labels`` gives the names.
- :class:`SequenceTagger`: a tag per word (``fit(sentences, tags)``, each sentence a word list).
- :func:`load_model`: any saved model, by the task its manifest names.
- :class:`HeadClassifier`: a registered head on precomputed features (what the benchmark's
  trials fit, and the head inside a :class:`TextClassifier`).
- :class:`MultiLabelHead`: one-vs-rest over a registered head with per-label thresholds (the
  model of multi-label trials).
- :mod:`littledata.models.artifact`: the saved folder (``manifest.json`` + ``head.safetensors``).
"""

from __future__ import annotations

from littledata.models.classifier import MODEL_CLASSES, TASK, TextClassifier, load_model
from littledata.models.head import HeadClassifier
from littledata.models.multilabel import MultiLabelHead
from littledata.models.multilabel_classifier import MultiLabelClassifier
from littledata.models.pairs import PairClassifier
from littledata.models.sequence_tagger import SequenceTagger

__all__ = [
    "MODEL_CLASSES",
    "TASK",
    "HeadClassifier",
    "MultiLabelClassifier",
    "MultiLabelHead",
    "PairClassifier",
    "SequenceTagger",
    "TextClassifier",
    "load_model",
]
