"""``HeadClassifier``: a registered head on precomputed features, and its description for saving.

The features-level half of :class:`~littledata.models.TextClassifier`: the benchmark's trials fit
one on the features of their training rows, and a text classifier holds one fitted on the
features of its training texts. Its description (:meth:`HeadClassifier.describe`) and learned
state (:meth:`HeadClassifier.get_fitted_state`) are what a saved model stores;
:meth:`HeadClassifier.from_saved` rebuilds it through the head registry only.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from littledata.errors import ArtifactError, ConfigError, LittleDataError, unknown_name
from littledata.heads.state import HeadState, export_state, import_state, json_value

__all__ = ["HeadClassifier"]

# make_head's own keywords: a head parameter cannot take these names
_MAKE_HEAD_KEYWORDS = ("name", "input_kind", "random_state", "resampling")


def _registry_head(est: Any) -> Any:
    """The estimator the head registry's factory built inside what :func:`make_head` returned
    (unwrapping the tf-idf pipeline and the oversampler; the latter's unfitted template)."""
    from sklearn.pipeline import Pipeline

    from littledata.heads import RandomOversampler

    if isinstance(est, Pipeline):
        est = est.steps[-1][1]
    if isinstance(est, RandomOversampler):
        est = est.estimator
    return est


def _tfidf_settings(est: Any) -> str | None:
    """sha256 of the tf-idf step's settings (None without one): a saved vocabulary is only valid
    with the tokenization it was built with."""
    from sklearn.pipeline import Pipeline

    if not isinstance(est, Pipeline) or len(est.steps) < 2:
        return None
    params = {k: repr(v) for k, v in sorted(est.steps[0][1].get_params().items())}
    text = json.dumps([type(est.steps[0][1]).__name__, params], sort_keys=True)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _same_params(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    return json_value(dict(a), "params") == json_value(dict(b), "params")


class HeadClassifier(ClassifierMixin, BaseEstimator):
    """A head from the registry, fitted on precomputed features.

    ``fit`` builds the head with :func:`littledata.heads.make_head` (looked up when called) and
    fits it; prediction is the fitted head's. Labels pass through unchanged: ``classes_`` are
    the labels of ``y``, sorted.

    Parameters
    ----------
    head : str, default="logreg"
        A name in :data:`littledata.heads.HEADS`.
    head_params : dict or None, default=None
        Parameters of the head's estimator (see its class docstring), e.g. ``{"cv": 5}``.
    input_kind : {"dense", "layers", "sparse", "text", "counts"}, default="dense"
        What ``X`` is (see :func:`~littledata.heads.make_head`): ``"sparse"`` fits a tf-idf
        pipeline on raw texts; ``"text"`` gives raw texts to a head that fine-tunes an encoder.
    resampling : {"none", "oversample", "class_weight"} or None, default=None
        Class-imbalance handling; None: :func:`~littledata.heads.make_head`'s default.
    random_state : int, default=0
        Seed of everything random in the head.

    Attributes
    ----------
    estimator_ : estimator
        The fitted head, as :func:`~littledata.heads.make_head` built it (a pipeline for text
        input, a :class:`~littledata.heads.RandomOversampler` for oversampling).
    classes_ : ndarray of shape (n_classes,)
        The sorted labels; column ``j`` of :meth:`predict_proba` is ``classes_[j]``.

    Examples
    --------
    >>> import numpy as np
    >>> from littledata.models import HeadClassifier
    >>> X = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9]])
    >>> clf = HeadClassifier("centroid").fit(X, ["no", "no", "yes", "yes"])
    >>> clf.predict([[0.2, 0.8]]).tolist(), clf.classes_.tolist()
    (['yes'], ['no', 'yes'])
    """

    def __init__(
        self,
        head: str = "logreg",
        *,
        head_params: Mapping[str, Any] | None = None,
        input_kind: str = "dense",
        resampling: str | None = None,
        random_state: int = 0,
    ) -> None:
        self.head = head
        self.head_params = head_params
        self.input_kind = input_kind
        self.resampling = resampling
        self.random_state = random_state

    def _make(
        self, *, params: Mapping[str, Any] | None = None, resampling: str | None = None
    ) -> Any:
        """The unfitted head: ``make_head`` with this object's settings (``params`` and
        ``resampling`` replace ``head_params`` and ``self.resampling`` when given)."""
        from littledata.heads import make_head  # at call time (tests patch it)

        params = dict(self.head_params or {}) if params is None else dict(params)
        clash = sorted(set(params) & set(_MAKE_HEAD_KEYWORDS))
        if clash:
            raise ConfigError(
                f"head_params cannot set {', '.join(clash)}; these are HeadClassifier's own "
                "parameters"
            )
        options: dict[str, Any] = {"input_kind": self.input_kind, "random_state": self.random_state}
        resampling = self.resampling if resampling is None else resampling
        if resampling is not None:
            options["resampling"] = resampling
        return make_head(self.head, **options, **params)

    def fit(self, X: Any, y: Any, **fit_params: Any) -> HeadClassifier:
        """Build the head and fit it on features ``X`` and labels ``y``; returns ``self``."""
        estimator = self._make()
        estimator.fit(X, y, **fit_params)
        self.estimator_ = estimator
        self.classes_ = np.asarray(estimator.classes_)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities of the fitted head, shape (n, n_classes)."""
        check_is_fitted(self)
        return self.estimator_.predict_proba(X)  # type: ignore[no-any-return]

    def predict(self, X: Any) -> np.ndarray:
        """The fitted head's predictions (labels from ``classes_``)."""
        check_is_fitted(self)
        return self.estimator_.predict(X)  # type: ignore[no-any-return]

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        if self.input_kind in ("sparse", "text"):
            tags.input_tags.string = True
            tags.input_tags.two_d_array = False
        else:
            tags.input_tags.sparse = True
        return tags

    # -- saving -------------------------------------------------------------------------------

    def get_fitted_state(self) -> HeadState:
        """The fitted head's learned state (see :mod:`littledata.heads.state`)."""
        check_is_fitted(self)
        return export_state(self.estimator_)

    def describe(self) -> dict[str, Any]:
        """How to rebuild this head through the registry, as plain JSON.

        ``params`` holds every parameter of the registered head's estimator as fitted (not only
        the ones given), so a saved head predicts the same even if a default changes later.
        """
        check_is_fitted(self)
        from littledata.heads import RandomOversampler

        inner = _registry_head(self.estimator_)
        params = {k: v for k, v in inner.get_params(deep=False).items() if k != "random_state"}
        wrapped = self.estimator_
        if hasattr(wrapped, "steps"):
            wrapped = wrapped.steps[-1][1]
        return {
            "name": self.head,
            "input_kind": self.input_kind,
            "resampling": self.resampling,
            "oversample": isinstance(wrapped, RandomOversampler),
            "random_state": json_value(self.random_state, "random_state"),
            "head_params": json_value(dict(self.head_params or {}), "head_params"),
            "params": json_value(params, f"the parameters of head {self.head!r}"),
            "tfidf_settings": _tfidf_settings(self.estimator_),
        }

    @classmethod
    def from_saved(cls, spec: Mapping[str, Any], state: HeadState) -> HeadClassifier:
        """Rebuild a fitted head from :meth:`describe` and :meth:`get_fitted_state`.

        The head is built only through the head registry, by name, with the saved parameters
        checked against the head's signature; nothing named in ``spec`` is imported or called.

        Raises
        ------
        ArtifactError
            Unknown head, input kind or parameter; a state that does not fit the head; changed
            tf-idf settings; arrays that do not make a working head.
        """
        from littledata.heads import HEADS, INPUT_KINDS

        if not isinstance(spec, Mapping):
            raise ArtifactError("the head description is not a JSON object")
        name = spec.get("name")
        if not isinstance(name, str) or name not in HEADS:
            raise ArtifactError(
                f"the saved model's head cannot be rebuilt: "
                f"{unknown_name('head', str(name), HEADS)}"
            )
        input_kind = spec.get("input_kind")
        if input_kind not in INPUT_KINDS:
            raise ArtifactError(f"unknown input kind {input_kind!r} in the saved head")
        params, head_params = spec.get("params"), spec.get("head_params")
        if not isinstance(params, dict) or not isinstance(head_params, dict):
            raise ArtifactError("the saved head's parameters are not JSON objects")
        random_state = spec.get("random_state")
        resampling = spec.get("resampling")
        if not isinstance(random_state, int) or isinstance(random_state, bool):
            raise ArtifactError(f"bad random_state {random_state!r} in the saved head")
        if resampling is not None and not isinstance(resampling, str):
            raise ArtifactError(f"bad resampling {resampling!r} in the saved head")
        model = cls(
            name,
            head_params=head_params or None,
            input_kind=input_kind,
            resampling=resampling,
            random_state=random_state,
        )
        oversample = spec.get("oversample") is True
        try:
            estimator = model._make(
                params={k: v for k, v in params.items() if k not in _MAKE_HEAD_KEYWORDS},
                resampling="oversample" if oversample else "none",
            )
        except (LittleDataError, TypeError) as exc:
            raise ArtifactError(f"the saved head {name!r} cannot be rebuilt: {exc}") from None
        # every parameter must be the saved one (none left at a default the file did not set)
        rebuilt = dict(_registry_head(estimator).get_params(deep=False))
        rebuilt.pop("random_state", None)
        if not _same_params(rebuilt, params) or set(rebuilt) != set(params):
            raise ArtifactError(
                f"the saved head {name!r} has parameters {sorted(params)}; the head takes "
                f"{sorted(rebuilt)}"
            )
        if _tfidf_settings(estimator) != spec.get("tfidf_settings"):
            raise ArtifactError(
                "the saved head's tf-idf settings differ from this littledata's; its vocabulary "
                "would be read with another tokenization. Retrain it with this version."
            )
        try:
            import_state(estimator, state)
        except (ValueError, TypeError, KeyError, IndexError) as exc:  # not ArtifactError's
            if isinstance(exc, LittleDataError):
                raise
            raise ArtifactError(
                f"the saved state of head {name!r} is malformed: {type(exc).__name__}: {exc}"
            ) from None
        model.estimator_ = estimator
        model.classes_ = np.asarray(estimator.classes_)
        model._probe()
        return model

    def _probe(self) -> None:
        """Predict one made-up row, so arrays that do not fit together fail here, not later."""
        import scipy.sparse as sp

        if self.input_kind in ("sparse", "text"):
            probe: Any = np.array(["probe"], dtype=object)
        else:
            width = int(getattr(self.estimator_, "n_features_in_", 0))
            probe = sp.csr_matrix((1, width), dtype=np.float32)
            if self.input_kind != "counts":
                probe = np.zeros((1, width), dtype=np.float32)
        try:
            proba = np.asarray(self.estimator_.predict_proba(probe))
        except Exception as exc:  # anything: the arrays are inconsistent
            raise ArtifactError(
                f"the saved head's arrays do not make a working {self.head!r} head: "
                f"{type(exc).__name__}: {exc}"
            ) from None
        if proba.shape != (1, len(self.classes_)) or not np.all(np.isfinite(proba)):
            raise ArtifactError(
                f"the saved head gives probabilities of shape {proba.shape} for "
                f"{len(self.classes_)} classes"
            )
