"""The cost model of a benchmark run: what it will do and about how long it will take.

:func:`plan_work` turns the trials a run will execute into a :class:`WorkPlan`: trials to run and
already stored, texts to encode per featurizer (and those already in the feature cache), and an
estimated wall time, so ``littledata bench`` can say all of this before any work starts.

The model is deliberately simple, and calibrated on this machine:

- **Features** of one (dataset, featurizer) set cost ``tokens × seconds per token`` of that
  featurizer. Tokens are estimated from characters (``len(text) / 4 + 2``, the same count for every
  encoder: a featurizer's rate absorbs how its own tokenizer differs). Until this machine has
  measured a featurizer, its rate is a default of its kind (:data:`DEFAULT_SECONDS_PER_TOKEN`: a
  transformer encoder, static word vectors, tf-idf term counts). Every set a run computes is
  measured and folded into ``<data home>/cost_model.json`` (:class:`CostModel.observe`), so the
  next run's plan uses this machine's speed. A first run measures the machine before its plan:
  :func:`calibrate` times a few texts of the first encoder it needs and scales every default by
  the ratio (:attr:`CostModel.speed_factor`).
- **Trials** cost ``a + b × training rows + c × classes`` seconds per head, fitted by least squares
  to the ``trial_seconds`` this store holds for the head (trials measured on this machine), or a
  default per head when the store holds fewer than :data:`MIN_FIT_TRIALS` of them; the sum is
  divided by the number of workers, and the workers' start (:data:`WORKER_START_SECONDS`) added.

The live progress display (:mod:`littledata.progress`) weighs each step by these estimates and
refines the remaining time with the ratio of measured to estimated time of the work already done.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_SECONDS_PER_TOKEN",
    "CostModel",
    "FeatureSet",
    "WorkPlan",
    "calibrate",
    "encoder_kind",
    "estimate_tokens",
    "plan_work",
]

DEFAULT_SECONDS_PER_TOKEN: dict[str, float] = {
    "transformer": 1.0 / 600,
    "static": 1.0 / 100_000,
    "sparse": 1.0 / 150_000,
}
"""Seconds per token of a featurizer this machine has not measured yet, by kind (a transformer
encoder, static word vectors, tf-idf term counts): what ``bench --quick`` measured for minilm,
glove50 and tfidf on the development machine (2 CPU cores shared with other jobs; BENCHMARKS.md),
model loading included. A faster machine replaces them with its own after its first run."""

DEFAULT_TRIAL_SECONDS: dict[str, tuple[float, float, float]] = {
    "logreg": (0.05, 0.0006, 0.05),
    "knn": (0.02, 0.0002, 0.0),
    "centroid": (0.02, 0.00002, 0.001),
}
"""``(a, b, c)`` of a head's trial seconds ``a + b × training rows + c × classes`` until this
store has measured it (fitted to the 486 trials of ``bench --quick`` on the development machine);
a head not listed gets :data:`OTHER_TRIAL_SECONDS`."""

OTHER_TRIAL_SECONDS = (0.5, 0.002, 0.05)
MIN_FIT_TRIALS = 5
"""Stored trials of a head needed before its trial cost is fitted to them."""

WORKER_START_SECONDS = 10.0
"""Starting the worker processes (each imports littledata, numpy, scikit-learn): about 12 s on the
development machine's shared cores before the first trial's result."""

LONG_SECONDS = 600.0
"""An estimate above this (10 minutes) makes the plan mention ``--quick`` and ``--dry-run``."""

SMOOTHING = 0.5
"""Weight of a new measurement in a featurizer's stored rate (exponential average)."""

MODEL_FILE = "cost_model.json"


def estimate_tokens(texts: Sequence[str]) -> int:
    """Estimated encoder tokens of ``texts``: characters / 4 plus two special tokens each."""
    return int(sum(len(t) for t in texts) / 4) + 2 * len(texts)


def encoder_kind(fz: Any) -> str:
    """``transformer``, ``static`` or ``sparse``: which default rate a featurizer starts from."""
    from littledata.features import TEXT_KINDS
    from littledata.features.encoder import EncoderFeaturizer

    if getattr(fz, "kind", "") in TEXT_KINDS:
        return "sparse"
    if isinstance(fz, EncoderFeaturizer) or getattr(fz, "kind", "") == "layers":
        return "transformer"
    return "static"


