"""Sequence labeling: word alignment, entity scores, CoNLL errors and the benchmark (issue 18)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from littledata.datasets.base import Dataset, Split, Task
from littledata.errors import DataFormatError
from littledata.experiments.runner import run_benchmark
from littledata.experiments.spec import load_spec
from littledata.experiments.store import ResultsStore
from littledata.features.base import BaseFeaturizer
from littledata.features.tokens import align_subwords, token_features
from littledata.tasks import get_task_type
from littledata.tasks.sequence_labeling import entity_report, entity_scores, pad_tags


def test_alignment_of_words_split_into_several_pieces() -> None:
    # [CLS] un ##believ ##able news [SEP] [PAD]: word 0 has three pieces, word 1 one
    hidden = np.array([[9, 9], [1, 2], [3, 4], [5, 6], [7, 8], [9, 9], [0, 0]], dtype=float)
    ids = [None, 0, 0, 0, 1, None, None]
    assert align_subwords(ids, hidden, 2, "first").tolist() == [[1, 2], [7, 8]]
    assert align_subwords(ids, hidden, 2, "mean").tolist() == [[3, 4], [7, 8]]


def test_alignment_gives_an_empty_token_zeros_and_keeps_word_positions() -> None:
    # words: "a", "" (no piece), "b"
    hidden = np.array([[9.0, 9], [1, 1], [2, 2], [9, 9]])
    ids = [None, 0, 2, None]
    for pooling in ("first", "mean"):
        out = align_subwords(ids, hidden, 3, pooling)
        assert out.tolist() == [[1, 1], [0, 0], [2, 2]]
    with pytest.raises(Exception, match="pooling"):
        align_subwords(ids, hidden, 3, "last")


@pytest.mark.model
def test_minilm_token_features_align_with_the_words() -> None:
    from littledata.features import get_featurizer

    fz = get_featurizer("minilm")
    sentences = [["Unbelievably", "", "good"], ["EU", "rejects", "German", "call"]]
    first = token_features(fz, sentences, pooling="first", cache=False)
    mean = token_features(fz, sentences, pooling="mean", cache=False)
    assert first.shape == mean.shape == (7, 384)
    assert not first[1].any() and not mean[1].any()  # the empty token
    pieces = fz.tokenizer.tokenize("Unbelievably")
    assert len(pieces) > 1  # split into several pieces: first and mean differ there
    assert not np.allclose(first[0], mean[0])
    assert np.allclose(first[3], mean[3])  # "EU" is one piece
    mixed = token_features(fz, sentences, pooling="first", layers="last4-mean", cache=False)
    assert mixed.shape == (7, 384) and not mixed[1].any()
    assert not np.allclose(mixed[0], first[0]) and not np.allclose(mixed[3], first[3])


def test_entity_scores_follow_seqeval_strict_spans() -> None:
    true = [["B-PER", "I-PER", "O", "B-LOC"], ["B-ORG", "I-ORG", "I-ORG"]]
    pred = [["B-PER", "I-PER", "O", "I-LOC"], ["B-ORG", "I-ORG", "O"]]
    s = entity_scores(true, pred)
    # PER matches; LOC predicted as a bare I- is no entity in strict IOB2; ORG's end differs
    assert s["entity_precision"] == pytest.approx(1 / 2)  # 2 predicted spans: PER, ORG[0:2]
    assert s["entity_recall"] == pytest.approx(1 / 3)
    assert s["entity_f1"] == pytest.approx(2 * (1 / 2) * (1 / 3) / (1 / 2 + 1 / 3))
    assert s["token_accuracy"] == pytest.approx(5 / 7)
    report = entity_report(true, pred)
    assert report["PER"]["f1-score"] == 1.0 and report["ORG"]["f1-score"] == 0.0
    assert report["LOC"]["recall"] == 0.0
    # IOBES tags are read with the IOBES scheme
    iobes = entity_scores([["S-PER", "B-LOC", "E-LOC"]], [["S-PER", "B-LOC", "E-LOC"]])
    assert iobes["entity_f1"] == 1.0


def test_a_user_conll_file_with_a_bad_line_names_it(tmp_path: Path) -> None:
    from littledata.datasets.userfiles import load_user_file

    path = tmp_path / "ner.conll"
    path.write_text("EU B-ORG\nrejects O\n\nPeter B-PER\nBlackburn\n")
    with pytest.raises(DataFormatError, match="line 5"):
        load_user_file(path)


class WordVec(BaseFeaturizer):
    """Each word hashed to a fixed random 8-d vector; first names get + 4 on dim 0, last names
    + 4 on dim 1 (what a word's shape would tell)."""

    kind = "dense"

    def __init__(self) -> None:
        super().__init__()
        self.name = "wordvec-tokens"

    def _fingerprint_parts(self) -> dict[str, object]:
        return {"encoder": "wordvec-tokens", "version": 3}

    @property
    def dim(self) -> int:
        return 8

    def _transform_into(self, texts, out, batch_size, advance):  # type: ignore[no-untyped-def]
        for i, text in enumerate(texts):
            seed = int(hashlib.sha256(text.encode()).hexdigest()[:8], 16)
            out[i] = np.random.default_rng(seed).standard_normal(8)
            out[i, 0] += 4.0 if text.startswith("Name") else 0.0
            out[i, 1] += 4.0 if text.startswith("Last") else 0.0
            advance(1)


@pytest.fixture
def wordvec() -> Iterator[str]:
    from littledata.features import FEATURIZERS, register

    register("wordvec-tokens", description="hashed word vectors (tests)", dim=8)(WordVec)
    try:
        yield "wordvec-tokens"
    finally:
        FEATURIZERS.remove("wordvec-tokens")


TAGS = ["O", "B-PER", "I-PER"]


def _sentences(n: int, seed: int) -> Split:
    """Capitalized words are persons (B-PER, then I-PER for a second one)."""
    rng = np.random.default_rng(seed)
    tokens, tags = [], []
    for _ in range(n):
        words, t = [], []
        for _ in range(int(rng.integers(3, 7))):
            if rng.random() < 0.3:
                words += [f"Name{int(rng.integers(0, 30))}", f"Last{int(rng.integers(0, 30))}"]
                t += [1, 2]
            else:
                words.append(f"word{int(rng.integers(0, 40))}")
                t.append(0)
        tokens.append(words)
        tags.append(np.asarray(t, dtype=np.int64))
    return Split([" ".join(w) for w in tokens], tags, tokens=tokens)


@pytest.mark.integration
def test_a_sequence_labeling_dataset_runs_through_the_benchmark(
    tmp_path: Path, wordvec: str
) -> None:
    def load(_: str) -> Dataset:
        splits = {"train": _sentences(120, 0), "test": _sentences(40, 1)}
        return Dataset("ner", Task.SEQUENCE_LABELING, TAGS, splits)

    spec = load_spec(
        overrides={
            "datasets": ["ner"],
            "featurizers": [wordvec],
            "heads": ["token-logreg", "token-crf", "logreg"],
            "sizes": [10, 60],
            "seeds": 1,
            "baseline": False,
            "n_jobs": 1,
            "metrics": ["entity_f1"],
            "primary_metric": "entity_f1",
        }
    )
    store = ResultsStore(f"sqlite:///{tmp_path / 'r.sqlite'}")
    summary = run_benchmark(
        spec,
        store=store,
        loader=load,
        registry={"ner": SimpleNamespace(task="sequence-labeling")},
        executor="serial",
    )
    assert summary.run == 4 and summary.failed == 0, summary.lines()
    assert any("predicts one label per text" in s.reason for s in summary.skipped)  # logreg
    frame = store.frame("bench")
    for head in ("token-logreg", "token-crf"):  # a spec selects either token head
        rows = frame[frame["head"] == head]
        f1 = rows[rows["metric"] == "entity_f1"].set_index("size")["value"]
        assert f1.loc[60] > 0.9, head  # the features give first and last names away
        n_train = rows[rows["metric"] == "n_train"].set_index("size")["value"]
        assert n_train.loc[10] == 10  # sizes count sentences
    # `littledata results` shows the task's own primary metric, by training sentences
    from typer.testing import CliRunner

    from littledata.cli import app

    url = f"sqlite:///{tmp_path / 'r.sqlite'}"
    shown = CliRunner().invoke(app, ["results", "--db", url], env={"COLUMNS": "200"})
    assert shown.exit_code == 0, shown.output
    text = " ".join(shown.output.split())
    assert "ner: entity_f1, mean ± std over 1 seeds (columns: training sentences" in text


def test_sentence_samples_are_nested_and_take_gathers_their_words() -> None:
    task = get_task_type("sequence-labeling")
    y = pad_tags([[0, 1], [2], [0, 0, 0], [1]])
    assert task.sample(y, 2, 0).tolist() == sorted(set(task.sample(y, 2, 0)))
    assert set(task.sample(y, 2, 3)) <= set(task.sample(y, 3, 3))
    x = np.arange(7)[:, None] * 1.0  # words of the 4 sentences, flat
    assert task.take(x, y, np.array([1, 3]))[:, 0].tolist() == [2, 6]
    assert task.take(x, y, np.array([2]))[:, 0].tolist() == [3, 4, 5]


class TinyBert:
    """A 3-layer BERT of width 8 with random weights and MiniLM's tokenizer (offline, small)."""

    kind = "dense"
    name = "tiny-bert"
    fingerprint = "tiny-bert-test"
    max_length = 32
    dim = 8

    def __init__(self) -> None:
        import torch
        from transformers import BertConfig, BertModel

        from littledata.features import get_featurizer

        self.tokenizer = get_featurizer("minilm").tokenizer
        torch.manual_seed(0)
        config = BertConfig(
            vocab_size=self.tokenizer.vocab_size, hidden_size=8, num_hidden_layers=3,
            num_attention_heads=2, intermediate_size=16, max_position_embeddings=64,
        )  # fmt: skip
        self.model = BertModel(config).eval()


def test_layer_mixed_token_features_average_or_join_the_last_layers() -> None:
    import torch

    fz = TinyBert()
    sentences = [["Unbelievably", "good"], ["EU", "rejects", "German", "call"]]
    last = token_features(fz, sentences, pooling="first", cache=False)
    mean2 = token_features(fz, sentences, pooling="first", layers="last2-mean", cache=False)
    cat3 = token_features(fz, sentences, pooling="first", layers="last3-concat", cache=False)
    assert last.shape == mean2.shape == (6, 8) and cat3.shape == (6, 24)
    assert not np.allclose(last, mean2)
    # by hand: the first sentence's first word is its first piece, position 1 after [CLS]
    enc = fz.tokenizer([sentences[0]], is_split_into_words=True, return_tensors="pt")
    with torch.inference_mode():
        states = fz.model(**enc, output_hidden_states=True).hidden_states
    assert np.allclose(mean2[0], ((states[-1] + states[-2]) / 2)[0, 1].numpy(), atol=1e-5)
    assert np.allclose(cat3[0, 16:], last[0]) and np.allclose(cat3[0, 8:16], states[-2][0, 1])
    with pytest.raises(Exception, match="only 3 hidden layers"):
        token_features(fz, sentences, layers="last4-mean", cache=False)
    with pytest.raises(Exception, match="last<k>-mean"):
        token_features(fz, sentences, layers="last1-mean", cache=False)


def test_layer_mixes_have_their_own_cache_keys() -> None:
    from littledata.features.tokens import _key

    fz, sentences = SimpleNamespace(fingerprint="f"), [["a", "b"]]
    keys = {_key(fz, sentences, "first", mix) for mix in ("last", "last4-mean", "last4-concat")}
    assert len(keys) == 3
    old = hashlib.sha256(b"f\x1efirst\x1e" + b"a\x1fb\x1e").hexdigest()[:40]
    assert _key(fz, sentences, "first", "last") == old  # last-layer entries cached before stay


def test_layer_mixing_needs_a_transformer(wordvec: str) -> None:
    from littledata.features import get_featurizer

    with pytest.raises(Exception, match="needs a transformer featurizer"):
        token_features(get_featurizer(wordvec), [["a"]], layers="last4-mean", cache=False)
