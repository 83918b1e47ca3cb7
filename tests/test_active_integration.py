"""Active learning through the real stack: dataset catalog, glove50 features and their cache,
the logreg head, the results store and the command line (small settings, a few seconds)."""

from __future__ import annotations

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from littledata.active import ActiveLearner
from littledata.active.learner import thread_limit
from littledata.active.simulate import prepare_task, simulate
from littledata.cli import app
from littledata.errors import ConfigError
from littledata.experiments.store import ResultsStore
from littledata.heads import make_head

TEXTS = [
    "the refund has not arrived yet",
    "i was charged twice for my order",
    "please send me an invoice",
    "the app crashes when i open settings",
    "error 500 on the login page",
    "the button does nothing when clicked",
    "what a lovely day",
    "see you at lunch tomorrow",
    "my card was billed the wrong amount",
    "the page freezes after the update",
    "thanks for the nice chat",
    "how much does the premium plan cost",
]

# the whole stack (catalog, features and their cache, head, store, CLI): slow, end to end
pytestmark = pytest.mark.integration


def test_learner_on_texts_saves_and_resumes_through_the_feature_cache(tmp_path) -> None:  # type: ignore[no-untyped-def]
    learner = ActiveLearner.from_texts(
        TEXTS, ["billing", "bug", "other"], featurizer="glove50", strategy="margin", seed=1
    )
    assert learner.features.shape == (12, 50)
    first, shown = learner.query(4, return_texts=True)  # type: ignore[misc]
    assert learner.history[0]["strategy"] == "cold-start"
    labels = {0: "billing", 1: "billing", 2: "billing", 8: "billing", 11: "billing"}
    labels |= {3: "bug", 4: "bug", 5: "bug", 9: "bug"}
    gold = [labels.get(i, "other") for i in range(12)]
    learner.teach(shown, [gold[i] for i in first])
    more = learner.query(3)
    learner.teach(more, [gold[i] for i in more])
    path = learner.save(tmp_path / "session.json")
    state = json.loads(path.read_text())
    assert state["pool"]["texts"] == TEXTS and state["featurizer"]["name"] == "glove50"
    resumed = ActiveLearner.load(path)
    np.testing.assert_array_equal(np.asarray(resumed.features), np.asarray(learner.features))
    assert resumed.query(3).tolist() == learner.query(3).tolist()
    assert resumed.predict(resumed.features[:2]) == learner.predict(learner.features[:2])


def test_simulate_a_registry_dataset_into_a_temporary_store(shared_datasets, tmp_path) -> None:  # type: ignore[no-untyped-def]
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    res = simulate(
        "trec",
        ["random", "margin"],
        featurizer="glove50",
        init=12,
        batch=12,
        budget=48,
        seeds=2,
        pool_cap=800,
        test_cap=200,
        stop_set_size=200,
        store=store,
    )
    assert res.ran == 4
    runs = store.frame("active", role="run", dataset="trec")
    assert set(runs["strategy"]) == {"random", "margin"}
    assert set(runs["pool_size"]) == {800} and set(runs["test_size"]) == {200}
    assert sorted(runs.loc[runs["metric"] == "accuracy", "x"].unique()) == [12, 24, 36, 48]
    s = res.summary.set_index("strategy")
    assert 0.2 < s.loc["margin", "accuracy_at_budget"] <= 1.0
    assert 0.3 < s.loc["random", "reference_accuracy"] <= 1.0
    task = prepare_task("trec", "glove50", pool_cap=800, test_cap=200)
    assert len(task.y_pool) == 800 and task.X_pool.shape[1] == 50
    # the reference head learns from the whole training split, not only the 800-row pool
    assert task.reference_size == res.reference_size == 5452
    with thread_limit(1):  # as the learner fits (the CV's choice of C can depend on threads)
        head = make_head("logreg", random_state=0).fit(task.X_reference, task.y_reference)
    want = float(np.mean(head.predict(task.X_test) == task.y_test))
    assert s.loc["random", "reference_accuracy"] == pytest.approx(want)
    ml = prepare_task("goemotions-ekman", "glove50", pool_cap=500, test_cap=200)
    assert ml.info["task"] == "multi-label" and ml.y_pool.shape == (500, len(ml.classes))


def test_cli_simulate_prints_the_summary_and_stores_the_runs(shared_datasets, tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = f"sqlite:///{tmp_path / 'cli.sqlite'}"
    args = [
        "active",
        "simulate",
        "--dataset",
        "trec",
        "--strategy",
        "random,entropy",
        "--init",
        "10",
        "--batch",
        "10",
        "--budget",
        "30",
        "--seeds",
        "1",
        "-f",
        "glove50",
        "--pool-cap",
        "500",
        "--test-cap",
        "100",
        "--db",
        db,
    ]
    result = CliRunner().invoke(app, args, env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    assert "entropy" in result.output and "AULC" in result.output
    assert "2 run(s) simulated" in result.output
    assert "whole training split (5,452 rows)" in result.output
    assert len(ResultsStore(db).trials("active", role="run")) == 2
    bad = CliRunner().invoke(app, [*args[:-2], "--budget", "501", "--db", db])
    assert isinstance(bad.exception, ConfigError) and "larger than the pool" in str(bad.exception)
    # caps mean what they mean in `bench`: 0 is no cap (the whole 500-row test split of trec)
    whole = [*args[:-4], "--test-cap", "0", "--db", db]
    result = CliRunner().invoke(app, whole, env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    sizes = ResultsStore(db).trials("active", role="run")["test_size"]
    assert sorted(set(sizes)) == [100, 500]
    for cap in ("--test-cap", "--pool-cap"):
        bad = CliRunner().invoke(app, [*args[:-2], cap, "-1", "--db", db])
        assert isinstance(bad.exception, ConfigError) and "0 for no cap" in str(bad.exception)


def test_learner_on_a_registry_dataset_resumes_without_storing_its_texts(  # type: ignore[no-untyped-def]
    shared_datasets, tmp_path
):
    learner = ActiveLearner.from_dataset("trec", featurizer="glove50", strategy="entropy", seed=3)
    assert len(learner.classes) == 6 and learner.n_pool == 5452
    idx = learner.query(12)
    learner.teach(idx, [learner.classes[i % 6] for i in range(12)])
    path = learner.save(tmp_path / "trec.json")
    state = json.loads(path.read_text())
    assert state["pool"]["source"] == "dataset" and "texts" not in state["pool"]
    resumed = ActiveLearner.load(path)
    assert resumed.n_pool == 5452 and resumed.labels == learner.labels
    assert resumed.query(5).tolist() == learner.query(5).tolist()
