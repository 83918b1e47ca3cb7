"""The ``token-crf`` head: a linear-chain CRF over token features (issue 18)."""

from __future__ import annotations

import numpy as np
import pytest

from littledata.errors import ConfigError, DataFormatError
from littledata.experiments.trials import run_trial
from littledata.heads import HEADS, TokenCRF, make_head
from littledata.models.tagger import TokenTagger, flat_tags
from littledata.tasks.sequence_labeling import pad_tags

NAMES = ["O", "B-ENT", "I-ENT"]
WORDS = {"a": 0, "b": 1, "c": 2}


def _toy(n: int, seed: int) -> tuple[np.ndarray, np.ndarray, list[list[str]]]:
    """Sentences of ``a``, ``b`` and ``c``: ``a`` opens an entity (B-ENT), ``c`` is outside (O),
    and ``b`` continues what came before it: I-ENT inside an entity, O outside. A word's own
    features (a one-hot vector with a little noise) cannot tell ``b``'s two tags apart; the
    previous tag can."""
    rng = np.random.default_rng(seed)
    sentences, tags = [], []
    for _ in range(n):
        words, t = [], []
        for _ in range(int(rng.integers(4, 10))):
            w = str(rng.choice(["a", "b", "b", "c"]))
            if w == "a":
                t.append(1)
            elif w == "c":
                t.append(0)
            else:
                t.append(2 if t and t[-1] in (1, 2) else 0)
            words.append(w)
        sentences.append(words)
        tags.append(t)
    x = np.concatenate([np.eye(3)[[WORDS[w] for w in s]] for s in sentences])
    x = x + rng.normal(0, 0.05, x.shape)
    return x, pad_tags(tags), sentences


def _lengths(y: np.ndarray) -> np.ndarray:
    return (y >= 0).sum(axis=1)


def test_the_crf_learns_a_rule_of_the_previous_tag_that_a_softmax_per_word_cannot() -> None:
    x, y, _ = _toy(150, 0)
    x_test, y_test, sentences = _toy(60, 1)
    truth = flat_tags(y_test)
    is_b = np.array([w == "b" for s in sentences for w in s])
    crf = TokenTagger("token-crf", random_state=0).fit(x, y)
    softmax = TokenTagger("token-logreg", random_state=0).fit(x, y)
    crf_pred = crf.predict(x_test, lengths=_lengths(y_test))
    soft_pred = softmax.predict(x_test)
    crf_acc = np.mean(crf_pred[is_b] == truth[is_b])
    soft_acc = np.mean(soft_pred[is_b] == truth[is_b])
    assert crf_acc > 0.98
    assert soft_acc < 0.75  # the word alone leaves b's tag a guess
    # the bench's path: the task type counts the test sentences' words from y_test's padding
    scores = run_trial(
        x, y, x_test, y_test, head="token-crf", input_kind="dense", size=150, seed=0,
        task="sequence-labeling", label_names=NAMES,
    )  # fmt: skip
    baseline = run_trial(
        x, y, x_test, y_test, head="token-logreg", input_kind="dense", size=150, seed=0,
        task="sequence-labeling", label_names=NAMES,
    )  # fmt: skip
    assert scores["entity_f1"] > 0.97
    assert scores["entity_f1"] > baseline["entity_f1"] + 0.2
    assert scores["train_accuracy"] > 0.98


def _valid_bio(tags: list[str]) -> bool:
    prev = "O"
    for t in tags:
        if t.startswith("I-") and prev[2:] != t[2:]:
            return False
        prev = t
    return True


def test_predictions_are_valid_bio_sequences_and_probabilities() -> None:
    x, y, _ = _toy(150, 2)
    x_test, y_test, _ = _toy(60, 3)
    model = TokenTagger("token-crf", random_state=0).fit(x, y)
    lengths = _lengths(y_test)
    proba = model.predict_proba(x_test, lengths=lengths)
    assert proba.shape == (len(x_test), 3)
    assert np.allclose(proba.sum(axis=1), 1.0)
    pred = model.predict(x_test, lengths=lengths)
    viterbi = model.estimator_.viterbi(x_test, lengths=lengths)
    for path in (pred, viterbi):
        start = 0
        for n in lengths:
            assert _valid_bio([NAMES[t] for t in path[start : start + n]])
            start += n
    # a tag that never follows O in training gets almost no probability there
    assert proba[0, 2] < 0.01  # no sentence starts inside an entity


