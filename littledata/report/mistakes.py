"""Where the recommended method goes wrong: per-class scores, confusion matrix, misclassified texts.

The results store keeps each trial's scores, not its predictions (a thousand test rows per trial
across thousands of trials would multiply the store's size for what a report shows for one trial
per dataset). A trial is deterministic (seeded caps, seeded training rows, seeded head), so the
report recomputes the predictions of the one trial it shows per dataset: the recommended method
at the largest training size it ran on that dataset, first seed. :func:`recompute` loads the
dataset, draws the same caps (checked against the trial's data fingerprint), reads the features
from the cache (computing them if they were removed), fits the head with
:func:`~littledata.experiments.trials.fit_predict` and checks the recomputed primary metric
against the stored one; :func:`mistakes_html` turns the predictions into HTML.
"""

from __future__ import annotations

import contextlib
import html
import logging
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

__all__ = ["Predictions", "dataset_mistakes_html", "mistakes_html", "mistakes_maker", "recompute"]

MAX_CLASSES_IN_MATRIX = 20
"""Above this many classes the confusion matrix is summed up as its most frequent confusions."""

N_EXAMPLES = 5
"""Misclassified test texts shown per dataset."""

DIAGONAL = " class='best'"


@dataclass
class Predictions:
    """A recomputed trial: test texts, true and predicted labels, confidence, class names."""

    config: dict[str, Any]
    texts: list[str]
    y_true: np.ndarray
    y_pred: np.ndarray
    confidence: np.ndarray
    label_names: list[str]
    score: float
    """The recomputed value of the primary metric."""
    stored: float
    """The value the store holds for this trial."""


def _spec_for(config: Mapping[str, Any]) -> Any:
    from littledata.experiments.spec import load_spec

    def cap(value: Any) -> int | None:
        return None if value is None else int(value)

    return replace(
        load_spec(packaged="quick"),
        train_pool_cap=cap(config.get("train_pool_cap")),
        test_cap=cap(config.get("test_cap")),
        cap_seed=int(config.get("cap_seed", 0)),
    )


def recompute(
    config: Mapping[str, Any],
    stored: float,
    metric: str,
    *,
    source: Any = None,
    mirror: str | None = None,
) -> Predictions:
    """The predictions of the trial of ``config`` (a stored trial's configuration).

    ``source``: the run's :class:`~littledata.datasets.source.DataSource` for a user's file
    (default: a registered dataset by name). Raises ``LittleDataError`` (or what loading raises)
    when the data or the featurizer cannot be had, or the data differ from the trial's.
    """
    from littledata.errors import LittleDataError
    from littledata.experiments.execution import resolve
    from littledata.experiments.prepare import (
        dataset_refs,
        features_refs,
        featurizer_by_name,
        prepare_dataset,
    )
    from littledata.experiments.trials import _input_kind, fit_predict
    from littledata.tasks import get_task_type

    if config.get("input") == "text":
        raise LittleDataError("its head fine-tunes an encoder; not recomputed for the report")
    loaded: dict[str, Any] = {}

    def loader(name: str) -> Any:
        if source is not None:
            ds = source.load(mirror=mirror, splits_itself=True)
        else:
            from littledata.datasets.loading import load_dataset

            ds = load_dataset(name, mirror=mirror)
        loaded["ds"] = ds
        return ds

    files = getattr(source, "files", ()) or ()
    prep = prepare_dataset(config["dataset"], _spec_for(config), loader, files=files)
    if config.get("data_fingerprint") and prep.info.fingerprint != config["data_fingerprint"]:
        raise LittleDataError("the data differ from the trial's (a changed file or caps)")
    fz = featurizer_by_name(config["featurizer"])
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as held:
        refs = {**features_refs(fz, prep, Path(tmp), held), **dataset_refs(prep, Path(tmp))}
        x_pool, x_test = resolve(refs["x_pool"]), resolve(refs["x_test"])
        fitted = fit_predict(
            x_pool, prep.y_pool, x_test, head=config["head"],
            input_kind=_input_kind(str(config.get("featurizer_kind", fz.kind)), x_pool),
            size=int(config["size"]), size_mode=str(config.get("size_mode", "total")),
            seed=int(config["seed"]), resampling=str(config.get("resampling", "none")),
            task=str(config.get("task", "single-label")), y_test=prep.y_test,
        )  # fmt: skip
    task = get_task_type(str(config.get("task", "single-label")))
    score = float(task.score(prep.y_test, fitted.proba, fitted.classes)[metric])
    pred_idx = fitted.proba.argmax(axis=1)
    names = [str(n) for n in getattr(loaded.get("ds"), "label_names", [])]
    return Predictions(
        config=dict(config),
        texts=list(prep.test_texts),
        y_true=np.asarray(prep.y_test),
        y_pred=np.asarray(fitted.classes)[pred_idx],
        confidence=fitted.proba.max(axis=1),
        label_names=names,
        score=score,
        stored=float(stored),
    )


