"""Sentence pairs and multi-label through the task types, the runner and user files (issue 18)."""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from littledata.datasets.base import Dataset, Split, Task
from littledata.errors import DataFormatError
from littledata.experiments.execution import resolve
from littledata.experiments.prepare import features_refs, prepare_dataset
from littledata.experiments.runner import run_benchmark
from littledata.experiments.spec import load_spec
from littledata.experiments.store import ResultsStore
from littledata.features import featurize
from littledata.features.base import BaseFeaturizer
from littledata.models import MultiLabelHead
from littledata.models.multilabel import best_threshold
from littledata.tasks import get_task_type, head_serves, pair_features
from littledata.tasks.multi_label import covering_order, multilabel_scores


class WordVec(BaseFeaturizer):
    """Each word hashed to a fixed random 8-d vector; a text is the mean of its words."""

    kind = "dense"

    def __init__(self) -> None:
        super().__init__()
        self.name = "wordvec-test"

    def _fingerprint_parts(self) -> dict[str, object]:
        return {"encoder": "wordvec-test", "version": 1}

    @property
    def dim(self) -> int:
        return 8

    def _transform_into(self, texts, out, batch_size, advance):  # type: ignore[no-untyped-def]
        for i, text in enumerate(texts):
            seeds = [int(hashlib.sha256(w.encode()).hexdigest()[:8], 16) for w in text.split()]
            vecs = [np.random.default_rng(s).standard_normal(8) for s in seeds]
            out[i] = np.mean(vecs, axis=0)
            advance(1)


def _pairs(n: int, seed: int) -> Split:
    """Pairs whose label says whether the second text repeats the first one's topic word."""
    rng = np.random.default_rng(seed)
    a, b, y = [], [], []
    for i in range(n):
        topic = f"t{int(rng.integers(0, 6))}"
        same = i % 2
        other = topic if same else f"t{(int(topic[1:]) + 1) % 6}"
        a.append(f"{topic} x")
        b.append(f"{other} x")
        y.append(same)
    return Split(a, np.asarray(y, dtype=np.int64), text_pairs=b)


def _pair_dataset() -> Dataset:
    return Dataset(
        "pairs", Task.SENTENCE_PAIR, ["no", "yes"], {"train": _pairs(80, 0), "test": _pairs(40, 1)}
    )


def _spec(**over: object) -> object:
    base = {
        "featurizers": ["tfidf"],
        "heads": ["logreg"],
        "sizes": [30],
        "seeds": 1,
        "baseline": False,
        "n_jobs": 1,
    }
    return load_spec(overrides={**base, **over})


# -- sentence pairs ---------------------------------------------------------------------------


def test_pair_features_equal_the_formula() -> None:
    rng = np.random.default_rng(0)
    u, v = rng.standard_normal((5, 3)), rng.standard_normal((5, 3))
    got = pair_features(u, v)
    assert got.shape == (5, 12) and got.dtype == np.float32
    np.testing.assert_allclose(got[:, :3], u, rtol=1e-6)
    np.testing.assert_allclose(got[:, 3:6], v, rtol=1e-6)
    np.testing.assert_allclose(got[:, 6:9], np.abs(u - v), rtol=1e-6)
    np.testing.assert_allclose(got[:, 9:], u * v, rtol=1e-6)
    layers = pair_features(np.ones((2, 4, 3)), 2 * np.ones((2, 4, 3)))  # layer-wise features
    assert (
        layers.shape == (2, 4, 12)
        and layers[0, 0].tolist() == [1] * 3 + [2] * 3 + [1] * 3 + [2] * 3
    )
    with pytest.raises(ValueError, match="differ in shape"):
        pair_features(np.ones((2, 3)), np.ones((3, 3)))


def test_a_benchmark_gets_pair_features_of_each_side(tmp_path: Path) -> None:
    """What the runner hands a pair trial is [u, v, |u-v|, u*v] of each side's own features."""
    fz = WordVec()
    spec = _spec(featurizers=["minilm"], train_pool_cap=50, test_cap=20)
    prep = prepare_dataset("pairs", spec, lambda _: _pair_dataset())
    assert prep.pool_sides is not None and len(prep.pool_sides[0]) == 50
    with contextlib.ExitStack() as held:
        refs = features_refs(fz, prep, tmp_path, held)
        x_pool = np.asarray(resolve(refs["x_pool"]))
        u = np.asarray(featurize(prep.pool_sides[0], fz))
        v = np.asarray(featurize(prep.pool_sides[1], fz))
    assert x_pool.shape == (50, 32)
    np.testing.assert_allclose(x_pool, pair_features(u, v), rtol=1e-6)
    # tf-idf and raw-text heads read one text per pair: both texts, joined
    assert prep.pool_texts[0] == f"{prep.pool_sides[0][0]}\n{prep.pool_sides[1][0]}"