def test_the_crf_is_reproducible_and_reduces_dimensions_with_a_seeded_pca() -> None:
    rng = np.random.default_rng(5)
    x, y, _ = _toy(80, 4)
    wide = np.hstack([x, rng.normal(0, 0.1, (len(x), 20))])  # 23 dims, PCA to 4
    params = {"n_components": 4, "max_iterations": 30}
    one = TokenTagger("token-crf", head_params=params, random_state=3).fit(wide, y)
    two = TokenTagger("token-crf", head_params=params, random_state=3).fit(wide, y)
    assert one.estimator_.reducer_.n_components_ == 4
    lengths = _lengths(y)
    assert np.array_equal(
        one.predict_proba(wide, lengths=lengths), two.predict_proba(wide, lengths=lengths)
    )


def test_word_shape_features_are_used_when_the_words_are_given() -> None:
    x, y, sentences = _toy(60, 6)
    noise = np.random.default_rng(0).normal(0, 1, x.shape)  # features that tell nothing
    model = TokenTagger("token-crf", head_params={"word_features": "all"}, random_state=0)
    model.fit(noise, y, words=sentences)
    pred = model.predict(noise, lengths=_lengths(y), words=sentences)
    assert np.mean(pred == flat_tags(y)) > 0.98  # the words themselves give the tags
    with pytest.raises(ConfigError, match="needs the words"):
        model.predict(noise, lengths=_lengths(y))


def test_own_decoding_reads_the_weights_as_crfsuite_does() -> None:
    """Unconstrained, the head's forward-backward and Viterbi give CRFsuite's own marginals and
    paths (dense, bool and string features alike)."""
    x, y, sentences = _toy(40, 8)
    crf = TokenCRF(word_features="shape", n_components=2, max_iterations=20)
    crf.fit(x, flat_tags(y), lengths=_lengths(y), words=sentences)
    crf.allowed_[:] = True
    crf.allowed_start_[:] = True
    spans = crf._spans(x, _lengths(y), sentences)
    seqs = crf._sequences(crf.reducer_.transform(x), spans, sentences)
    ours = crf.predict_proba(x, lengths=_lengths(y), words=sentences)
    marginals = [m for sent in crf.crf_.predict_marginals(seqs) for m in sent]
    theirs = np.array([[m[str(c)] for c in crf.classes_] for m in marginals])
    assert np.allclose(ours, theirs, atol=1e-5)
    paths = [int(t) for path in crf.crf_.predict(seqs) for t in path]
    assert crf.viterbi(x, lengths=_lengths(y), words=sentences).tolist() == paths


def test_bad_input_gives_clear_errors() -> None:
    x, y, _ = _toy(20, 7)
    model = TokenTagger("token-crf").fit(x, y)
    with pytest.raises(ConfigError, match="lengths"):
        model.predict_proba(x)
    with pytest.raises(DataFormatError, match="add up to"):
        model.predict_proba(x, lengths=[3, 4])
    with pytest.raises(ConfigError, match="word_features"):
        TokenCRF(word_features="suffixes").fit(x, flat_tags(y), lengths=_lengths(y))
    with pytest.raises(ConfigError, match="max_iterations"):
        TokenCRF(max_iterations=0).fit(x, flat_tags(y), lengths=_lengths(y))
    with pytest.raises(DataFormatError, match="tags"):
        TokenCRF().fit(x, flat_tags(y)[:-1], lengths=_lengths(y))
    with pytest.raises(ConfigError, match="no parameter"):
        make_head("token-crf", layers=3)
    info = HEADS["token-crf"]
    assert info.tasks == ("sequence-labeling",) and "dense" in info.inputs
