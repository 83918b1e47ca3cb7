"""The ``cross-encoder`` head (issue 18 on top of issue 16): a pair of texts read together by the
encoder, fine-tuned with a linear head, for sentence-pair datasets.

Fast tests check the pair inputs, the refusals and how the pair task hands examples to heads;
the integration tests fine-tune the packaged MiniLM for a few steps on made-up pairs whose label
depends on the relation between the two texts (same topic or not), not on either text alone.
"""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from littledata.datasets.base import Dataset, Split
from littledata.errors import ConfigError, DataFormatError
from littledata.heads import HEADS, make_head
from littledata.heads.cross_encoder import text_pairs
from littledata.tasks import get_task_type

TOPICS = {
    "football": [
        "the striker scored a late goal",
        "the keeper saved a penalty",
        "the team won the league title",
        "fans cheered as the match ended",
    ],
    "cooking": [
        "simmer the sauce for ten minutes",
        "bake the bread until golden",
        "chop the onions and garlic finely",
        "season the soup with salt and pepper",
    ],
    "weather": [
        "heavy rain is expected tomorrow",
        "a cold wind blew all night",
        "the forecast says sunny skies",
        "snow covered the hills this morning",
    ],
}


def _pairs(n: int, seed: int) -> tuple[list[list[str]], np.ndarray]:
    """``n`` pairs, half of the same topic ("same") and half of two topics ("different"): every
    sentence appears under both labels, so only the relation between the texts tells them apart."""
    rng = np.random.default_rng(seed)
    names = sorted(TOPICS)
    pairs, labels = [], []
    for i in range(n):
        t1 = names[rng.integers(len(names))]
        t2 = t1 if i % 2 == 0 else names[(names.index(t1) + 1 + rng.integers(2)) % 3]
        a, b = rng.choice(len(TOPICS[t1])), rng.choice(len(TOPICS[t2]))
        pairs.append([TOPICS[t1][a], TOPICS[t2][b]])
        labels.append("same" if t1 == t2 else "different")
    return pairs, np.array(labels)


PAIRS, LABELS = _pairs(24, seed=0)
PROBES = [
    ["the keeper made a great save", "the striker scored twice"],
    ["the keeper made a great save", "bake the cake for an hour"],
]


def test_pairs_are_checked_with_clear_errors() -> None:
    assert text_pairs([["a", "b"], ("c", "d")]) == [("a", "b"), ("c", "d")]
    with pytest.raises(DataFormatError, match=r"pairs of texts .* got shape \(3,\)"):
        text_pairs(["one text", "another", "a third"])
    with pytest.raises(DataFormatError, match="got a row of 1 texts"):
        text_pairs([["a", "b"], ["c"]])
    with pytest.raises(DataFormatError, match="second text of row 1 is a float"):
        text_pairs([["a", "b"], ["c", 1.5]])


def test_the_head_serves_sentence_pairs_only_and_takes_raw_examples() -> None:
    info = HEADS["cross-encoder"]
    assert info.tasks == ("sentence-pair",) and info.inputs == {"text"}
    assert info.tunes_encoder and info.threads == 2
    with pytest.raises(ConfigError, match="does not accept input kind 'dense'"):
        make_head("cross-encoder")


@pytest.mark.parametrize(
    ("params", "match"),
    [
        ({"epochs": 0}, "at least one step"),
        ({"max_steps": 0}, "at least one step"),
        ({"simcse_steps": 10}, "no domain-adaptation step"),
    ],
)
def test_settings_that_cannot_train_are_refused(params: dict, match: str) -> None:
    with pytest.raises(ConfigError, match=match):
        make_head("cross-encoder", input_kind="text", **params).fit(PAIRS, LABELS)


def test_one_class_and_featurizers_without_weights_are_refused() -> None:
    with pytest.raises(DataFormatError, match="at least 2 classes"):
        make_head("cross-encoder", input_kind="text").fit(PAIRS, ["same"] * len(PAIRS))
    with pytest.raises(ConfigError, match="cannot be fine-tuned: tf-idf has no encoder"):
        make_head("cross-encoder", input_kind="text", encoder="tfidf").fit(PAIRS, LABELS)
    with pytest.raises(DataFormatError, match="reads pairs of texts"):
        make_head("cross-encoder", input_kind="text").fit([p[0] for p in PAIRS], LABELS)


def _split(k: int, seed: int) -> Split:
    pairs, labels = _pairs(k, seed)
    y = (labels == "same").astype(np.int64)
    return Split([p[0] for p in pairs], y, text_pairs=[p[1] for p in pairs])