@dataclass
class CostModel:
    """Per featurizer, measured seconds per token; per head, fitted trial-cost coefficients.

    ``rates`` are read from and written to ``<data home>/cost_model.json`` (:meth:`load`,
    :meth:`save`); ``trial_coefs`` are fitted per run from the store (:meth:`fit_trials`).
    """

    rates: dict[str, float] = field(default_factory=dict)
    measured: dict[str, float] = field(default_factory=dict)
    """Per featurizer: tokens measured so far (how much the rate rests on)."""
    trial_coefs: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    path: Path | None = None
    speed_factor: float = 1.0
    """How much slower (> 1) or faster (< 1) this machine is than the one the defaults were
    measured on, from a probe (:func:`calibrate`); scales the defaults only, never a measured
    rate or a fitted trial cost."""

    @classmethod
    def load(cls, path: str | Path | None = None) -> CostModel:
        """The model stored at ``path`` (default ``<data home>/cost_model.json``); defaults when
        there is none or it cannot be read (a cost model is never worth stopping a run)."""
        if path is None:
            from littledata.config import data_home

            path = data_home() / MODEL_FILE
        path = Path(path)
        model = cls(path=path)
        try:
            data = json.loads(path.read_text("utf-8"))
            rates = data.get("seconds_per_token", {})
            model.rates = {str(k): float(v) for k, v in rates.items() if float(v) > 0}
            model.measured = {str(k): float(v) for k, v in data.get("tokens", {}).items()}
        except FileNotFoundError:
            pass
        except (ValueError, TypeError, AttributeError, OSError) as exc:
            log.info("cost model %s unreadable (%s); using defaults", path, exc)
        return model

    def save(self) -> None:
        """Write the measured rates (atomically); a failure is logged, never raised."""
        if self.path is None:
            return
        from littledata.io import atomic_write_json

        try:
            atomic_write_json(self.path, {"seconds_per_token": self.rates, "tokens": self.measured})
        except OSError as exc:
            log.info("could not save the cost model to %s: %s", self.path, exc)

    def seconds_per_token(self, name: str, kind: str) -> float:
        """The featurizer's measured rate, else its kind's default (scaled to this machine)."""
        if name in self.rates:
            return self.rates[name]
        return DEFAULT_SECONDS_PER_TOKEN.get(kind, 1.0 / 2500) * self.speed_factor

    def observe(self, name: str, tokens: int, seconds: float) -> None:
        """Fold one measurement (``tokens`` encoded in ``seconds``) into the featurizer's rate."""
        if tokens <= 0 or seconds <= 0:
            return
        rate = seconds / tokens
        old = self.rates.get(name)
        self.rates[name] = rate if old is None else (1 - SMOOTHING) * old + SMOOTHING * rate
        self.measured[name] = self.measured.get(name, 0.0) + tokens

    def trial_seconds(self, head: str, n_train: int, n_classes: int) -> float:
        """Estimated seconds of one trial of ``head`` (a default scaled to this machine until
        the store has measured the head)."""
        fitted = self.trial_coefs.get(head)
        if fitted is not None:
            a, b, c = fitted
            return max(0.01, a + b * n_train + c * n_classes)
        a, b, c = DEFAULT_TRIAL_SECONDS.get(head, OTHER_TRIAL_SECONDS)
        return max(0.01, (a + b * n_train + c * n_classes) * self.speed_factor)

    def fit_trials(self, frame: Any) -> None:
        """Fit each head's trial cost to a store frame's ``trial_seconds`` (long format, with
        ``head``, ``key``, ``n_classes``, ``metric``, ``value``); heads with fewer than
        :data:`MIN_FIT_TRIALS` trials keep their defaults."""
        if frame is None or frame.empty or "metric" not in frame:
            return
        wide = frame[frame["metric"].isin(["trial_seconds", "n_train"])].pivot_table(
            index=["key", "head", "n_classes"], columns="metric", values="value"
        )
        if "trial_seconds" not in wide or "n_train" not in wide:
            return
        wide = wide.dropna().reset_index()
        for head, rows in wide.groupby("head"):
            if len(rows) < MIN_FIT_TRIALS:
                continue
            x = np.column_stack(
                [np.ones(len(rows)), rows["n_train"], rows["n_classes"].astype(float)]
            )
            coef, *_ = np.linalg.lstsq(x, rows["trial_seconds"].to_numpy(float), rcond=None)
            self.trial_coefs[str(head)] = tuple(float(max(v, 0.0)) for v in coef)  # type: ignore[assignment]


@dataclass
class FeatureSet:
    """One (dataset, featurizer) set of features a run reads: its texts, tokens and cost."""

    dataset: str
    featurizer: str
    kind: str
    texts: int
    tokens: int
    cached: bool
    seconds: float
    """Estimated seconds to compute it (0 when cached)."""


