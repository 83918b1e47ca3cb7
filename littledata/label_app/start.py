"""Open a labeling session: load the data, fill (or check) the database, build the session.

A new database is filled from the data: every pool row becomes an item; a user's file's rows
that carry a label are recorded as answers of the annotator ``file`` (the session starts from
them). A database that holds a session already is resumed: the data must give the same texts
in the same order and ``--labels`` (when given) the same label set.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from littledata.errors import ConfigError
from littledata.label_app.session import LabelSession, queue_order, session_meta
from littledata.label_app.store import LabelStore

__all__ = ["load_pool", "open_session", "parse_labels"]


def parse_labels(text: str | Sequence[str] | None) -> list[str] | None:
    """``"a,b,c"`` (or a list) as the label set; ``None`` stays ``None``."""
    if text is None:
        return None
    parts = text.split(",") if isinstance(text, str) else list(text)
    labels = [p.strip() for p in parts if p.strip()]
    if len(labels) < 2:
        raise ConfigError(f"Give at least two labels, e.g. --labels pos,neg (got {text!r}).")
    if len(set(labels)) != len(labels):
        raise ConfigError(f"A label is named twice in {text!r}.")
    return labels


def load_pool(
    data: Any, classes: Sequence[str] | None, *, mirror: str | None = None
) -> tuple[list[str], list[str], dict[int, str], list[str]]:
    """The pool of ``data`` (a registry name, a path or a DataSource): ``(texts, sources,
    labeled, classes)``. A registered dataset's train split, its labels hidden; a user's file's
    train split (labels known) and unlabeled rows."""
    from littledata.active.data import load_active_dataset
    from littledata.datasets.base import UNLABELED
    from littledata.datasets.source import DataSource

    source = DataSource.parse(data) if not isinstance(data, DataSource) else data
    ds = load_active_dataset(source, mirror=mirror, labels="optional")
    from littledata.tasks import get_task_type

    if get_task_type(str(ds.task)).query_task != "single-label":
        raise ConfigError(
            f"The labeling page asks for one label per example; {ds.name} is {ds.task}. "
            "Label it in Python with littledata.active.ActiveLearner (docs/active-learning.md)."
        )
    known = [str(n) for n in ds.label_names]
    if source.is_registered:
        part = ds[ds.train_split]
        texts = [str(t) for t in part.texts]
        return texts, [f"{ds.train_split}:{i}" for i in range(len(texts))], {}, classes or known
    label_set = list(classes) if classes is not None else known
    if len(label_set) < 2:
        raise ConfigError(f"{ds.name} has no labels yet: name them with --labels a,b,c.")
    missing = sorted(set(known) - set(label_set))
    parts = [k for k in (ds.train_split, UNLABELED) if k in ds.splits]
    texts, sources, labeled = [], [], {}
    for k in parts:
        split = ds.splits[k]
        rows = split.meta.get("row", range(len(split)))
        names = np.asarray(split.labels.names()) if k != UNLABELED else None  # type: ignore[union-attr]
        for j, (text, row) in enumerate(zip(split.texts, rows, strict=True)):
            if names is not None:
                if str(names[j]) in missing:
                    raise ConfigError(
                        f"{ds.name} has labels that are not among --labels: "
                        f"{', '.join(missing)}. Add them to --labels."
                    )
                labeled[len(texts)] = str(names[j])
            texts.append(str(text))
            sources.append(f"{k}:{row}")
    return texts, sources, labeled, label_set


def open_session(
    data: Any = None,
    *,
    classes: Sequence[str] | None = None,
    db: str | None = None,
    featurizer: str | Any | None = None,
    head: str | None = None,
    strategy: str | None = None,
    double: float = 0.0,
    seed: int | None = None,
    lease_seconds: float = 600.0,
    batch_size: int = 10,
    mirror: str | None = None,
) -> LabelSession:
    """Open (or resume) the labeling session of ``data`` in the database ``db`` (see the module
    docstring). ``data=None`` resumes the session ``db`` holds, from its own texts.
    ``featurizer``, ``head``, ``strategy``, ``seed``: ``None`` takes the resumed session's (for
    a new one: ``minilm``, ``logreg``, ``margin``, 0). ``double``: the share of items (seeded)
    that need two annotators (a new session only)."""
    from littledata.label_app.store import open_existing

    if not 0.0 <= double <= 1.0:
        raise ConfigError(f"--double is a share of the items, from 0 to 1; got {double}.")
    if data is None:
        store = open_existing(db)
        store.lease_seconds = float(lease_seconds)
        texts, sources, labeled, label_set = store.texts(), [], {}, list(classes or [])
    else:
        texts, sources, labeled, label_set = load_pool(data, classes, mirror=mirror)
        store = LabelStore(db, lease_seconds=lease_seconds)
    meta = store.get_meta()
    old = meta if meta else {}
    featurizer = featurizer or old.get("featurizer") or "minilm"
    settings = {
        "featurizer": featurizer
        if isinstance(featurizer, str)
        else getattr(featurizer, "name", ""),
        "head": head or old.get("head") or "logreg",
        "strategy": strategy or old.get("strategy") or "margin",
        "seed": int(seed if seed is not None else old.get("seed", 0)),
        "double": old.get("double", double),
    }
    if meta:
        if (
            data is not None
            and meta.get("texts_sha256") != session_meta(label_set, texts, {})["texts_sha256"]
        ):
            raise ConfigError(
                f"The database {store.url} holds a labeling session of other data "
                f"({meta.get('n_items')} items); give the same data to resume it, or another --db."
            )
        if classes is not None and list(meta.get("labels", [])) != list(classes):
            raise ConfigError(
                f"The session in {store.url} labels {','.join(meta['labels'])}; --labels must "
                "be the same to resume it (or leave --labels out)."
            )
        label_set = list(meta["labels"])
        settings["seed"] = int(meta.get("seed", 0))  # the queue order was drawn with it
        store.set_meta({k: settings[k] for k in ("featurizer", "head", "strategy")})
    else:
        seed_ = settings["seed"]
        rng = np.random.default_rng([seed_, 19])
        required = [2 if x < double else 1 for x in rng.random(len(texts))]
        store.add_items(
            texts, sources=sources, required=required, order=queue_order(len(texts), seed_),
            labeled=labeled,
        )  # fmt: skip
        store.set_meta(session_meta(label_set, texts, settings))
    return LabelSession(
        store, label_set, texts=texts, featurizer=featurizer, head=settings["head"],
        strategy=settings["strategy"], batch_size=batch_size, seed=settings["seed"],
    )  # fmt: skip