def test_every_single_label_head_serves_pairs_and_multi_label() -> None:
    assert head_serves("sentence-pair", ("single-label",))
    assert head_serves("multi-label", ("single-label",))
    assert not head_serves("sequence-labeling", ("single-label",))
    assert not head_serves("single-label", ("multi-label",))


@pytest.fixture
def wordvec() -> Iterator[str]:
    from littledata.features import FEATURIZERS, register

    register("wordvec-test", description="hashed word vectors (tests)", dim=8)(WordVec)
    try:
        yield "wordvec-test"
    finally:
        FEATURIZERS.remove("wordvec-test")


def test_a_pair_dataset_runs_through_the_benchmark(tmp_path: Path, wordvec: str) -> None:
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    summary = run_benchmark(
        _spec(datasets=["pairs"], featurizers=[wordvec], sizes=[40]),
        store=store,
        loader=lambda _: _pair_dataset(),
        registry={"pairs": SimpleNamespace(task="sentence-pair")},
        executor="serial",
    )
    assert summary.run == 1 and summary.failed == 0 and not summary.skipped
    frame = store.frame("bench")
    values = dict(zip(frame["metric"], frame["value"], strict=True))
    assert {"accuracy", "macro_f1", "top_pred_share"} <= set(values)
    # |u - v| is zero exactly for the "yes" pairs; u and v alone say nothing (chance: 0.5)
    assert values["accuracy"] > 0.9


def test_a_user_pair_file_with_an_empty_second_text_names_the_line(tmp_path: Path) -> None:
    from littledata.datasets.userfiles import load_user_file

    path = tmp_path / "pairs.csv"
    path.write_text("a,b,label\nthe cat sat,a cat sat,yes\nhello there,  ,no\nfoo,bar,no\n")
    with pytest.raises(DataFormatError, match=r"empty text pair.*row 3"):
        load_user_file(path, text_column="a", text_pair_column="b", label_column="label")
    ds = load_user_file(
        path, text_column="a", text_pair_column="b", label_column="label", drop_invalid=True
    )
    assert ds.task == Task.SENTENCE_PAIR and get_task_type(ds.task).sides(ds["train"])[1] == [
        "a cat sat",
        "bar",
    ]


# -- multi-label ------------------------------------------------------------------------------


def test_covering_order_puts_every_label_in_the_first_rows_and_is_nested() -> None:
    rng = np.random.default_rng(3)
    y = (rng.random((300, 6)) < [0.6, 0.3, 0.1, 0.02, 0.01, 0.0]).astype(np.uint8)
    present = y.sum(axis=0) > 0
    for seed in range(5):
        order = covering_order(y, seed)
        assert sorted(order.tolist()) == list(range(300))  # a permutation
        first = y[order[: int(present.sum())]]
        assert (first.sum(axis=0)[present] > 0).all()  # each label with a row is covered
    task = get_task_type("multi-label")
    small, large = task.sample(y, 10, 1), task.sample(y, 40, 1)
    assert set(small) <= set(large)
    assert (y[small].sum(axis=0)[present] > 0).all()


def test_best_threshold_maximizes_f1_on_hand_made_scores() -> None:
    assert best_threshold([0, 0, 1, 1], [0.1, 0.2, 0.3, 0.9]) == pytest.approx(0.25)
    # the one positive scores lowest but one: F1 is best at the cut just below it
    assert best_threshold([0, 1, 0, 0], [0.05, 0.1, 0.2, 0.3]) == pytest.approx(0.075)
    assert best_threshold([0, 0, 0], [0.1, 0.2, 0.3]) == 0.5  # no positive: the default


