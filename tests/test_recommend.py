"""The report's decision: recommendation by size from mean ranks, paired margins with their
intervals, the Friedman/Nemenyi critical difference (Demšar 2006), and a page complete alone."""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from littledata.experiments.results import aggregate, collapse_counts, method_collapses
from littledata.experiments.significance import critical_difference, paired_margin
from littledata.experiments.store import Measurement, ResultsStore, trial_key
from littledata.report.recommend import choices_by_size

METHODS = [("minilm", "logreg"), ("minilm", "knn"), ("glove50", "centroid"), ("tfidf", "logreg")]
# made-up skill per method and size: minilm+logreg wins small, tfidf+logreg wins at 200
SKILL = {
    20: {
        "minilm + logreg": 0.70,
        "minilm + knn": 0.66,
        "glove50 + centroid": 0.55,
        "tfidf + logreg": 0.50,
    },
    200: {
        "minilm + logreg": 0.80,
        "minilm + knn": 0.74,
        "glove50 + centroid": 0.62,
        "tfidf + logreg": 0.83,
    },
}


def _frame(n_datasets: int = 5, seeds: int = 3, noise: float = 0.01) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for d in range(n_datasets):
        for size, skill in SKILL.items():
            for (f, h), label in zip(METHODS, skill, strict=True):
                for seed in range(seeds):
                    value = skill[label] + 0.02 * d + rng.normal(0, noise)
                    rows.append({"key": f"{d}{f}{h}{size}{seed}", "dataset": f"d{d}",
                                 "featurizer": f, "head": h, "resampling": "none",
                                 "size_mode": "total", "size": size, "seed": seed,
                                 "metric": "macro_f1", "value": value})  # fmt: skip
    return pd.DataFrame(rows)


def test_the_recommendation_matches_the_mean_ranks() -> None:
    frame = _frame()
    agg = aggregate(frame)
    # mean ranks by hand: rank the four methods within each dataset and size, then average
    by_hand = {}
    for size, part in agg.groupby("size"):
        part = part.assign(rank=part.groupby("dataset")["mean"].rank(ascending=False))
        means = part.assign(method=part["featurizer"] + " + " + part["head"]).groupby("method")
        order = means["rank"].mean().sort_values()
        by_hand[int(size)] = (order.index[0], order.index[1])
    collapses = method_collapses(collapse_counts(frame))
    assert choices_by_size(agg, collapses, "macro_f1", "total") == by_hand
    assert by_hand == {
        20: ("minilm + logreg", "minilm + knn"),
        200: ("tfidf + logreg", "minilm + logreg"),
    }


def test_a_method_that_collapsed_is_not_recommended_at_that_size() -> None:
    frame = _frame()
    frame["collapsed"] = (frame["featurizer"] == "tfidf") & (frame["size"] == 200)
    agg = aggregate(frame)
    collapses = method_collapses(collapse_counts(frame))
    choices = choices_by_size(agg, collapses, "macro_f1", "total")
    assert choices[200] == ("minilm + logreg", "minilm + knn")
    assert choices[20] == ("minilm + logreg", "minilm + knn")


def test_paired_margin_by_hand() -> None:
    frame = _frame(n_datasets=4, seeds=2, noise=0.02)
    margin = paired_margin(frame, "macro_f1", 20, "minilm + logreg", "minilm + knn")
    assert margin is not None
    a = frame[(frame["featurizer"] == "minilm") & (frame["size"] == 20)]
    wide = a.pivot_table(index=["dataset", "seed"], columns="head", values="value")
    diff = (wide["logreg"] - wide["knn"]).to_numpy()
    half = stats.t.ppf(0.975, len(diff) - 1) * diff.std(ddof=1) / math.sqrt(len(diff))
    assert margin.mean == pytest.approx(diff.mean())
    assert (margin.low, margin.high) == pytest.approx((diff.mean() - half, diff.mean() + half))
    assert margin.n_pairs == 8 and margin.n_datasets == 4
    assert margin.low > 0  # 0.04 apart with noise 0.02: a real difference
    # for a loss, lower is better: the sign turns so that positive still means "best is better"
    loss = frame.assign(metric="log_loss", value=1 - frame["value"])
    flipped = paired_margin(loss, "log_loss", 20, "minilm + logreg", "minilm + knn")
    assert flipped is not None and flipped.mean == pytest.approx(margin.mean)
    assert paired_margin(frame, "macro_f1", 20, "minilm + logreg", "nobody") is None


