"""Aggregation by hand, ranks, and the HTML report with its figures."""

from __future__ import annotations

import math
import re
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from littledata.errors import LittleDataError
from littledata.experiments.results import (
    aggregate,
    collapse_counts,
    mean_ranks,
    method_collapses,
    newest_protocol,
    rank_table,
    recommended,
)
from littledata.experiments.spec import load_spec
from littledata.experiments.store import Measurement, ResultsStore, trial_key
from littledata.report import write_report


def _rows(dataset: str, featurizer: str, head: str, size: int, values: list[float]) -> list[dict]:
    return [
        {
            "dataset": dataset,
            "featurizer": featurizer,
            "head": head,
            "size": size,
            "seed": seed,
            "metric": "accuracy",
            "value": v,
        }
        for seed, v in enumerate(values)
    ]


def test_aggregate_by_hand() -> None:
    frame = pd.DataFrame(
        _rows("d1", "f", "logreg", 20, [0.5, 0.7, 0.9])
        + _rows("d1", "f", "logreg", 50, [0.8])
        + _rows("d1", "f", "knn", 20, [0.6, 0.6, float("nan")])
        + [{**r, "metric": "log_loss"} for r in _rows("d1", "f", "knn", 20, [1.0, 3.0])]
    )
    agg = aggregate(frame)
    row = agg[(agg["head"] == "logreg") & (agg["size"] == 20)].iloc[0]
    assert row["mean"] == pytest.approx(0.7)
    assert row["std"] == pytest.approx(0.2)  # sample std of 0.5, 0.7, 0.9
    assert row["sem"] == pytest.approx(0.2 / math.sqrt(3))
    assert row["n"] == 3
    assert row["resampling"] == "none" and row["size_mode"] == "total"
    single = agg[(agg["head"] == "logreg") & (agg["size"] == 50)].iloc[0]
    assert single["mean"] == pytest.approx(0.8) and math.isnan(single["std"]) and single["n"] == 1
    knn = agg[(agg["head"] == "knn") & (agg["metric"] == "accuracy")].iloc[0]
    assert knn["n"] == 2 and knn["mean"] == pytest.approx(0.6) and knn["std"] == pytest.approx(0)
    loss = agg[agg["metric"] == "log_loss"].iloc[0]
    assert loss["mean"] == pytest.approx(2.0) and loss["std"] == pytest.approx(math.sqrt(2))
    assert set(aggregate(frame, ["log_loss"])["metric"]) == {"log_loss"}


def test_mean_ranks_by_hand() -> None:
    # at size 20: d1 ranks A=1, B=2, C=3; d2 ranks B=1, A=2.5, C=2.5 (tie) -> A 1.75, B 1.5, C 2.75
    frame = pd.DataFrame(
        _rows("d1", "f", "A", 20, [0.9, 0.9])
        + _rows("d1", "f", "B", 20, [0.8, 0.8])
        + _rows("d1", "f", "C", 20, [0.1, 0.3])
        + _rows("d2", "f", "A", 20, [0.5])
        + _rows("d2", "f", "B", 20, [0.7])
        + _rows("d2", "f", "C", 20, [0.5])
        + _rows("d1", "f", "A", 50, [0.2])
        + _rows("d1", "f", "C", 50, [0.4])
    )
    ranks = mean_ranks(aggregate(frame), "accuracy")
    at20 = ranks[ranks["size"] == 20].set_index("head")
    assert at20.loc["A", "mean_rank"] == pytest.approx(1.75)
    assert at20.loc["B", "mean_rank"] == pytest.approx(1.5)
    assert at20.loc["C", "mean_rank"] == pytest.approx(2.75)
    assert at20.loc["A", "n_datasets"] == 2 and at20.loc["A", "n_methods"] == 3
    assert list(at20.index) == ["B", "A", "C"]  # sorted best first
    at50 = ranks[ranks["size"] == 50].set_index("head")
    assert at50.loc["C", "mean_rank"] == 1 and at50.loc["A", "mean_rank"] == 2
    assert at50.loc["C", "n_datasets"] == 1
    # lower is better for losses: the order flips
    loss = frame.assign(metric="log_loss")
    loss_ranks = mean_ranks(aggregate(loss), "log_loss")
    assert loss_ranks[loss_ranks["size"] == 20].set_index("head").loc["C", "mean_rank"] == 1.25
    table = rank_table(ranks)
    assert list(table.columns) == [20, 50, "overall"]
    assert table.loc["f + C", "overall"] == pytest.approx((2.75 + 1) / 2)
    assert table.index[0] == "f + B"  # B only ran at size 20, where it ranks 1.5