def test_multilabel_scores_on_a_hand_made_case() -> None:
    y_true = np.array([[1, 0, 0], [0, 1, 1], [1, 1, 0], [0, 0, 0]])
    y_pred = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 1], [0, 0, 0]])
    proba = np.array([[0.9, 0.1, 0.2], [0.2, 0.8, 0.4], [0.7, 0.3, 0.6], [0.1, 0.2, 0.1]])
    s = multilabel_scores(y_true, y_pred, proba)
    # label 0: tp 2 fp 0 fn 0 -> F1 1; label 1: tp 1 fn 1 -> 2/3; label 2: tp 0 fp 1 fn 1 -> 0
    assert s["macro_f1"] == pytest.approx((1 + 2 / 3 + 0) / 3)
    assert s["micro_f1"] == pytest.approx(2 * 3 / (5 + 4))  # 3 tp; 5 true, 4 predicted
    assert s["subset_accuracy"] == pytest.approx(2 / 4)
    # AP: label 0 ranks both positives first (1); label 1: positives at ranks 1 and 2 of
    # 0.8, 0.3, 0.2, 0.1 (1); label 2: the positive (0.4) ranks 2nd -> precision 1/2
    assert s["average_precision"] == pytest.approx((1 + 1 + 0.5) / 3)
    with pytest.raises(DataFormatError, match="0/1 matrix"):
        multilabel_scores([1, 0], [1, 0], [0.5, 0.5])


def test_multilabel_head_learns_labels_and_tunes_thresholds() -> None:
    rng = np.random.default_rng(0)
    x = rng.standard_normal((120, 4))
    y = np.stack([x[:, 0] > 0, x[:, 1] > 0.8, np.zeros(120, bool)], axis=1).astype(np.uint8)
    model = MultiLabelHead("logreg", random_state=0).fit(x, y)
    assert model.estimators_[2] is None and model.priors_[2] == 0  # never present: constant
    assert model.thresholds_.shape == (3,) and 0 < model.thresholds_[1] < 1
    pred = model.predict(x)
    assert pred.shape == y.shape and pred.dtype == np.uint8
    assert (pred[:, 0] == y[:, 0]).mean() > 0.9 and not pred[:, 2].any()
    with pytest.raises(DataFormatError, match="0/1 matrix"):
        model.fit(x, y[:10])


def _multi(n: int, seed: int) -> Split:
    rng = np.random.default_rng(seed)
    y = (rng.random((n, 3)) < [0.5, 0.3, 0.15]).astype(np.uint8)
    texts = [
        " ".join([f"l{j}" for j in range(3) if row[j]] + [f"n{int(rng.integers(0, 20))}"] * 2)
        for row in y
    ]
    return Split(texts, y)


def test_a_multi_label_dataset_runs_through_the_benchmark(tmp_path: Path) -> None:
    def load(_: str) -> Dataset:
        return Dataset(
            "tags",
            Task.MULTI_LABEL,
            ["a", "b", "c"],
            {"train": _multi(150, 0), "test": _multi(60, 1)},
        )

    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    summary = run_benchmark(
        _spec(datasets=["tags"], sizes=[40], metrics=["macro_f1", "micro_f1"]),
        store=store,
        loader=load,
        registry={"tags": SimpleNamespace(task="multi-label")},
        executor="serial",
    )
    assert summary.run == 1 and summary.failed == 0, summary.lines()
    frame = store.frame("bench")
    values = dict(zip(frame["metric"], frame["value"], strict=True))
    assert {"macro_f1", "micro_f1", "subset_accuracy", "average_precision"} <= set(values)
    # each label's word is in its texts (chance: micro-F1 about 0.3)
    assert values["micro_f1"] > 0.6 and values["average_precision"] > 0.8
    assert "accuracy" not in values and "roc_auc" not in values


# -- multi-label user files -------------------------------------------------------------------


def test_a_user_file_with_one_0_1_column_per_label_is_multi_label(tmp_path: Path) -> None:
    from littledata.datasets.loading import load_dataset

    path = tmp_path / "tags.csv"
    path.write_text(
        "text,joy,anger,split\nhappy day,1,0,train\nso mad,0,1,train\nmixed,1,1,test\n"
        "calm,0,,test\n"
    )
    ds = load_dataset(str(path), label_columns=["joy", "anger"])
    assert ds.task == Task.MULTI_LABEL and ds.label_names == ["joy", "anger"]
    assert ds["train"].labels.tolist() == [[1, 0], [0, 1]]
    assert ds["test"].labels.tolist() == [[1, 1], [0, 0]]
    path.write_text("text,joy,anger\nhappy day,1,0\nso mad,0,maybe\n")
    with pytest.raises(DataFormatError, match=r"'maybe' in 0/1 column 'anger'.*row 3"):
        load_dataset(str(path), label_columns=["joy", "anger"])


