"""The benchmark runner: plan the grid, compute features once, run trials in worker processes.

:func:`run_benchmark` takes an :class:`~littledata.experiments.spec.ExperimentSpec` and

1. expands its datasets, loads each one and draws the seeded, stratified caps: a *train pool* of at
   most ``train_pool_cap`` rows of the train split (training rows are sampled from it, never from
   the test split) and at most ``test_cap`` rows of the test split;
2. plans the grid dataset × featurizer × head × resampling × size × seed, explaining and skipping
   the combinations that cannot work (a head that does not take the dataset's task or the
   featurizer's output, a size below the number of classes or above the train pool);
3. drops the trials already stored (a trial's key is the sha256 of its canonical configuration,
   which includes the data and featurizer fingerprints and the caps), so re-running a spec resumes;
4. computes the features of each (dataset, featurizer) once through the feature cache, in this
   process, with a progress bar (for the ``tfidf`` featurizer: term counts of the pool and test
   texts, tokenized once, which the heads turn into tf-idf fitted on their training rows only);
5. runs the trials in worker processes (``spawn`` context, one BLAS/torch thread each; they read
   features memory-mapped from the cache, never through pickled arrays) and stores each finished
   trial at once from this process, in its own transaction. A trial that raises is recorded as a
   failure with its message and retried by the next run; it never stops the run.

A trial samples its training rows from the pool (:func:`littledata.experiments.sampling.
sample_train_indices`), fits the head, calls ``predict_proba`` on the capped test rows and stores
:func:`~littledata.experiments.metrics.compute_metrics` plus ``fit_seconds``, ``predict_seconds``,
``train_accuracy``, ``n_train`` and ``trial_seconds``.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import hashlib
import logging
import multiprocessing
import os
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from littledata.errors import ConfigError, DataFormatError, DownloadError, LittleDataError
from littledata.experiments.spec import BASELINE, ExperimentSpec, resolve_datasets
from littledata.experiments.store import Measurement, ResultsStore, trial_key

log = logging.getLogger(__name__)

__all__ = [
    "KIND",
    "PROTOCOL",
    "DatasetInfo",
    "FeaturizerInfo",
    "HeadSupport",
    "RunSummary",
    "Skip",
    "Trial",
    "plan_grid",
    "run_benchmark",
    "run_trial",
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
"""

SINGLE_LABEL = "single-label"
MAX_POOL_BREAKS = 3  # worker pools that may die before the remaining trials are marked failed


# -- planning -----------------------------------------------------------------------------------


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


@dataclass(frozen=True)
class FeaturizerInfo:
    """A featurizer's name, output kind (``dense``, ``layers`` or ``text``) and fingerprint."""

    name: str
    kind: str
    fingerprint: str


@dataclass(frozen=True)
class HeadSupport:
    """What a head accepts: input kinds, tasks, and whether it takes ``class_weight``."""

    name: str
    inputs: tuple[str, ...] = ("dense", "text")
    tasks: tuple[str, ...] = (SINGLE_LABEL,)
    class_weight: bool = True
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


def _methods(spec: ExperimentSpec) -> list[tuple[str, str]]:
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
    methods = _methods(spec)
    for ds in datasets:
        for fname, hname in methods:
            fz, head = featurizers[fname], heads[hname]
            reason = _combination_problem(ds, fz, head)
            if reason:
                skips.append(Skip(ds.name, fname, hname, None, reason))
                continue
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
                    reason = _size_problem(ds, size, per_class)
                    if reason:
                        skips.append(Skip(ds.name, fname, hname, size, reason))
                        continue
                    for seed in spec.seeds:
                        config = {
                            "protocol": PROTOCOL,
                            "dataset": ds.name,
                            "task": ds.task,
                            "data_fingerprint": ds.fingerprint,
                            "n_classes": ds.n_classes,
                            "featurizer": fname,
                            "featurizer_kind": fz.kind,
                            "featurizer_fingerprint": fz.fingerprint,
                            "head": hname,
                            "resampling": resampling,
                            "size_mode": "per_class" if per_class else "total",
                            "size": size,
                            "seed": seed,
                            "train_pool_cap": spec.train_pool_cap,
                            "test_cap": spec.test_cap,
                            "cap_seed": spec.cap_seed,
                        }
                        trials.append(Trial(trial_key(config), config))
    # one skip line per size group, not per resampling option
    return trials, list(dict.fromkeys(skips))


