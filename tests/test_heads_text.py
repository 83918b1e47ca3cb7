"""tf-idf from term counts computed once equals the vectorizer fitted on the training rows."""

from __future__ import annotations

import numpy as np
import pytest

from littledata.errors import ConfigError
from littledata.heads import make_head
from littledata.heads.text import TfidfFromCounts, count_terms, make_tfidf_vectorizer

TEXTS = [
    "The café was great, GREAT coffee",
    "terrible service and cold coffee",
    "great great great",
    "Cold soup; the service was slow",
    "a quiet place with great service",
    "Café au lait: cold, again",
    "never again",
    "",  # empty text: a zero row
    "slow slow slow service",
    "words only the test rows hold: zebra xylophone",
]
LABELS = np.array([1, 0, 1, 0, 1, 0, 0, 1, 0, 1])
TRAIN = np.array([0, 1, 2, 3, 4, 5, 6, 7])
TEST = np.array([8, 9, 0])


def test_counts_tfidf_equals_the_vectorizer_fitted_on_the_training_rows() -> None:
    counts = count_terms(TEXTS)  # every text, test rows too: only tokenized, not fitted on
    expected_vec = make_tfidf_vectorizer().fit([TEXTS[i] for i in TRAIN])
    expected = expected_vec.transform([TEXTS[i] for i in TEST]).toarray()
    got = TfidfFromCounts().fit(counts[TRAIN]).transform(counts[TEST])
    assert got.dtype == np.float32
    # same vocabulary (terms of the training rows), same column order, same values
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got.toarray(), expected)
    # a term that only test rows hold gets no column
    assert "zebra" not in expected_vec.vocabulary_
    # the training rows themselves too (the idf is the training rows')
    np.testing.assert_array_equal(
        TfidfFromCounts().fit(counts[TRAIN]).transform(counts[TRAIN]).toarray(),
        expected_vec.transform([TEXTS[i] for i in TRAIN]).toarray(),
    )


@pytest.mark.parametrize("head", ["logreg", "knn", "centroid"])
def test_a_counts_head_is_the_same_model_as_a_text_head(head: str) -> None:
    counts = count_terms(TEXTS)
    texts = np.array(TEXTS, dtype=object)
    by_text = make_head(head, input_kind="sparse").fit(texts[TRAIN], LABELS[TRAIN])
    by_counts = make_head(head, input_kind="counts").fit(counts[TRAIN], LABELS[TRAIN])
    # same features value for value; sums over them may run in another order (float rounding)
    np.testing.assert_allclose(
        by_counts.predict_proba(counts[TEST]), by_text.predict_proba(texts[TEST]), rtol=1e-6
    )


def test_counts_input_is_refused_by_heads_that_take_no_text() -> None:
    with pytest.raises(ConfigError, match="does not accept input kind 'counts'"):
        make_head("layermix", input_kind="counts")