def _fill_store(store: ResultsStore, datasets: dict[str, int]) -> list[str]:
    """Made-up results: 2 featurizers x 2 heads + the baseline, 3 sizes, 3 seeds."""
    rng = np.random.default_rng(0)
    keys = []
    methods = [("glove50", "knn"), ("glove50", "centroid"), ("minilm", "knn"), ("tfidf", "logreg")]
    for dataset, n_classes in datasets.items():
        for featurizer, head in methods:
            for size in (20, 50, 100):
                for seed in range(3):
                    config = {
                        "dataset": dataset,
                        "n_classes": n_classes,
                        "featurizer": featurizer,
                        "head": head,
                        "resampling": "none",
                        "size_mode": "total",
                        "size": size,
                        "seed": seed,
                        "train_pool_cap": 500,
                        "test_cap": 200,
                    }
                    acc = 0.5 + 0.1 * np.log10(size) + rng.normal(0, 0.02)
                    key = trial_key(config)
                    keys.append(key)
                    store.add_trial(
                        kind="bench",
                        key=key,
                        config=config,
                        measurements=[Measurement("accuracy", acc), Measurement("macro_f1", acc)],
                    )
    return keys


@pytest.mark.integration
def test_report_has_one_figure_per_dataset_and_the_rank_table(tmp_path: Path) -> None:
    store = ResultsStore("sqlite://")
    keys = _fill_store(store, {"alpha": 2, "beta set": 3})
    spec = load_spec(overrides={"datasets": ["alpha", "beta set"], "seeds": 3})
    run = store.start_run("bench", spec.to_dict())
    skipped = [
        {
            "dataset": "alpha",
            "featurizer": "x",
            "head": "y",
            "size": None,
            "reason": "because <reasons>",
        }
    ]
    store.finish_run(
        run, {"keys": keys, "caps": {"alpha": {"pool": 500, "test": 200}}, "skipped": skipped}
    )
    path = write_report(store, tmp_path / "out")
    assert path == tmp_path / "out" / "report.html"
    names = {p.name for p in (tmp_path / "out").iterdir()}
    for stem in ("curves_alpha", "curves_beta_set", "ranks"):
        assert {f"{stem}.png", f"{stem}.svg"} <= names
        assert (tmp_path / "out" / f"{stem}.png").read_bytes()[:4] == b"\x89PNG"
        assert b"<svg" in (tmp_path / "out" / f"{stem}.svg").read_bytes()[:2000]
    page = path.read_text(encoding="utf-8")
    # self-contained: 3 figures and a critical-difference diagram per size, all embedded; no
    # external resource and no link to a file beside the page
    assert len(re.findall(r"<img src='data:image/png;base64,", page)) == 3 + 3
    assert {"cd_20.svg", "cd_50.png", "cd_100.svg"} <= names
    assert not re.search(r"(src|href)=['\"]https?://", page)
    assert all(
        link.startswith(("#", "data:")) for link in re.findall(r"(?:src|href)='([^']*)'", page)
    )
    assert "<script" not in page and "<link" not in page
    # rank table rows and dataset sections
    assert "<table class='ranks'>" in page
    for label in ("minilm + knn", "glove50 + centroid", "tfidf + logreg"):
        assert label in page
    assert "id='ds-alpha'" in page and "id='ds-beta_set'" in page
    # the exact spec, caps and versions at the bottom (escaped)
    bottom = page[page.index("id='provenance'") :]
    assert "datasets = [&quot;alpha&quot;, &quot;beta set&quot;]" in bottom
    assert "train_pool_cap = " in bottom and "<td>alpha</td><td>500</td><td>200</td>" in bottom
    assert "scikit-learn" in bottom and "numpy" in bottom
    assert "because &lt;reasons&gt;" in page


@pytest.mark.integration
def test_report_defaults_to_the_latest_run_and_all_includes_everything(tmp_path: Path) -> None:
    store = ResultsStore("sqlite://")
    keys = _fill_store(store, {"alpha": 2, "beta": 2})
    alpha_keys = [k for k in keys if k in set(store.frame("bench", dataset="alpha")["key"])]
    run = store.start_run("bench", load_spec(overrides={"datasets": "alpha"}).to_dict())
    store.finish_run(run, {"keys": alpha_keys})
    page = write_report(store, tmp_path / "a").read_text(encoding="utf-8")
    assert "id='ds-alpha'" in page and "id='ds-beta'" not in page
    page = write_report(store, tmp_path / "b", all_trials=True).read_text(encoding="utf-8")
    assert "id='ds-beta'" in page