def _name(p: Predictions, y: Any) -> str:
    i = int(y)
    return p.label_names[i] if 0 <= i < len(p.label_names) else str(y)


def mistakes_html(p: Predictions, metric_label: str) -> str:
    """Per-class precision, recall and F1, the confusion matrix (or its most frequent
    confusions) and a few misclassified test texts, most confident first."""
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    c = p.config
    labels = np.unique(np.concatenate([p.y_true, p.y_pred]))
    prec, rec, f1, support = precision_recall_fscore_support(
        p.y_true, p.y_pred, labels=labels, zero_division=0
    )
    same = abs(p.score - p.stored) < 1e-6
    check = (
        "the same as the stored trial"
        if same
        else f"the store holds {p.stored:.3f} for this trial (library versions differ?)"
    )
    unit = " per class" if c.get("size_mode") == "per_class" else ""
    parts = [
        f"<p>{html.escape(c['featurizer'])} + {html.escape(c['head'])} with {c['size']} "
        f"training rows{unit}, seed {c['seed']}, recomputed: {metric_label} {p.score:.3f}, "
        f"{check}.</p>",
        "<table><caption>Per class</caption><tr><th>class</th><th>precision</th>"
        "<th>recall</th><th>F1</th><th>test rows</th></tr>",
    ]
    for i, y in enumerate(labels):
        parts.append(
            f"<tr><th class='row'>{html.escape(_name(p, y))}</th><td>{prec[i]:.3f}</td>"
            f"<td>{rec[i]:.3f}</td><td>{f1[i]:.3f}</td><td>{int(support[i])}</td></tr>"
        )
    parts.append("</table>")
    cm = confusion_matrix(p.y_true, p.y_pred, labels=labels)
    if len(labels) <= MAX_CLASSES_IN_MATRIX:
        head = "".join(f"<th>{html.escape(_name(p, y))}</th>" for y in labels)
        parts.append(
            "<table class='confusion'><caption>Confusion matrix (rows: true class, columns: "
            f"predicted)</caption><tr><th></th>{head}</tr>"
        )
        for i, y in enumerate(labels):
            cells = "".join(
                f"<td{DIAGONAL if i == j and v else ''}>{int(v)}</td>" for j, v in enumerate(cm[i])
            )
            parts.append(f"<tr><th class='row'>{html.escape(_name(p, y))}</th>{cells}</tr>")
        parts.append("</table>")
    else:
        off = cm.copy()
        np.fill_diagonal(off, 0)
        top = np.argsort(off, axis=None)[::-1][:10]
        rows = [
            f"<tr><td>{html.escape(_name(p, labels[i]))}</td><td>"
            f"{html.escape(_name(p, labels[j]))}</td><td>{int(off[i, j])}</td></tr>"
            for i, j in zip(*np.unravel_index(top, off.shape), strict=True)
            if off[i, j] > 0
        ]
        parts.append(
            f"<table><caption>The most frequent confusions ({len(labels)} classes)</caption>"
            f"<tr><th>true</th><th>predicted</th><th>test rows</th></tr>{''.join(rows)}</table>"
        )
    wrong = np.flatnonzero(p.y_true != p.y_pred)
    if len(wrong):
        order = wrong[np.argsort(-p.confidence[wrong], kind="stable")][:N_EXAMPLES]
        parts.append(
            "<table class='examples'><caption>Misclassified test texts, most confident first"
            "</caption><tr><th>text</th><th>true</th><th>predicted</th><th>confidence</th></tr>"
        )
        for i in order:
            text = p.texts[i] if len(p.texts[i]) <= 300 else p.texts[i][:297] + "…"
            parts.append(
                f"<tr><td class='text'>{html.escape(text)}</td>"
                f"<td>{html.escape(_name(p, p.y_true[i]))}</td>"
                f"<td>{html.escape(_name(p, p.y_pred[i]))}</td><td>{p.confidence[i]:.2f}</td></tr>"
            )
        parts.append("</table>")
    else:
        parts.append("<p>No test text was misclassified.</p>")
    return "".join(parts)


