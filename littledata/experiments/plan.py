"""Planning: expand an experiment spec into trials, explaining what cannot run.

:func:`plan_grid` takes what is known about each dataset (after its caps are drawn), featurizer
and head, and returns every trial of the grid dataset × featurizer × head × resampling × size ×
seed with its key and canonical configuration, plus one :class:`Skip` (with the reason) per
combination that cannot work. Whether a combination works is asked of the dataset's task type
(:mod:`littledata.tasks`): which heads serve it and which training sizes its pool allows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from littledata.experiments.spec import BASELINE, ExperimentSpec
from littledata.experiments.store import trial_key
from littledata.tasks import TASK_TYPES, head_serves, head_task_problem

__all__ = [
    "KIND",
    "PROTOCOL",
    "DatasetInfo",
    "FeaturizerInfo",
    "HeadSupport",
    "Skip",
    "Trial",
    "plan_grid",
    "spec_methods",
]

KIND = "bench"
"""The results-store kind of benchmark trials."""

PROTOCOL = 3
"""Version of what a trial does; part of every key, so a change to the protocol re-runs trials.

2: tf-idf from term counts computed once per dataset and the logreg head's rows' basis from a
pivoted Cholesky factor (same models up to float rounding, which can tip logreg's choice of C);
logreg's prior rule also asks the cross-validated C not to lose held-out accuracy.
3: every trial records whether its test predictions collapsed onto one class (the store's
``collapsed`` flag) and ``top_pred_share``; trials stored before could not be flagged, so they
are not mixed with these. The spec's resampling ``default`` is stored as the head's own option.
The svm head's calibration guard and logreg's prior at two rows per class (issue 20) change
those heads' results too.
"""

SINGLE_LABEL = "single-label"

_INPUT_WORDS = {
    "layers": "layer-wise features",
    "text": "raw texts",
    "dense": "dense vectors",
    "sparse": "texts for a head's own tf-idf",
}


@dataclass(frozen=True)
class DatasetInfo:
    """What planning needs to know about a dataset (after its caps are drawn)."""

    name: str
    task: str
    n_classes: int
    pool_size: int = 0
    test_size: int = 0
    min_class_count: int = 0
    """Rows of the rarest class in the train pool."""
    fingerprint: str = ""
    """sha256 over the capped pool and test texts and labels."""
    source_fingerprint: str = ""
    """A user's files: sha256 over the whole loaded content (``Dataset.fingerprint``), so that
    trials of a changed file are never taken for the new file's (empty for registered data)."""
    label_names: tuple[str, ...] = ()
    """The label names, for task types that score with them (sequence labeling's tags; part of
    those trials' configurations); empty for the others."""


@dataclass(frozen=True)
class FeaturizerInfo:
    """A featurizer's name, output kind (``dense``, ``layers``, ``sparse`` or ``text``) and
    fingerprint."""

    name: str
    kind: str
    fingerprint: str


@dataclass(frozen=True)
class HeadSupport:
    """What a head accepts and needs: input kinds, tasks, whether it takes ``class_weight``, the
    BLAS/torch threads it runs with, and whether it fine-tunes the encoder it is given.

    A head that tunes its encoder (``tunes_encoder``) is paired with an encoder featurizer
    (``dense`` or ``layers``) like any head, but its trials get the raw texts and the
    featurizer's name (the encoder to tune) instead of features; the featurizer's fingerprint
    in the trial's key is then the identity of the encoder the head starts from.
    """

    name: str
    inputs: tuple[str, ...] = ("dense", "sparse")
    tasks: tuple[str, ...] = (SINGLE_LABEL,)
    class_weight: bool = True
    threads: int = 1
    tunes_encoder: bool = False
    resampling: str = "none"
    """The head's default imbalance handling (what the spec's ``"default"`` resolves to)."""


@dataclass(frozen=True)
class Trial:
    """One planned trial: its key and canonical configuration."""

    key: str
    config: dict[str, Any]

    @property
    def pair(self) -> tuple[str, str]:
        """The (dataset, featurizer) whose features the trial reads."""
        return (self.config["dataset"], self.config["featurizer"])

    def label(self) -> str:
        """A short description for logs, e.g. ``sst2 minilm+logreg n=20 seed=0``."""
        c = self.config
        unit = "/class" if c["size_mode"] == "per_class" else ""
        res = "" if c["resampling"] == "none" else f" {c['resampling']}"
        return (
            f"{c['dataset']} {c['featurizer']}+{c['head']}{res} n={c['size']}{unit} "
            f"seed={c['seed']}"
        )


@dataclass(frozen=True)
class Skip:
    """A combination that cannot work, with the reason (``size`` is ``None`` for every size)."""

    dataset: str
    featurizer: str
    head: str
    size: int | None
    reason: str


def spec_methods(spec: ExperimentSpec) -> list[tuple[str, str]]:
    """The spec's (featurizer, head) pairs, with the baseline last when the spec asks for it."""
    methods = [(f, h) for f in spec.featurizers for h in spec.heads]
    if spec.baseline and BASELINE not in methods:
        methods.append(BASELINE)
    return methods


def plan_grid(
    spec: ExperimentSpec,
    datasets: Sequence[DatasetInfo],
    featurizers: Mapping[str, FeaturizerInfo],
    heads: Mapping[str, HeadSupport],
) -> tuple[list[Trial], list[Skip]]:
    """Expand ``spec`` into trials, explaining the combinations that cannot work.

    Parameters
    ----------
    spec: the experiment spec.
    datasets: one :class:`DatasetInfo` per dataset, caps applied.
    featurizers / heads: every featurizer and head the spec (and its baseline) names.

    Returns
    -------
    The trials in a stable order (dataset, featurizer, head, resampling, size, seed) and the
    skipped combinations (one :class:`Skip` per dataset × featurizer × head [× size]).
    """
    trials: list[Trial] = []
    skips: list[Skip] = []
    per_class = bool(spec.per_class_sizes)
    sizes = spec.per_class_sizes if per_class else spec.sizes
    for ds in datasets:
        for fname, hname in spec_methods(spec):
            fz, head = featurizers[fname], heads[hname]
            reason = _combination_problem(ds, fz, head)
            if reason:
                skips.append(Skip(ds.name, fname, hname, None, reason))
                continue
            task = TASK_TYPES[ds.task]
            options = [head.resampling if r == "default" else r for r in spec.resampling]
            for resampling in dict.fromkeys(options):
                if resampling == "class_weight" and not head.class_weight:
                    skips.append(
                        Skip(ds.name, fname, hname, None,
                             f"head {hname!r} has no class_weight option (resampling "
                             "'class_weight' needs one; use 'oversample')")
                    )  # fmt: skip
                    continue
                for size in sizes:
                    reason = task.size_problem(
                        dataset=ds.name,
                        n_classes=ds.n_classes,
                        pool_size=ds.pool_size,
                        size=size,
                        per_class=per_class,
                    )
                    if reason:
                        skips.append(Skip(ds.name, fname, hname, size, reason))
                        continue
                    for seed in spec.seeds:
                        config = _config(spec, ds, fname, fz, head, resampling, size, seed)
                        trials.append(Trial(trial_key(config), config))
    # one skip line per size group, not per resampling option
    return trials, list(dict.fromkeys(skips))


def _config(
    spec: ExperimentSpec,
    ds: DatasetInfo,
    fname: str,
    fz: FeaturizerInfo,
    head: HeadSupport,
    resampling: str,
    size: int,
    seed: int,
) -> dict[str, Any]:
    config: dict[str, Any] = {
        "protocol": PROTOCOL,
        "dataset": ds.name,
        "task": ds.task,
        "data_fingerprint": ds.fingerprint,
        "n_classes": ds.n_classes,
        "featurizer": fname,
        "featurizer_kind": fz.kind,
        "featurizer_fingerprint": fz.fingerprint,
        "head": head.name,
        "resampling": resampling,
        "size_mode": "per_class" if spec.per_class_sizes else "total",
        "size": size,
        "seed": seed,
        "train_pool_cap": spec.train_pool_cap,
        "test_cap": spec.test_cap,
        "cap_seed": spec.cap_seed,
    }
    if ds.label_names:  # the task type scores with them (entity spans from tag names)
        config["label_names"] = list(ds.label_names)
    if ds.source_fingerprint:  # a user's file: its whole content is in the key
        config["source_fingerprint"] = ds.source_fingerprint
    if head.tunes_encoder:  # it gets the raw texts and tunes the featurizer's encoder
        config["input"] = "text"
    return config


def _combination_problem(ds: DatasetInfo, fz: FeaturizerInfo, head: HeadSupport) -> str:
    if not head_serves(ds.task, head.tasks):
        return head_task_problem(ds.task, head.name, head.tasks, ds.name)
    if ds.task not in TASK_TYPES:  # pragma: no cover - a head claims a task with no task type
        return f"littledata has no task type for {ds.task} yet"
    if head.tunes_encoder:
        if ds.task not in head.tasks:  # it tunes on single texts; pair or label-set adapters
            return (  # wrap heads that take features, not an encoder being tuned
                f"head {head.name!r} fine-tunes its encoder on {', '.join(head.tasks)} data only; "
                f"dataset {ds.name!r} is {ds.task}"
            )
        if fz.kind in ("dense", "layers"):
            return ""
        return (
            f"head {head.name!r} fine-tunes the encoder of its featurizer; featurizer "
            f"{fz.name!r} gives {_INPUT_WORDS.get(fz.kind, fz.kind)} and has no encoder to tune"
        )
    if fz.kind not in head.inputs:
        return (
            f"featurizer {fz.name!r} gives {_INPUT_WORDS.get(fz.kind, fz.kind)}; head "
            f"{head.name!r} takes only {', '.join(_INPUT_WORDS.get(k, k) for k in head.inputs)}"
        )
    return ""
