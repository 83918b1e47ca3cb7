"""The plan before a run: its counts equal what the runner then does; the cost model learns."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
import pandas as pd
import pytest

from littledata.datasets.base import Dataset, Split
from littledata.experiments.estimate import (
    LONG_SECONDS,
    CostModel,
    WorkPlan,
    estimate_tokens,
    format_seconds,
)
from littledata.experiments.runner import run_benchmark
from littledata.experiments.spec import load_spec
from littledata.experiments.store import ResultsStore


def _dataset(name: str, n_train: int = 80, n_test: int = 40) -> Dataset:
    rng = np.random.default_rng(len(name))

    def split(n: int) -> Split:
        y = np.arange(n) % 4
        animals = ["cat", "dog", "bird", "fish"]
        # unique texts (the feature cache reuses the rows of texts it has seen)
        texts = [
            f"{name} {n} {i} the {animals[c]} w{int(rng.integers(0, 99))}" for i, c in enumerate(y)
        ]
        return Split(texts, y.astype(np.int64))

    splits = {"train": split(n_train), "test": split(n_test)}
    return Dataset(name, "single-label", ["a", "b", "c", "d"], splits)  # type: ignore[arg-type]


REGISTRY = {
    "one": SimpleNamespace(task="single-label"),
    "two": SimpleNamespace(task="single-label"),
}
SIZES = {"one": (80, 40), "two": (60, 30)}


def _run(store: ResultsStore, seeds: int, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, Any, dict]:
    from littledata.features.base import BaseFeaturizer

    encoded: dict[str, int] = {}
    transform = BaseFeaturizer.transform

    def counting(self: Any, texts: Any, **kwargs: Any) -> Any:
        encoded[self.name] = encoded.get(self.name, 0) + len(texts)
        return transform(self, texts, **kwargs)

    monkeypatch.setattr(BaseFeaturizer, "transform", counting)
    spec = load_spec(
        overrides={
            "datasets": ["one", "two"],
            "featurizers": ["glove50", "tfidf"],
            "heads": ["centroid", "knn"],
            "sizes": [8, 16],
            "seeds": seeds,
            "baseline": False,
            "n_jobs": 1,
            "metrics": ["accuracy"],
        }
    )
    plans: list[WorkPlan] = []
    summary = run_benchmark(
        spec,
        store=store,
        loader=lambda n: _dataset(n, *SIZES[n]),
        registry=REGISTRY,
        on_plan=plans.append,
    )
    (plan,) = plans
    return plan, summary, encoded


def test_the_plan_counts_equal_the_runners(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    plan, summary, encoded = _run(store, 2, monkeypatch)
    assert plan.trials == summary.planned == 2 * 2 * 2 * 2 * 2  # datasets×feat×heads×sizes×seeds
    assert plan.already_stored == summary.already_stored == 0
    assert plan.to_run == summary.run == summary.planned and summary.failed == 0
    assert plan.datasets == 2
    all_texts = sum(a + b for a, b in SIZES.values())
    assert plan.texts_to_encode()["glove50"] == encoded["glove50"] == all_texts
    assert plan.texts_cached() == {"glove50": 0, "tfidf": 0}
    assert summary.plan == plan.to_dict() and summary.plan["to_run"] == summary.run
    assert 0 < plan.seconds < LONG_SECONDS
    # this machine's glove50 speed is now known, for the next plan
    assert CostModel.load().rates["glove50"] > 0

    # a third seed: the old trials are stored, the features cached
    plan, summary, encoded = _run(store, 3, monkeypatch)
    assert plan.trials == summary.planned == 48
    assert plan.already_stored == summary.already_stored == 32
    assert plan.to_run == summary.run == 16
    assert plan.texts_to_encode()["glove50"] == 0 and "glove50" not in encoded
    assert plan.texts_cached()["glove50"] == all_texts
    assert next(s for s in plan.sets if s.featurizer == "glove50").seconds == 0.0


def test_the_plan_lines_point_to_shorter_runs_when_long() -> None:
    plan = WorkPlan(trials=10, datasets=1, workers=2, trial_estimates={"k": 4.0})
    assert not any("--quick" in line for line in plan.lines())
    assert "estimated time: 2 s" in plan.lines()[-1]
    plan.trial_estimates["k"] = 3 * LONG_SECONDS
    text = "\n".join(plan.lines())
    assert "--quick" in text and "--dry-run" in text and "15 min" in text


def test_the_cost_model_learns_rates_and_trial_costs(tmp_path: Path) -> None:
    model = CostModel.load(tmp_path / "cost.json")
    default = model.seconds_per_token("minilm", "transformer")
    model.observe("minilm", 10_000, 2.0)
    assert model.seconds_per_token("minilm", "transformer") == pytest.approx(2e-4)
    model.observe("minilm", 10_000, 4.0)  # averaged with the last one
    assert model.seconds_per_token("minilm", "transformer") == pytest.approx(3e-4)
    model.save()
    again = CostModel.load(tmp_path / "cost.json")
    assert (
        again.rates == model.rates and again.seconds_per_token("glove50", "transformer") == default
    )

    rows = []
    for i, n in enumerate([20, 50, 100, 200, 500, 1000]):
        for metric, value in (("trial_seconds", 0.5 + 0.01 * n), ("n_train", n)):
            row = {"key": f"k{i}", "head": "logreg", "n_classes": 2}
            rows.append({**row, "metric": metric, "value": value})
    model.fit_trials(pd.DataFrame(rows))
    assert model.trial_seconds("logreg", 300, 2) == pytest.approx(3.5, rel=1e-3)
    assert model.trial_seconds("knn", 300, 2) > 0  # a default: not fitted on two rows


def test_tokens_and_durations_in_words() -> None:
    assert estimate_tokens(["abcd" * 10, ""]) == 10 + 4
    assert format_seconds(42) == "42 s" and format_seconds(600) == "10 min"
    assert format_seconds(3 * 3600 + 300) == "3 h 05 min"


def test_bench_prints_the_plan_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import sys

    from test_own_data import made_up_rows, write_csv

    from littledata.cli import main

    path = write_csv(tmp_path / "topics.csv", made_up_rows(60))
    args = ["littledata", "bench", "--datasets", str(path), "--featurizers", "tfidf", "--heads",
            "centroid", "sizes=12", "seeds=2", "baseline=false", "--dry-run",
            "--db", f"sqlite:///{tmp_path / 'r.sqlite'}"]  # fmt: skip
    monkeypatch.setattr(sys, "argv", args)
    with pytest.raises(SystemExit) as exit_info:
        main()
    assert exit_info.value.code in (0, None)
    out, err = capsys.readouterr()
    assert "plan: 2 trials on 1 datasets (0 already stored, 2 to run" in err
    assert "tfidf: term counts of 60 texts" in err and "estimated time:" in err
    assert "--quick" not in err  # a short run needs no advice
    assert "dry run: 2 trials planned" in out


class _ProbeEncoder:
    """A stand-in encoder whose encoding takes 0.01 fake seconds per character."""

    def __init__(self, clock: list[float], fail: bool = False) -> None:
        self.clock, self.fail, self.calls = clock, fail, []  # type: ignore[var-annotated]

    def transform(self, texts: list[str]) -> np.ndarray:
        self.calls.append(len(texts))
        if self.fail:
            raise RuntimeError("no model here")
        self.clock[0] += 0.01 * sum(len(t) for t in texts)
        return np.zeros((len(texts), 4), dtype=np.float32)


def _probe_setup(monkeypatch: pytest.MonkeyPatch) -> tuple[list[float], Any, Any]:
    import time

    from littledata.experiments import estimate

    clock = [0.0]
    monkeypatch.setattr(time, "perf_counter", lambda: clock[0])
    monkeypatch.setattr(estimate, "encoder_kind", lambda fz: "transformer")
    monkeypatch.setattr(estimate, "is_cached", lambda fz, texts: False)
    texts = [f"text number {i:03d} " * 2 for i in range(200)]  # 32 characters each
    prep = SimpleNamespace(pool_texts=texts, test_texts=texts[:10])
    pending = [SimpleNamespace(pair=("d", "enc"), config={})]
    return clock, prep, pending


def test_a_first_run_measures_this_machine_before_planning(monkeypatch: pytest.MonkeyPatch) -> None:
    from littledata.experiments.estimate import (
        DEFAULT_SECONDS_PER_TOKEN,
        DEFAULT_TRIAL_SECONDS,
        PROBE_TEXTS,
        calibrate,
    )

    clock, prep, pending = _probe_setup(monkeypatch)
    fz = _ProbeEncoder(clock)
    model = CostModel()
    line = calibrate(model, pending, datasets={"d": prep}, featurizers={"enc": fz})
    assert fz.calls == [2, PROBE_TEXTS]  # a warm-up (model loading) apart from the timed call
    tokens = estimate_tokens(prep.pool_texts[:PROBE_TEXTS])  # 32 chars: every 4th of 200 texts
    rate = 0.01 * 32 * PROBE_TEXTS / tokens
    assert model.rates["enc"] == pytest.approx(rate)
    factor = rate / DEFAULT_SECONDS_PER_TOKEN["transformer"]
    assert model.speed_factor == pytest.approx(min(10.0, factor))
    assert "calibrated on this machine: enc encoded 48 texts" in line
    # the defaults of everything not measured follow the machine; fitted costs do not
    a, b, c = DEFAULT_TRIAL_SECONDS["logreg"]
    assert model.trial_seconds("logreg", 100, 2) == pytest.approx(
        (a + b * 100 + c * 2) * model.speed_factor
    )
    model.trial_coefs["knn"] = (1.0, 0.0, 0.0)
    assert model.trial_seconds("knn", 100, 2) == 1.0
    static = DEFAULT_SECONDS_PER_TOKEN["static"]
    assert model.seconds_per_token("glove", "static") == pytest.approx(static * model.speed_factor)

    # a machine that has measured an encoder before is not probed again
    again = _ProbeEncoder(clock)
    known = CostModel(rates={"enc": 2 * DEFAULT_SECONDS_PER_TOKEN["transformer"]})
    assert calibrate(known, pending, datasets={"d": prep}, featurizers={"enc": again}) == ""
    assert again.calls == [] and known.speed_factor == pytest.approx(2.0)


def test_a_failed_probe_leaves_the_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    from littledata.experiments.estimate import calibrate

    clock, prep, pending = _probe_setup(monkeypatch)
    model = CostModel()
    fz = _ProbeEncoder(clock, fail=True)
    assert calibrate(model, pending, datasets={"d": prep}, featurizers={"enc": fz}) == ""
    assert model.speed_factor == 1.0 and model.rates == {}
