"""Preparation: load and cap each dataset, compute each (dataset, featurizer)'s features once.

What a run's trials read is prepared here, in the orchestrating process, and handed to the
executor as :class:`~littledata.experiments.execution.DataRef` references: features memory-mapped
from the feature cache (or written to the run's work folder when they are not cached), labels and
tf-idf term counts written to the work folder.

The dataset's task type (:mod:`littledata.tasks`) says how its splits become inputs and targets,
how the pool and the test set are capped and how many classes it has.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from littledata.errors import ConfigError, LittleDataError
from littledata.experiments.execution import DataRef
from littledata.experiments.plan import DatasetInfo, HeadSupport
from littledata.experiments.spec import ExperimentSpec
from littledata.tasks import get_task_type

if TYPE_CHECKING:
    from littledata.datasets.base import Dataset

log = logging.getLogger(__name__)

__all__ = [
    "PreparedDataset",
    "dataset_refs",
    "describe_dataset",
    "features_refs",
    "featurizer_by_name",
    "head_support",
    "prepare_dataset",
]


@dataclass
class PreparedDataset:
    """A dataset after its caps: the pool's and test set's texts and targets."""

    info: DatasetInfo
    pool_texts: list[str]
    test_texts: list[str]
    y_pool: np.ndarray
    y_test: np.ndarray
    about: dict[str, Any] = field(default_factory=dict)
    """What the dataset is, for the run's summary and the report (:func:`describe_dataset`)."""
    pool_sides: list[list[str]] | None = None
    """The pool's texts per side when the task reads several per example (sentence pairs: the
    first and second texts, featurized apart and combined by the task type); ``None``: one."""
    test_sides: list[list[str]] | None = None
    pool_tokens: list[list[str]] | None = None
    """The pool's words per example when the task's features are one vector per word (sequence
    labeling; see :mod:`littledata.features.tokens`); ``None`` otherwise."""
    test_tokens: list[list[str]] | None = None
    pool_examples: list[Any] | None = None
    """What a head that reads raw examples gets for each pool row when it is not the pool's
    text (:meth:`~littledata.tasks.base.TaskType.examples`; sentence pairs: ``[first, second]``);
    ``None``: :attr:`pool_texts`."""
    test_examples: list[Any] | None = None

    @property
    def tag(self) -> str:
        """The dataset's name made safe for file names in the run's work folder."""
        return _safe_name(self.info.name)


def describe_dataset(ds: Dataset, *, files: Sequence[Any] = (), split_note: str = "") -> dict:
    """Plain data about a loaded dataset: its files (a user's), rows per split, classes, how its
    test split was made, and its content fingerprint (a user's files)."""
    about: dict[str, Any] = {
        "task": str(ds.task),
        "rows": {k: len(v) for k, v in ds.splits.items()},
        "classes": len(ds.label_names),
        "label_names": [str(n) for n in ds.label_names[:MAX_NAMES_SHOWN]],
    }
    if files:
        about["files"] = [os.path.abspath(f) for f in files]
        about["fingerprint"] = ds.fingerprint()
    if split_note:
        about["split_note"] = split_note
    return about


MAX_NAMES_SHOWN = 30
"""Label names recorded per dataset in a run's summary (the count is always recorded)."""


def prepare_dataset(
    name: str,
    spec: ExperimentSpec,
    loader: Callable[[str], Any],
    *,
    files: Sequence[Any] = (),
) -> PreparedDataset:
    """Load ``name`` and draw its seeded caps (the task type's, stratified for single-label).

    A dataset without a test split (a user's file without one) gets the fixed, seeded held-out
    split of :func:`littledata.datasets.splitting.with_test_split` (seed: the spec's
    ``cap_seed``), said in the returned ``about["split_note"]``. ``files``: a user's files, whose
    content fingerprint then joins the trials' keys.
    """
    from littledata.datasets.splitting import with_test_split

    ds = loader(name)
    ds, split_note = with_test_split(ds, spec.cap_seed)
    if split_note:
        log.info("%s: %s", name, split_note)
    task = get_task_type(str(ds.task))
    train, test = ds.train, ds.test
    y_train = task.targets(train)
    y_test_full = task.targets(test)
    pool_idx = task.cap(y_train, spec.train_pool_cap, spec.cap_seed)
    test_idx = task.cap(y_test_full, spec.test_cap, spec.cap_seed)
    train_texts, test_texts_full = task.texts(train), task.texts(test)
    pool_texts = [train_texts[i] for i in pool_idx]
    test_texts = [test_texts_full[i] for i in test_idx]
    y_pool, y_test = y_train[pool_idx], y_test_full[test_idx]
    pool_sides = test_sides = None
    if len(task.sides(train)) > 1:  # featurized side by side, combined by the task type
        pool_sides = [[side[i] for i in pool_idx] for side in task.sides(train)]
        test_sides = [[side[i] for i in test_idx] for side in task.sides(test)]
    pool_examples = test_examples = None
    train_examples, test_examples_full = task.examples(train), task.examples(test)
    if train_examples != train_texts or test_examples_full != test_texts_full:
        pool_examples = [train_examples[i] for i in pool_idx]
        test_examples = [test_examples_full[i] for i in test_idx]
    pool_tokens = test_tokens = None
    train_tokens, test_tokens_full = task.tokens(train), task.tokens(test)
    if train_tokens is not None and test_tokens_full is not None:
        pool_tokens = [train_tokens[i] for i in pool_idx]
        test_tokens = [test_tokens_full[i] for i in test_idx]
    n_classes = task.n_classes(ds)
    counts = task.class_counts(y_pool, n_classes)
    info = DatasetInfo(
        name=name,
        task=task.name,
        n_classes=n_classes,
        pool_size=len(pool_idx),
        test_size=len(test_idx),
        min_class_count=int(counts.min()),
        fingerprint=_fingerprint(pool_texts, test_texts, y_pool, y_test),
        label_names=tuple(str(n) for n in ds.label_names) if task.scores_need_names else (),
    )
    about = describe_dataset(ds, files=files, split_note=split_note)
    if files:
        info = replace(info, source_fingerprint=about["fingerprint"])
    return PreparedDataset(
        info, pool_texts, test_texts, y_pool, y_test, about, pool_sides, test_sides, pool_tokens,
        test_tokens, pool_examples, test_examples,
    )  # fmt: skip