def dataset_mistakes_html(
    frame: Any,
    trials: Any,
    dataset: str,
    method: str,
    metric: str,
    metric_label: str,
    sources: Mapping[str, Any] | None = None,
) -> str:
    """The mistakes section of ``dataset`` for ``method`` (a method label): its trial at the
    largest size, first seed, recomputed; a sentence instead when it cannot be.

    ``frame``: the report's long-format trials; ``trials``: the store's trial rows
    (:meth:`~littledata.experiments.store.ResultsStore.trials`) for their configurations;
    ``sources``: dataset name → the run's DataSource for a user's files.
    """
    from littledata.experiments.results import method_label

    rows = frame[(frame["dataset"] == dataset) & (frame["metric"] == metric)]
    if rows.empty:
        return ""
    labels = [
        method_label(f, h, r)
        for f, h, r in zip(rows["featurizer"], rows["head"], rows["resampling"], strict=True)
    ]
    rows = rows[[label == method for label in labels]]
    if rows.empty:
        return ""
    why_not = _not_applicable(rows)
    if why_not:
        return (
            f"<p class='meta'>No confusion matrix or misclassified texts for "
            f"{html.escape(dataset)}: {html.escape(why_not)}.</p>"
        )
    rows = rows.sort_values(["size", "seed"], ascending=[False, True], kind="stable")
    key, stored = rows["key"].iloc[0], float(rows["value"].iloc[0])
    found = trials[trials["key"] == key]
    if found.empty:
        return ""
    config = {k: v for k, v in found.iloc[0].to_dict().items() if not _missing(v)}
    title = f"Where {html.escape(method)} goes wrong"
    try:
        p = recompute(config, stored, metric, source=(sources or {}).get(dataset))
    except Exception as exc:  # a report never fails for want of one dataset's examples
        log.info("mistakes of %s not recomputed: %s", dataset, exc)
        return (
            f"<details><summary>{title}</summary><p>Not recomputed: "
            f"{html.escape(str(exc))}</p></details>"
        )
    return f"<details><summary>{title}</summary>{mistakes_html(p, metric_label)}</details>"


def _not_applicable(rows: Any) -> str:
    """Why the section does not apply to the task of ``rows`` (its task type's
    ``no_confusion_matrix``; "" when it does, or the task is unknown)."""
    from littledata.tasks import TASK_TYPES

    if "task" not in rows or rows["task"].dropna().empty:
        return ""
    task = TASK_TYPES.get(str(rows["task"].dropna().iloc[0]))
    why = task.no_confusion_matrix if task else ""
    return f"{task.name} data: {why}" if task and why else ""


def _missing(value: Any) -> bool:
    try:
        return bool(value != value) or value is None  # NaN or None
    except (TypeError, ValueError):
        return False


def mistakes_maker(store: Any, spec: Any) -> Any:
    """``(frame, dataset, method, metric) -> html``: the mistakes section of a dataset, with the
    store's trial configurations and the run's user files (``spec``) at hand."""
    from littledata.experiments.spec import entry_name
    from littledata.report.figures import METRIC_NAMES

    trials = store.trials("bench")
    sources = {entry_name(e): e for e in (spec.datasets if spec else ()) if not isinstance(e, str)}

    def make(frame: Any, dataset: str, method: str, metric: str) -> str:
        label = METRIC_NAMES.get(metric, metric)
        return dataset_mistakes_html(frame, trials, dataset, method, metric, label, sources)

    return make
