"""The benchmark runner: orchestrates planning, preparation and execution of a spec's trials.

:func:`run_benchmark` takes an :class:`~littledata.experiments.spec.ExperimentSpec` and

1. expands its datasets, loads each one and draws the seeded caps of its task type
   (:mod:`littledata.experiments.prepare`): a *train pool* of at most ``train_pool_cap`` rows of
   the train split (training rows are sampled from it, never from the test split) and at most
   ``test_cap`` rows of the test split;
2. plans the grid dataset × featurizer × head × resampling × size × seed
   (:mod:`littledata.experiments.plan`), explaining and skipping the combinations that cannot
   work (a head that does not serve the dataset's task or take the featurizer's output, a size
   the pool cannot give);
3. drops the trials already stored (a trial's key is the sha256 of its canonical configuration,
   which includes the data and featurizer fingerprints and the caps), so re-running a spec resumes;
4. computes the features of each (dataset, featurizer) once through the feature cache, in this
   process, with a progress bar (for the ``tfidf`` featurizer: term counts of the pool and test
   texts, tokenized once, which the heads turn into tf-idf fitted on their training rows only);
5. hands the trials to an executor (:mod:`littledata.experiments.execution`; by default local
   worker processes with one BLAS thread each, reading features memory-mapped from the cache) and
   stores each finished trial at once from this process, in its own transaction. A trial that
   raises is recorded as a failure with its message and retried by the next run; it never stops
   the run. Each trial is claimed in the store before it runs (:mod:`littledata.experiments.
   claims`), so runs of the same trials executing at the same time share them instead of each
   computing all of them.

A trial (:func:`littledata.experiments.trials.run_trial`) samples its training rows from the
pool, fits the head, calls ``predict_proba`` on the capped test rows and stores the task type's
metrics plus ``fit_seconds``, ``predict_seconds``, ``train_accuracy``, ``n_train`` and
``trial_seconds``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import time
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from littledata import progress
from littledata.errors import DataFormatError, DownloadError
from littledata.experiments.estimate import (
    CostModel,
    WorkPlan,
    calibrate,
    estimate_tokens,
    format_seconds,
    is_cached,
    plan_work,
)
from littledata.experiments.execution import (
    DataRef,
    Executor,
    Job,
    JobResult,
    LocalPoolExecutor,
    get_executor,
)
from littledata.experiments.plan import (
    KIND,
    DatasetInfo,
    FeaturizerInfo,
    Skip,
    Trial,
    plan_grid,
    spec_methods,
)
from littledata.experiments.prepare import (
    PreparedDataset,
    dataset_refs,
    features_refs,
    featurizer_by_name,
    head_support,
    prepare_dataset,
    progress_chars,
)
from littledata.experiments.results import describe_data
from littledata.experiments.spec import ExperimentSpec, entry_name, resolve_datasets
from littledata.experiments.store import Measurement, ResultsStore
from littledata.experiments.trials import run_bench_job
from littledata.io import locked_temp_dir, remove_abandoned_dirs
from littledata.tasks import head_serves

log = logging.getLogger(__name__)

__all__ = ["WORK_PREFIX", "RunSummary", "run_benchmark"]

WORK_PREFIX = "littledata-bench-"
"""Prefix of a run's work folder in the system's temp folder (labels, term counts)."""


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
    by_other_runs: int = 0
    """Trials of this plan that other runs, executing at the same time, stored (or failed)."""
    workers: int = 0
    feature_seconds: float = 0.0
    trial_seconds: float = 0.0
    total_seconds: float = 0.0
    keys: list[str] = field(default_factory=list)
    """The keys of every planned trial (the report of this run shows exactly these)."""
    plan: dict[str, Any] = field(default_factory=dict)
    """What the run said it would do before it started, with its estimated time
    (:meth:`~littledata.experiments.estimate.WorkPlan.to_dict`)."""
    progress: list[dict[str, Any]] = field(default_factory=list)
    """How the run's ETA moved: ``elapsed`` seconds, ``fraction`` of the estimated work done and
    the ``eta`` then shown (at most 400 points), to measure the ETA's honesty."""
    datasets_info: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per dataset: task, rows per split, classes, label names; for a user's files also the
    files, their content fingerprint and, for a file without a test split, how its test split
    was made (:func:`~littledata.experiments.prepare.describe_dataset`)."""

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data."""
        return asdict(self)

    def lines(self) -> list[str]:
        """A human-readable summary, one line each."""
        out = [
            f"spec {self.spec_name!r}: {len(self.datasets)} datasets, "
            f"{self.planned} trials planned",
            f"ran {self.run}, already stored {self.already_stored}, "
            + (f"done by another run {self.by_other_runs}, " if self.by_other_runs else "")
            + f"failed {self.failed}, skipped combinations {len(self.skipped)}",
            f"features {self.feature_seconds:.1f}s, trials {self.trial_seconds:.1f}s on "
            f"{self.workers} worker(s), total {self.total_seconds:.1f}s",
        ]
        for name, about in self.datasets_info.items():
            if about.get("files"):  # a user's data: say what was read and how it was split
                out.append(f"  {name}: {describe_data(about)}")
        out += _skip_lines(self.skipped)
        for label, message in self.failures:
            out.append(f"  failed {label}: {message}")
        return out