def _safe_name(name: str) -> str:
    safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name).lstrip(".")
    if safe == name:
        return name
    return f"{safe[:60]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}"


def _fingerprint(
    pool_texts: Sequence[str], test_texts: Sequence[str], y_pool: np.ndarray, y_test: np.ndarray
) -> str:
    """sha256 over the capped pool and test texts and labels."""
    from littledata.datasets.base import texts_fingerprint

    digest = hashlib.sha256()
    for part in (pool_texts, test_texts):
        digest.update(texts_fingerprint(part).encode())
    for arr in (y_pool, y_test):
        digest.update(np.ascontiguousarray(arr, dtype=np.int64).tobytes())
    return digest.hexdigest()


def head_support(name: str) -> HeadSupport:
    """What the registered head ``name`` accepts and needs (a ConfigError for an unknown one)."""
    from littledata.errors import unknown_name
    from littledata.heads import HEADS

    if name not in HEADS:
        raise ConfigError(f"Spec key 'heads': {unknown_name('head', name, HEADS)}")
    info = HEADS[name]
    inputs = tuple(sorted(info.inputs))
    tasks = tuple(info.tasks)
    try:  # does the head take class weights? (cheap: builds an unfitted estimator)
        info.factory(random_state=0, class_weight="balanced")
        weight = True
    except (LittleDataError, TypeError, ValueError):
        weight = False
    return HeadSupport(
        name=name,
        inputs=inputs,
        tasks=tasks,
        class_weight=bool(weight),
        threads=info.threads,
        resampling=info.resampling,
        tunes_encoder=info.tunes_encoder,
    )


def featurizer_by_name(name: str) -> Any:
    """The featurizer ``name`` (a ConfigError naming the spec key for an unknown one)."""
    from littledata.features import get_featurizer

    try:
        return get_featurizer(name)
    except LittleDataError as exc:
        raise ConfigError(f"Spec key 'featurizers': {exc}") from None


def dataset_refs(prep: PreparedDataset, work: Path) -> dict[str, DataRef]:
    """The pool's and test set's targets and raw examples (for heads that take raw texts: the
    texts, or :attr:`PreparedDataset.pool_examples` where the task gives other examples, such as
    pairs), written to ``work`` once per dataset (as JSON: plain data, read without pickle)."""
    from littledata.io import atomic_write_json

    name = prep.tag
    y_pool, y_test = work / f"{name}.y_pool.npy", work / f"{name}.y_test.npy"
    t_pool, t_test = work / f"{name}.texts_pool.json", work / f"{name}.texts_test.json"
    if not y_pool.exists():
        np.save(y_pool, prep.y_pool.astype(np.int64), allow_pickle=False)
        np.save(y_test, prep.y_test.astype(np.int64), allow_pickle=False)
        pool, test = prep.pool_examples, prep.test_examples
        atomic_write_json(t_pool, prep.pool_texts if pool is None else pool)
        atomic_write_json(t_test, prep.test_texts if test is None else test)
    return {
        "y_pool": DataRef(str(y_pool)),
        "y_test": DataRef(str(y_test)),
        "t_pool": DataRef(str(t_pool)),
        "t_test": DataRef(str(t_test)),
    }