def test_critical_difference_follows_demsar() -> None:
    # Demšar (2006), section 3.2.2: k = 4 methods on N = 14 datasets give CD = 1.25 at 0.05
    rng = np.random.default_rng(1)
    rows = []
    for d in range(14):
        for m, skill in enumerate([0.9, 0.8, 0.7, 0.6]):
            rows.append({"dataset": f"d{d}", "featurizer": "f", "head": f"m{m}",
                         "resampling": "none", "size_mode": "total", "size": 20,
                         "metric": "accuracy", "mean": skill + rng.normal(0, 0.08)})  # fmt: skip
    agg = pd.DataFrame(rows)
    cd = critical_difference(agg, "accuracy", 20)
    assert cd is not None and cd.n_datasets == 14
    assert cd.cd == pytest.approx(2.569 * math.sqrt(4 * 5 / (6 * 14)), abs=2e-3)
    assert cd.cd == pytest.approx(1.25, abs=0.01)
    values = agg.pivot_table(index="dataset", columns="head", values="mean").to_numpy()
    assert cd.p_value == pytest.approx(stats.friedmanchisquare(*values.T).pvalue)
    ranks = stats.rankdata(-values, axis=1).mean(axis=0)
    assert list(cd.ranks.values()) == pytest.approx(sorted(ranks))
    best, *_, worst = cd.ranks
    assert cd.differ(best, worst)
    # two methods are not enough to test
    assert critical_difference(agg[agg["head"].isin(["m0", "m1"])], "accuracy", 20) is None


@pytest.mark.integration
def test_the_report_recommends_by_size_and_stands_alone(tmp_path: Path) -> None:
    from littledata.report import write_report

    store = ResultsStore("sqlite://")
    for row in _frame(n_datasets=3, seeds=2).to_dict("records"):
        config = {k: row[k] for k in ("dataset", "featurizer", "head", "resampling", "size_mode",
                                      "size", "seed")}  # fmt: skip
        config["n_classes"] = 2
        store.add_trial(
            kind="bench",
            key=trial_key(config),
            config=config,
            measurements=[Measurement("macro_f1", row["value"]), Measurement("accuracy", 0.5)],
        )
    path = write_report(store, tmp_path / "rep")
    page = path.read_text(encoding="utf-8")
    assert "<b>20 training rows</b>: use <b>minilm + logreg</b>" in page
    assert "<b>200 training rows</b>: use <b>tfidf + logreg</b>" in page
    assert re.search(r"beats the runner-up minilm \+ knn by \+0\.0[34]\d macro-F1", page)
    assert "95% confidence interval" in page and "Friedman χ²" in page
    assert (tmp_path / "rep" / "cd_20.svg").exists() and (tmp_path / "rep" / "cd_200.png").exists()
    # every figure is in the page; nothing links to a file beside it
    links = re.findall(r"(?:src|href)=['\"]([^'\"]*)['\"]", page)
    assert links and all(link.startswith(("#", "data:")) for link in links)
    assert "class='best'" in page  # the winner of each size in the per-dataset tables


@pytest.mark.integration
def test_the_report_recomputes_the_recommended_methods_mistakes(tmp_path: Path) -> None:
    """A user's file through a tiny benchmark: the report recomputes one trial of the
    recommended method per dataset (the same score as stored) and shows where it errs."""
    from test_own_data import made_up_rows, write_csv

    from littledata.datasets.source import DataSource
    from littledata.experiments.runner import run_benchmark
    from littledata.experiments.spec import load_spec
    from littledata.report import write_report

    rows = made_up_rows(120)
    rows = [
        (i, f"{t} {'the is' if n % 7 == 0 else ''}".strip(), lab)
        for n, (i, t, lab) in enumerate(rows)
    ]
    path = write_csv(tmp_path / "topics.csv", rows)
    spec = load_spec(
        overrides={
            "datasets": [DataSource.parse(str(path))],
            "featurizers": ["tfidf"],
            "heads": ["centroid", "knn"],
            "sizes": [12, 24],
            "seeds": 2,
            "baseline": False,
            "n_jobs": 1,
        }
    )
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    summary = run_benchmark(spec, store=store)
    assert summary.failed == 0
    page = write_report(store, tmp_path / "rep").read_text(encoding="utf-8")
    assert "goes wrong</summary>" in page and "Not recomputed" not in page
    assert re.search(
        r"with 24 training rows, seed 0, recomputed: macro-F1 [01]\.\d{3}, "
        r"the same as the stored trial",
        page,
    )
    assert "<caption>Per class</caption>" in page and "Confusion matrix" in page
    assert "Misclassified test texts" in page or "No test text was misclassified" in page


# made-up skill per task: minilm + logreg best on single-label, minilm + knn on multi-label (so
# the text family's choice rests on both), minilm + token-logreg on entity tags
TASK_SKILL = {
    ("alpha", "single-label"): {("minilm", "logreg"): 0.80, ("minilm", "knn"): 0.70,
                                ("tfidf", "logreg"): 0.60},
    ("beta", "single-label"): {("minilm", "logreg"): 0.75, ("minilm", "knn"): 0.72,
                               ("tfidf", "logreg"): 0.55},
    ("tags", "multi-label"): {("minilm", "logreg"): 0.40, ("minilm", "knn"): 0.45,
                              ("tfidf", "logreg"): 0.30},
    ("ner", "sequence-labeling"): {("minilm", "token-logreg"): 0.70,
                                   ("glove50", "token-logreg"): 0.50},
}  # fmt: skip
TASK_METRICS = {
    "single-label": ("macro_f1", "accuracy"),
    "multi-label": ("macro_f1", "micro_f1", "subset_accuracy"),
    "sequence-labeling": ("entity_f1", "token_accuracy"),
}


