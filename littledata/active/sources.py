"""Starting an active learner from a registry dataset or a user's file.

:meth:`ActiveLearner.from_dataset <littledata.active.learner.ActiveLearner.from_dataset>` and
:meth:`~littledata.active.learner.ActiveLearner.from_file` call these; the task type of the
learner is the dataset's (single-label, sentence pairs, multi-label).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np

from littledata.errors import ConfigError

__all__ = ["learner_from_dataset", "learner_from_file", "taught_labels"]


def learner_from_dataset(
    cls: Any,
    name: str,
    *,
    split: str | None,
    featurizer: Any,
    head: Any,
    strategy: Any,
    mirror: str | None,
    **kwargs: Any,
) -> Any:
    """A learner over a registry dataset's split (the train split by default), labels hidden.
    A sequence-labeling dataset's sentences are a pool of word features (no texts: such a
    session is not saved)."""
    from littledata.active.data import load_active_dataset
    from littledata.tasks import get_task_type

    ds = load_active_dataset(name, mirror=mirror)
    split_name = split or ds.train_split
    part = ds[split_name]
    kwargs.setdefault("task", str(ds.task))
    sentences = get_task_type(str(kwargs["task"])).tokens(part)
    if sentences is not None:  # sequence labeling: a pool of sentences, features per word
        from littledata.features import get_featurizer
        from littledata.features.tokens import token_features

        fz = get_featurizer(featurizer) if isinstance(featurizer, str) else featurizer
        words = token_features(fz, sentences)
        lengths = [len(s) for s in sentences]
        return cls(
            None, head, strategy, features=words, lengths=lengths, classes=ds.label_names,
            **kwargs,
        )  # fmt: skip
    learner = cls(featurizer, head, strategy, texts=part.texts, classes=ds.label_names, **kwargs)
    learner.pool_source = {"source": "dataset", "dataset": name, "split": split_name}
    return learner


def taught_labels(labels: Any, label_set: Sequence[Hashable], multi: bool) -> list[Any]:
    """A split's labels as the values of ``label_set`` a learner is taught: one per row, or for
    a multi-label split (a 0/1 matrix) the list of each row's labels."""
    if multi:
        values = list(label_set)
        return [[values[j] for j in np.flatnonzero(row)] for row in np.asarray(labels)]
    names = [str(n) for n in np.asarray(labels.names())]
    by_text = {str(c): c for c in label_set}
    return [by_text[n] for n in names]


def learner_from_file(
    cls: Any,
    data: Any,
    *,
    classes: Sequence[Hashable] | None,
    featurizer: Any,
    head: Any,
    strategy: Any,
    mirror: str | None,
    **kwargs: Any,
) -> Any:
    """A learner over a user's file: unlabeled rows are the pool, labeled train rows taught."""
    from littledata.active.data import load_active_dataset
    from littledata.datasets.base import UNLABELED
    from littledata.tasks import get_task_type

    ds = load_active_dataset(data, mirror=mirror, labels="optional")
    parts = [k for k in (ds.train_split, UNLABELED) if k in ds.splits]
    known = [str(n) for n in ds.label_names]
    if classes is None:
        if not known:
            raise ConfigError(f"{ds.name} has no labels yet: name the label set, classes=[...].")
        label_set: list[Any] = known
    else:
        label_set = list(classes)
        missing = [n for n in known if n not in {str(c) for c in label_set}]
        if missing:
            raise ConfigError(
                f"{ds.name} has labels that are not among classes: {', '.join(missing)}. "
                "Add them to classes."
            )
    kwargs.setdefault("task", str(ds.task))
    if get_task_type(str(kwargs["task"])).query_task == "sequence-labeling":
        raise ConfigError(
            f"{ds.name} is sequence labeling: starting a session from a file is not built yet for "
            "it; use ActiveLearner(..., features=<word features>, lengths=[...]) or simulate."
        )
    texts = [t for k in parts for t in ds.splits[k].texts]
    learner = cls(featurizer, head, strategy, texts=texts, classes=label_set, **kwargs)
    learner.pool_rows = [
        (k, row) for k in parts for row in ds.splits[k].meta.get("row", range(len(ds[k])))
    ]
    if ds.train_split in parts:
        labeled = ds.splits[ds.train_split]
        multi = get_task_type(str(kwargs["task"])).query_task == "multi-label"
        if multi:  # the file's label columns by name, in the order of the learner's label set
            order = [known.index(str(c)) if str(c) in known else -1 for c in label_set]
            matrix = np.asarray(labeled.labels)
            full = np.zeros((len(matrix), len(label_set)), dtype=np.uint8)
            for j, col in enumerate(order):
                if col >= 0:
                    full[:, j] = matrix[:, col]
            values = taught_labels(full, label_set, True)
        else:
            values = taught_labels(labeled.labels, label_set, False)
        learner.teach(list(range(len(labeled))), values)
    return learner