def _combination_problem(ds: DatasetInfo, fz: FeaturizerInfo, head: HeadSupport) -> str:
    if ds.task not in head.tasks:
        what = {
            "sentence-pair": "pairs of texts",
            "multi-label": "several labels per text",
            "sequence-labeling": "one label per token",
        }.get(ds.task, ds.task)
        return (
            f"dataset {ds.name!r} is {ds.task} ({what}); head {head.name!r} predicts one label "
            f"per text ({', '.join(head.tasks)} only)"
        )
    if fz.kind not in head.inputs:
        kinds = {"layers": "layer-wise features", "text": "raw texts", "dense": "dense vectors"}
        return (
            f"featurizer {fz.name!r} gives {kinds.get(fz.kind, fz.kind)}; head {head.name!r} "
            f"takes only {', '.join(kinds.get(k, k) for k in head.inputs)}"
        )
    return ""


def _size_problem(ds: DatasetInfo, size: int, per_class: bool) -> str:
    if per_class:
        total = size * ds.n_classes
        if ds.pool_size and total > ds.pool_size:
            return (
                f"{size} per class x {ds.n_classes} classes = {total} rows, more than the "
                f"{ds.pool_size} rows in the train pool of {ds.name!r}"
            )
        return ""
    if size < ds.n_classes:
        return (
            f"size {size} is smaller than the {ds.n_classes} classes of {ds.name!r} (every class "
            "needs at least one training row)"
        )
    if ds.pool_size and size > ds.pool_size:
        return (
            f"size {size} is larger than the {ds.pool_size} rows in the train pool of {ds.name!r}"
        )
    return ""


# -- one trial ----------------------------------------------------------------------------------


def _sample(y_pool: np.ndarray, size: int, size_mode: str, seed: int) -> np.ndarray:
    from littledata.experiments.sampling import sample_train_indices

    per_class = size_mode == "per_class"
    return np.asarray(sample_train_indices(y_pool, size, seed, per_class=per_class))


def _take(x: Any, idx: np.ndarray) -> Any:
    if isinstance(x, list):
        return [x[i] for i in idx]
    if hasattr(x, "tocsr"):  # sparse term counts
        return x[idx]
    return np.ascontiguousarray(x[idx])


def run_trial(
    x_pool: Any,
    y_pool: np.ndarray,
    x_test: Any,
    y_test: np.ndarray,
    *,
    head: str,
    input_kind: str,
    size: int,
    size_mode: str = "total",
    seed: int = 0,
    resampling: str = "none",
) -> dict[str, float]:
    """Run one trial and return its measurements.

    Samples the training rows from the pool (stratified, seeded), fits ``head`` on them, predicts
    probabilities for the test rows and computes the metrics.

    Parameters
    ----------
    x_pool, y_pool: features (an array, or a list of texts for ``input_kind="text"``) and labels
        of the train pool.
    x_test, y_test: the same for the (capped) test split.
    head: a head name (:data:`littledata.heads.HEADS`).
    input_kind: the featurizer's kind: ``dense``, ``layers`` or ``text``.
    size, size_mode: total training rows (``"total"``) or rows per class (``"per_class"``).
    seed: seeds the sample and the head.
    resampling: ``none``, ``oversample`` or ``class_weight``.

    Returns
    -------
    ``{metric: value}``: the metrics of :func:`~littledata.experiments.metrics.compute_metrics`
    plus ``fit_seconds``, ``predict_seconds``, ``train_accuracy``, ``n_train``,
    ``trial_seconds`` (the whole trial: sampling, fit, predictions and metrics),
    ``top_pred_share`` (the share of test rows predicted as the most predicted class) and
    ``collapsed`` (1.0 when the test predictions collapsed onto one class, see
    :mod:`littledata.experiments.collapse`; the store keeps it as the trial's flag).
    """
    from littledata.experiments.collapse import check_collapse
    from littledata.experiments.metrics import compute_metrics
    from littledata.heads import make_head

    start_trial = time.perf_counter()
    y_pool = np.asarray(y_pool)
    idx = _sample(y_pool, size, size_mode, seed)
    x_train, y_train = _take(x_pool, idx), y_pool[idx]
    model = make_head(head, input_kind=input_kind, random_state=seed, resampling=resampling)
    start = time.perf_counter()
    model.fit(x_train, y_train)
    fit_seconds = time.perf_counter() - start
    start = time.perf_counter()
    proba = model.predict_proba(x_test)
    predict_seconds = time.perf_counter() - start
    classes = np.asarray(model.classes_)
    y_test = np.asarray(y_test)
    out = {k: float(v) for k, v in compute_metrics(y_test, proba, classes).items()}
    collapse = check_collapse(y_test, classes[np.argmax(proba, axis=1)])
    out["top_pred_share"] = collapse.predicted_share
    out["collapsed"] = float(collapse.collapsed)
    train_pred = model.predict(x_train)
    out["train_accuracy"] = float(np.mean(np.asarray(train_pred) == y_train))
    out["fit_seconds"] = fit_seconds
    out["predict_seconds"] = predict_seconds
    out["n_train"] = float(len(idx))
    out["trial_seconds"] = time.perf_counter() - start_trial
    return out