def test_a_label_column_of_lists_is_multi_label(tmp_path: Path) -> None:
    from littledata.datasets.loading import load_dataset

    jsonl = tmp_path / "tags.jsonl"
    jsonl.write_text(
        '{"text": "happy day", "labels": ["joy"]}\n'
        '{"text": "mixed", "labels": ["joy", "anger"]}\n'
        '{"text": "calm", "labels": []}\n'
    )
    ds = load_dataset(str(jsonl))
    assert ds.task == Task.MULTI_LABEL and ds.label_names == ["anger", "joy"]
    assert ds["train"].labels.tolist() == [[0, 1], [1, 1], [0, 0]]
    csv = tmp_path / "tags.csv"
    csv.write_text('text,labels\nhappy day,"[""joy""]"\nmixed,"[""joy"", ""anger""]"\n')
    assert load_dataset(str(csv))["train"].labels.tolist() == [[0, 1], [1, 1]]
    # a plain label column stays single-label
    csv.write_text("text,label\nhappy day,joy\nso mad,anger\n")
    assert load_dataset(str(csv)).task == Task.SINGLE_LABEL


def test_label_columns_from_the_command_line(tmp_path: Path) -> None:
    from littledata.cli.data_options import FileOptions

    source = FileOptions(label_columns="joy, anger").source(str(tmp_path / "x.csv"))
    assert source.label_columns == ("joy", "anger")
    assert source.options()["label_columns"] == ("joy", "anger")


# -- results and the report -------------------------------------------------------------------


def test_each_task_is_ranked_by_its_own_primary_metric() -> None:
    import pandas as pd

    from littledata.experiments.results import with_task_primary

    frame = pd.DataFrame(
        {
            "dataset": ["a", "a", "ner"],
            "task": ["single-label", "single-label", "sequence-labeling"],
            "metric": ["macro_f1", "accuracy", "entity_f1"],
            "value": [0.5, 0.6, 0.7],
        }
    )
    out = with_task_primary(frame, "macro_f1")
    ranked = out[out["metric"] == "macro_f1"].set_index("dataset")["value"]
    assert ranked.to_dict() == {"a": 0.5, "ner": 0.7}  # entity F1 ranks the NER dataset
    assert len(out) == 4 and with_task_primary(frame.drop(columns="task"), "macro_f1") is not None


def test_the_report_shows_a_multi_label_run_with_its_metrics(tmp_path: Path) -> None:
    from littledata.report.bench import write_report

    def load(_: str) -> Dataset:
        splits = {"train": _multi(150, 0), "test": _multi(60, 1)}
        return Dataset("tags", Task.MULTI_LABEL, ["a", "b", "c"], splits)

    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    spec = _spec(datasets=["tags"], sizes=[20, 40], metrics=["macro_f1", "micro_f1"])
    run_benchmark(
        spec,
        store=store,
        loader=load,
        registry={"tags": SimpleNamespace(task="multi-label")},
        executor="serial",
    )
    page = write_report(store, tmp_path / "report").read_text()
    assert "id='ds-tags'" in page and "Recommended" in page  # ranked by (multi-label) macro-F1
    assert (tmp_path / "report" / "curves_tags.svg").is_file()
    # its curves show the metrics its task measures (no accuracy for multi-label)
    from littledata.experiments.results import dataset_metrics

    wanted = ["macro_f1", "accuracy", "micro_f1"]
    assert dataset_metrics(store.frame("bench"), "tags", wanted) == ["macro_f1", "micro_f1"]


