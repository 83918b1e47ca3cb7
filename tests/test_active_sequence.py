"""Active learning for sequence labeling: sentences chosen by their words' uncertainty."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from littledata.active import ActiveLearner
from littledata.active.simulate import ActiveTask, run_trial
from littledata.active.strategies import QueryContext, WordRows, get_strategy
from littledata.errors import ConfigError, DataFormatError
from littledata.tasks.sequence_labeling import pad_tags

TAGS = ["O", "B-PER", "I-PER"]


class WordScores:
    """A stand-in token model: word row i's tag distribution is ``table[i]``."""

    classes_ = np.arange(3)

    def __init__(self, table: np.ndarray) -> None:
        self.table = table

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        return self.table[np.asarray(X[:, 0], dtype=int)]


def _ctx(sentences: list[list[list[float]]]) -> QueryContext:
    table = np.array([p for sent in sentences for p in sent])
    words = np.arange(len(table), dtype=float)[:, None]  # word row i's feature is i
    lengths = [len(s) for s in sentences]
    sentence_vectors = np.zeros((len(sentences), 1))
    return QueryContext.from_features(
        WordScores(table), sentence_vectors, [], np.arange(len(sentences)), [], 1, seed=0,
        task="sequence-labeling", words=WordRows.from_lengths(words, lengths),
    )  # fmt: skip


def test_a_sentence_is_scored_by_its_words_mean_margin_or_its_least_sure_word() -> None:
    sure, unsure = [0.95, 0.05, 0.0], [0.5, 0.45, 0.05]
    fair = [0.65, 0.35, 0.0]
    # sentence 0: two sure words and one on the fence; sentence 1: two fairly unsure words
    ctx = _ctx([[sure, sure, unsure], [fair, fair]])
    assert get_strategy("margin").query(ctx).tolist() == [1]  # mean token margin: 0.3 < 0.63
    assert get_strategy("margin", aggregate="max").query(ctx).tolist() == [0]  # min: 0.05
    assert get_strategy("entropy", aggregate="max").query(ctx).tolist() == [0]


def test_sequence_queries_need_the_word_features_and_refuse_label_strategies() -> None:
    with pytest.raises(ConfigError, match="needs the pool's word features"):
        QueryContext.from_features(
            None, np.zeros((3, 1)), [], [0, 1, 2], [], 1, task="sequence-labeling"
        )
    ctx = _ctx([[[0.5, 0.5, 0.0]], [[1.0, 0.0, 0.0]], [[0.2, 0.8, 0.0]]])
    with pytest.raises(ConfigError, match="'badge' does not handle sequence-labeling data"):
        get_strategy("badge").query(ctx)
    assert len(get_strategy("kcenter").query(ctx.replace(n=2))) == 2  # sentence vectors


def _sentences(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Word features that say the tag with noise: 2-6 words per sentence, some persons."""
    rng = np.random.default_rng(seed)
    tags = []
    for _ in range(n):
        seq = [0] * int(rng.integers(2, 7))
        start = int(rng.integers(0, len(seq)))
        if rng.random() < 0.6:
            seq[start] = 1
            if start + 1 < len(seq) and rng.random() < 0.5:
                seq[start + 1] = 2
        tags.append(seq)
    y = pad_tags(tags)
    flat = y[y >= 0]
    X = np.eye(3)[flat] * 2.0 + rng.normal(scale=0.8, size=(len(flat), 3))
    return X, y


def test_the_learner_labels_sentences_tag_by_tag(tmp_path: Path) -> None:
    X, y = _sentences(120, seed=0)
    lengths = (y >= 0).sum(axis=1)
    al = ActiveLearner(
        None, "token-logreg", "margin", features=X, lengths=lengths, classes=TAGS,
        task="sequence-labeling",
    )  # fmt: skip
    assert al.n_pool == 120  # labels are counted in sentences
    first = al.query(5)
    assert al.history[-1]["strategy"] == "cold-start"
    answers = [[TAGS[t] for t in y[r][y[r] >= 0]] for r in first]
    with pytest.raises(DataFormatError, match=r"has \d words but \d+ tags were given"):
        al.teach(first, [[*a, "O"] for a in answers])
    with pytest.raises(DataFormatError, match="sequence labeling: each example's label is a list"):
        al.teach(first, ["O"] * 5)
    al.teach(first, answers)
    for _ in range(3):
        idx = al.query(10)
        al.teach(idx, [[TAGS[t] for t in y[r][y[r] >= 0]] for r in idx])
    assert al.history[-1]["strategy"] == "margin" and al.n_labeled == 35
    pred = al.predict()
    assert [len(p) for p in pred] == lengths.tolist()
    truth = [TAGS[t] for t in y[y >= 0]]
    flat = [tag for sentence in pred for tag in sentence]
    assert np.mean([a == b for a, b in zip(flat, truth, strict=True)]) > 0.8
    with pytest.raises(ConfigError, match="Saving a sequence-labeling session is not built yet"):
        al.save(tmp_path / "s.json")
    with pytest.raises(
        ConfigError, match=r"'logreg' does not serve sequence-labeling.*token-logreg"
    ):
        ActiveLearner(
            None, "logreg", "margin", features=X, lengths=lengths, classes=TAGS,
            task="sequence-labeling",
        )  # fmt: skip
    with pytest.raises(ConfigError, match=r"'token-crf' tags whole sentences.*use token-logreg"):
        ActiveLearner(
            None, "token-crf", "margin", features=X, lengths=lengths, classes=TAGS,
            task="sequence-labeling",
        )  # fmt: skip
    with pytest.raises(ConfigError, match="word features and sentence lengths"):
        ActiveLearner(None, "token-logreg", features=X, classes=TAGS, task="sequence-labeling")


def test_a_simulated_sequence_run_counts_sentences_and_scores_entities() -> None:
    X, y = _sentences(200, seed=1)
    lengths = (y >= 0).sum(axis=1)
    cut = int(lengths[:150].sum())
    task = ActiveTask.from_arrays(
        X[:cut], y[:150], X[cut:], y[150:], TAGS, dataset="toy-ner", task="sequence-labeling"
    )
    res = run_trial(task, "margin", head="token-logreg", init=10, batch=10, budget=30, seed=0)
    assert res.labels == [10, 20, 30] and res.metric == "entity_f1"
    assert set(res.scores) == {"entity_f1", "entity_precision", "entity_recall", "token_accuracy"}
    assert res.curve[-1] > 0.5


def test_the_command_refuses_bad_combinations_in_one_line_before_loading(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from _cli import run_main

    import littledata.active.simulate as sim

    def no_loading(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("the dataset was loaded before the settings were checked")

    monkeypatch.setattr(sim, "prepare_task", no_loading)
    base = ["active", "simulate", "-f", "glove50", "--budget", "40", "--seeds", "1"]
    code, _, err = run_main([*base, "-d", "conll2003", "--head", "logreg"], capsys)
    assert code != 0 and "Traceback" not in err
    assert "The head 'logreg' does not serve sequence-labeling data; use token-logreg" in err
    code, _, err = run_main([*base, "-d", "goemotions-ekman", "-s", "committee"], capsys)
    assert code != 0 and "'committee' does not handle multi-label data" in err