# -- worker processes ---------------------------------------------------------------------------

_THREAD_VARS = (
    "OMP_NUM_THREADS",
    "OPENBLAS_NUM_THREADS",
    "MKL_NUM_THREADS",
    "BLIS_NUM_THREADS",
    "NUMEXPR_NUM_THREADS",
    "VECLIB_MAXIMUM_THREADS",
)
_worker_limits: Any = None
_payload_cache: dict[str, Any] = {}


def _init_worker() -> None:
    """Limit every thread pool of a worker process to one thread (the workers are the
    parallelism), before and after the numeric libraries load."""
    global _worker_limits
    for var in _THREAD_VARS:
        os.environ[var] = "1"
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    from threadpoolctl import threadpool_limits

    _worker_limits = threadpool_limits(limits=1)
    import sys

    if "torch" in sys.modules:
        sys.modules["torch"].set_num_threads(1)


def _load_array(path: str) -> Any:
    if path.endswith(".npz"):  # term counts of a text featurizer (scipy loads without pickle)
        import scipy.sparse as sp

        return sp.load_npz(path).tocsr()
    return np.load(path, mmap_mode="r", allow_pickle=False)


def _input_kind(featurizer_kind: str, x_pool_path: str) -> str:
    """Texts reach the workers as term counts (tokenized once per dataset): ``counts``."""
    if featurizer_kind == "text" and x_pool_path.endswith(".npz"):
        return "counts"
    return featurizer_kind


def _cached(path: str) -> Any:
    if path not in _payload_cache:
        if len(_payload_cache) > 16:  # keep a worker's open maps bounded
            _payload_cache.clear()
        _payload_cache[path] = _load_array(path)
    return _payload_cache[path]


def _worker_task(task: dict[str, Any]) -> dict[str, Any]:
    """Run one trial in a worker; never raises (errors come back as a message)."""
    try:
        c = task["config"]
        with _limit_threads():
            values = run_trial(
                _cached(task["x_pool"]),
                np.asarray(_cached(task["y_pool"])),
                _cached(task["x_test"]),
                np.asarray(_cached(task["y_test"])),
                head=c["head"],
                input_kind=_input_kind(c["featurizer_kind"], task["x_pool"]),
                size=c["size"],
                size_mode=c["size_mode"],
                seed=c["seed"],
                resampling=c["resampling"],
            )
        return {"key": task["key"], "values": values, "error": None}
    except Exception as exc:  # a failed trial is data, not a crash
        return {
            "key": task["key"],
            "values": None,
            "error": f"{type(exc).__name__}: {exc}",
            "traceback": traceback.format_exc(),
        }


@contextlib.contextmanager
def _limit_threads() -> Iterator[None]:
    if _worker_limits is not None:  # in a worker: already limited
        yield
        return
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        yield


# -- data and features --------------------------------------------------------------------------


@dataclass
class _Prepared:
    info: DatasetInfo
    pool_texts: list[str]
    test_texts: list[str]
    y_pool: np.ndarray
    y_test: np.ndarray


