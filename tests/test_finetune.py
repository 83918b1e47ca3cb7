"""The heads that fine-tune their encoder (issue 16): ``setfit`` and ``finetune``.

Fast tests check the pair draw, the schedule and the refusals of bad settings before any model
is loaded; the integration tests fine-tune the packaged MiniLM for a few steps on made-up data.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from littledata.errors import ConfigError, DataFormatError
from littledata.finetune.contrastive import make_pairs
from littledata.finetune.ulmfit import stlr
from littledata.heads import HEADS, make_head

POS = [
    "a great film, loved it",
    "wonderful acting and a moving story",
    "brilliant and funny from start to end",
    "one of the best movies this year",
    "I enjoyed every minute of it",
    "superb direction and a clever script",
]
NEG = [
    "a dull, boring film",
    "awful acting and a silly plot",
    "I hated it from the first scene",
    "the worst movie this year",
    "a waste of two hours",
    "terrible, tedious and far too long",
]
TEXTS = np.array(POS + NEG, dtype=object)
LABELS = np.array(["pos"] * 6 + ["neg"] * 6)
PROBES = np.array(["a lovely, funny film", "a tedious mess", "it was fine"], dtype=object)


def test_pairs_scale_with_the_rows_and_stop_at_the_cap() -> None:
    y = np.array([0, 0, 0, 1, 1, 1, 2, 2])
    a, b, t = make_pairs(y, iterations=3, max_pairs=10_000, seed=0)
    assert len(t) == 2 * 3 * len(y)  # one positive and one negative per row per round
    assert np.all((y[a] == y[b]) == (t == 1.0))  # positives share the class, negatives do not
    assert np.all(a[t == 1.0] != b[t == 1.0])  # a positive partner is another row
    a, b, t = make_pairs(y, iterations=20, max_pairs=40, seed=0)
    assert len(t) == 40 and t.sum() == 20  # capped, balanced
    again = make_pairs(y, iterations=20, max_pairs=40, seed=0)
    assert np.array_equal(a, again[0]) and np.array_equal(b, again[1])
    assert not np.array_equal(a, make_pairs(y, iterations=20, max_pairs=40, seed=1)[0])


def test_slanted_triangular_schedule_rises_then_falls() -> None:
    rates = [stlr(s, 100) for s in range(100)]
    peak = int(np.argmax(rates))
    assert peak == 10 and rates[peak] == pytest.approx(1.0)
    assert rates[0] == pytest.approx(1 / 32)
    rising, falling = rates[: peak + 1], rates[peak:]
    assert all(x < y for x, y in itertools.pairwise(rising))
    assert all(x > y for x, y in itertools.pairwise(falling))


@pytest.mark.parametrize(
    ("head", "params", "match"),
    [
        ("setfit", {"iterations": 0}, "zero steps"),
        ("setfit", {"max_pairs": 0}, "zero steps"),
        ("finetune", {"epochs": 0}, "at least one step"),
        ("finetune", {"max_steps": 0}, "at least one step"),
    ],
)
def test_settings_that_train_nothing_are_refused(head: str, params: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        make_head(head, input_kind="text", **params).fit(TEXTS, LABELS)


def test_finetune_passes_default_to_40_and_the_cross_encoder_keeps_10() -> None:
    from littledata.heads.cross_encoder import CrossEncoderHead

    head = make_head("finetune", input_kind="text")
    assert head.get_params()["epochs"] is None  # stored as given (scikit-learn's contract)
    assert head._epochs() == 40  # few rows need many passes (benchmarks/finetune.py)
    assert make_head("finetune", input_kind="text", epochs=3)._epochs() == 3
    assert CrossEncoderHead()._epochs() == 10  # measured at 10; pairs hit the step cap anyway


@pytest.mark.parametrize("head", ["setfit", "finetune"])
def test_one_class_and_features_instead_of_texts_are_refused(head: str) -> None:
    with pytest.raises(DataFormatError, match="at least 2 classes"):
        make_head(head, input_kind="text").fit(TEXTS, ["pos"] * len(TEXTS))
    with pytest.raises(DataFormatError, match="raw texts"):
        make_head(head, input_kind="text").fit(np.zeros((12, 4)), LABELS)
    with pytest.raises(ConfigError, match="does not accept input kind 'dense'"):
        make_head(head)  # features are not what it takes
    assert HEADS[head].tunes_encoder and HEADS[head].threads == 2


@pytest.mark.parametrize(
    ("featurizer", "why"),
    [("tfidf", "tf-idf has no encoder"), ("glove50", "static")],
)
def test_featurizers_without_trainable_weights_are_refused(featurizer: str, why: str) -> None:
    with pytest.raises(ConfigError, match=f"cannot be fine-tuned: .*{why}"):
        make_head("setfit", input_kind="text", encoder=featurizer).fit(TEXTS, LABELS)


@pytest.mark.integration
@pytest.mark.model
def test_the_int8_path_is_refused() -> None:
    with pytest.raises(ConfigError, match="cannot be fine-tuned: it is an ONNX export"):
        make_head("finetune", input_kind="text", encoder="minilm-int8").fit(TEXTS, LABELS)


def _fit(head: str, seed: int = 0, **params):  # type: ignore[no-untyped-def]
    small = {"setfit": {"iterations": 4, "learning_rate": 1e-4}, "finetune": {"epochs": 6}}
    return make_head(
        head, input_kind="text", encoder="minilm", random_state=seed, **small[head], **params
    ).fit(TEXTS, LABELS)


@pytest.mark.integration
@pytest.mark.model
@pytest.mark.parametrize("head", ["setfit", "finetune"])
def test_a_few_steps_lower_the_loss_and_move_the_embeddings(head: str) -> None:
    from littledata.features import featurize

    model = _fit(head)
    losses = model.loss_history_
    assert len(losses) >= 3
    assert np.mean(losses[-2:]) < np.mean(losses[:2])
    frozen = featurize(list(PROBES), "minilm", cache=False)
    tuned = model.transform(PROBES)
    # the tuned encoder embeds differently (truncation alone would not change these short texts)
    assert np.max(np.abs(tuned - frozen)) > 1e-3
    assert model.predict(PROBES[:2]).tolist() == ["pos", "neg"]


@pytest.mark.integration
@pytest.mark.model
def test_the_same_seed_gives_the_same_model_and_another_seed_another() -> None:
    first, second = _fit("setfit", seed=3), _fit("setfit", seed=3)
    assert first.loss_history_ == second.loss_history_
    assert np.array_equal(first.predict_proba(PROBES), second.predict_proba(PROBES))
    other = _fit("setfit", seed=4)
    assert not np.array_equal(first.predict_proba(PROBES), other.predict_proba(PROBES))


@pytest.mark.integration
@pytest.mark.model
@pytest.mark.parametrize("head", ["setfit", "finetune"])
def test_a_saved_tuned_model_reloads_to_identical_outputs(head: str, tmp_path: Path) -> None:
    from safetensors.numpy import load_file

    from littledata.models import TextClassifier

    small = {"setfit": {"iterations": 2}, "finetune": {"epochs": 2}}[head]
    clf = TextClassifier("minilm", head, head_params=small).fit(list(TEXTS), list(LABELS))
    folder = clf.save(tmp_path / "tuned")
    arrays = load_file(str(folder / "head.safetensors"))
    assert any(k.startswith("encoder/") for k in arrays)  # the tuned weights travel with it
    again = TextClassifier.load(folder)
    assert np.array_equal(again.predict_proba(list(PROBES)), clf.predict_proba(list(PROBES)))
    assert again.predict(list(PROBES)).tolist() == clf.predict(list(PROBES)).tolist()
    with pytest.raises(ConfigError, match="fine-tunes its encoder on raw texts"):
        TextClassifier("minilm", head).fit_features(np.zeros((12, 384)), list(LABELS))


@pytest.mark.integration
@pytest.mark.model
def test_setfit_runs_as_a_head_of_the_benchmark_grid(tmp_path: Path) -> None:
    from types import SimpleNamespace

    from littledata.datasets.base import Dataset, Split
    from littledata.experiments.runner import run_benchmark
    from littledata.experiments.spec import load_spec
    from littledata.experiments.store import ResultsStore

    def split(k: int) -> Split:
        texts = [POS[i % 6] if i % 2 else NEG[i % 6] for i in range(k)]
        return Split(texts, np.arange(k) % 2)

    def loader(name: str) -> Dataset:
        return Dataset(name, "single-label", ["neg", "pos"], {"train": split(24), "test": split(8)})

    spec = load_spec(
        overrides={
            "datasets": ["films"],
            "featurizers": ["minilm", "tfidf"],
            "heads": ["setfit"],
            "sizes": [],
            "per_class_sizes": [3],
            "seeds": 1,
            "baseline": False,
            "n_jobs": 1,
        }
    )
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    registry = {"films": SimpleNamespace(task="single-label")}
    summary = run_benchmark(spec, store=store, loader=loader, registry=registry)
    assert summary.run == 1 and summary.failed == 0, summary.failures
    (skip,) = summary.skipped  # tf-idf has no encoder to tune
    assert skip.featurizer == "tfidf" and "no encoder to tune" in skip.reason
    frame = store.frame("bench")
    values = dict(zip(frame["metric"], frame["value"], strict=True))
    assert values["fit_seconds"] > 0 and values["trial_seconds"] >= values["fit_seconds"]
    assert 0.0 <= values["accuracy"] <= 1.0
