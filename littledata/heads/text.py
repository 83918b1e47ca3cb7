"""tf-idf for heads fed raw texts, and the same tf-idf from term counts computed once.

A head made with ``input_kind="text"`` fits :func:`make_tfidf_vectorizer` on its training rows. A
benchmark runs thousands of such fits on the same few thousand texts, and tokenizing them (word
unigrams and bigrams) again for every trial was most of the benchmark's time. So the runner
tokenizes each dataset once (:func:`count_terms`: term counts over every text, pool and test) and
fits :class:`TfidfFromCounts` per trial instead (``input_kind="counts"``). That gives the same
matrix as a :func:`make_tfidf_vectorizer` fitted on the training rows: the vocabulary is the terms
that occur in the training rows (columns of terms only other rows hold are dropped), in the same
sorted order, and the idf weights come from the training rows only. Test texts never shape the
features; they are only tokenized early.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from littledata.heads.state import HeadState, pack, unpack

__all__ = ["TfidfFromCounts", "count_terms", "make_tfidf_vectorizer"]

_TEXT_OPTIONS: dict[str, Any] = {
    "lowercase": True,
    "strip_accents": "unicode",
    "ngram_range": (1, 2),
    "min_df": 1,
}


def make_tfidf_vectorizer() -> Any:
    """The tf-idf vectorizer of ``input_kind="text"`` heads.

    Lowercased, accents stripped, unigrams and bigrams of scikit-learn's default word tokens
    (2+ word characters), every term kept (``min_df=1``: with 20 training rows nothing else
    would be left), sublinear term frequency (``1 + log tf``), smoothed idf, rows L2-normalized,
    float32. It is fitted on the training rows only (it is the first step of the head's
    pipeline), so test texts never shape the vocabulary or the idf weights.
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    return TfidfVectorizer(**_TEXT_OPTIONS, sublinear_tf=True, dtype=np.float32)


def count_terms(texts: Sequence[str]) -> sp.csr_matrix:
    """Term counts (CSR, float32, columns in sorted term order) of ``texts``, tokenized exactly as
    :func:`make_tfidf_vectorizer` does; the input of :class:`TfidfFromCounts`."""
    from sklearn.feature_extraction.text import CountVectorizer

    counts = CountVectorizer(**_TEXT_OPTIONS, dtype=np.float32).fit_transform(list(texts))
    return sp.csr_matrix(counts, dtype=np.float32)


class TfidfFromCounts(TransformerMixin, BaseEstimator):
    """:func:`make_tfidf_vectorizer`'s tf-idf, fitted on term counts from :func:`count_terms`.

    ``fit`` keeps the columns (terms) that occur in its rows and fits scikit-learn's
    ``TfidfTransformer`` (sublinear tf, smoothed idf, L2 rows) on them, as the vectorizer does on
    its own counts; ``transform`` keeps the same columns and applies it. The output equals the
    vectorizer's, value for value.

    Attributes
    ----------
    columns_ : ndarray of int
        Columns of the count matrix that are the fitted vocabulary.
    transformer_ : sklearn.feature_extraction.text.TfidfTransformer
    """

    def fit(self, X: Any, y: Any = None) -> TfidfFromCounts:
        """Learn the vocabulary and idf from the count rows ``X``."""
        from sklearn.feature_extraction.text import TfidfTransformer

        X = sp.csr_matrix(X, dtype=np.float32)
        self.columns_ = np.flatnonzero(np.bincount(X.indices, minlength=X.shape[1]))
        self.transformer_ = TfidfTransformer(sublinear_tf=True).fit(X[:, self.columns_])
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X: Any) -> sp.csr_matrix:
        """tf-idf rows (float32 CSR with ``len(columns_)`` columns) of the count rows ``X``."""
        check_is_fitted(self)
        X = sp.csr_matrix(X, dtype=np.float32)[:, self.columns_]
        return sp.csr_matrix(self.transformer_.transform(X))

    def get_fitted_state(self) -> HeadState:
        """The kept columns and the idf weights; see :mod:`littledata.heads.state`."""
        check_is_fitted(self)
        return pack(self, arrays=("columns_",), estimators=("transformer_",))

    def set_fitted_state(self, state: HeadState) -> TfidfFromCounts:
        """Restore :meth:`get_fitted_state` into this unfitted transformer; returns ``self``."""
        from sklearn.feature_extraction.text import TfidfTransformer

        return unpack(  # type: ignore[no-any-return]
            self,
            state,
            arrays=("columns_",),
            estimators={"transformer_": lambda: TfidfTransformer(sublinear_tf=True)},
        )