@pytest.mark.integration
def test_active_section_is_rendered_when_present_and_optional(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = ResultsStore("sqlite://")
    _fill_store(store, {"alpha": 2})
    config = {"dataset": "alpha", "strategy": "margin", "seed": 0}
    store.add_trial(
        kind="active",
        key=trial_key(config),
        config=config,
        measurements=[Measurement("accuracy", 0.7, x=20)],
    )
    seen = {}

    def render(frame: pd.DataFrame, out_dir: Path) -> str:
        seen["rows"] = len(frame)
        seen["dir"] = out_dir
        return "<p>ACTIVE-FRAGMENT</p>"

    fake = types.ModuleType("littledata.report.active")
    fake.render_active_section = render  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "littledata.report.active", fake)
    page = write_report(store, tmp_path / "r", all_trials=True).read_text(encoding="utf-8")
    assert "ACTIVE-FRAGMENT" not in page and not seen  # only the runs asked for
    page = write_report(store, tmp_path / "r", all_trials=True, active={"dataset": ["beta"]})
    text = page.read_text(encoding="utf-8")  # a filter that matches nothing says so
    assert "ACTIVE-FRAGMENT" not in text and not seen
    assert "No active-learning run in the store matches dataset = beta" in text
    page = write_report(store, tmp_path / "r", all_trials=True, active={}).read_text("utf-8")
    assert "ACTIVE-FRAGMENT" in page and seen == {"rows": 1, "dir": tmp_path / "r"}

    def broken(frame: pd.DataFrame, out_dir: Path) -> str:
        raise RuntimeError("no curves")

    fake.render_active_section = broken  # type: ignore[attr-defined]
    page = write_report(store, tmp_path / "r", all_trials=True, active={}).read_text("utf-8")
    assert "could not be drawn: no curves" in page and "id='ds-alpha'" in page


def _fake_active_renderer(monkeypatch: pytest.MonkeyPatch) -> list[set[str]]:
    """Replace the active-learning renderer by one that records the strategies it is given."""
    seen: list[set[str]] = []

    def render(frame: pd.DataFrame, out_dir: Path) -> str:
        seen.append(set(frame["strategy"]))
        return "<p>ACTIVE-FRAGMENT</p>"

    fake = types.ModuleType("littledata.report.active")
    fake.render_active_section = render  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "littledata.report.active", fake)
    return seen


@pytest.mark.integration
def test_the_runs_spec_chooses_the_active_runs_and_the_command_line_overrides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from littledata.cli import app

    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    store = ResultsStore(url)
    keys = _fill_store(store, {"alpha": 2})
    for strategy in ("margin", "random"):
        config = {"dataset": "trec", "role": "run", "strategy": strategy, "seed": 0}
        store.add_trial(kind="active", key=trial_key(config), config=config,
                        measurements=[Measurement("accuracy", 0.7, x=20)])  # fmt: skip
    seen = _fake_active_renderer(monkeypatch)
    # a run without [report] active: no section
    run = store.start_run("bench", load_spec(overrides={"datasets": "alpha"}).to_dict())
    store.finish_run(run, {"keys": keys})
    assert "ACTIVE-FRAGMENT" not in write_report(store, tmp_path / "a").read_text("utf-8")
    assert not seen
    # the latest run's spec asks for the margin runs: `littledata report` shows those alone
    asked = load_spec(overrides={"datasets": "alpha", "report": {"active": {"strategy": "margin"}}})
    run = store.start_run("bench", asked.to_dict())
    store.finish_run(run, {"keys": keys})
    page = write_report(store, tmp_path / "b").read_text("utf-8")
    assert "ACTIVE-FRAGMENT" in page and seen == [{"margin"}]
    assert "report = {active = {strategy = [&quot;margin&quot;]}}" in page  # in the spec shown
    runner = CliRunner()
    result = runner.invoke(app, ["report", "--db", url, "--out", str(tmp_path / "c")])
    assert result.exit_code == 0, result.output
    assert seen[-1] == {"margin"}
    # --active replaces the spec's choice; --active none drops the section
    args = ["report", "--db", url, "--out", str(tmp_path / "d")]
    assert runner.invoke(app, [*args, "--active", "strategy=random"]).exit_code == 0
    assert seen[-1] == {"random"}
    assert runner.invoke(app, [*args, "--active", "all"]).exit_code == 0
    assert seen[-1] == {"margin", "random"}
    n_seen = len(seen)
    assert runner.invoke(app, [*args, "--active", "none"]).exit_code == 0
    assert len(seen) == n_seen
    assert "ACTIVE-FRAGMENT" not in (tmp_path / "d" / "report.html").read_text("utf-8")
    result = runner.invoke(app, [*args, "--active", "strategie=margin"])
    assert "--active: 'strategie' is no field of an active-learning run. Did you mean " in str(
        result.exception
    )