def features_refs(
    fz: Any, prep: PreparedDataset, work: Path, held: contextlib.ExitStack
) -> dict[str, DataRef]:
    """The pool's and test set's features under ``fz`` (computed once, through the cache).

    The cache entries are held (``held``) until the run ends, so ``cache clear`` in another
    process cannot remove them before the workers open them.

    A text featurizer (tf-idf) gives term counts of the pool and test texts, tokenized once (one
    count matrix, shared term columns), for heads that fit tf-idf per trial (see
    :mod:`littledata.heads.text`).
    """
    name = prep.tag
    if fz.kind == "sparse":
        x_pool, x_test = _term_counts(prep, work, name)
    elif prep.pool_tokens is not None and prep.test_tokens is not None:
        x_pool = _token_features(fz, prep.pool_tokens, work, f"{name}.pool")
        x_test = _token_features(fz, prep.test_tokens, work, f"{name}.test")
    elif prep.pool_sides is not None and prep.test_sides is not None:
        x_pool = _combined_features(fz, prep, prep.pool_sides, work, f"{name}.pool", held)
        x_test = _combined_features(fz, prep, prep.test_sides, work, f"{name}.test", held)
    else:
        x_pool = _features(fz, prep.pool_texts, work, f"{name}.pool", held)
        x_test = _features(fz, prep.test_texts, work, f"{name}.test", held)
    return {"x_pool": DataRef(x_pool), "x_test": DataRef(x_test)}


def progress_chars(prep: PreparedDataset) -> int:
    """What the bars of :func:`features_refs` count in all for ``prep``: characters plus
    ``CHARS_PER_TEXT`` of each text an encoder reads (each side of a pair apart, each sentence of
    words as its words joined by spaces), so a run's display can weigh them into one step."""
    from littledata.features.base import CHARS_PER_TEXT
    from littledata.features.tokens import sentence_weight

    if prep.pool_tokens is not None and prep.test_tokens is not None:
        return sum(sentence_weight(words) for words in (*prep.pool_tokens, *prep.test_tokens))
    if prep.pool_sides is not None and prep.test_sides is not None:
        sides = (*prep.pool_sides, *prep.test_sides)
        return sum(len(t) + CHARS_PER_TEXT for side in sides for t in side)
    return sum(len(t) + CHARS_PER_TEXT for t in (*prep.pool_texts, *prep.test_texts))


def _token_features(fz: Any, sentences: list[list[str]], work: Path, tag: str) -> str:
    """The path of the flat word features of ``sentences`` (:mod:`littledata.features.tokens`,
    cached there), copied to the run's work folder."""
    from littledata.features.tokens import token_features

    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in fz.name)
    path = work / f"{tag}.{safe}.tokens.npy"
    np.save(path, token_features(fz, sentences), allow_pickle=False)
    return str(path)


def _combined_features(
    fz: Any,
    prep: PreparedDataset,
    sides: list[list[str]],
    work: Path,
    tag: str,
    held: contextlib.ExitStack,
) -> str:
    """The path of the task type's combination of each side's features (each side featurized
    through the cache on its own, so a text met on either side is encoded once)."""
    parts = [
        np.load(_features(fz, texts, work, f"{tag}.side{k}", held), mmap_mode="r")
        for k, texts in enumerate(sides)
    ]
    combined = get_task_type(prep.info.task).combine(parts)
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in fz.name)
    path = work / f"{tag}.{safe}.combined.npy"
    np.save(path, np.asarray(combined, dtype=np.float32), allow_pickle=False)
    return str(path)


def _term_counts(prep: PreparedDataset, work: Path, dataset: str) -> tuple[str, str]:
    import scipy.sparse as sp

    from littledata.features.base import check_texts
    from littledata.heads.text import count_terms

    paths = (work / f"{dataset}.pool.counts.npz", work / f"{dataset}.test.counts.npz")
    if not paths[0].exists():
        texts = check_texts([*prep.pool_texts, *prep.test_texts])
        counts = count_terms(texts)
        n_pool = len(prep.pool_texts)
        sp.save_npz(paths[0], counts[:n_pool], compressed=False)
        sp.save_npz(paths[1], counts[n_pool:], compressed=False)
    return str(paths[0]), str(paths[1])


def _features(fz: Any, texts: list[str], work: Path, tag: str, held: contextlib.ExitStack) -> str:
    """The path of a file holding the features of ``texts`` (the cache entry when there is one,
    held until the run ends)."""
    from littledata.features import cache as feature_cache
    from littledata.features import featurize

    for _ in range(3):
        matrix = featurize(texts, fz, cache=True, label=tag.replace(".", "/"))
        filename = getattr(matrix, "filename", None)
        if not filename:
            break
        if feature_cache.hold(filename, held):
            return str(filename)
        # removed between computing and holding it: this process's map still reads it
    # not memory-mapped from the cache: hand it over as a file (a model id may hold "/")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in fz.name)
    path = work / f"{tag}.{safe}.npy"
    np.save(path, np.asarray(matrix, dtype=np.float32), allow_pickle=False)
    return str(path)