def _task_store() -> ResultsStore:
    """A made-up store with two single-label datasets, a multi-label and an entity-tag one."""
    rng = np.random.default_rng(3)
    store = ResultsStore("sqlite://")
    for (dataset, task), skill in TASK_SKILL.items():
        for (featurizer, head), value in skill.items():
            for size in (20, 50):
                for seed in range(3):
                    config = {"dataset": dataset, "task": task, "n_classes": 4,
                              "featurizer": featurizer, "head": head, "resampling": "none",
                              "size_mode": "total", "size": size, "seed": seed}  # fmt: skip
                    v = value + 0.001 * size + rng.normal(0, 0.01)
                    names = TASK_METRICS[task]
                    metrics = [Measurement(m, v - 0.01 * i) for i, m in enumerate(names)]
                    store.add_trial(kind="bench", key=trial_key(config), config=config,
                                    measurements=metrics)  # fmt: skip
    return store


def alpha_part(page: str) -> str:
    """The single-label dataset's article of the page."""
    part = page[page.index("id='ds-alpha'") :]
    return part[: part.index("</article>")]


@pytest.mark.integration
def test_each_family_of_tasks_gets_its_own_recommendation_and_mistakes_note(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import littledata.report.bench as bench
    from littledata.report import write_report

    xlabels = {}
    draw = bench.learning_curve_figure

    def recording(sub: pd.DataFrame, dataset: str, *args: object, **kwargs: object) -> object:
        fig = draw(sub, dataset, *args, **kwargs)  # type: ignore[arg-type]
        xlabels[dataset] = fig.axes[0].get_xlabel()
        return fig

    monkeypatch.setattr(bench, "learning_curve_figure", recording)
    page = write_report(_task_store(), tmp_path / "rep").read_text(encoding="utf-8")
    ranking = page[page.index("id='ranking'") : page.index("id='curves'")]
    text_part, token_part = ranking.split("sequence-labeling heads")
    # the text heads' family: single-label and multi-label datasets, ranked by macro-F1
    assert "<b>20 training rows</b>: use <b>minilm + logreg</b>" in text_part
    margin = r"runner-up minilm \+ knn by \+0\.0\d\d macro-F1 \(95% confidence interval [-+]0"
    assert re.search(margin + r"\.\d+ to \+0\.\d+, paired over 9 trials: 3 datasets", text_part)
    assert "token-logreg" not in text_part
    # ... and, as the family holds two task types, the choice for each one's datasets alone
    assert re.search(r"<li>single-label \(alpha, beta\): <b>minilm \+ logreg</b> \(mean rank 1\.00",
                     text_part)  # fmt: skip
    assert "<li>multi-label (tags): <b>minilm + knn</b> (mean rank 1.00)" in text_part
    assert "for each task type" not in token_part
    # multi-label data has no accuracy: the accuracy ranks say whose they are
    assert "mean rank by accuracy<br><small>2 of 3 datasets measure it</small>" in text_part
    # the token heads' family: its own sentence, by its own metric (entity F1), with a margin
    assert "<b>20 training sentences</b>: use <b>minilm + token-logreg</b>" in token_part
    assert re.search(r"runner-up glove50 \+ token-logreg by \+0\.2\d\d entity F1 .* paired over 3 "
                     r"trials: 1 dataset × seeds\)", token_part)  # fmt: skip
    assert "shares no trial" not in ranking and "macro-F1" not in token_part
    assert "<caption>Mean rank (training sentences;" in token_part
    assert "<caption>Mean rank (training rows;" in text_part
    assert xlabels["ner"] == "training sentences (log scale)"
    assert xlabels["alpha"] == "training rows (log scale)"
    # the critical-difference diagrams of one family do not overwrite another's
    cd_files = {p.name for p in (tmp_path / "rep").glob("cd_*.svg")}
    assert cd_files == {"cd_20.svg", "cd_50.svg"}  # the text family's (two methods on one
    # dataset are not enough for the token family's)
    assert "Friedman" not in token_part
    # mistakes: a confusion matrix where one label per example is predicted, a reason elsewhere
    tags = page[page.index("id='ds-tags'") :]
    tags = tags[: tags.index("</article>")]
    assert "Confusion matrix" not in tags and "Not recomputed" not in tags
    assert "No confusion matrix or misclassified texts for tags: multi-label data: each" in tags
    assert "a set of labels" in tags
    assert "macro-F1 <small>(accuracy)</small>" not in tags  # its table promises no accuracy
    assert "macro-F1 <small>(accuracy)</small>" in alpha_part(page)
    ner = page[page.index("id='ds-ner'") :]
    ner = ner[: ner.index("</article>")]
    assert "for ner: sequence-labeling data: tags are predicted per word" in ner
    assert "Confusion matrix" not in ner and "Not recomputed" not in ner
    assert "Where minilm + logreg goes wrong" in alpha_part(page)  # tried (its data: not at hand)