def test_empty_store_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(LittleDataError, match="holds no benchmark results"):
        write_report(ResultsStore("sqlite://"), tmp_path)


@pytest.mark.integration
def test_results_and_report_commands(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from littledata.cli import app

    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    store = ResultsStore(url)
    _fill_store(store, {"alpha": 2, "beta": 3})
    runner = CliRunner()
    result = runner.invoke(app, ["results", "--db", url, "-d", "alpha"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    # no run record: ranked by the default primary metric, accuracy below it
    assert "alpha: macro_f1 (accuracy below), mean ± std over 3 seeds" in result.output
    assert "beta" not in result.output
    lines = result.output.splitlines()
    at = next(i for i, line in enumerate(lines) if "minilm + knn" in line)
    agg = aggregate(store.frame("bench", dataset="alpha", featurizer="minilm", head="knn"))
    first = agg[(agg["metric"] == "macro_f1") & (agg["size"] == 20)].iloc[0]
    assert f"{first['mean']:.3f} ± {first['std']:.3f}" in lines[at]
    acc = agg[(agg["metric"] == "accuracy") & (agg["size"] == 20)].iloc[0]
    assert f"acc {acc['mean']:.3f}" in lines[at + 1]
    result = runner.invoke(app, ["results", "--db", url, "-d", "alpha", "-m", "accuracy"])
    assert "alpha: accuracy, mean ± std" in result.output and "acc " not in result.output
    result = runner.invoke(app, ["results", "--db", url, "-m", "macro_f1", "--head", "centroid"])
    assert result.exit_code == 0 and "glove50 + centroid" in result.output
    assert "minilm + knn" not in result.output
    result = runner.invoke(app, ["results", "--db", url, "-d", "alpah"])
    assert isinstance(result.exception, LittleDataError)
    assert "Did you mean: alpha" in str(result.exception)
    result = runner.invoke(app, ["results", "--db", url, "-m", "acc"])
    assert "Did you mean: accuracy" in str(result.exception)
    result = runner.invoke(app, ["report", "--db", url, "--out", str(tmp_path / "rep")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "rep" / "report.html").exists()
    assert str(tmp_path / "rep" / "report.html") in result.output


def _disagreeing_store(store: ResultsStore) -> list[str]:
    """Three methods on two datasets where accuracy and macro-F1 disagree: "major" predicts the
    majority class (best accuracy, worst macro-F1, collapsed), "mild" leans to it (second in
    both), "fair" is balanced (worst accuracy, best macro-F1)."""
    values = {"major": (0.85, 0.46, True), "mild": (0.83, 0.60, False), "fair": (0.80, 0.70, False)}
    keys = []
    for dataset in ("d1", "d2"):
        for head, (acc, f1, collapsed) in values.items():
            for size in (20, 50):
                for seed in range(3):
                    config = {
                        "dataset": dataset, "featurizer": "f", "head": head, "resampling": "none",
                        "size_mode": "total", "size": size, "seed": seed, "n_classes": 2,
                    }  # fmt: skip
                    key = trial_key(config)
                    keys.append(key)
                    store.add_trial(
                        kind="bench",
                        key=key,
                        config=config,
                        measurements=[
                            Measurement("accuracy", acc + seed / 1000),
                            Measurement("macro_f1", f1 + seed / 1000),
                            Measurement("mcc", 0.0 if collapsed else f1 - 0.3),
                        ],
                        collapsed=collapsed and size == 20,  # "major" collapses at 20 rows
                    )
    return keys


def test_ranking_follows_the_primary_metric_and_never_puts_a_collapsed_method_first(
    tmp_path: Path,
) -> None:
    store = ResultsStore("sqlite://")
    _disagreeing_store(store)
    frame = store.frame("bench")
    agg = aggregate(frame)
    # the two metrics disagree: accuracy ranks the majority-class model first
    assert rank_table(mean_ranks(agg, "accuracy")).index[0] == "f + major"
    assert list(rank_table(mean_ranks(agg, "macro_f1")).index) == [
        "f + fair",
        "f + mild",
        "f + major",
    ]
    counts = collapse_counts(frame)
    assert (
        counts.set_index(["dataset", "head", "size"]).loc[("d1", "major", 20), "n_collapsed"] == 3
    )
    collapses = method_collapses(counts)
    flagged = collapses[collapses["n_collapsed"] > 0]
    assert set(zip(flagged["method"], flagged["size"], flagged["n_datasets"], strict=True)) == {
        ("f + major", 20, 2)
    }
    # ranked by accuracy, the collapsed method is still listed last and never recommended
    by_acc = rank_table(mean_ranks(agg, "accuracy"), collapses)
    assert list(by_acc.index) == ["f + mild", "f + fair", "f + major"]
    assert recommended(by_acc, collapses) == "f + mild"
    # by size: at 50 rows it never collapsed, and there accuracy does recommend it
    assert recommended(by_acc, collapses, size=20) == "f + mild"
    assert recommended(by_acc, collapses, size=50) == "f + major"
    assert recommended(rank_table(mean_ranks(agg, "macro_f1"), collapses), collapses) == "f + fair"

    # the report: ranked by the default primary metric (macro-F1), accuracy beside it
    page = write_report(store, tmp_path / "r", all_trials=True).read_text(encoding="utf-8")
    ranking = page[page.index("id='ranking'") : page.index("id='curves'")]
    assert "by macro-F1" in ranking and "mean rank by accuracy" in ranking
    assert "Recommended: <b>f + fair</b>" in ranking
    rows = re.findall(r"<tr><th class='row'>([^<]+)", ranking)
    assert rows == ["f + fair", "f + mild", "f + major "]  # the flagged one last, marked
    assert "⚠2" in ranking  # collapsed on 2 datasets at 20 rows
    curves = page[page.index("id='curves'") :]
    assert "3/3 collapsed" in curves and "<small>(0.851)</small>" in curves  # accuracy beside
    # asked to rank by accuracy, the majority-class model still is not recommended
    page = write_report(
        store, tmp_path / "a", all_trials=True, primary_metric="accuracy"
    ).read_text(encoding="utf-8")
    assert "Recommended: <b>f + mild</b>" in page
    assert (
        "<b>f + major</b> has the best mean rank over sizes, but its predictions collapsed" in page
    )
    assert "<b>20 training rows</b>: use <b>f + mild</b>" in page  # the by-size sentences
    assert "<b>50 training rows</b>: use <b>f + major</b>" in page


def test_collapsed_points_are_marked_on_the_curves() -> None:
    from littledata.report.figures import COLLAPSE_LABEL, learning_curve_figure, style_for

    store = ResultsStore("sqlite://")
    _disagreeing_store(store)
    frame = store.frame("bench", dataset="d1")
    agg = aggregate(frame)
    styles = style_for(["f"], ["fair", "major", "mild"])
    fig = learning_curve_figure(agg, "d1", ["macro_f1"], styles, collapses=collapse_counts(frame))
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert COLLAPSE_LABEL in labels
    crosses = [line for line in fig.axes[0].get_lines() if line.get_marker() == "x"]
    assert len(crosses) == 1 and list(crosses[0].get_xdata()) == [20.0]
    clean = learning_curve_figure(agg, "d1", ["macro_f1"], styles)
    assert COLLAPSE_LABEL not in [t.get_text() for t in clean.legends[0].get_texts()]


def test_results_command_marks_collapsed_cells(tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from littledata.cli import app

    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    _disagreeing_store(ResultsStore(url))
    result = CliRunner().invoke(app, ["results", "--db", url, "-d", "d1"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert "d1: macro_f1 (accuracy below)" in result.output
    line = next(line for line in result.output.splitlines() if "f + major" in line)
    assert "⚠ 3/3" in line and "0.461 ±" in line
    assert "⚠" not in next(line for line in result.output.splitlines() if "f + fair" in line)


def test_results_of_an_older_trial_protocol_are_not_averaged_with_newer_ones() -> None:
    frame = pd.DataFrame(
        [
            {**row, "protocol": protocol}
            for protocol, values in ((2, [0.1, 0.2]), (3, [0.7, 0.9]))
            for row in _rows("d", "f", "h", 20, values)
        ]
        + [{**row, "protocol": 2} for row in _rows("d", "f", "h", 50, [0.4])]
    )
    kept = newest_protocol(frame)
    agg = aggregate(kept).set_index("size")
    assert agg.loc[20, "mean"] == pytest.approx(0.8) and agg.loc[20, "n"] == 2
    assert agg.loc[50, "mean"] == pytest.approx(0.4)  # only protocol 2 there: kept
    assert newest_protocol(frame.drop(columns="protocol")).equals(frame.drop(columns="protocol"))