@dataclass
class WorkPlan:
    """What a run will do before it does it (:func:`plan_work`)."""

    trials: int = 0
    already_stored: int = 0
    datasets: int = 0
    workers: int = 1
    sets: list[FeatureSet] = field(default_factory=list)
    trial_estimates: dict[str, float] = field(default_factory=dict)
    """Per trial key to run: its estimated seconds on one worker."""
    startup: float = 0.0
    """Seconds to start the workers (0 when no trial runs)."""
    calibration: str = ""
    """A line saying how this machine's speed was measured for the plan ('' when it was not)."""

    @property
    def to_run(self) -> int:
        """Trials this run will execute."""
        return self.trials - self.already_stored

    @property
    def feature_seconds(self) -> float:
        return float(sum(s.seconds for s in self.sets))

    @property
    def trial_seconds(self) -> float:
        """Estimated wall seconds of the trials on :attr:`workers` workers, their start included."""
        return self.startup + float(sum(self.trial_estimates.values())) / max(1, self.workers)

    @property
    def seconds(self) -> float:
        """Estimated wall seconds of the whole run."""
        return self.feature_seconds + self.trial_seconds

    def texts_to_encode(self) -> dict[str, int]:
        """Per featurizer: texts this run will encode (not in the feature cache)."""
        out: dict[str, int] = {}
        for s in self.sets:
            out[s.featurizer] = out.get(s.featurizer, 0) + (0 if s.cached else s.texts)
        return out

    def texts_cached(self) -> dict[str, int]:
        """Per featurizer: texts whose features the cache holds already."""
        out: dict[str, int] = {}
        for s in self.sets:
            out[s.featurizer] = out.get(s.featurizer, 0) + (s.texts if s.cached else 0)
        return out

    def lines(self) -> list[str]:
        """The plan in words: counts, texts per featurizer, the estimate and, when it is long,
        the ways to a shorter run."""
        out = [
            f"plan: {self.trials} trials on {self.datasets} datasets ({self.already_stored} "
            f"already stored, {self.to_run} to run on {self.workers} worker(s))"
        ]
        cached = self.texts_cached()
        for name, n in self.texts_to_encode().items():
            kind = next(s.kind for s in self.sets if s.featurizer == name)
            what = "term counts of" if kind == "sparse" else "encode"
            note = f", {cached[name]} cached" if cached.get(name) else ""
            out.append(f"  {name}: {what} {n} texts{note}")
        if self.calibration:
            out.append(self.calibration)
        out.append(
            f"  estimated time: {format_seconds(self.seconds)} (features "
            f"{format_seconds(self.feature_seconds)}, trials {format_seconds(self.trial_seconds)})"
        )
        if self.seconds > LONG_SECONDS:
            out.append(
                "  that is long: `littledata bench --quick` runs 3 small datasets in minutes; "
                "`--dry-run` plans without running; fewer datasets, e.g. --datasets sst2,trec"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (stored with the run's summary)."""
        return {
            "trials": self.trials,
            "already_stored": self.already_stored,
            "to_run": self.to_run,
            "datasets": self.datasets,
            "workers": self.workers,
            "texts_to_encode": self.texts_to_encode(),
            "texts_cached": self.texts_cached(),
            "feature_seconds": round(self.feature_seconds, 1),
            "trial_seconds": round(self.trial_seconds, 1),
            "seconds": round(self.seconds, 1),
            "sets": [asdict(s) for s in self.sets],
        }


def format_seconds(seconds: float) -> str:
    """``42 s``, ``7 min``, ``2 h 05 min``: a duration as a person reads an estimate."""
    if not math.isfinite(seconds):
        return "?"
    if seconds < 90:
        return f"{max(1, round(seconds))} s"
    minutes = round(seconds / 60)
    if minutes < 90:
        return f"{minutes} min"
    return f"{minutes // 60} h {minutes % 60:02d} min"


def is_cached(fz: Any, texts: Sequence[str]) -> bool:
    """Whether the feature cache holds an entry for exactly ``texts`` under ``fz``."""
    from littledata.datasets.base import texts_fingerprint
    from littledata.features import cache as feature_cache

    stem = feature_cache.cache_dir() / feature_cache.entry_key(
        fz.fingerprint, texts_fingerprint(list(texts))
    )
    return stem.with_suffix(".npy").exists() and stem.with_suffix(".json").exists()


PROBE_TEXTS = 48
"""Texts a probe encodes (:func:`calibrate`): about a second of MiniLM on two cores."""

SPEED_FACTOR_RANGE = (0.1, 10.0)
"""A probe's speed factor is clipped to this range (one noisy probe never moves an estimate by
more than 10x)."""


def calibrate(
    model: CostModel,
    pending: Sequence[Any],
    *,
    datasets: Mapping[str, Any],
    featurizers: Mapping[str, Any],
) -> str:
    """Measure this machine before the plan is made, when it has measured no encoder yet.

    The defaults were measured on the development machine; a first run elsewhere would be
    planned at that machine's speed. So when the run will encode texts with a transformer
    featurizer and this data home holds no measured rate for any transformer, the first such
    featurizer encodes :data:`PROBE_TEXTS` texts of the first dataset it will encode (the model
    is loaded first, outside the timing: the run needs it loaded anyway). The measured rate
    becomes that featurizer's, and its ratio to the default the model's
    :attr:`~CostModel.speed_factor` for every other default. When a transformer rate has been
    measured before, its ratio to the default is the factor, without a probe. Returns a line
    for the plan ('' when nothing was calibrated).
    """
    default = DEFAULT_SECONDS_PER_TOKEN["transformer"]
    lo, hi = SPEED_FACTOR_RANGE
    kinds = {name: encoder_kind(fz) for name, fz in featurizers.items()}
    known = [r for name, r in model.rates.items() if kinds.get(name, "") == "transformer"]
    if known:
        model.speed_factor = min(hi, max(lo, float(np.median(known)) / default))
        return ""
    target = None
    for t in pending:
        dataset, fname = t.pair
        if kinds.get(fname) != "transformer" or t.config.get("input") == "text":
            continue
        prep, fz = datasets[dataset], featurizers[fname]
        if not all(is_cached(fz, p) for p in (prep.pool_texts, prep.test_texts)):
            target = (fname, fz, list(prep.pool_texts) or list(prep.test_texts))
            break
    if target is None or not target[2]:
        return ""
    import time

    from littledata import progress

    fname, fz, texts = target
    step = max(1, len(texts) // PROBE_TEXTS)
    sample = texts[::step][:PROBE_TEXTS]  # spread over the pool, as long as its texts are
    try:
        with progress.show_progress(False):
            fz.transform(sample[:2])  # loads the model: not part of the rate
            start = time.perf_counter()
            fz.transform(sample)
            seconds = time.perf_counter() - start
    except Exception as exc:  # a probe is never worth stopping a run
        log.info("speed probe of %s failed: %s", fname, exc)
        return ""
    tokens = estimate_tokens(sample)
    if seconds <= 0 or tokens <= 0:
        return ""
    rate = seconds / tokens
    model.rates[fname] = rate
    model.speed_factor = min(hi, max(lo, rate / default))
    return (
        f"  calibrated on this machine: {fname} encoded {len(sample)} texts at "
        f"{1 / rate:,.0f} tokens/s ({1 / default:,.0f} assumed before)"
    )


def plan_work(
    pending: Sequence[Any],
    *,
    trials: int,
    datasets: Mapping[str, Any],
    featurizers: Mapping[str, Any],
    workers: int,
    model: CostModel,
) -> WorkPlan:
    """The :class:`WorkPlan` of running ``pending`` trials (:class:`~littledata.experiments.plan.
    Trial`) of a plan of ``trials`` trials; ``datasets``: name → prepared dataset (pool and test
    texts); ``featurizers``: name → featurizer object."""
    plan = WorkPlan(
        trials=trials,
        already_stored=trials - len(pending),
        datasets=len(datasets),
        workers=max(1, workers),
    )
    pairs = dict.fromkeys(t.pair for t in pending)
    for dataset, fname in pairs:
        if all(t.config.get("input") == "text" for t in pending if t.pair == (dataset, fname)):
            continue  # heads that tune their encoder on raw texts read no features
        prep, fz = datasets[dataset], featurizers[fname]
        kind = encoder_kind(fz)
        parts = (prep.pool_texts, prep.test_texts)
        texts = sum(len(p) for p in parts)
        tokens = sum(estimate_tokens(p) for p in parts)
        # tf-idf term counts are computed by every run (cheap); features come from the cache
        cached = kind != "sparse" and all(is_cached(fz, p) for p in parts)
        seconds = 0.0 if cached else tokens * model.seconds_per_token(fname, kind)
        plan.sets.append(FeatureSet(dataset, fname, kind, texts, tokens, cached, seconds))
    plan.startup = WORKER_START_SECONDS if pending else 0.0
    for t in pending:
        c = t.config
        n_train = c["size"] * (c["n_classes"] if c["size_mode"] == "per_class" else 1)
        plan.trial_estimates[t.key] = model.trial_seconds(c["head"], n_train, c["n_classes"])
    return plan