def _cap(labels: np.ndarray, cap: int | None, seed: int) -> np.ndarray:
    if cap is None or len(labels) <= cap:
        return np.arange(len(labels))
    from littledata.experiments.sampling import cap_indices

    return np.sort(np.asarray(cap_indices(labels, cap, seed=seed)))


def _prepare_dataset(name: str, spec: ExperimentSpec, loader: Callable[[str], Any]) -> _Prepared:
    ds = loader(name)
    task = str(ds.task)
    train, test = ds.train, ds.test
    y_train = np.asarray(train.labels)
    y_test_full = np.asarray(test.labels)
    pool_idx = _cap(y_train, spec.train_pool_cap, spec.cap_seed)
    test_idx = _cap(y_test_full, spec.test_cap, spec.cap_seed)
    pool_texts = [train.texts[i] for i in pool_idx]
    test_texts = [test.texts[i] for i in test_idx]
    y_pool, y_test = y_train[pool_idx], y_test_full[test_idx]
    digest = hashlib.sha256()
    for part in (pool_texts, test_texts):
        digest.update(_texts_digest(part).encode())
    for arr in (y_pool, y_test):
        digest.update(np.ascontiguousarray(arr, dtype=np.int64).tobytes())
    counts = np.bincount(y_pool, minlength=ds.num_labels) if len(y_pool) else np.zeros(1)
    info = DatasetInfo(
        name=name,
        task=task,
        n_classes=int(ds.num_labels),
        pool_size=len(pool_idx),
        test_size=len(test_idx),
        min_class_count=int(counts.min()),
        fingerprint=digest.hexdigest(),
    )
    return _Prepared(info, pool_texts, test_texts, y_pool, y_test)


def _texts_digest(texts: Sequence[str]) -> str:
    from littledata.datasets.base import texts_fingerprint

    return texts_fingerprint(texts)


def _head_support(name: str) -> HeadSupport:
    from littledata.errors import unknown_name
    from littledata.heads import HEADS

    if name not in HEADS:
        raise ConfigError(f"Spec key 'heads': {unknown_name('head', name, HEADS)}")
    info = HEADS[name]
    resampling = str(getattr(info, "resampling", "none"))
    inputs = tuple(getattr(info, "inputs", ("dense", "text")))
    tasks = tuple(str(t) for t in getattr(info, "tasks", (SINGLE_LABEL,)))
    try:  # does the head take class weights? (cheap: builds an unfitted estimator)
        info.factory(random_state=0, class_weight="balanced")
        weight = True
    except (LittleDataError, TypeError, ValueError):
        weight = False
    return HeadSupport(
        name=name, inputs=inputs, tasks=tasks, class_weight=bool(weight), resampling=resampling
    )


def _featurizer(name: str) -> Any:
    from littledata.features import get_featurizer

    try:
        return get_featurizer(name)
    except LittleDataError as exc:
        raise ConfigError(f"Spec key 'featurizers': {exc}") from None


def _term_counts(prep: _Prepared, work: Path, dataset: str) -> tuple[str, str]:
    """Tokenize the pool and test texts once (one count matrix, shared term columns) for the
    heads that fit tf-idf per trial (see :mod:`littledata.heads.text`); returns both paths."""
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


def _features(
    fz: Any, texts: list[str], work: Path, tag: str
) -> str:  # returns the path a worker reads
    from littledata.features import featurize

    matrix = featurize(texts, fz, cache=True, label=tag.replace(".", "/"))
    filename = getattr(matrix, "filename", None)
    if filename and Path(filename).exists():
        return str(filename)
    # not memory-mapped from the cache: hand it over as a file (a model id may hold "/")
    safe = "".join(c if c.isalnum() or c in "-_" else "_" for c in fz.name)
    path = work / f"{tag}.{safe}.npy"
    np.save(path, np.asarray(matrix, dtype=np.float32), allow_pickle=False)
    return str(path)


# -- the run ------------------------------------------------------------------------------------