def test_active_learning_simulates_on_pair_features(wordvec: str) -> None:
    from littledata.active.loop import prepare_task, run_trial

    task = prepare_task(_pair_dataset(), featurizer=wordvec, pool_cap=None, test_cap=None)
    assert task.X_pool.shape == (80, 32) and task.info["task"] == "sentence-pair"
    fz_features = get_task_type("sentence-pair").featurize(WordVec(), _pair_dataset()["test"])
    np.testing.assert_allclose(task.X_test, fz_features, rtol=1e-6)
    curve = run_trial(task, "margin", init=10, batch=10, budget=40, seed=0)
    assert curve.labels[-1] == 40 and curve.accuracy[-1] > 0.9  # |u - v| gives the label away


def test_a_skip_shared_by_many_datasets_is_one_summary_line() -> None:
    from littledata.experiments.plan import Skip
    from littledata.experiments.runner import RunSummary

    reason = "dataset {!r} is single-label (one label per text); head 'token-logreg' predicts..."
    skips = [Skip(d, "minilm", "token-logreg", None, reason.format(d)) for d in "abcde"]
    skips.append(Skip("ner", "tfidf", "token-logreg", None, "featurizer 'tfidf' gives texts"))
    lines = RunSummary(spec_name="s", datasets=[], skipped=skips).lines()
    shared = [line for line in lines if "minilm+token-logreg" in line]
    assert shared == [
        "  skipped minilm+token-logreg on 5 datasets (a, b, c and 2 more): each is single-label "
        "(one label per text); head 'token-logreg' predicts..."
    ]
    assert "  skipped ner tfidf+token-logreg: featurizer 'tfidf' gives texts" in lines


def test_skips_that_differ_only_in_method_and_size_are_one_line() -> None:
    from littledata.experiments.plan import Skip
    from littledata.experiments.runner import RunSummary

    small = "size {} is smaller than the 151 classes of 'intents' (every class needs a row)"
    token = "dataset 'ner' is sequence-labeling (one label per token); head {!r} predicts one..."
    methods = [(f, h) for f in ("minilm", "glove50") for h in ("logreg", "knn")]
    skips = [Skip("intents", f, h, n, small.format(n)) for f, h in methods for n in (20, 50)]
    skips += [Skip("ner", f, h, None, token.format(h)) for f, h in methods]
    lines = [line for line in RunSummary(spec_name="s", datasets=[], skipped=skips).lines()
             if line.startswith("  skipped")]  # fmt: skip
    assert lines == [
        "  skipped intents 4 featurizer+head pairs (minilm+logreg, minilm+knn, glove50+logreg "
        "and 1 more) at sizes 20, 50: each size is smaller than the 151 classes of 'intents' "
        "(every class needs a row)",
        "  skipped ner 4 featurizer+head pairs (minilm+logreg, minilm+knn, glove50+logreg and 1 "
        "more): dataset 'ner' is sequence-labeling (one label per token); each head predicts "
        "one...",
    ]


def test_the_report_ranks_token_heads_apart_from_text_heads() -> None:
    import pandas as pd

    from littledata.experiments.results import head_families

    frame = pd.DataFrame(
        {
            "dataset": ["sst2", "msrp", "tags", "ner", "sst2"],
            "task": [
                "single-label",
                "sentence-pair",
                "multi-label",
                "sequence-labeling",
                "single-label",
            ],
        }
    )
    families = head_families(frame)
    assert families == {"single-label": ["msrp", "sst2", "tags"], "sequence-labeling": ["ner"]}
    assert list(families) == ["single-label", "sequence-labeling"]  # the text heads' first


def test_the_report_recomputes_a_sentence_pair_trial_for_its_mistakes(
    tmp_path: Path, wordvec: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sentence pairs are one label per example: the report's mistakes section recomputes the
    recommended method's trial (both sides featurized, pair features) to the stored score."""
    import littledata.datasets.loading as loading
    from littledata.report.bench import write_report

    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    run_benchmark(
        _spec(datasets=["pairs"], featurizers=[wordvec], heads=["logreg", "centroid"], sizes=[40]),
        store=store,
        loader=lambda _: _pair_dataset(),
        registry={"pairs": SimpleNamespace(task="sentence-pair")},
        executor="serial",
    )
    monkeypatch.setattr(loading, "load_dataset", lambda name, mirror=None: _pair_dataset())
    page = write_report(store, tmp_path / "report").read_text()
    section = page[page.index("id='ds-pairs'") :]
    assert "Not recomputed" not in section and "the same as the stored trial" in section
    assert "Confusion matrix" in section and "<th class='row'>yes</th>" in section
