"""Simulated active learning: the loop, the store, the label-efficiency numbers, stopping."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression

from littledata.active.simulate import (
    ActiveTask,
    aulc,
    labels_to_reach,
    learning_curves,
    run_trial,
    simulate,
    summarize,
)
from littledata.active.stopping import StabilizingPredictions, agreement_kappa
from littledata.errors import ConfigError
from littledata.experiments.store import ResultsStore


def _task(n_pool: int = 600, n_test: int = 300, seed: int = 0) -> ActiveTask:
    rng = np.random.default_rng(seed)
    centres = rng.normal(0, 2.5, size=(4, 8))
    y = rng.integers(0, 4, n_pool + n_test)
    X = centres[y] + rng.normal(0, 1.5, size=(len(y), 8))
    return ActiveTask.from_arrays(
        X[:n_pool], y[:n_pool], X[n_pool:], y[n_pool:], ["a", "b", "c", "d"], dataset="synthetic"
    )


HEAD = LogisticRegression(max_iter=300)


# -- numbers against hand-computed curves --------------------------------------------------------


def test_aulc_by_hand() -> None:
    # trapezoids: 10*(.5+.6)/2 + 10*(.6+.8)/2 + 20*(.8+.8)/2 = 5.5 + 7 + 16 = 28.5 over 40 labels
    assert aulc([20, 30, 40, 60], [0.5, 0.6, 0.8, 0.8]) == pytest.approx(28.5 / 40)
    assert aulc([60, 20, 40, 30], [0.8, 0.5, 0.8, 0.6]) == pytest.approx(28.5 / 40)  # unsorted
    assert aulc([20, 40], [1.0, 1.0]) == 1.0
    assert aulc([20], [0.7]) == 0.7
    assert math.isnan(aulc([], []))


def test_labels_to_reach_by_hand() -> None:
    x, y = [20, 30, 40, 50], [0.50, 0.72, 0.69, 0.80]
    assert labels_to_reach(x, y, 0.70) == 30
    assert labels_to_reach(x, y, 0.75) == 50
    assert math.isnan(labels_to_reach(x, y, 0.9))


def _hand_frame() -> pd.DataFrame:
    """Two strategies, two seeds each, curves at 10/20/30 labels; reference accuracy 0.80."""
    curves = {
        ("random", 0): [0.50, 0.60, 0.70],
        ("random", 1): [0.40, 0.60, 0.74],
        ("margin", 0): [0.50, 0.78, 0.80],
        ("margin", 1): [0.40, 0.74, 0.80],
    }
    rows = []
    for (strategy, seed), acc in curves.items():
        key = f"{strategy}-{seed}"
        base = {
            "key": key,
            "role": "run",
            "dataset": "d",
            "featurizer": "f",
            "head": "h",
            "init_strategy": "random",
            "init": 10,
            "batch": 10,
            "budget": 30,
            "strategy": strategy,
            "seed": seed,
        }
        for x, a in zip([10, 20, 30], acc, strict=True):
            rows.append({**base, "metric": "accuracy", "x": x, "value": a})
            rows.append({**base, "metric": "round_seconds", "x": x, "value": 0.1})
            rows.append({**base, "metric": "macro_f1", "x": x, "value": a / 2})
        if strategy == "margin":  # kappas: 3-round means 0.8 (seed 0) and 0.6 (seed 1)
            kappas = [0.6, 0.9, 0.9] if seed == 0 else [0.3, 0.6, 0.9]
            for x, k in zip([10, 20, 30], kappas, strict=True):
                rows.append({**base, "metric": "stop_kappa", "x": x, "value": k})
        rows.append({**base, "metric": "reference_accuracy", "x": None, "value": 0.80})
        stopped = strategy == "margin"
        rows.append({**base, "metric": "stopped", "x": None, "value": float(stopped)})
        rows.append(
            {
                **base,
                "metric": "stop_labels",
                "x": None,
                "value": 20.0 + 10 * seed if stopped else math.nan,
            }
        )
        rows.append(
            {
                **base,
                "metric": "stop_accuracy",
                "x": None,
                "value": acc[1 + seed] if stopped else math.nan,
            }
        )
    frame = pd.DataFrame(rows)
    frame["x"] = frame["x"].astype(float)
    return frame


def test_summarize_against_hand_computed_numbers() -> None:
    s = summarize(_hand_frame()).set_index("strategy")
    # random, per seed: trapezoids over 10..30 labels divided by the range of 20 labels
    r0 = (10 * 0.55 + 10 * 0.65) / 20  # 0.60
    r1 = (10 * 0.50 + 10 * 0.67) / 20  # 0.585
    assert s.loc["random", "aulc"] == pytest.approx((r0 + r1) / 2)
    assert s.loc["random", "aulc_std"] == pytest.approx(abs(r0 - r1) / 2)
    assert s.loc["random", "accuracy_at_budget"] == pytest.approx(0.72)
    # 95% of 0.80 = 0.76: the mean random curve (.45, .60, .72) never gets there
    assert math.isnan(s.loc["random", "labels_to_95"])
    # the mean margin curve (.45, .76, .80) reaches 0.76 at 20 labels
    assert s.loc["margin", "labels_to_95"] == 20
    assert s.loc["margin", "reference_accuracy"] == 0.80
    assert s.loc["margin", "stopped"] == 2 and s.loc["random", "stopped"] == 0
    assert s.loc["margin", "stop_labels"] == 25.0
    assert s.loc["margin", "stop_accuracy"] == pytest.approx((0.78 + 0.80) / 2)
    assert s.loc["margin", "seconds_per_query"] == pytest.approx(0.1)
    assert s.loc["margin", "seeds"] == 2
    assert s.loc["margin", "stop_signal_max"] == pytest.approx(0.7)
    assert s.loc["random", "macro_f1_aulc"] == pytest.approx((r0 + r1) / 4)
    assert s.loc["random", "macro_f1_at_budget"] == pytest.approx(0.36)
    assert math.isnan(s.loc["random", "stop_signal_max"])
    curves = learning_curves(_hand_frame()).set_index(["strategy", "x"])
    assert curves.loc[("margin", 20.0), "mean"] == pytest.approx(0.76)
    assert curves.loc[("margin", 20.0), "std"] == pytest.approx(0.02)


def test_stopping_criterion_window_and_threshold() -> None:
    a, b = np.array([0, 1, 1, 0]), np.array([0, 1, 1, 1])
    assert agreement_kappa(a, a) == 1.0
    assert agreement_kappa(np.zeros(5), np.zeros(5)) == 1.0  # both constant: identical
    assert agreement_kappa(a, b) == pytest.approx(0.5)  # p_o=.75, p_e=.5
    sp = StabilizingPredictions(threshold=0.9, window=3)
    for p in (a, b, b, b):
        sp.update(p)
    assert not sp.stopped  # mean of (.5, 1, 1) < .9
    sp.update(b)
    assert sp.stopped and sp.stopped_at == 4
    with pytest.raises(ConfigError):
        StabilizingPredictions(threshold=1.5)


# -- the loop -------------------------------------------------------------------------------------


def test_run_trial_curve_reproducibility_and_no_repeats() -> None:
    task = _task()
    kw = {"head": HEAD, "seed": 3, "init": 12, "batch": 8, "budget": 60}
    a = run_trial(task, "margin", **kw)
    b = run_trial(task, "margin", **kw)
    assert a.labels == [12, 20, 28, 36, 44, 52, 60]
    assert a.accuracy == b.accuracy and a.queried == b.queried  # same seed, same run
    assert len(a.queried) == len(set(a.queried)) == 60  # no row queried twice
    assert a.accuracy[-1] > a.accuracy[0]  # labels help on this problem
    c = run_trial(task, "margin", **{**kw, "seed": 4})
    assert c.queried != a.queried


def test_stop_point_is_recorded_where_the_criterion_fires() -> None:
    task = _task()
    res = run_trial(
        task, "random", head=HEAD, init=10, batch=10, budget=120, stop_threshold=0.8, stop_window=2
    )
    assert not math.isnan(res.stop_labels)
    i = res.labels.index(int(res.stop_labels))
    assert res.stop_accuracy == res.accuracy[i]
    assert np.mean(res.stop_kappa[i - 1 : i + 1]) >= 0.8
    assert i == 2 or np.mean(res.stop_kappa[i - 2 : i]) < 0.8  # the first round that met it


def test_cold_start_init_labels_every_cluster() -> None:
    task = _task()
    res = run_trial(
        task, "margin", head=HEAD, init=8, init_strategy="cold-start", batch=8, budget=16
    )
    assert len(set(task.y_pool[res.queried[:8]].tolist())) == 4


def test_bad_simulation_settings() -> None:
    task = _task(n_pool=100)
    with pytest.raises(ConfigError, match="larger than the pool"):
        run_trial(task, "margin", head=HEAD, budget=101)
    with pytest.raises(ConfigError, match="batch size must be at least 1"):
        run_trial(task, "margin", head=HEAD, batch=0, budget=50)
    with pytest.raises(ConfigError, match="smaller than the initial"):
        run_trial(task, "margin", head=HEAD, init=30, budget=20)
    with pytest.raises(ConfigError, match="init_strategy"):
        run_trial(task, "margin", head=HEAD, init_strategy="clusters", budget=50)
    with pytest.raises(ConfigError, match="larger than the pool"):
        simulate(task, ["random"], head=HEAD, budget=500, seeds=1)


def test_simulate_stores_one_trial_per_run_and_skips_them_next_time(tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = ResultsStore(f"sqlite:///{tmp_path / 'results.sqlite'}")
    task = _task()
    kw = {"head": HEAD, "init": 10, "batch": 10, "budget": 50, "seeds": 2, "store": store}
    res = simulate(task, ["random", "margin", "badge"], **kw)
    assert (res.ran, res.skipped) == (6, 0)
    trials = store.trials("active")
    assert (trials["role"] == "run").sum() == 6 and (trials["role"] == "reference").sum() == 1
    runs = store.frame("active", role="run")
    assert set(runs["strategy"]) == {"random", "margin", "badge"}
    acc = runs[runs["metric"] == "accuracy"]
    assert sorted(acc["x"].unique().tolist()) == [10, 20, 30, 40, 50]
    assert {"macro_f1", "stop_kappa", "round_seconds", "aulc", "reference_accuracy"} <= set(
        runs["metric"]
    )
    summary = res.summary.set_index("strategy")
    assert list(summary["seeds"]) == [2, 2, 2]
    ref = runs.loc[runs["metric"] == "reference_accuracy", "value"].iloc[0]
    assert summary.loc["margin", "reference_accuracy"] == ref > 0.5
    # second call: everything is already stored, nothing runs, same summary
    again = simulate(task, ["random", "margin", "badge"], **kw)
    assert (again.ran, again.skipped) == (0, 6)
    pd.testing.assert_frame_equal(
        again.summary.reset_index(drop=True), res.summary.reset_index(drop=True), check_dtype=False
    )


def test_settings_are_checked_before_the_dataset_is_loaded(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from sklearn.svm import LinearSVC

    import littledata.active.simulate as sim

    def no_loading(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the dataset was loaded before the settings were checked")

    monkeypatch.setattr(sim, "prepare_task", no_loading)
    kw = {"head": HEAD, "featurizer": "glove50", "init": 10, "batch": 10, "budget": 100}
    with pytest.raises(ConfigError, match="batch size must be at least 1"):
        simulate("trec", ["random"], **{**kw, "batch": 0})
    with pytest.raises(ConfigError, match=r"budget \(6000 labels\) is larger than the pool \(5452"):
        simulate("trec", ["random"], **{**kw, "budget": 6000})
    with pytest.raises(ConfigError, match=r"larger than the pool \(300"):
        simulate("trec", ["random"], **{**kw, "budget": 301}, pool_cap=300)
    with pytest.raises(ConfigError, match=r"needs class probabilities.*LinearSVC"):
        simulate("trec", ["random", "margin"], **{**kw, "head": LinearSVC()})
    with pytest.raises(ConfigError, match="needs class probabilities"):
        simulate(
            "trec",
            ["committee"],
            **{**kw, "head": LinearSVC()},
            strategy_params={"committee": {"disagreement": "kl"}},
        )
    with pytest.raises(ConfigError, match="subsample size must be at least 1"):
        simulate("trec", ["margin"], **kw, subsample=0)
    with pytest.raises(ConfigError, match="stop set needs at least 1"):
        simulate("trec", ["margin"], **kw, stop_set_size=0)
    with pytest.raises(ConfigError, match="stopping threshold"):
        simulate("trec", ["margin"], **kw, stop_threshold=0.0)
    with pytest.raises(ConfigError, match="'badge' does not handle multi-label data; for multi"):
        simulate("goemotions-ekman", ["random", "badge"], **kw)
    for cap in ("pool_cap", "test_cap"):  # one meaning for caps everywhere: 0 none, < 0 refused
        with pytest.raises(ConfigError, match=rf"{cap} must be a number of rows \(0 for no cap\)"):
            simulate("trec", ["margin"], **kw, **{cap: -1})
        with pytest.raises(ConfigError, match=cap):
            simulate("trec", ["margin"], **kw, **{cap: 2.5})


def test_a_head_without_probabilities_is_evaluated_by_its_predictions() -> None:
    from sklearn.svm import LinearSVC

    task = _task(n_pool=300, n_test=200)
    res = simulate(
        task, ["random", "committee"], head=LinearSVC(), init=12, batch=12, budget=36, seeds=1
    )
    s = res.summary.set_index("strategy")
    assert 0.5 < s.loc["random", "accuracy_at_budget"] <= 1.0
    svm = LinearSVC().fit(task.X_pool, task.y_pool)
    assert s.loc["committee", "reference_accuracy"] == pytest.approx(
        np.mean(svm.predict(task.X_test) == task.y_test)
    )


def test_the_reference_is_the_whole_training_split_not_the_capped_pool(tmp_path) -> None:  # type: ignore[no-untyped-def]
    full = _task(n_pool=900, n_test=300, seed=2)
    rows = np.random.default_rng(0).choice(900, size=60, replace=False)
    capped = ActiveTask(
        "synthetic",
        "custom",
        full.classes,
        full.X_pool[rows],
        full.y_pool[rows],
        full.X_test,
        full.y_test,
        {"pool_size": 60, "test_size": 300},
        X_reference=full.X_pool,
        y_reference=full.y_pool,
    )
    on_all = LogisticRegression(max_iter=300).fit(full.X_pool, full.y_pool)
    on_pool = LogisticRegression(max_iter=300).fit(capped.X_pool, capped.y_pool)
    want = float(np.mean(on_all.predict(full.X_test) == full.y_test))
    assert want != float(np.mean(on_pool.predict(full.X_test) == full.y_test))
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    res = simulate(
        capped, ["random"], head=HEAD, init=10, batch=10, budget=30, seeds=1, store=store
    )
    assert res.reference_size == 900
    assert res.summary["reference_accuracy"].iloc[0] == pytest.approx(want)
    ref = store.trials("active", role="reference")
    assert list(ref["reference_size"]) == [900]
    # an uncapped pool records no reference_size: keys of runs stored before it are unchanged
    plain = simulate(full, ["random"], head=HEAD, init=10, batch=10, budget=30, seeds=1)
    assert plain.reference_size == 900 and "reference_size" not in plain.frame.columns


def test_runs_in_worker_processes_equal_runs_in_this_process() -> None:
    task = _task()
    kw = {"head": "centroid", "seeds": 2, "init": 12, "batch": 8, "budget": 44}
    here = simulate(task, ["random", "margin"], n_jobs=1, **kw)
    there = simulate(task, ["random", "margin"], n_jobs=2, **kw)
    assert here.ran == there.ran == 4
    cols = ["key", "metric", "x", "value"]
    a = here.frame[~here.frame["metric"].str.endswith("_seconds")][cols].reset_index(drop=True)
    b = there.frame[~there.frame["metric"].str.endswith("_seconds")][cols].reset_index(drop=True)
    assert a.equals(b)


def test_a_named_heads_imbalance_handling_is_part_of_the_run_configuration() -> None:
    store = ResultsStore("sqlite://")
    task = _task(n_pool=200, n_test=100)
    kw = {"init": 10, "batch": 10, "budget": 20, "seeds": 1, "store": store}
    simulate(task, ["random"], head="logreg", **kw)  # logreg's default: class weights
    simulate(task, ["random"], head="logreg", head_params={"resampling": "none"}, **kw)
    simulate(task, ["random"], head="centroid", **kw)  # default none: the key it always had
    trials = store.trials("active", role="run").set_index(["head", "head_params"])
    assert trials.loc[("logreg", "{}"), "resampling"] == "class_weight"
    # none is not written (keys stored before heads had defaults stay valid); the params say it
    assert pd.isna(trials.loc[("logreg", '{"resampling": "none"}'), "resampling"])
    assert pd.isna(trials.loc[("centroid", "{}"), "resampling"])
    assert trials.index.is_unique  # three different runs, none reused for another