SKIPS_LISTED = 3
"""Names listed in one summary line of a skip shared by several datasets or methods (the rest
counted)."""

_MARK = {
    "dataset": "\x00D\x00",
    "featurizer": "\x00F\x00",
    "head": "\x00H\x00",
    "size": "\x00S\x00",
}


def _skip_template(skip: Skip) -> str:
    """The reason with the skip's own dataset, featurizer, head and size replaced by marks, so
    that skips which differ only in those share one template."""
    out = skip.reason
    if skip.size is not None:
        out = out.replace(f"size {skip.size}", f"size {_MARK['size']}")
    for key in ("dataset", "featurizer", "head"):
        value = getattr(skip, key)
        if value and value != "*":
            out = out.replace(repr(value), _MARK[key])
    return out


def _listed(values: list[str]) -> str:
    more = f" and {len(values) - SKIPS_LISTED} more" if len(values) > SKIPS_LISTED else ""
    return ", ".join(values[:SKIPS_LISTED]) + more


def _fill(template: str, values: dict[str, list[Any]]) -> str:
    """The template with one value put back where the group has one, ``each ...`` where several."""
    out = template
    for key, mark in _MARK.items():
        found = values[key]
        if len(found) == 1:
            one = found[0]
            out = out.replace(mark, str(one) if key == "size" else repr(one))
        elif key == "dataset":
            out = out.replace(f"dataset {mark}", "each").replace(mark, "each dataset")
        else:
            out = out.replace(f"{key} {mark}", f"each {key}").replace(mark, f"each {key}")
    return out


def _skip_lines(skips: list[Skip]) -> list[str]:
    """Skips that differ only in dataset, featurizer + head or size, for one reason, make one
    line: a token head on every single-label dataset, every head at the sizes below a dataset's
    class count, every text head on a token dataset."""
    groups: dict[str, dict[str, list[Any]]] = {}
    for skip in skips:
        group = groups.setdefault(
            _skip_template(skip),
            {"dataset": [], "featurizer": [], "head": [], "size": [], "method": []},
        )
        for key in ("dataset", "featurizer", "head", "size"):
            value = getattr(skip, key)
            if value not in group[key]:
                group[key].append(value)
        if f"{skip.featurizer}+{skip.head}" not in group["method"]:
            group["method"].append(f"{skip.featurizer}+{skip.head}")
    out = []
    for template, values in groups.items():
        datasets, sizes = values["dataset"], [s for s in values["size"] if s is not None]
        methods = values["method"]
        what = _listed(methods)
        if len(methods) > SKIPS_LISTED:
            what = f"{len(methods)} featurizer+head pairs ({what})"
        if sizes:
            what += f" at size{'s' if len(sizes) > 1 else ''} {', '.join(map(str, sizes))}"
        if len(datasets) == 1:
            what = f"{datasets[0]} {what}"
        else:
            what += f" on {len(datasets)} datasets ({_listed(datasets)})"
        out.append(f"  skipped {what}: {_fill(template, values)}")
    return out