@dataclass
class RunSummary:
    """What a run did (also recorded in the store with the spec)."""

    spec_name: str
    datasets: list[str] = field(default_factory=list)
    planned: int = 0
    already_stored: int = 0
    run: int = 0
    failed: int = 0
    skipped: list[Skip] = field(default_factory=list)
    failures: list[tuple[str, str]] = field(default_factory=list)
    caps: dict[str, dict[str, int]] = field(default_factory=dict)
    """Per dataset: ``pool`` and ``test`` rows after the caps."""
    workers: int = 0
    feature_seconds: float = 0.0
    trial_seconds: float = 0.0
    total_seconds: float = 0.0
    keys: list[str] = field(default_factory=list)
    """The keys of every planned trial (the report of this run shows exactly these)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return asdict(self)

    def lines(self) -> list[str]:
        """A human-readable summary, one line each."""
        out = [
            f"spec {self.spec_name!r}: {len(self.datasets)} datasets, "
            f"{self.planned} trials planned",
            f"ran {self.run}, already stored {self.already_stored}, failed {self.failed}, "
            f"skipped combinations {len(self.skipped)}",
            f"features {self.feature_seconds:.1f}s, trials {self.trial_seconds:.1f}s on "
            f"{self.workers} worker(s), total {self.total_seconds:.1f}s",
        ]
        for skip in self.skipped:
            size = "" if skip.size is None else f" size {skip.size}"
            out.append(
                f"  skipped {skip.dataset} {skip.featurizer}+{skip.head}{size}: {skip.reason}"
            )
        for label, message in self.failures:
            out.append(f"  failed {label}: {message}")
        return out


def run_benchmark(
    spec: ExperimentSpec,
    *,
    store: ResultsStore | None = None,
    mirror: str | os.PathLike[str] | None = None,
    loader: Callable[[str], Any] | None = None,
    registry: Mapping[str, Any] | None = None,
    dry_run: bool = False,
) -> RunSummary:
    """Run every trial of ``spec`` that the store does not hold yet (see the module docstring).

    Parameters
    ----------
    spec: the experiment spec (:func:`~littledata.experiments.spec.load_spec`).
    store: where results go (default: the SQLite store in the data home).
    mirror: a folder or base URL to fetch dataset files from (default ``$LITTLEDATA_MIRROR``).
    loader: ``name -> Dataset`` (default :func:`littledata.load_dataset`; tests pass their own).
    registry: ``name -> object with .task`` to expand dataset selectors (default: the registry).
    dry_run: plan only (datasets are loaded and capped, nothing is featurized, run or stored):
        the summary says how many trials would run and which combinations are skipped.

    Returns
    -------
    RunSummary: trials run, skipped and failed, and timings.

    Worker processes are started with ``spawn``, which imports the caller's main module again
    in each worker: in a script, call this under ``if __name__ == "__main__":``.

    Examples
    --------
    >>> from littledata.experiments.spec import load_spec
    >>> summary = run_benchmark(load_spec(packaged="quick"))  # doctest: +SKIP
    >>> print("\\n".join(summary.lines()))  # doctest: +SKIP
    """
    from littledata import progress

    t_start = time.perf_counter()
    store = store or ResultsStore()
    if loader is None:
        from littledata.datasets.loading import load_dataset

        def loader(name: str) -> Any:
            return load_dataset(name, mirror=mirror)

    names = resolve_datasets(spec, registry)
    if registry is None:
        from littledata.datasets.registry import get_spec

        tasks = {n: str(get_spec(n).task) for n in names}
    else:
        tasks = {n: str(registry[n].task) for n in names}
    summary = RunSummary(spec_name=spec.name, datasets=list(names), workers=spec.workers())

    methods = _methods(spec)
    heads = {h: _head_support(h) for h in dict.fromkeys(h for _, h in methods)}
    featurizer_objs = {f: _featurizer(f) for f in dict.fromkeys(f for f, _ in methods)}
    featurizers = {
        name: FeaturizerInfo(name, str(fz.kind), str(fz.fingerprint))
        for name, fz in featurizer_objs.items()
    }

    # Datasets no head can take are explained without loading them.
    prepared: dict[str, _Prepared] = {}
    infos: list[DatasetInfo] = []
    unloadable: list[Skip] = []
    for name in progress.track(names, total=len(names), desc="datasets", unit="dataset"):
        if not any(tasks[name] in heads[h].tasks for h in heads):
            infos.append(DatasetInfo(name=name, task=tasks[name], n_classes=0))
            continue
        try:
            prep = _prepare_dataset(name, spec, loader)
        except (DownloadError, DataFormatError) as exc:
            # One dataset that cannot be fetched or read does not sink the others' trials.
            log.warning("skipped dataset %s: %s", name, exc)
            unloadable.append(Skip(name, "*", "*", None, f"could not be loaded: {exc}"))
            continue
        prepared[name] = prep
        infos.append(prep.info)
        summary.caps[name] = {"pool": prep.info.pool_size, "test": prep.info.test_size}
    if unloadable and not prepared:
        raise DownloadError(
            "No dataset of the spec could be loaded:\n"
            + "\n".join(f"- {s.dataset}: {s.reason}" for s in unloadable)
        )
    trials, skips = plan_grid(spec, infos, featurizers, heads)
    skips = unloadable + skips
    summary.skipped = skips
    summary.planned = len(trials)
    summary.keys = [t.key for t in trials]
    for skip in skips:
        size = "" if skip.size is None else f" size {skip.size}"
        log.info(
            "skipped %s %s+%s%s: %s", skip.dataset, skip.featurizer, skip.head, size, skip.reason
        )

    done = store.completed_keys(KIND)
    pending = [t for t in trials if t.key not in done]
    summary.already_stored = summary.planned - len(pending)
    if dry_run:
        summary.total_seconds = time.perf_counter() - t_start
        return summary
    run_id = store.start_run(KIND, spec.to_dict())
    log.info(
        "%d trials planned, %d already stored, %d to run", len(trials), summary.already_stored,
        len(pending),
    )  # fmt: skip

    with tempfile.TemporaryDirectory(prefix="littledata-bench-") as tmp:
        work = Path(tmp)
        t_feat = time.perf_counter()
        paths, pending = _compute_features(pending, prepared, featurizer_objs, work, summary, store)
        summary.feature_seconds = time.perf_counter() - t_feat
        t_trials = time.perf_counter()
        _run_trials(pending, paths, store, summary)
        summary.trial_seconds = time.perf_counter() - t_trials
    summary.total_seconds = time.perf_counter() - t_start
    store.finish_run(run_id, summary.to_dict())
    return summary


def _compute_features(
    pending: list[Trial],
    prepared: Mapping[str, _Prepared],
    featurizer_objs: Mapping[str, Any],
    work: Path,
    summary: RunSummary,
    store: ResultsStore,
) -> tuple[dict[tuple[str, str], dict[str, str]], list[Trial]]:
    from littledata import progress

    pairs = list(dict.fromkeys(t.pair for t in pending))
    paths: dict[tuple[str, str], dict[str, str]] = {}
    labels: dict[str, tuple[str, str]] = {}
    broken: dict[tuple[str, str], str] = {}
    for pair in progress.track(pairs, total=len(pairs), desc="features", unit="set"):
        dataset, fname = pair
        prep, fz = prepared[dataset], featurizer_objs[fname]
        if dataset not in labels:
            y_pool, y_test = work / f"{dataset}.y_pool.npy", work / f"{dataset}.y_test.npy"
            np.save(y_pool, prep.y_pool.astype(np.int64), allow_pickle=False)
            np.save(y_test, prep.y_test.astype(np.int64), allow_pickle=False)
            labels[dataset] = (str(y_pool), str(y_test))
        try:
            if fz.kind == "text":
                x_pool, x_test = _term_counts(prep, work, dataset)
            else:
                x_pool = _features(fz, prep.pool_texts, work, f"{dataset}.pool")
                x_test = _features(fz, prep.test_texts, work, f"{dataset}.test")
        except Exception as exc:  # the trials of this pair fail; the rest of the run goes on
            log.error("features of %s with %s failed: %s", dataset, fname, exc)
            broken[pair] = f"featurizing failed: {type(exc).__name__}: {exc}"
            continue
        paths[pair] = {
            "x_pool": x_pool,
            "x_test": x_test,
            "y_pool": labels[dataset][0],
            "y_test": labels[dataset][1],
        }
    if broken:
        for trial in pending:
            if trial.pair in broken:
                _record_failure(store, summary, trial, broken[trial.pair])
    return paths, [t for t in pending if t.pair not in broken]


def _record_failure(store: ResultsStore, summary: RunSummary, trial: Trial, message: str) -> None:
    summary.failed += 1
    if len(summary.failures) < 50:
        summary.failures.append((trial.label(), message))
    store.add_failure(kind=KIND, key=trial.key, config=trial.config, message=message)


def _store_result(store: ResultsStore, summary: RunSummary, trial: Trial, result: dict) -> None:
    if result["error"] is not None:
        log.warning("trial %s failed: %s", trial.label(), result["error"])
        log.debug("%s", result.get("traceback", ""))
        _record_failure(store, summary, trial, result["error"])
        return
    values = dict(result["values"])
    collapsed = values.pop("collapsed", None)
    measurements = [Measurement(k, v) for k, v in sorted(values.items())]
    store.add_trial(
        kind=KIND,
        key=trial.key,
        config=trial.config,
        measurements=measurements,
        collapsed=None if collapsed is None else bool(collapsed),
    )
    summary.run += 1


def _run_trials(
    pending: list[Trial],
    paths: Mapping[tuple[str, str], dict[str, str]],
    store: ResultsStore,
    summary: RunSummary,
) -> None:
    from littledata import progress

    if not pending:
        return
    tasks = {t.key: {"key": t.key, "config": t.config, **paths[t.pair]} for t in pending}
    by_key = {t.key: t for t in pending}
    workers = min(summary.workers, len(pending))
    with progress.bar(total=len(pending), desc="trials", unit="trial") as pbar:
        if workers <= 1:
            for trial in pending:
                _store_result(store, summary, trial, _worker_task(tasks[trial.key]))
                pbar.update(1)
            return
        queue = list(reversed(pending))  # pop() takes them in plan order
        breaks: dict[str, int] = {}
        pool_breaks = 0
        while queue:
            requeue = _run_pool(queue, tasks, by_key, workers, store, summary, pbar)
            if not requeue:
                break
            pool_breaks += 1
            log.warning("a worker process died; %d trials in flight are retried", len(requeue))
            for key in requeue:
                breaks[key] = breaks.get(key, 0) + 1
            again = [k for k in requeue if breaks[k] < 2 and pool_breaks < MAX_POOL_BREAKS]
            for key in requeue:
                if key not in again:
                    _record_failure(store, summary, by_key[key], "the worker process died")
                    pbar.update(1)
            if pool_breaks >= MAX_POOL_BREAKS:
                for trial in reversed(queue):
                    _record_failure(store, summary, trial, "the worker pool kept dying")
                    pbar.update(1)
                break
            queue.extend(by_key[k] for k in reversed(again))


def _run_pool(
    queue: list[Trial],
    tasks: Mapping[str, dict[str, Any]],
    by_key: Mapping[str, Trial],
    workers: int,
    store: ResultsStore,
    summary: RunSummary,
    pbar: Any,
) -> list[str]:
    """Run trials from ``queue`` (popped from the end) in one process pool, keeping at most two
    per worker in flight. Returns the keys in flight when the pool broke (empty when done)."""
    ctx = multiprocessing.get_context("spawn")
    in_flight: dict[cf.Future[dict[str, Any]], str] = {}
    executor = cf.ProcessPoolExecutor(max_workers=workers, mp_context=ctx, initializer=_init_worker)
    try:
        while queue or in_flight:
            while queue and len(in_flight) < 2 * workers:
                trial = queue.pop()
                in_flight[executor.submit(_worker_task, tasks[trial.key])] = trial.key
            finished, _ = cf.wait(in_flight, return_when=cf.FIRST_COMPLETED)
            for future in finished:
                key = in_flight.pop(future)
                try:
                    result = future.result()
                except cf.process.BrokenProcessPool:
                    return [key, *in_flight.values()]
                _store_result(store, summary, by_key[key], result)
                pbar.update(1)
                pbar.set_postfix(failed=summary.failed, refresh=False)
        return []
    finally:
        executor.shutdown(wait=True, cancel_futures=True)
