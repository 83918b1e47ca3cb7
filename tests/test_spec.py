"""The experiment spec: TOML reading, overrides, validation messages, impossible combinations."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from littledata.errors import ConfigError
from littledata.experiments.plan import DatasetInfo, FeaturizerInfo, HeadSupport, plan_grid
from littledata.experiments.spec import (
    DEFAULT_PRIMARY_METRIC,
    ExperimentSpec,
    load_spec,
    parse_overrides,
    resolve_datasets,
    spec_to_toml,
    with_overrides,
)


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "spec.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_packaged_specs_load_with_the_documented_defaults() -> None:
    spec = load_spec()
    assert spec.source == "packaged:default"
    # every single-label dataset and one dataset of each other task type
    assert spec.datasets == ("task:single-label", "msrp", "goemotions-ekman", "conll2003")
    assert spec.featurizers == ("minilm", "glove50", "tfidf")
    assert spec.heads == ("logreg", "knn", "centroid", "token-logreg")
    assert spec.sizes == (20, 50, 100, 200, 500, 1000)
    assert spec.seeds == (0, 1, 2, 3, 4)
    assert spec.train_pool_cap and spec.test_cap
    quick = load_spec(packaged="quick")
    assert len(quick.seeds) == 3 and 1 < len(quick.datasets) <= 4


def test_file_values_and_overrides(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        'datasets = ["sst2", "trec"]\nper_class_sizes = [8, 16]\nseeds = [3, 1]\n'
        'resampling = "oversample"\ntest_cap = 0\nn_jobs = -1\n',
    )
    spec = load_spec(path)
    assert spec.datasets == ("sst2", "trec")
    assert spec.per_class_sizes == (8, 16) and spec.sizes == ()
    assert spec.seeds == (1, 3)
    assert spec.resampling == ("oversample",)
    assert spec.test_cap is None
    assert spec.n_jobs == 0 and spec.workers() >= 1
    # a command-line size list replaces the file's per-class sizes
    spec2 = load_spec(path, parse_overrides(["sizes=20,50", "seeds=2", "heads=knn"]))
    assert spec2.sizes == (20, 50) and spec2.per_class_sizes == ()
    assert spec2.seeds == (0, 1) and spec2.heads == ("knn",)
    assert with_overrides(spec2, {"n_jobs": 3}).n_jobs == 3


def test_spec_round_trips_through_toml(tmp_path: Path) -> None:
    spec = load_spec(overrides={"per_class_sizes": [8], "test_cap": "none", "name": 'a "q"'})
    again = load_spec(_write(tmp_path, spec_to_toml(spec)))
    assert again == spec


@pytest.mark.parametrize(
    ("text", "pattern"),
    [
        ("sizez = [20]", r"Unknown spec key 'sizez'\. Did you mean: sizes"),
        ("datasets = 3", r"'datasets' has an invalid value 3\. Allowed: a dataset name"),
        ("sizes = [20, 0]", r"'sizes' .*0 is below 1\. Allowed: a list of positive integers"),
        ("sizes = [20.5]", r"'sizes' .*every entry must be an integer"),
        ("seeds = 0", r"'seeds' .*at least one seed"),
        ("seeds = [1, 1]", r"'seeds' .*seeds repeat"),
        ('resampling = "oversampel"', r"'resampling' .*did you mean 'oversample'\?"),
        ('metrics = ["acc"]', r"'metrics' .*did you mean 'accuracy'\?.*Allowed: a list of metric"),
        ('primary_metric = "macro"', r"'primary_metric' .*did you mean 'macro_f1'\?"),
        ('primary_metric = ["mcc"]', r"'primary_metric' .*Allowed: one metric name"),
        ("test_cap = -5", r"'test_cap' has an invalid value -5\. Allowed: a positive integer"),
        ('baseline = "yes"', r"'baseline' .*Allowed: true or false"),
        ("n_jobs = -3", r"'n_jobs' .*Allowed: a positive integer, or 0"),
        ("sizes = [20]\nper_class_sizes = [8]", r"'sizes' and 'per_class_sizes' are both set"),
        ('heads = ["knn", ""]', r"'heads' .*names cannot be empty"),
        ("datasets = [", r"not valid TOML"),
        ('report = "all"', r"'report' has an invalid value 'all': it must be a table\. Allowed"),
        ('[report]\nactiv = "all"', r"key 'activ' in the spec's \[report\] table\. Did you mean"),
        ('[report]\nactive = {strategie = "x"}', r"'report\.active': 'strategie' is no field of"),
        ("[report]\nactive = {seed = []}", r"'report\.active': the filter 'seed' has an invalid"),
        ("[report]\nactive = 3", r"'report\.active' has an invalid value 3\. Allowed: \"all\""),
        ('[report]\nactive = ["trec"]', r"'report\.active' takes FIELD=VALUE filters .*'trec'"),
    ],
)
def test_validation_errors_name_the_key_and_what_is_allowed(
    tmp_path: Path, text: str, pattern: str
) -> None:
    with pytest.raises(ConfigError, match=pattern):
        load_spec(_write(tmp_path, text))


def test_the_report_table_selects_active_learning_runs(tmp_path: Path) -> None:
    from littledata.experiments.spec import active_filters

    text = '[report]\nactive = {strategy = ["margin", "random"], dataset = "trec", seed = 0}\n'
    spec = load_spec(_write(tmp_path, text))
    wanted = {"strategy": ["margin", "random"], "dataset": ["trec"], "seed": [0]}
    assert spec.report.active_filters() == wanted
    # the list form reads as `littledata report --active` does
    listed = 'report = {active = ["strategy=margin", "strategy=random", "dataset=trec", "seed=0"]}'
    assert load_spec(_write(tmp_path, listed)).report == spec.report
    assert active_filters(["strategy=margin,random", "dataset=trec", "seed=0"]) == wanted
    assert load_spec(_write(tmp_path, '[report]\nactive = "all"')).report.active_filters() == {}
    for off in ('[report]\nactive = "none"', "[report]\nactive = false", "[report]", ""):
        assert load_spec(_write(tmp_path, off)).report.active_filters() is None
    # stored with the run (to_dict), written back as TOML and read again to the same spec
    assert spec.to_dict()["report"] == {"active": wanted}
    again = load_spec(_write(tmp_path, spec_to_toml(spec)))
    assert again == spec and again.report.active_filters() == wanted
    every = load_spec(overrides={"report": {"active": "all"}})
    assert load_spec(_write(tmp_path, spec_to_toml(every))).report.active_filters() == {}
    assert "report" not in spec_to_toml(load_spec())  # nothing asked: no table written
    assert with_overrides(spec, {"seeds": 2}).report == spec.report


def test_active_filter_fields_are_those_a_simulation_stores() -> None:
    import numpy as np
    from sklearn.linear_model import LogisticRegression

    from littledata.active.simulate import ActiveTask, simulate
    from littledata.experiments.spec import ACTIVE_FILTER_KEYS
    from littledata.experiments.store import ResultsStore

    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 120)
    x = rng.normal(size=(120, 3)) + y[:, None]
    task = ActiveTask.from_arrays(x[:80], y[:80], x[80:], y[80:], dataset="toy")
    store = ResultsStore("sqlite://")
    simulate(task, ["random"], head=LogisticRegression(), init=4, batch=4, budget=8, seeds=1,
             store=store)  # fmt: skip
    stored = set(store.trials("active").columns) - {"key", "created", "versions", "collapsed"}
    assert {"dataset", "strategy", "seed", "role"} <= stored
    assert stored <= set(ACTIVE_FILTER_KEYS), stored - set(ACTIVE_FILTER_KEYS)


def test_missing_file_and_bad_override() -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_spec("/no/such/spec.toml")
    with pytest.raises(ConfigError, match="not KEY=VALUE"):
        parse_overrides(["sizes"])
    with pytest.raises(ConfigError, match=r"Unknown spec key 'seed'\. Did you mean: seeds"):
        load_spec(overrides=parse_overrides(["seed=3"]))


def test_a_spec_file_that_is_not_utf8_or_not_a_file_is_a_config_error(tmp_path: Path) -> None:
    latin1 = tmp_path / "latin1.toml"
    latin1.write_bytes('name = "café"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match="is not UTF-8 text"):
        load_spec(latin1)
    with pytest.raises(ConfigError, match="Cannot read the spec file"):
        load_spec(tmp_path)


def test_parse_overrides_types() -> None:
    assert parse_overrides(["baseline=false", "sizes=[1, 2]", "name=x y", "test-cap=0"]) == {
        "baseline": False,
        "sizes": [1, 2],
        "name": "x y",
        "test_cap": 0,
    }


REGISTRY = {
    "a": SimpleNamespace(task="single-label"),
    "b": SimpleNamespace(task="single-label"),
    "pairs": SimpleNamespace(task="sentence-pair"),
    "ner": SimpleNamespace(task="sequence-labeling"),
}


def test_dataset_selectors_and_exclusions() -> None:
    spec = load_spec(overrides={"datasets": "task:single-label"})
    assert resolve_datasets(spec, REGISTRY) == ["a", "b"]
    spec = load_spec(overrides={"datasets": ["ner", "all"], "exclude_datasets": ["b"]})
    assert resolve_datasets(spec, REGISTRY) == ["ner", "a", "pairs"]
    with pytest.raises(ConfigError, match=r"'datasets': Unknown dataset 'single-label'.*"):
        resolve_datasets(load_spec(overrides={"datasets": "single-label"}), REGISTRY)
    with pytest.raises(ConfigError, match="Did you mean: task:single-label"):
        resolve_datasets(load_spec(overrides={"datasets": "single-label"}), REGISTRY)
    with pytest.raises(ConfigError, match="selects no dataset"):
        resolve_datasets(
            load_spec(overrides={"datasets": "a", "exclude_datasets": ["a"]}), REGISTRY
        )
    with pytest.raises(ConfigError, match="'exclude_datasets'"):
        resolve_datasets(
            load_spec(overrides={"datasets": "all", "exclude_datasets": ["zzz"]}), REGISTRY
        )


FEATURIZERS = {
    "dense": FeaturizerInfo("dense", "dense", "fp-dense"),
    "layers": FeaturizerInfo("layers", "layers", "fp-layers"),
    "tfidf": FeaturizerInfo("tfidf", "sparse", "fp-tfidf"),
}
HEADS = {
    "logreg": HeadSupport("logreg", inputs=("dense", "sparse")),
    "knn": HeadSupport("knn", inputs=("dense", "sparse"), class_weight=False),
    "layermix": HeadSupport("layermix", inputs=("layers",)),
}


def _plan(**overrides: object) -> tuple[list, list]:
    spec = load_spec(overrides={"seeds": 2, **overrides})
    datasets = [
        DatasetInfo("small", "single-label", n_classes=2, pool_size=300, fingerprint="d1"),
        DatasetInfo("many", "single-label", n_classes=60, pool_size=2000, fingerprint="d2"),
        DatasetInfo("pairs", "sentence-pair", n_classes=3, pool_size=500, fingerprint="d3"),
        DatasetInfo("ner", "sequence-labeling", n_classes=9, pool_size=500, fingerprint="d4"),
    ]
    return plan_grid(spec, datasets, FEATURIZERS, HEADS)


def test_impossible_combinations_are_skipped_with_a_reason() -> None:
    trials, skips = _plan(featurizers=["dense", "layers"], heads=["logreg", "knn", "layermix"])
    reasons = {(s.dataset, s.featurizer, s.head, s.size): s.reason for s in skips}
    # tokens with a one-text head: explained once per featurizer x head, for every size
    assert "sequence-labeling" in reasons[("ner", "dense", "logreg", None)]
    assert "predicts one label per text" in reasons[("ner", "dense", "logreg", None)]
    # sentence pairs take every single-label head (on pair features)
    assert ("pairs", "dense", "logreg", None) not in reasons
    # layer-wise features with a head that does not take them, and the other way round
    assert "layer-wise features" in reasons[("small", "layers", "logreg", None)]
    assert "takes only layer-wise" in reasons[("small", "dense", "layermix", None)]
    # sizes below the number of classes or above the train pool
    assert "smaller than the 60 classes" in reasons[("many", "dense", "logreg", 20)]
    assert "smaller than the 60 classes" in reasons[("many", "dense", "logreg", 50)]
    assert "larger than the 300 rows in the train pool" in reasons[("small", "dense", "knn", 500)]
    assert ("many", "dense", "logreg", 100) not in reasons
    # nothing impossible is planned; everything possible is, once per seed
    planned = {
        (t.config["dataset"], t.config["featurizer"], t.config["head"], t.config["size"])
        for t in trials
    }
    assert not any(d == "ner" for d, *_ in planned)
    assert ("small", "layers", "layermix", 200) in planned
    assert ("many", "dense", "knn", 1000) in planned
    # 4 possible methods (dense+logreg, dense+knn, layers+layermix and the tfidf+logreg
    # baseline) x 2 seeds x sizes ('small': 20..200, 'many': 100..1000, 'pairs': 20..500)
    assert len({t.key for t in trials}) == len(trials) == 4 * 2 * (4 + 4 + 5)


def test_baseline_is_added_once_and_can_be_turned_off() -> None:
    trials, _ = _plan(featurizers=["dense"], heads=["knn"])
    methods = {(t.config["featurizer"], t.config["head"]) for t in trials}
    assert methods == {("dense", "knn"), ("tfidf", "logreg")}
    trials, _ = _plan(featurizers=["dense"], heads=["knn"], baseline=False)
    assert {(t.config["featurizer"], t.config["head"]) for t in trials} == {("dense", "knn")}


def test_class_weight_needs_a_head_that_takes_it_and_per_class_sizes() -> None:
    trials, skips = _plan(
        featurizers=["dense"], heads=["knn"], resampling=["none", "class_weight"], baseline=False
    )
    assert any("no class_weight option" in s.reason for s in skips)
    assert {t.config["resampling"] for t in trials} == {"none"}
    trials, skips = _plan(featurizers=["dense"], heads=["logreg"], per_class_sizes=[8, 64])
    sizes = {(t.config["dataset"], t.config["size"]) for t in trials}
    assert ("small", 64) in sizes and ("many", 8) in sizes
    assert all(t.config["size_mode"] == "per_class" for t in trials)
    assert any("64 per class x 60 classes" in s.reason for s in skips)


def test_default_resampling_is_stored_as_the_heads_own_option() -> None:
    heads = {**HEADS, "logreg": HeadSupport("logreg", resampling="class_weight")}
    spec = load_spec(
        overrides={"featurizers": ["dense"], "heads": ["logreg", "knn"], "seeds": 1,
                   "resampling": ["default", "class_weight", "none"], "baseline": False}
    )  # fmt: skip
    datasets = [DatasetInfo("small", "single-label", n_classes=2, pool_size=300, fingerprint="d")]
    trials, _ = plan_grid(spec, datasets, FEATURIZERS, heads)
    options = {(t.config["head"], t.config["resampling"]) for t in trials}
    # logreg: "default" is class_weight, planned once; knn: default none, no class_weight option
    assert options == {("logreg", "class_weight"), ("logreg", "none"), ("knn", "none")}
    assert len({t.key for t in trials}) == len(trials) == 3 * 4  # 3 methods x sizes 20..200
    explicit = load_spec(
        overrides={"featurizers": ["dense"], "heads": ["logreg"], "seeds": 1,
                   "resampling": ["class_weight"], "baseline": False}
    )  # fmt: skip
    same, _ = plan_grid(explicit, datasets, FEATURIZERS, heads)
    by_default = {t.key for t in trials if t.config["head"] == "logreg"}
    assert {t.key for t in same} <= by_default  # the same trials, whichever way they were asked


def test_primary_metric_is_a_spec_key(tmp_path: Path) -> None:
    spec = load_spec(_write(tmp_path, 'primary_metric = "mcc"\nmetrics = ["log_loss"]\n'))
    assert spec.primary_metric == "mcc"
    assert spec.metrics == ("log_loss",)
    assert load_spec(_write(tmp_path, "")).primary_metric == DEFAULT_PRIMARY_METRIC


def test_trial_keys_depend_on_fingerprints_and_caps() -> None:
    base, _ = _plan(featurizers=["dense"], heads=["logreg"], baseline=False)
    capped, _ = _plan(featurizers=["dense"], heads=["logreg"], baseline=False, test_cap=10)
    assert {t.key for t in base}.isdisjoint({t.key for t in capped})
    again, _ = _plan(featurizers=["dense"], heads=["logreg"], baseline=False)
    assert [t.key for t in again] == [t.key for t in base]
    assert all(t.config["featurizer_fingerprint"] == "fp-dense" for t in base)


def test_spec_defaults_match_the_dataclass() -> None:
    # the packaged default spec only differs from the dataclass defaults where it says so
    spec = load_spec()
    assert spec.metrics == ExperimentSpec().metrics
    assert spec.primary_metric == ExperimentSpec().primary_metric == DEFAULT_PRIMARY_METRIC
    assert spec.resampling == ExperimentSpec().resampling == ("default",)


def test_bench_command_rejects_bad_specs_before_any_work(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from littledata.cli import app

    runner = CliRunner()
    db = ["--db", f"sqlite:///{tmp_path / 'r.sqlite'}"]
    result = runner.invoke(app, ["bench", *db, "sizez=20"])
    assert isinstance(result.exception, ConfigError) and "Did you mean: sizes" in str(
        result.exception
    )
    result = runner.invoke(app, ["bench", "--quick", "--spec", str(_write(tmp_path, "")), *db])
    assert isinstance(result.exception, ConfigError)
    result = runner.invoke(app, ["bench", *db, "--datasets", "sst3"])
    assert "Did you mean: sst2" in str(result.exception)
    result = runner.invoke(app, ["bench", *db, "--datasets", "sst2", "--heads", "knnn"])
    assert "Spec key 'heads'" in str(result.exception) and "knn" in str(result.exception)


def test_n_jobs_above_the_usable_cores_is_capped_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import os

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    with caplog.at_level("WARNING", logger="littledata.experiments.spec"):
        assert load_spec(overrides={"n_jobs": 10_000}).workers() == cores
    assert f"n_jobs=10000 is more than the {cores} usable cores" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="littledata.experiments.spec"):
        assert load_spec(overrides={"n_jobs": 1}).workers() == 1
        assert load_spec(overrides={"n_jobs": 0}).workers() == cores
    assert caplog.text == ""