def test_the_pair_task_hands_pairs_to_heads_that_read_raw_examples(tmp_path: Path) -> None:
    from littledata.experiments.execution import resolve
    from littledata.experiments.prepare import dataset_refs, prepare_dataset
    from littledata.experiments.spec import load_spec

    split = _split(6, seed=1)
    task = get_task_type("sentence-pair")
    second = list(split.text_pairs or [])
    assert task.examples(split) == [[a, b] for a, b in zip(split.texts, second, strict=True)]
    single = Split(["x", "y"], np.array([0, 1]))
    assert get_task_type("single-label").examples(single) == ["x", "y"]

    ds = Dataset("pairs", "sentence-pair", ["different", "same"], {"train": split, "test": split})
    prep = prepare_dataset("pairs", load_spec(), lambda name: ds)
    stored = resolve(dataset_refs(prep, tmp_path)["t_pool"])
    assert stored == prep.pool_examples and all(len(p) == 2 for p in stored)
    assert prep.pool_texts[0] == "\n".join(stored[0])  # tf-idf still reads one joined text


def test_the_planner_pairs_the_head_with_pair_datasets_and_encoders_only() -> None:
    from littledata.experiments.plan import FeaturizerInfo, HeadSupport, _combination_problem
    from littledata.experiments.prepare import head_support

    head: HeadSupport = head_support("cross-encoder")
    pair = SimpleNamespace(task="sentence-pair", name="msrp")
    single = SimpleNamespace(task="single-label", name="sst2")
    dense = FeaturizerInfo("minilm", "dense", "f")
    sparse = FeaturizerInfo("tfidf", "sparse", "f")
    assert _combination_problem(pair, dense, head) == ""  # type: ignore[arg-type]
    assert "tfidf" in _combination_problem(pair, sparse, head)  # type: ignore[arg-type]
    assert "a label per pair of texts" in _combination_problem(single, dense, head)  # type: ignore[arg-type]
    finetune = head_support("finetune")  # the single-text tuning heads still skip pairs
    assert "single-label data only" in _combination_problem(pair, dense, finetune)  # type: ignore[arg-type]


def _fit(seed: int = 0, **params):  # type: ignore[no-untyped-def]
    return make_head(
        "cross-encoder", input_kind="text", encoder="minilm", random_state=seed,
        **{"epochs": 8, "batch_size": 8, "learning_rate": 1e-4, **params},
    ).fit(PAIRS, LABELS)  # fmt: skip


@pytest.mark.integration
@pytest.mark.model
def test_a_few_steps_on_made_up_pairs_lower_the_loss() -> None:
    model = _fit()
    losses = model.loss_history_
    assert len(losses) == 8 * 3  # epochs * ceil(24 / 8): bounded by the labels
    assert np.mean(losses[-4:]) < np.mean(losses[:4])
    proba = model.predict_proba(PROBES)
    assert proba.shape == (2, 2) and np.allclose(proba.sum(axis=1), 1.0)
    assert model.predict(PAIRS).tolist() == LABELS.tolist()  # it fits its training pairs
    # the pair is read together: swapping the sides changes the input (token types differ)
    swapped = model.predict_proba([p[::-1] for p in PROBES])
    assert not np.array_equal(swapped, proba)


@pytest.mark.integration
@pytest.mark.model
def test_the_same_seed_gives_the_same_model_and_another_seed_another() -> None:
    first, second = _fit(seed=3, epochs=2), _fit(seed=3, epochs=2)
    assert first.loss_history_ == second.loss_history_
    assert np.array_equal(first.predict_proba(PROBES), second.predict_proba(PROBES))
    other = _fit(seed=4, epochs=2)
    assert first.loss_history_ != other.loss_history_


@pytest.mark.integration
@pytest.mark.model
def test_the_head_runs_in_a_benchmark_of_a_user_pair_file(tmp_path: Path) -> None:
    import csv

    from littledata.experiments.runner import run_benchmark
    from littledata.experiments.spec import load_spec
    from littledata.experiments.store import ResultsStore

    path = tmp_path / "pairs.csv"
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["first", "second", "label", "split"])
        for split, (pairs, labels) in (("train", _pairs(24, 5)), ("test", _pairs(8, 6))):
            for (a, b), label in zip(pairs, labels, strict=True):
                writer.writerow([a, b, label, split])
    table = {"path": str(path), "text_column": "first", "text_pair_column": "second"}
    spec = load_spec(
        overrides={
            "datasets": [{**table, "label_column": "label"}],
            "featurizers": ["minilm", "tfidf"],
            "heads": ["cross-encoder"],
            "sizes": [],
            "per_class_sizes": [4],
            "seeds": 1,
            "baseline": False,
            "n_jobs": 1,
        }
    )
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    summary = run_benchmark(spec, store=store)
    assert summary.run == 1 and summary.failed == 0, summary.failures
    (skip,) = summary.skipped  # tf-idf has no encoder to tune
    assert skip.featurizer == "tfidf"
    frame = store.frame("bench")
    values = dict(zip(frame["metric"], frame["value"], strict=True))
    assert values["fit_seconds"] > 0 and values["trial_seconds"] >= values["fit_seconds"]
    assert values["n_train"] == 8 and 0.0 <= values["accuracy"] <= 1.0