def run_benchmark(
    spec: ExperimentSpec,
    *,
    store: ResultsStore | None = None,
    mirror: str | os.PathLike[str] | None = None,
    loader: Callable[[str], Any] | None = None,
    registry: Mapping[str, Any] | None = None,
    dry_run: bool = False,
    executor: Executor | str | None = None,
    on_plan: Callable[[WorkPlan], Any] | None = None,
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
    executor: where the trials run: an :class:`~littledata.experiments.execution.Executor`, or
        a registered executor's name (default ``"local"``: ``spec.workers()`` local processes).
    on_plan: called with the :class:`~littledata.experiments.estimate.WorkPlan` (trials, texts
        to encode, what is cached, the estimated time) once it is known, before any work starts
        (also on a dry run); the command line prints it.

    Returns
    -------
    RunSummary: trials run, skipped and failed, and timings.

    The local executor starts its worker processes with ``spawn``, which imports the caller's
    main module again in each worker: in a script, call this under
    ``if __name__ == "__main__":``.

    Examples
    --------
    >>> from littledata.experiments.spec import load_spec
    >>> summary = run_benchmark(load_spec(packaged="quick"))  # doctest: +SKIP
    >>> print("\\n".join(summary.lines()))  # doctest: +SKIP
    """
    t_start = time.perf_counter()
    store = store or ResultsStore()
    if loader is None:
        from littledata.datasets.loading import load_dataset

        def loader(name: str) -> Any:
            return load_dataset(name, mirror=mirror)

    methods = spec_methods(spec)
    heads = {h: head_support(h) for h in dict.fromkeys(h for _, h in methods)}
    if executor is None or isinstance(executor, str):
        # a head that needs several threads per fit gets fewer workers, so they fit the cores
        threads = max(h.threads for h in heads.values())
        workers = max(1, spec.workers() // threads)
        executor = get_executor(executor or LocalPoolExecutor.name, workers=workers)
    entries = resolve_datasets(spec, registry)
    names = [entry_name(e) for e in entries]
    # A user's files are loaded now (their task is in the file); a file that cannot be read
    # stops the run with its message, before anything is computed.
    sources = {entry_name(e): e for e in entries if not isinstance(e, str)}
    loaded = {n: src.load(mirror=mirror, splits_itself=True) for n, src in sources.items()}
    tasks: dict[str, str] = {}
    for n in names:
        if n in loaded:
            tasks[n] = str(loaded[n].task)
        elif registry is None:
            from littledata.datasets.registry import get_spec

            tasks[n] = str(get_spec(n).task)
        else:
            tasks[n] = str(registry[n].task)
    summary = RunSummary(spec_name=spec.name, datasets=list(names), workers=executor.workers)
    load_registered = loader

    def load_entry(name: str) -> Any:  # a user's files are loaded already
        return loaded.pop(name) if name in loaded else load_registered(name)

    featurizer_objs = {f: featurizer_by_name(f) for f in dict.fromkeys(f for f, _ in methods)}
    featurizers = {
        name: FeaturizerInfo(name, str(fz.kind), str(fz.fingerprint))
        for name, fz in featurizer_objs.items()
    }

    # Datasets no head can take are explained without loading them.
    prepared: dict[str, PreparedDataset] = {}
    infos: list[DatasetInfo] = []
    unloadable: list[Skip] = []
    for name in progress.track(names, total=len(names), desc="datasets", unit="dataset"):
        if not any(head_serves(tasks[name], heads[h].tasks) for h in heads):
            infos.append(DatasetInfo(name=name, task=tasks[name], n_classes=0))
            continue
        files = sources[name].files if name in sources else []
        try:
            prep = prepare_dataset(name, spec, load_entry, files=files)
        except (DownloadError, DataFormatError) as exc:
            if files:  # a user's file (too few rows to split, ...): the user's to fix, now
                raise
            # One dataset that cannot be fetched or read does not sink the others' trials.
            log.warning("skipped dataset %s: %s", name, exc)
            unloadable.append(Skip(name, "*", "*", None, f"could not be loaded: {exc}"))
            continue
        prepared[name] = prep
        infos.append(prep.info)
        summary.caps[name] = {"pool": prep.info.pool_size, "test": prep.info.test_size}
        summary.datasets_info[name] = prep.about
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
    cost = CostModel.load()
    cost.fit_trials(_stored_costs(store, list(heads)))
    calibration = calibrate(cost, pending, datasets=prepared, featurizers=featurizer_objs)
    work = plan_work(
        pending, trials=len(trials), datasets=prepared, featurizers=featurizer_objs,
        workers=executor.workers, model=cost,
    )  # fmt: skip
    work.calibration = calibration
    summary.plan = work.to_dict()
    if on_plan is not None:
        on_plan(work)
    if dry_run:
        summary.total_seconds = time.perf_counter() - t_start
        return summary
    since = dt.datetime.now(dt.UTC).replace(tzinfo=None)  # failures from now on are not retried
    run_id = store.start_run(KIND, spec.to_dict())
    log.info(
        "%d trials planned, %d already stored, %d to run", len(trials), summary.already_stored,
        len(pending),
    )  # fmt: skip

    _remove_leftovers()
    display = progress.RunDisplay(work.seconds, desc=f"bench {spec.name}")
    for feature_set in work.sets:  # per featurizer: each encoder's speed is measured apart
        display.plan(f"features/{feature_set.featurizer}", feature_set.seconds)
    display.plan("trials", work.trial_seconds)
    with (
        contextlib.ExitStack() as held,
        locked_temp_dir(WORK_PREFIX) as folder,
        display,
    ):
        t_feat = time.perf_counter()
        refs, pending = _compute_features(
            pending, prepared, featurizer_objs, folder, summary, store, held, cost, display, work
        )
        summary.feature_seconds = time.perf_counter() - t_feat
        if refs:
            display.note(
                f"features: {len(refs)} sets in {format_seconds(summary.feature_seconds)}"
                f" ({sum(s.cached for s in work.sets)} read from the cache)"
            )
        t_trials = time.perf_counter()
        _run_trials(pending, refs, store, summary, executor, since, display, work)
        summary.trial_seconds = time.perf_counter() - t_trials
        if pending:
            display.note(
                f"trials: {summary.run} run, {summary.failed} failed in "
                f"{format_seconds(summary.trial_seconds)} on {executor.workers} worker(s)"
            )
    summary.progress = [
        {"elapsed": round(t, 2), "fraction": round(f, 4), "eta": None if e is None else round(e, 1)}
        for t, f, e in _thin(display.history)
    ]
    summary.total_seconds = time.perf_counter() - t_start
    store.finish_run(run_id, summary.to_dict())
    return summary


def _stored_costs(store: ResultsStore, heads: list[str]) -> Any:
    """The stored trials' timings of ``heads`` (what the trial cost model is fitted to)."""
    try:
        return store.frame(KIND, head=heads)
    except Exception as exc:  # an estimate is never worth stopping a run
        log.info("could not read stored trial timings: %s", exc)
        return None


def _remove_leftovers() -> None:
    """Remove what killed runs left: their work folders, and the temporary files of
    featurizations that were killed (never those of live processes)."""
    from littledata.features import cache as feature_cache

    for folder in remove_abandoned_dirs(WORK_PREFIX):
        log.info("removed %s, left by a benchmark run that was killed", folder)
    feature_cache.remove_abandoned()


def _compute_features(
    pending: list[Trial],
    prepared: Mapping[str, PreparedDataset],
    featurizer_objs: Mapping[str, Any],
    work: Path,
    summary: RunSummary,
    store: ResultsStore,
    held: contextlib.ExitStack,
    cost: CostModel,
    display: progress.RunDisplay,
    plan: WorkPlan,
) -> tuple[dict[tuple[str, str], dict[str, DataRef]], list[Trial]]:
    pairs = list(dict.fromkeys(t.pair for t in pending))
    refs: dict[tuple[str, str], dict[str, DataRef]] = {}
    broken: dict[tuple[str, str], str] = {}
    estimates = {(s.dataset, s.featurizer): s for s in plan.sets}
    for pair in pairs:
        dataset, fname = pair
        prep = prepared[dataset]
        labels = dataset_refs(prep, work)
        if all(t.config.get("input") == "text" for t in pending if t.pair == pair):
            refs[pair] = labels  # heads that tune the encoder on raw texts need no features
            continue
        est = estimates.get(pair)
        with display.step(
            f"features {dataset} × {fname}", est.seconds if est else 0.0,
            kind=f"features/{fname}", inner_total=progress_chars(prep),
        ):  # fmt: skip
            features = _features_of(pair, prep, featurizer_objs[fname], work, held, cost, broken)
        if features is not None:
            refs[pair] = {**features, **labels}
    if broken:
        for trial in pending:
            if trial.pair in broken:
                _record_failure(store, summary, trial, broken[trial.pair])
    return refs, [t for t in pending if t.pair not in broken]


def _features_of(
    pair: tuple[str, str],
    prep: PreparedDataset,
    fz: Any,
    work: Path,
    held: contextlib.ExitStack,
    cost: CostModel,
    broken: dict[tuple[str, str], str],
) -> dict[str, DataRef] | None:
    """One set's features (None, with the reason in ``broken``, when featurizing failed); a set
    computed here is timed for the cost model."""
    dataset, fname = pair
    try:
        t0 = time.perf_counter()
        uncached = not all(is_cached(fz, p) for p in (prep.pool_texts, prep.test_texts))
        features = features_refs(fz, prep, work, held)
    except Exception as exc:  # the trials of this pair fail; the rest of the run goes on
        log.error("features of %s with %s failed: %s", dataset, fname, exc)
        broken[pair] = f"featurizing failed: {type(exc).__name__}: {exc}"
        return None
    if uncached:  # this machine's speed, for the next estimates
        tokens = estimate_tokens(prep.pool_texts) + estimate_tokens(prep.test_texts)
        cost.observe(fname, tokens, time.perf_counter() - t0)
        cost.save()
    return features


def _thin(history: list[Any], most: int = 400) -> list[Any]:
    """At most ``most`` evenly spread entries of ``history`` (the last one kept)."""
    if len(history) <= most:
        return list(history)
    step = len(history) / most
    return [history[int(i * step)] for i in range(most - 1)] + [history[-1]]


def _record_failure(store: ResultsStore, summary: RunSummary, trial: Trial, message: str) -> None:
    summary.failed += 1
    if len(summary.failures) < 50:
        summary.failures.append((trial.label(), message))
    store.add_failure(kind=KIND, key=trial.key, config=trial.config, message=message)


def _store_result(
    store: ResultsStore, summary: RunSummary, trial: Trial, result: JobResult
) -> None:
    if result.error is not None:
        log.warning("trial %s failed: %s", trial.label(), result.error)
        log.debug("%s", result.traceback)
        _record_failure(store, summary, trial, result.error)
        return
    values = dict(result.values)
    collapsed = values.pop("collapsed", None)
    measurements = [Measurement(k, v) for k, v in sorted(values.items())]
    if store.add_trial(
        kind=KIND,
        key=trial.key,
        config=trial.config,
        measurements=measurements,
        collapsed=None if collapsed is None else bool(collapsed),
    ):
        summary.run += 1
    else:  # another run stored it first (its claim had lapsed): this run's copy is dropped
        summary.by_other_runs += 1


def _run_trials(
    pending: list[Trial],
    refs: Mapping[tuple[str, str], Mapping[str, DataRef]],
    store: ResultsStore,
    summary: RunSummary,
    executor: Executor,
    since: dt.datetime,
    display: progress.RunDisplay,
    plan: WorkPlan,
) -> None:
    """Run the trials this run can claim (see :mod:`littledata.experiments.claims`) until every
    trial of ``pending`` is stored or failed, by this run or by others running at the same time."""
    from littledata.experiments.claims import TrialFeeder

    if not pending:
        return
    by_key = {t.key: t for t in pending}
    jobs = [Job(t.key, t.config, refs[t.pair]) for t in pending]
    workers = max(1, plan.workers)
    mean = (plan.trial_seconds - plan.startup) / len(pending) if pending else 0.0
    n_done = 0
    with display.step("trials", plan.trial_seconds, kind="trials") as step:

        def status() -> str:
            failed = f", {summary.failed} failed" if summary.failed else ""
            return f"{n_done}/{len(pending)} trials{failed}"

        def on_result(job: Job, result: JobResult) -> None:
            nonlocal n_done
            _store_result(store, summary, by_key[job.key], result)
            n_done += 1
            step.update(plan.trial_estimates.get(job.key, mean * workers) / workers, status())

        def on_elsewhere(n: int) -> None:  # stored by another run executing at the same time
            nonlocal n_done
            n_done += n
            step.update(n * mean, status())

        feeder = TrialFeeder(store, KIND, jobs, since=since, on_elsewhere=on_elsewhere)
        try:
            executor.run(run_bench_job, feeder, on_result)
        finally:
            feeder.close()
            summary.by_other_runs += feeder.elsewhere
