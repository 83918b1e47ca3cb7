"""``TextClassifier``: a featurizer and a head as one scikit-learn classifier on raw texts.

``fit(texts, labels)`` featurizes the texts (through the feature cache) and fits a head from the
registry on the features; ``predict`` / ``predict_proba`` do the same on new texts. The model
saves as a small folder (:mod:`littledata.models.artifact`): the encoder is named by its
featurizer name and fingerprint, never copied, so a logistic-regression head on MiniLM is a few
KB. :meth:`TextClassifier.load` rebuilds the head through the head registry only and refuses a
featurizer whose fingerprint differs from the one the model was trained with.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.validation import check_is_fitted

from littledata.errors import (
    ArtifactError,
    ConfigError,
    DataFormatError,
    FeaturizerMismatchError,
)
from littledata.heads.state import HeadState, json_value, labels_from_json, labels_to_json
from littledata.labels import named
from littledata.models.head import HeadClassifier

__all__ = ["MODEL_CLASSES", "TASK", "TextClassifier", "load_model"]

TASK = "single-label"
"""The task a :class:`TextClassifier` solves (one label per text)."""

MODEL_CLASSES: dict[str, type[TextClassifier]] = {}
"""The model class of each task a saved model can hold (``manifest["task"]``), filled by
:class:`TextClassifier` and its subclasses as they are defined (sentence pairs, multi-label)."""


def _check_labels(y: Any, n: int) -> np.ndarray:
    y = named(y)  # labels that carry their names (a dataset split's) are learned as names
    if y.ndim != 1:
        raise DataFormatError(
            f"labels must be one label per text (a 1-D sequence); got shape {y.shape}"
        )
    if len(y) != n:
        raise DataFormatError(f"got {n} texts but {len(y)} labels; give one label per text")
    return y


def _as_texts(X: Any) -> list[str]:
    from littledata.features.base import check_texts

    if getattr(X, "ndim", 1) != 1:
        raise DataFormatError(
            f"TextClassifier takes a 1-D sequence of texts; got an array of shape "
            f"{getattr(X, 'shape', '?')} (pass one column, e.g. df['text'])"
        )
    return check_texts(X)


def _texts_digest(sides: Sequence[list[str]], y: np.ndarray) -> str:
    """sha256 of the texts of every side and the labels (a model's ``training_data``)."""
    from littledata.datasets.base import texts_fingerprint

    texts = ":".join(texts_fingerprint(side) for side in sides)
    return hashlib.sha256(f"{texts}:{_labels_digest(y)}".encode()).hexdigest()


def _labels_digest(y: np.ndarray) -> str:
    return hashlib.sha256(repr(y.tolist()).encode("utf-8")).hexdigest()


def _features_digest(X: Any, y: np.ndarray) -> str:
    import scipy.sparse as sp

    digest = hashlib.sha256()
    if sp.issparse(X):
        X = X.tocsr()
        parts = [X.data, X.indices, X.indptr]
        digest.update(f"csr{X.shape}".encode())
    else:
        arr = np.asarray(X)
        if arr.dtype.kind == "O":  # raw texts (a "sparse" or "text" featurizer)
            from littledata.datasets.base import texts_fingerprint

            digest.update(texts_fingerprint([str(t) for t in arr]).encode())
            parts = []
        else:
            parts = [arr]
            digest.update(f"{arr.dtype.str}{arr.shape}".encode())
    for part in parts:
        digest.update(memoryview(np.ascontiguousarray(part).reshape(-1)).cast("B"))
    digest.update(_labels_digest(y).encode())
    return digest.hexdigest()


def plain_labels(values: Any) -> list[Any]:
    """Labels as plain Python values (numpy scalars unwrapped), e.g. for JSON."""
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _tunes_encoder(head: str) -> bool:
    """Whether head ``head`` fine-tunes its featurizer's encoder (it then takes raw texts)."""
    from littledata.heads import HEADS

    return head in HEADS and HEADS[head].tunes_encoder


class TextClassifier(ClassifierMixin, BaseEstimator):
    """A text classifier: a featurizer (frozen encoder) and a head, fitted on raw texts.

    Follows scikit-learn's estimator contract (constructor parameters only; what ``fit`` learns
    in attributes ending in ``_``), so it works with ``clone``, ``cross_val_score``,
    ``GridSearchCV`` and inside a ``Pipeline``. Labels are kept as given: ``classes_`` holds the
    label names, sorted, and ``predict`` returns names, never integer codes.

    Parameters
    ----------
    featurizer : str or featurizer, default="minilm"
        A name for :func:`littledata.features.get_featurizer` (``"minilm"``, ``"mpnet"``,
        ``"glove50"``, ``"tfidf"``, a sentence-transformers id, a local folder) or a featurizer
        object. Give a name when the model is cloned (cross-validation): an object is deep-copied
        with every clone.
    head : str, default="logreg"
        A name in :data:`littledata.heads.HEADS` that accepts the featurizer's output.
    head_params : dict or None, default=None
        Parameters of the head's estimator, e.g. ``{"cv": 5}``.
    resampling : {"none", "oversample", "class_weight"} or None, default=None
        Class-imbalance handling; None: the head's default (:func:`littledata.heads.make_head`).
    random_state : int, default=0
        Seed of everything random in the head.
    featurizer_options : dict or None, default=None
        Options for :func:`~littledata.features.get_featurizer` (e.g. ``{"max_length": 256}``).
    cache : bool, default=True
        Read and write the on-disk feature cache when featurizing (see
        :func:`littledata.features.featurize`); ``False`` computes features in memory.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The label names, sorted; column ``j`` of :meth:`predict_proba` is ``classes_[j]``.
    head_ : HeadClassifier
        The fitted head (on features).
    featurizer_name_, featurizer_kind_, featurizer_fingerprint_ : str
        The featurizer the head was trained on; prediction refuses one with another fingerprint.
    training_data_ : dict
        ``input`` (``"texts"`` or ``"features"``), ``rows`` and ``sha256`` of the training data
        (texts or features, and labels); after ``littledata train`` also where they came from.
    metrics_ : dict
        The metrics measured when training (``cv``: cross-validated accuracy and macro-F1, the
        most confused pairs; ``test``: held-out rows), see
        :func:`~littledata.models.training.train_text_classifier`; empty after a plain ``fit``.

    Examples
    --------
    >>> from littledata.models import TextClassifier
    >>> texts = ["great film", "loved it", "awful film", "hated it"] * 3
    >>> labels = ["pos", "pos", "neg", "neg"] * 3
    >>> clf = TextClassifier(featurizer="tfidf", head="logreg").fit(texts, labels)
    >>> clf.classes_.tolist()
    ['neg', 'pos']
    >>> clf.predict(["a great film"]).tolist()
    ['pos']
    >>> folder = clf.save(tmp_path / "sentiment")  # doctest: +SKIP
    >>> TextClassifier.load(folder).predict(["hated the film"]).tolist()  # doctest: +SKIP
    ['neg']
    """

    TASK: ClassVar[str] = TASK
    """The task this class's models solve: ``manifest["task"]`` of the models it saves and
    loads."""

    INPUTS: ClassVar[str] = "texts"
    """What an example is: ``"texts"``, or ``"pairs"`` of texts (what a server's request sends)."""

    _SAVED_PARAMS: ClassVar[tuple[str, ...]] = ()
    """Constructor parameters of the model itself (not its featurizer's or head's) that its
    manifest keeps (``model_params``) and :meth:`load` restores."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        MODEL_CLASSES[cls.TASK] = cls

    def __init__(
        self,
        featurizer: Any = "minilm",
        head: str = "logreg",
        *,
        head_params: Mapping[str, Any] | None = None,
        resampling: str | None = None,
        random_state: int = 0,
        featurizer_options: Mapping[str, Any] | None = None,
        cache: bool = True,
    ) -> None:
        self.featurizer = featurizer
        self.head = head
        self.head_params = head_params
        self.resampling = resampling
        self.random_state = random_state
        self.featurizer_options = featurizer_options
        self.cache = cache

    # -- the featurizer -----------------------------------------------------------------------

    def _get_featurizer(self) -> Any:
        """The featurizer object: the one given to :meth:`load` (while the featurizer parameters
        are the loaded ones), else built from the name (once per process per name and options,
        see :func:`~littledata.features.get_featurizer`) or the object given."""
        given = self.__dict__.get("_given_featurizer")
        if given is not None and given[0] == (self.featurizer, self.featurizer_options):
            return given[1]
        if isinstance(self.featurizer, str):
            from littledata.features import get_featurizer

            options = dict(self.featurizer_options or {})
            try:
                return get_featurizer(self.featurizer, **options)
            except TypeError as exc:  # an option the featurizer does not take
                raise ConfigError(
                    f"featurizer {self.featurizer!r} cannot be built with options "
                    f"{options!r}: {exc}"
                ) from None
        return self.featurizer

    def _checked_featurizer(self) -> Any:
        """The featurizer, after checking it is the one the head was trained on."""
        fz = self._get_featurizer()
        if str(fz.fingerprint) != self.featurizer_fingerprint_:
            raise FeaturizerMismatchError(
                f"featurizer {fz.name!r} has fingerprint {str(fz.fingerprint)[:12]}..., but this "
                f"model was trained on {self.featurizer_name_!r} with fingerprint "
                f"{self.featurizer_fingerprint_[:12]}... (other weights or settings); its "
                "predictions would be meaningless. Use the featurizer it was trained with."
            )
        return fz

    def featurize(self, X: Any) -> Any:
        """The features of texts ``X`` as the head takes them (through the feature cache)."""
        check_is_fitted(self)
        return self._features(self._sides(X), self._checked_featurizer())

    # -- what a task reads: hooks of the subclasses ----------------------------------------------

    def _sides(self, X: Any) -> list[list[str]]:
        """The texts of ``X`` that the featurizer encodes apart, one list per side (each one
        text per example): one side here; two for sentence pairs."""
        return [_as_texts(X)]

    def sides_of(self, X: Any) -> list[list[str]]:
        """The texts of the examples ``X`` as :meth:`features_from_sides` takes their features
        (one list per side, checked): what a server encodes before it calls the head."""
        return self._sides(X)

    def features_from_sides(self, parts: Sequence[Any]) -> Any:
        """The features the head takes, from the featurizer's output for each side (arrays, or
        the texts themselves for tf-idf and heads that read raw texts): the one side's here."""
        if len(parts) != 1:
            raise DataFormatError(f"a {self.TASK} model reads one text per example")
        return parts[0]

    def _targets(self, y: Any, n: int) -> tuple[Any, np.ndarray | None]:
        """``y`` checked as targets of ``n`` examples for the head, and the label names when
        they are not the head's ``classes_`` (None here)."""
        return _check_labels(y, n), None

    def _new_head(self, params: Mapping[str, Any] | None, kind: str) -> Any:
        """The unfitted head (a :class:`HeadClassifier` here)."""
        return HeadClassifier(
            self.head,
            head_params=params,
            input_kind=kind,
            resampling=self.resampling,
            random_state=self.random_state,
        )

    @classmethod
    def _saved_head(cls, spec: Mapping[str, Any], state: HeadState) -> Any:
        """The fitted head rebuilt from the manifest's head section and its arrays."""
        return HeadClassifier.from_saved(spec, state)

    @classmethod
    def _saved_classes(cls, labels: np.ndarray, head: Any) -> np.ndarray:
        """The loaded model's ``classes_``: the manifest's labels, which must be the head's."""
        if not np.array_equal(labels, head.classes_):
            raise ArtifactError(
                f"the manifest's labels {labels.tolist()!r} differ from the head's "
                f"{head.classes_.tolist()!r}"
            )
        return np.asarray(head.classes_)

    @classmethod
    def _saved_params(cls, saved: Any, path: Any) -> dict[str, Any]:
        """The :data:`_SAVED_PARAMS` of the manifest's ``model_params`` (checked by the
        subclass that has them)."""
        if not cls._SAVED_PARAMS:
            return {}
        if not isinstance(saved, dict) or set(saved) != set(cls._SAVED_PARAMS):
            raise ArtifactError(
                f"{path}: the manifest's model_params must hold {list(cls._SAVED_PARAMS)}; got "
                f"{saved!r}"
            )
        return dict(saved)

    @classmethod
    def _params_of_head(cls, head: Any) -> dict[str, Any]:
        """Constructor parameters of a loaded model that its head holds."""
        return {
            "head": head.head,
            "head_params": head.head_params,
            "resampling": head.resampling,
            "random_state": head.random_state,
        }

    def _features(
        self, sides: Sequence[Any], fz: Any, *, batch_size: int | None = None,
        label: str | None = None, cache: bool | None = None,
    ) -> Any:  # fmt: skip
        """The features the head takes of the texts of each side (through the feature cache
        unless ``cache`` is False; default: the model's ``cache``)."""
        from littledata.features import featurize

        cache = self.cache if cache is None else cache
        if _tunes_encoder(self.head):  # the head embeds raw texts with its own tuned encoder
            parts: list[Any] = [np.asarray(side, dtype=object) for side in sides]
        else:
            parts = [
                featurize(side, fz, cache=cache, batch_size=batch_size, label=label)
                for side in sides
            ]
        return self.features_from_sides(parts)

    # -- fitting ------------------------------------------------------------------------------

    def fit(self, X: Sequence[str], y: Any) -> TextClassifier:
        """Featurize the texts ``X`` and fit the head on them with labels ``y``; returns ``self``.

        Raises
        ------
        DataFormatError
            A text is not a string, ``X`` is not 1-D, or ``y`` does not give one label per text
            (or has fewer than two classes).
        """
        sides = self._sides(X)
        y, names = self._targets(y, len(sides[0]))
        fz = self._get_featurizer()
        features = self._features(sides, fz)
        data = {"input": "texts", "rows": len(sides[0]), "sha256": _texts_digest(sides, y)}
        return self._fit_head(features, y, fz, data, names)

    def fit_features(self, X: Any, y: Any) -> TextClassifier:
        """Fit the head on precomputed features ``X`` of the featurizer (e.g. from
        :func:`littledata.features.featurize`) and labels ``y``; returns ``self``.

        The model then predicts texts like one fitted with :meth:`fit` on the same texts.
        """
        if _tunes_encoder(self.head):
            raise ConfigError(
                f"head {self.head!r} fine-tunes its encoder on raw texts; fit it with "
                "fit(texts, labels), not on precomputed features"
            )
        n = X.shape[0] if hasattr(X, "shape") else len(X)
        y, names = self._targets(y, n)
        fz = self._get_featurizer()
        info = {"input": "features", "rows": int(n), "sha256": _features_digest(X, y)}
        return self._fit_head(X, y, fz, info, names)

    def _fit_head(
        self, X: Any, y: Any, fz: Any, data: dict[str, Any], names: np.ndarray | None = None
    ) -> TextClassifier:
        params, kind = self.head_params, str(fz.kind)
        if _tunes_encoder(self.head):
            params, kind = {**dict(params or {}), "encoder": str(fz.name)}, "text"
        head = self._new_head(params, kind).fit(X, y)
        self.head_ = head
        self.classes_ = np.asarray(head.classes_) if names is None else names
        self.featurizer_name_ = str(fz.name)
        self.featurizer_kind_ = str(fz.kind)
        self.featurizer_fingerprint_ = str(fz.fingerprint)
        self.training_data_ = data
        self.metrics_: dict[str, Any] = {}
        return self

    # -- prediction ---------------------------------------------------------------------------

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Class probabilities of texts ``X``, shape (n, n_classes), columns in ``classes_``
        order."""
        return self.head_.predict_proba(self.featurize(X))

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """The predicted label name of each text in ``X``."""
        return self.head_.predict(self.featurize(X))

    def labels_from_proba(self, proba: Any) -> list[Any]:
        """Each row's predicted label from its class probabilities (the most probable class,
        as plain Python values): what ``predict`` answers, for probabilities already computed."""
        classes = plain_labels(self.classes_)
        return [classes[j] for j in np.asarray(proba).argmax(axis=1)]

    def predict_proba_features(self, X: Any) -> np.ndarray:
        """Class probabilities from precomputed features ``X`` of the model's featurizer."""
        check_is_fitted(self)
        return self.head_.predict_proba(X)

    def predict_features(self, X: Any) -> np.ndarray:
        """Predicted labels from precomputed features ``X`` of the model's featurizer."""
        check_is_fitted(self)
        return self.head_.predict(X)

    def __sklearn_tags__(self):  # type: ignore[no-untyped-def]
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    # -- saving -------------------------------------------------------------------------------

    def save(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Save the fitted model as a folder (see :mod:`littledata.models.artifact`).

        The folder holds ``manifest.json`` and ``head.safetensors``: the head's learned arrays;
        the frozen encoder is named (featurizer name, options and fingerprint), never copied. A
        head that fine-tunes its encoder (``setfit``, ``finetune``) stores the tuned encoder's
        tensors among its arrays (about 90 MB for MiniLM).

        Parameters
        ----------
        path : path
            The folder to create.
        overwrite : bool, default=False
            Replace ``path`` if it is a saved model (never another folder).

        Returns
        -------
        Path
            ``path``.

        Raises
        ------
        ConfigError
            ``path`` exists; or a parameter or label cannot be written as JSON.
        """
        from littledata import __version__
        from littledata.models.artifact import write_model_folder
        from littledata.versions import library_versions

        check_is_fitted(self)
        state = self.head_.get_fitted_state()
        labels = labels_to_json(self.classes_)
        head = {**self.head_.describe(), "state": state.meta}
        options = self.featurizer_options
        if options is None and not isinstance(self.featurizer, str):
            options = getattr(self.featurizer, "options", None)
        manifest = {
            "littledata_version": __version__,
            "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
            "task": self.TASK,
            "labels": labels["values"],
            "label_dtype": labels["dtype"],
            "featurizer": {
                "name": self.featurizer_name_,
                "options": json_value(dict(options or {}), "featurizer_options"),
                "kind": self.featurizer_kind_,
                "fingerprint": self.featurizer_fingerprint_,
            },
            "head": head,
            "training_data": dict(self.training_data_),
            "metrics": json_value(dict(getattr(self, "metrics_", None) or {}), "metrics"),
            "cache": bool(self.cache),
            "model_params": {
                name: json_value(getattr(self, name), name) for name in self._SAVED_PARAMS
            },
            "library_versions": library_versions(),
        }
        return write_model_folder(path, manifest, state.arrays, overwrite=overwrite)

    @classmethod
    def load(
        cls,
        path: str | os.PathLike[str],
        *,
        featurizer: Any = None,
        check_featurizer: bool = True,
    ) -> TextClassifier:
        """Load a model saved with :meth:`save`.

        The head is rebuilt only through the head registry, by name, with its saved parameters
        checked against the head's signature; its arrays are read from safetensors (no pickle).

        Parameters
        ----------
        path : path
            The model folder.
        featurizer : featurizer or None, default=None
            An already-built featurizer to use (e.g. one encoder shared by several models); its
            fingerprint must be the saved one. None: built from the saved name and options.
        check_featurizer : bool, default=True
            Build the featurizer now and check its fingerprint (which hashes the encoder's
            weights); False defers both to the first prediction on texts.

        Raises
        ------
        ArtifactError
            Not a model folder; an unknown head or parameter; arrays that do not fit the head.
        ArtifactIntegrityError
            A file is missing, truncated or altered (sha256 differs).
        ArtifactVersionError
            A foreign manifest or an unknown format version.
        FeaturizerMismatchError
            The featurizer's fingerprint differs from the saved one.
        """
        from littledata.models.artifact import read_model_folder

        manifest, arrays = read_model_folder(path)
        if manifest.get("task") != cls.TASK:
            other = MODEL_CLASSES.get(str(manifest.get("task")))
            hint = f"; load it with {other.__name__}.load or load_model" if other else ""
            raise ArtifactError(
                f"{path}: a model for task {manifest.get('task')!r}; {cls.__name__} solves "
                f"{cls.TASK}{hint}"
            )
        fz_spec, head_spec = manifest.get("featurizer"), manifest.get("head")
        if not isinstance(fz_spec, dict) or not isinstance(head_spec, dict):
            raise ArtifactError(f"{path}: the manifest lacks its featurizer or head section")
        name, fingerprint = fz_spec.get("name"), fz_spec.get("fingerprint")
        options, kind = fz_spec.get("options") or {}, fz_spec.get("kind")
        if not (isinstance(name, str) and isinstance(fingerprint, str) and isinstance(kind, str)):
            raise ArtifactError(f"{path}: the featurizer section lacks name, kind or fingerprint")
        if not isinstance(options, dict):
            raise ArtifactError(f"{path}: the featurizer options are not a JSON object")
        tuned = head_spec.get("input_kind") == "text" and kind in ("dense", "layers")
        if head_spec.get("input_kind") != kind and not tuned:
            raise ArtifactError(f"{path}: the head takes {head_spec.get('input_kind')!r} input, "
                                f"the featurizer gives {kind!r}")  # fmt: skip
        state = HeadState(head_spec.get("state") or {}, dict(arrays))
        try:
            head = cls._saved_head(head_spec, state)
            labels = labels_from_json(
                {"values": manifest.get("labels"), "dtype": manifest.get("label_dtype")}
            )
            classes = cls._saved_classes(labels, head)
        except ArtifactError as exc:
            raise type(exc)(f"{path}: {exc}") from None
        training = manifest.get("training_data")
        model = cls(
            featurizer=name,
            **cls._params_of_head(head),
            featurizer_options=options or None,
            cache=manifest.get("cache") is not False,
            **cls._saved_params(manifest.get("model_params"), path),
        )
        model.head_ = head
        model.classes_ = classes
        model.featurizer_name_ = name
        model.featurizer_kind_ = kind
        model.featurizer_fingerprint_ = fingerprint
        model.training_data_ = dict(training) if isinstance(training, dict) else {}
        metrics = manifest.get("metrics")
        model.metrics_ = dict(metrics) if isinstance(metrics, dict) else {}
        if featurizer is not None:
            model.__dict__["_given_featurizer"] = ((name, options or None), featurizer)
        if featurizer is not None or check_featurizer:
            try:
                model._checked_featurizer()
            except ConfigError as exc:
                raise ArtifactError(f"{path}: {exc}") from None
        return model


MODEL_CLASSES[TASK] = TextClassifier


def load_model(
    path: str | os.PathLike[str], *, featurizer: Any = None, check_featurizer: bool = True
) -> TextClassifier:
    """Load a saved model folder of any task: the :meth:`~TextClassifier.load` of the class that
    solves the task its manifest names (:data:`MODEL_CLASSES`).

    Raises
    ------
    ArtifactError
        As :meth:`TextClassifier.load`; also a task no model class solves.
    """
    from littledata.models.artifact import read_manifest

    task = read_manifest(path).get("task")
    cls = MODEL_CLASSES.get(task) if isinstance(task, str) else None
    if cls is None:
        raise ArtifactError(
            f"{path}: a model for task {task!r}; littledata loads models for "
            f"{', '.join(sorted(MODEL_CLASSES))}"
        )
    return cls.load(path, featurizer=featurizer, check_featurizer=check_featurizer)
