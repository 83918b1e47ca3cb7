"""Heads that fine-tune their encoder: ``setfit`` (contrastive pairs, then ``logreg``) and
``finetune`` (ULMFiT-style, with a linear classification head).

Both take raw texts (input kind ``"text"``) and the name of the featurizer whose encoder they
tune (``encoder="minilm"``); the benchmark passes the featurizer of the trial. Their saved state
carries every tensor of the tuned encoder (about 90 MB for MiniLM, 440 MB for mpnet) next to the
classifier, and is restored into a fresh copy of the same base encoder, whose fingerprint must
match. See ``docs/finetuning.md`` for when fine-tuning pays and what it costs.

>>> from littledata.heads import make_head
>>> head = make_head("setfit", input_kind="text", encoder="minilm")  # doctest: +SKIP
>>> head.fit(texts, labels).predict(["a new text"])  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.validation import check_is_fitted

from littledata.errors import ArtifactError, ConfigError, DataFormatError
from littledata.heads._base import softmax
from littledata.heads.logreg import CVLogisticRegression
from littledata.heads.state import (
    SEP,
    HeadState,
    export_state,
    import_state,
    labels_from_json,
    labels_to_json,
)
from littledata.labels import named

__all__ = ["FineTuneHead", "LinearSoftmax", "SetFitHead"]


def _texts(X: Any) -> list[str]:
    arr = np.asarray(X, dtype=object)
    if arr.ndim != 1:
        raise DataFormatError(
            f"a head that fine-tunes its encoder takes raw texts (a 1-D sequence of strings); "
            f"got an array of shape {arr.shape}"
        )
    bad = [i for i, t in enumerate(arr) if not isinstance(t, str)]
    if bad:
        raise DataFormatError(
            f"a head that fine-tunes its encoder takes raw texts; row {bad[0]} is a "
            f"{type(arr[bad[0]]).__name__}"
        )
    return [str(t) for t in arr]


class _TunedHead(ClassifierMixin, BaseEstimator):
    """Shared by the tuning heads: labels, the encoder, threads, prediction and the saved state.

    Subclasses implement ``_fit_tuned(encoder, texts, y_index, class_weight)`` and the classifier
    part of prediction and of the state.
    """

    _classifier: str = ""  # the state's prefix of the classifier's arrays

    encoder: str
    max_length: int
    threads: int | None
    random_state: int
    class_weight: Any

    def _check_common(self) -> None:
        if self.threads is not None and int(self.threads) < 1:
            raise ConfigError(f"threads must be >= 1 or None, got {self.threads!r}")

    def fit(self, X: Sequence[str], y: Any, unlabeled: Sequence[str] | None = None) -> Any:
        """Fine-tune a fresh copy of the encoder on texts ``X`` and labels ``y`` and fit the
        classifier; ``unlabeled`` texts feed the domain-adaptation step where the head has one.

        Raises
        ------
        DataFormatError: ``X`` is not raw texts, lengths differ, or ``y`` has one class.
        ConfigError: a setting that trains nothing, or an encoder that cannot be fine-tuned.
        """
        from littledata.finetune.encoder import torch_threads

        self._check_common()
        self._check_params()
        texts = self._inputs(X)
        y = named(y)
        if len(y) != len(texts):
            raise DataFormatError(f"got {len(texts)} texts but {len(y)} labels")
        classes, y_index = np.unique(np.asarray(y), return_inverse=True)
        if len(classes) < 2:
            raise DataFormatError(
                f"{type(self).__name__} needs at least 2 classes in y to fit; got 1 class "
                f"({classes[0]!r}). Sample training rows so that every class is present."
            )
        weights = None
        if self.class_weight is not None:
            if self.class_weight != "balanced":
                raise ConfigError(f"class_weight must be None or 'balanced', got {self.class_weight!r}")  # fmt: skip  # noqa: E501
            weights = compute_class_weight("balanced", classes=np.arange(len(classes)), y=y_index)
        with torch_threads(self.threads):
            encoder = self._load_encoder()
            self.classes_ = classes
            self.loss_history_ = self._fit_tuned(encoder, texts, y_index, weights, unlabeled)
        self.encoder_ = encoder
        return self

    def _check_params(self) -> None:  # pragma: no cover - every subclass overrides it
        raise NotImplementedError

    def _inputs(self, X: Any) -> list[Any]:
        """The examples the encoder reads, checked (raw texts; a cross-encoder: pairs)."""
        return _texts(X)

    def _load_encoder(self) -> Any:
        """A fresh trainable copy of the base encoder."""
        from littledata.finetune.encoder import load_tunable

        return load_tunable(self.encoder, max_length=self.max_length)

    def _fit_tuned(
        self, encoder: Any, texts: list[str], y: np.ndarray, weights: Any, unlabeled: Any
    ) -> list[float]:  # type: ignore[empty-body]
        raise NotImplementedError  # pragma: no cover

    def _proba_from_embeddings(self, emb: np.ndarray) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def embedding_classifier(self) -> Any:
        """A fitted dense classifier on the tuned embeddings (:meth:`transform` rows) whose
        ``predict_proba`` equals this head's on the texts; its clones refit on embeddings (the
        active learner's committees do). The tuned encoder is shared, not copied."""
        raise ConfigError(f"{type(self).__name__} has no classifier on its embeddings alone")

    def transform(self, X: Sequence[str]) -> np.ndarray:
        """The tuned encoder's embeddings of texts ``X``, float32 ``(n, dim)``."""
        from littledata.finetune.encoder import torch_threads

        check_is_fitted(self)
        with torch_threads(self.threads):
            return self.encoder_.encode(self._inputs(X))

    def predict_proba(self, X: Sequence[str]) -> np.ndarray:
        """Class probabilities of texts ``X``, columns in ``classes_`` order."""
        return self._proba_from_embeddings(self.transform(X))

    def predict(self, X: Sequence[str]) -> np.ndarray:
        """The most probable class of each text."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    # -- saved state ------------------------------------------------------------------------------

    def _classifier_state(self) -> HeadState:  # pragma: no cover
        raise NotImplementedError

    def _restore_classifier(self, state: HeadState) -> None:  # pragma: no cover
        raise NotImplementedError

    def get_fitted_state(self) -> HeadState:
        """The classes, the tuned encoder's tensors (``encoder/...``) and the classifier's state
        (see :mod:`littledata.heads.state`)."""
        check_is_fitted(self)
        sub = self._classifier_state()
        source = self.encoder_.source
        meta = {
            "classes": labels_to_json(self.classes_),
            "encoder": {"name": source.name, "fingerprint": source.fingerprint},
            "classifier": sub.meta,
        }
        arrays = dict(self.encoder_.state_arrays())
        arrays.update({f"{self._classifier}{SEP}{k}": v for k, v in sub.arrays.items()})
        return HeadState(meta, arrays)

    def set_fitted_state(self, state: HeadState) -> Any:
        """Rebuild the base encoder, check its fingerprint, load the tuned tensors and the
        classifier; returns ``self``."""
        from littledata.finetune.encoder import ENCODER_PREFIX

        meta = state.meta
        saved = meta.get("encoder") if isinstance(meta, dict) else None
        if not isinstance(saved, dict) or not isinstance(meta.get("classifier"), dict):
            raise ArtifactError("the saved tuned head lacks its encoder or classifier section")
        encoder = self._load_encoder()
        if encoder.source.fingerprint != saved.get("fingerprint"):
            raise ArtifactError(
                f"the saved head was tuned from {saved.get('name')!r} with fingerprint "
                f"{str(saved.get('fingerprint'))[:12]}...; {self.encoder!r} here has "
                f"{encoder.source.fingerprint[:12]}... (other base weights or settings)"
            )
        try:
            encoder.load_state_arrays(
                {k: v for k, v in state.arrays.items() if k.startswith(ENCODER_PREFIX)}
            )
        except DataFormatError as exc:
            raise ArtifactError(str(exc)) from None
        prefix = f"{self._classifier}{SEP}"
        sub = HeadState(
            dict(meta["classifier"]),
            {k[len(prefix) :]: v for k, v in state.arrays.items() if k.startswith(prefix)},
        )
        extra = [k for k in state.arrays if not k.startswith((ENCODER_PREFIX, prefix))]
        if extra:
            raise ArtifactError(f"unexpected arrays {extra[:3]} in the saved tuned head")
        self.classes_ = labels_from_json(meta.get("classes"))
        self._restore_classifier(sub)
        self.encoder_ = encoder
        self.loss_history_ = []
        return self


class SetFitHead(_TunedHead):
    """SetFit: contrastive fine-tuning of the encoder on sentence pairs, then ``logreg``.

    Pairs come from the labeled rows (:func:`littledata.finetune.contrastive.make_pairs`:
    ``2 * iterations`` per row, at most ``max_pairs``); one epoch over them with
    ``CosineSimilarityLoss`` (MSE on the cosine) and AdamW; then
    :class:`~littledata.heads.CVLogisticRegression` on the tuned embeddings of the rows.

    Parameters
    ----------
    encoder : str, default="minilm"
        The featurizer whose encoder is tuned (a PyTorch transformer: ``minilm``, ``mpnet``, a
        sentence-transformers id or folder).
    iterations : int, default=20
        Positive and negative pairs drawn per row (SetFit's ``num_iterations``).
    max_pairs : int, default=640
        Cap on the pairs (so on the steps: ``ceil(pairs / batch_size)``).
    batch_size : int, default=16
        Pairs per step.
    learning_rate : float, default=2e-5
        Peak AdamW learning rate (10% linear warm-up, then linear decay).
    max_length : int, default=128
        Tokens per text (longer texts are truncated, in training and prediction).
    simcse_steps : int, default=0
        Steps of unsupervised SimCSE on the ``unlabeled`` texts given to ``fit`` first (0: none).
    threads : int or None, default=2
        torch threads during fit and prediction (None: torch's default).
    class_weight : None or "balanced", default=None
        Passed to the logistic regression.
    random_state : int, default=0
        Seeds the pairs, dropout and the logistic regression's folds.

    Attributes
    ----------
    classes_, encoder_ (:class:`~littledata.finetune.encoder.SentenceEncoder`), logreg_,
    loss_history_ (the loss of each training step).
    """

    _classifier = "logreg"

    def __init__(
        self,
        encoder: str = "minilm",
        *,
        iterations: int = 20,
        max_pairs: int = 640,
        batch_size: int = 16,
        learning_rate: float = 2e-5,
        max_length: int = 128,
        simcse_steps: int = 0,
        threads: int | None = 2,
        class_weight: Any = None,
        random_state: int = 0,
    ) -> None:
        self.encoder = encoder
        self.iterations = iterations
        self.max_pairs = max_pairs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.max_length = max_length
        self.simcse_steps = simcse_steps
        self.threads = threads
        self.class_weight = class_weight
        self.random_state = random_state

    def _check_params(self) -> None:
        if int(self.iterations) < 1 or int(self.max_pairs) < 2:
            raise ConfigError(
                f"setfit trains on 2 * iterations pairs per row, at most max_pairs; got "
                f"iterations={self.iterations!r}, max_pairs={self.max_pairs!r}, which is zero "
                "steps. Use iterations >= 1 and max_pairs >= 2."
            )
        if int(self.batch_size) < 1 or not float(self.learning_rate) > 0:
            raise ConfigError("batch_size must be >= 1 and learning_rate > 0")

    def _logreg(self) -> CVLogisticRegression:
        return CVLogisticRegression(class_weight=self.class_weight, random_state=self.random_state)

    def _fit_tuned(
        self, encoder: Any, texts: list[str], y: np.ndarray, weights: Any, unlabeled: Any
    ) -> list[float]:
        from littledata.finetune.contrastive import train_pairs, train_simcse

        losses: list[float] = []
        if int(self.simcse_steps) > 0 and unlabeled is not None:
            train_simcse(encoder, list(unlabeled), steps=int(self.simcse_steps), seed=self.random_state)  # fmt: skip  # noqa: E501
        losses = train_pairs(
            encoder,
            texts,
            y,
            iterations=int(self.iterations),
            max_pairs=int(self.max_pairs),
            batch_size=int(self.batch_size),
            learning_rate=float(self.learning_rate),
            seed=self.random_state,
        )
        self.logreg_ = self._logreg().fit(encoder.encode(texts), self.classes_[y])
        return losses

    def _proba_from_embeddings(self, emb: np.ndarray) -> np.ndarray:
        return self.logreg_.predict_proba(emb)  # type: ignore[no-any-return]

    def embedding_classifier(self) -> Any:
        """The logistic regression on the tuned embeddings (see the base class)."""
        check_is_fitted(self)
        return self.logreg_

    def _classifier_state(self) -> HeadState:
        return export_state(self.logreg_)

    def _restore_classifier(self, state: HeadState) -> None:
        self.logreg_ = import_state(self._logreg(), state)


class FineTuneHead(_TunedHead):
    """ULMFiT-style fine-tuning of the encoder with a linear head (see
    :mod:`littledata.finetune.ulmfit`): discriminative learning rates, a slanted triangular
    schedule and gradual unfreezing, each one a parameter so it can be switched off.

    Parameters
    ----------
    encoder : str, default="minilm"
        The featurizer whose encoder is tuned.
    epochs : int or None, default=None
        Passes over the labeled rows; steps = ``min(max_steps, epochs * ceil(n / batch_size))``.
        ``None``: 40 (10 for the cross-encoder). Few rows need many passes: at 8 rows per class
        40 passes gained +5.8 accuracy points over frozen MiniLM + ``logreg`` on dev rows, 10
        passes +3.2 (``benchmarks/finetune.py``, ``docs/finetuning.md``); with many rows the
        ``max_steps`` cap decides.
    max_steps : int, default=200
        Cap on the steps (bounds the cost at many labels).
    batch_size : int, default=16
    learning_rate : float, default=5e-5
        Peak learning rate of the top encoder layer.
    head_learning_rate : float, default=1e-3
        Peak learning rate of the classification head.
    layer_decay : float, default=1.0
        Each layer down learns ``layer_decay`` times slower (ULMFiT's 2.6; 1.0: one rate for
        all, the default: 2.6 lost 3.5 accuracy points on average over sst2 and trec at 8 rows
        per class in the ablation of ``benchmarks/finetune.py``, see ``docs/finetuning.md``).
    schedule : {"stlr", "constant"}, default="stlr"
    gradual_unfreezing : bool, default=True
    simcse_steps : int, default=0
        Steps of unsupervised SimCSE on the ``unlabeled`` texts given to ``fit`` first (0: none).
    max_length, threads, class_weight, random_state
        As for :class:`SetFitHead` (``class_weight="balanced"`` weighs the loss).

    Attributes
    ----------
    classes_, encoder_, coef_ (``(n_classes, dim)``), intercept_, loss_history_.
    """

    _classifier = "classifier"
    _default_epochs = 40

    def __init__(
        self,
        encoder: str = "minilm",
        *,
        epochs: int | None = None,
        max_steps: int = 200,
        batch_size: int = 16,
        learning_rate: float = 5e-5,
        head_learning_rate: float = 1e-3,
        layer_decay: float = 1.0,
        schedule: str = "stlr",
        gradual_unfreezing: bool = True,
        simcse_steps: int = 0,
        max_length: int = 128,
        threads: int | None = 2,
        class_weight: Any = None,
        random_state: int = 0,
    ) -> None:
        self.encoder = encoder
        self.epochs = epochs
        self.max_steps = max_steps
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.head_learning_rate = head_learning_rate
        self.layer_decay = layer_decay
        self.schedule = schedule
        self.gradual_unfreezing = gradual_unfreezing
        self.simcse_steps = simcse_steps
        self.max_length = max_length
        self.threads = threads
        self.class_weight = class_weight
        self.random_state = random_state

    def _epochs(self) -> int:
        return self._default_epochs if self.epochs is None else int(self.epochs)

    def _check_params(self) -> None:
        if self._epochs() < 1 or int(self.max_steps) < 1:
            raise ConfigError(
                f"finetune needs at least one step; got epochs={self.epochs!r}, "
                f"max_steps={self.max_steps!r}. Use epochs >= 1 and max_steps >= 1."
            )
        if int(self.batch_size) < 1 or not float(self.learning_rate) > 0:
            raise ConfigError("batch_size must be >= 1 and learning_rate > 0")

    def _fit_tuned(
        self, encoder: Any, texts: list[str], y: np.ndarray, weights: Any, unlabeled: Any
    ) -> list[float]:
        from littledata.finetune.contrastive import train_simcse
        from littledata.finetune.ulmfit import train_classifier

        if int(self.simcse_steps) > 0 and unlabeled is not None:
            train_simcse(encoder, list(unlabeled), steps=int(self.simcse_steps), seed=self.random_state)  # fmt: skip  # noqa: E501
        head, losses = train_classifier(
            encoder,
            texts,
            y,
            len(self.classes_),
            epochs=self._epochs(),
            batch_size=int(self.batch_size),
            max_steps=int(self.max_steps),
            learning_rate=float(self.learning_rate),
            head_learning_rate=float(self.head_learning_rate),
            layer_decay=float(self.layer_decay),
            schedule=self.schedule,
            gradual_unfreezing=bool(self.gradual_unfreezing),
            class_weight=weights,
            seed=self.random_state,
        )
        self.coef_ = head.weight.detach().numpy().astype(np.float32).copy()
        self.intercept_ = head.bias.detach().numpy().astype(np.float32).copy()
        return losses

    def _proba_from_embeddings(self, emb: np.ndarray) -> np.ndarray:
        return LinearSoftmax.proba(emb, self.coef_, self.intercept_)

    def embedding_classifier(self) -> LinearSoftmax:
        """The linear head and its softmax as a :class:`LinearSoftmax` (see the base class)."""
        check_is_fitted(self)
        return LinearSoftmax.from_weights(self.coef_, self.intercept_, self.classes_)

    def _classifier_state(self) -> HeadState:
        return HeadState({}, {"coef_": self.coef_, "intercept_": self.intercept_})

    def _restore_classifier(self, state: HeadState) -> None:
        if set(state.arrays) != {"coef_", "intercept_"}:
            raise ArtifactError("the saved finetune head lacks coef_ or intercept_")
        coef, intercept = state.arrays["coef_"], state.arrays["intercept_"]
        k = len(self.classes_)
        if coef.ndim != 2 or coef.shape[0] != k or intercept.shape != (k,):
            raise ArtifactError(f"the saved finetune head's arrays do not fit {k} classes")
        self.coef_, self.intercept_ = np.asarray(coef), np.asarray(intercept)


class LinearSoftmax(ClassifierMixin, BaseEstimator):
    """A linear softmax classifier on embeddings: ``softmax(X @ coef_.T + intercept_)``.

    :meth:`from_weights` wraps the linear head of a :class:`FineTuneHead` (the same
    probabilities on its tuned embeddings); :meth:`fit` learns the weights by multinomial
    logistic regression (scikit-learn's ``LogisticRegression`` at ``C``), the dense stand-in for
    refitting that head on fixed embeddings (committee members, cross-fitting).
    """

    def __init__(self, C: float = 1.0, random_state: int = 0) -> None:
        self.C = C
        self.random_state = random_state

    @staticmethod
    def proba(X: np.ndarray, coef: np.ndarray, intercept: np.ndarray) -> np.ndarray:
        """``softmax(X @ coef.T + intercept)`` in float64."""
        z = np.asarray(X, dtype=np.float64) @ np.asarray(coef, dtype=np.float64).T
        return softmax(z + np.asarray(intercept, dtype=np.float64))

    @classmethod
    def from_weights(cls, coef: Any, intercept: Any, classes: Any) -> LinearSoftmax:
        """A fitted model with these weights (``coef`` ``(n_classes, dim)``)."""
        model = cls()
        model.coef_, model.intercept_ = np.asarray(coef), np.asarray(intercept)
        model.classes_ = np.asarray(classes)
        return model

    def fit(self, X: Any, y: Any) -> LinearSoftmax:
        """Multinomial logistic regression on ``X``; two classes as the equivalent softmax."""
        from sklearn.linear_model import LogisticRegression

        lr = LogisticRegression(C=float(self.C), max_iter=1000, random_state=self.random_state)
        lr.fit(np.asarray(X, dtype=np.float64), y)
        coef, intercept = lr.coef_, lr.intercept_
        if coef.shape[0] == 1:  # sigmoid(z) is the softmax of (-z/2, z/2)
            coef, intercept = np.vstack([-coef / 2, coef / 2]), np.r_[-intercept / 2, intercept / 2]
        self.coef_, self.intercept_, self.classes_ = coef, intercept, lr.classes_
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, columns in ``classes_`` order."""
        check_is_fitted(self)
        return self.proba(X, self.coef_, self.intercept_)

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]  # type: ignore[no-any-return]
