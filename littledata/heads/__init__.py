"""Target models ("heads"): scikit-learn classifiers fitted on features of a few labeled rows.

Pick one by name with :func:`make_head`; :data:`HEADS` lists them (see ``docs/heads.md`` for which
to pick and why). ``logreg`` on a frozen sentence encoder's features is the recommended recipe.

>>> from littledata.heads import make_head
>>> head = make_head("logreg", random_state=0)
>>> tfidf_head = make_head("logreg", input_kind="sparse")  # tf-idf pipeline on raw texts
>>> "logreg" in HEADS and "token-logreg" in HEADS
True

Every head: ``predict_proba`` rows sum to 1 and are never one-hot by construction; ``classes_``
is sorted and ``predict(X) == classes_[argmax(predict_proba(X))]``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sklearn.base import BaseEstimator

from littledata.errors import ConfigError, unknown_name
from littledata.heads.crf import TokenCRF
from littledata.heads.cross_encoder import CrossEncoderHead
from littledata.heads.logreg import CVLogisticRegression
from littledata.heads.neighbors import CosineCentroid, CosineKNN
from littledata.heads.resampling import RESAMPLINGS, RandomOversampler
from littledata.heads.svm import CalibratedLinearSVM
from littledata.heads.text import TfidfFromCounts, make_tfidf_vectorizer
from littledata.heads.torch_heads import LayerMix, TorchMLP
from littledata.heads.tuned import FineTuneHead, SetFitHead
from littledata.registry import Registry

__all__ = [
    "GPU_USE",
    "HEADS",
    "INPUT_KINDS",
    "RESAMPLINGS",
    "CVLogisticRegression",
    "CalibratedLinearSVM",
    "CosineCentroid",
    "CosineKNN",
    "CrossEncoderHead",
    "FineTuneHead",
    "HeadInfo",
    "LayerMix",
    "RandomOversampler",
    "SetFitHead",
    "TfidfFromCounts",
    "TokenCRF",
    "TorchMLP",
    "list_heads",
    "make_head",
    "make_tfidf_vectorizer",
    "register_head",
]

#: What a head can be fed, named after the featurizer kinds (littledata.features.base): float
#: (n, d) features (``dense``), (n, L, d) layer-wise features (``layers``), texts turned into
#: tf-idf by the head's own first step (``sparse``), or raw texts for a head that fine-tunes an
#: encoder (``text``). ``counts`` is ``sparse`` from term counts of the texts
#: (:func:`littledata.heads.text.count_terms`, tokenized once per dataset by the benchmark;
#: taken by every head that takes ``sparse``).
INPUT_KINDS: tuple[str, ...] = ("dense", "layers", "sparse", "text", "counts")
GPU_USE: tuple[str, ...] = ("no", "optional", "required")
"""What a head does with a GPU: never uses one, uses one when there is one, or needs one."""


@dataclass(frozen=True)
class HeadInfo:
    """A registered head: what it is, what it takes and what it needs.

    ``factory(random_state=..., **params)`` returns an unfitted estimator for dense / layer input
    (:func:`make_head` adds the resampling wrapper and the tf-idf pipeline).

    Attributes
    ----------
    name, description: the registry name and one line for listings.
    inputs: the input kinds it accepts (:data:`INPUT_KINDS`).
    tasks: the task types it serves (:mod:`littledata.tasks`; ``("single-label",)`` by default,
        which sentence pairs and multi-label adapt; token heads serve ``sequence-labeling``).
    resampling: what ``make_head(name)`` uses unless told otherwise (one of :data:`RESAMPLINGS`;
        chosen per head from the imbalance benchmark, see ``docs/heads.md``).
    threads: BLAS/torch threads one fit needs; the benchmark runs ``cores // threads`` workers.
    gpu: whether it uses a GPU (:data:`GPU_USE`).
    tunes_encoder: it fine-tunes the encoder it is given (so the encoder's identity is part of
        what a trial measures, and it takes raw texts).
    sentences: it tags whole sentences (a token head whose ``fit`` / ``predict_proba`` take
        ``lengths=``, the words per sentence; :class:`~littledata.models.tagger.TokenTagger`
        passes them), so it cannot classify rows one by one.
    """

    name: str
    factory: Callable[..., BaseEstimator]
    inputs: frozenset[str]
    description: str
    resampling: str = "none"
    tasks: tuple[str, ...] = ("single-label",)
    threads: int = 1
    gpu: str = "no"
    tunes_encoder: bool = False
    sentences: bool = False


HEADS: Registry[HeadInfo] = Registry("head")


def register_head(
    name: str,
    *,
    inputs: Iterable[str],
    description: str,
    resampling: str = "none",
    tasks: Iterable[str] = ("single-label",),
    threads: int = 1,
    gpu: str = "no",
    tunes_encoder: bool = False,
    sentences: bool = False,
) -> Callable[[Callable[..., BaseEstimator]], Callable[..., BaseEstimator]]:
    """Decorator: register ``factory(random_state, **params)`` under ``name`` in :data:`HEADS`
    (see :class:`HeadInfo` for the keywords; a name already registered raises
    :class:`~littledata.errors.DuplicateNameError`)."""
    kinds = frozenset(inputs)
    bad = kinds - set(INPUT_KINDS)
    if bad:
        raise ValueError(f"unknown input kinds {sorted(bad)}; allowed: {INPUT_KINDS}")
    if resampling not in RESAMPLINGS:
        raise ValueError(f"unknown resampling {resampling!r}; allowed: {RESAMPLINGS}")
    if gpu not in GPU_USE:
        raise ValueError(f"unknown gpu use {gpu!r}; allowed: {GPU_USE}")
    if int(threads) < 1:
        raise ValueError(f"threads must be at least 1, got {threads!r}")
    served = tuple(str(t) for t in tasks)
    if not served:
        raise ValueError("a head serves at least one task type")

    def decorate(factory: Callable[..., BaseEstimator]) -> Callable[..., BaseEstimator]:
        info = HeadInfo(
            name, factory, kinds, description, resampling, served, int(threads), gpu,
            bool(tunes_encoder), bool(sentences),
        )  # fmt: skip
        HEADS.add(name, info)
        return factory

    return decorate


def list_heads() -> list[HeadInfo]:
    """All registered heads, sorted by name."""
    return [HEADS[name] for name in sorted(HEADS)]


def _build(cls: type, params: dict[str, Any], **fixed: Any) -> BaseEstimator:
    """``cls(**fixed, **params)``, with a ConfigError naming the valid parameters on a typo."""
    valid = set(cls().get_params())
    bad = sorted(set(params) - valid)
    if bad:
        raise ConfigError(
            f"{cls.__name__} has no parameter {', '.join(map(repr, bad))}; "
            f"valid parameters: {', '.join(sorted(valid))}"
        )
    return cls(**{**{k: v for k, v in fixed.items() if k in valid}, **params})


@register_head(
    "logreg",
    inputs={"dense", "sparse"},
    description="multinomial L2 logistic regression (L-BFGS), C by inner CV (recommended)",
    resampling="class_weight",
)
def _logreg(random_state: int = 0, **params: Any) -> BaseEstimator:
    return _build(CVLogisticRegression, params, random_state=random_state)


@register_head(
    "logreg-default",
    inputs={"dense", "sparse"},
    description="sklearn LogisticRegression() at default settings (the comparison baseline)",
)
def _logreg_default(random_state: int = 0, **params: Any) -> BaseEstimator:
    from sklearn.linear_model import LogisticRegression

    return _build(LogisticRegression, params, random_state=random_state)


@register_head(
    "svm",
    inputs={"dense", "sparse"},
    description="linear SVM, C by inner CV, Platt-calibrated probabilities",
    resampling="oversample",
)
def _svm(random_state: int = 0, **params: Any) -> BaseEstimator:
    return _build(CalibratedLinearSVM, params, random_state=random_state)


@register_head(
    "knn",
    inputs={"dense", "sparse"},
    description="k nearest neighbours by cosine similarity, smoothed weighted votes",
)
def _knn(random_state: int = 0, **params: Any) -> BaseEstimator:
    return _build(CosineKNN, params)


@register_head(
    "centroid",
    inputs={"dense", "sparse"},
    description="nearest class mean by cosine similarity, fitted softmax temperature",
)
def _centroid(random_state: int = 0, **params: Any) -> BaseEstimator:
    return _build(CosineCentroid, params)


@register_head(
    "mlp",
    inputs={"dense", "sparse"},
    description="one-hidden-layer perceptron with dropout and early stopping (torch, CPU)",
    resampling="oversample",
)
def _mlp(random_state: int = 0, **params: Any) -> BaseEstimator:
    return _build(TorchMLP, params, random_state=random_state)


@register_head(
    "layermix",
    inputs={"layers"},
    description="learned softmax mix of an encoder's layers + linear classifier (torch)",
)
def _layermix(random_state: int = 0, **params: Any) -> BaseEstimator:
    return _build(LayerMix, params, random_state=random_state)


@register_head(
    "token-logreg",
    inputs={"dense"},
    description="softmax logistic regression per word on token features (sequence labeling)",
    tasks=("sequence-labeling",),
)
def _token_logreg(random_state: int = 0, **params: Any) -> BaseEstimator:
    from sklearn.linear_model import LogisticRegression

    return _build(LogisticRegression, {"max_iter": 1000, **params}, random_state=random_state)


@register_head(
    "token-crf",
    inputs={"dense"},
    description="linear-chain CRF (sklearn-crfsuite) on PCA-reduced token features "
    "(sequence labeling)",
    tasks=("sequence-labeling",),
    sentences=True,
)
def _token_crf(random_state: int = 0, **params: Any) -> BaseEstimator:
    return _build(TokenCRF, params, random_state=random_state)


@register_head(
    "setfit",
    inputs={"text"},
    description="fine-tunes the encoder on same/different-class pairs (SetFit), then logreg",
    threads=2,
    tunes_encoder=True,
)
def _setfit(random_state: int = 0, **params: Any) -> BaseEstimator:
    return _build(SetFitHead, params, random_state=random_state)


@register_head(
    "finetune",
    inputs={"text"},
    description="fine-tunes the encoder with a linear head, ULMFiT-style (layer-wise rates, "
    "slanted triangular schedule, gradual unfreezing)",
    threads=2,
    tunes_encoder=True,
)
def _finetune(random_state: int = 0, **params: Any) -> BaseEstimator:
    return _build(FineTuneHead, params, random_state=random_state)


@register_head(
    "cross-encoder",
    inputs={"text"},
    description="fine-tunes the encoder on both texts of a pair read together, with a linear "
    "head (sentence pairs)",
    tasks=("sentence-pair",),
    threads=2,
    tunes_encoder=True,
)
def _cross_encoder(random_state: int = 0, **params: Any) -> BaseEstimator:
    return _build(CrossEncoderHead, params, random_state=random_state)


def make_head(
    name: str,
    *,
    input_kind: str = "dense",
    random_state: int = 0,
    resampling: str = "default",
    **params: Any,
) -> BaseEstimator:
    """Build an unfitted head by name.

    Parameters
    ----------
    name : str
        A key of :data:`HEADS` (``logreg``, ``logreg-default``, ``svm``, ``knn``, ``centroid``,
        ``mlp``, ``layermix``; ``setfit``, ``finetune`` and ``cross-encoder`` tune an encoder and
        take ``input_kind="text"`` and ``encoder=<featurizer name>``; ``cross-encoder`` reads
        pairs of texts).
    input_kind : {"dense", "layers", "sparse", "text", "counts"}, default="dense"
        ``"dense"``: float (n, d) features (scipy sparse too). ``"layers"``: (n, L, d) layer-wise
        features (only heads that accept them, i.e. ``layermix``). ``"sparse"``: raw texts as a
        1-D array of strings that the head turns into tf-idf itself; the head becomes
        ``Pipeline([("tfidf", make_tfidf_vectorizer()), ("head", head)])``. ``"counts"``: term
        counts from :func:`littledata.heads.text.count_terms` (the benchmark tokenizes each
        dataset once); the head becomes ``Pipeline([("tfidf", TfidfFromCounts()), ("head",
        head)])``, the same model as with ``"sparse"``. ``"text"``: raw texts for a head that
        fine-tunes an encoder (one that declares the ``"text"`` input); the others refuse it.
    random_state : int, default=0
        Seed of everything random in the head (folds, initialisation, oversampling).
    resampling : {"default", "none", "oversample", "class_weight"}, default="default"
        ``"default"``: the head's own choice (:attr:`HeadInfo.resampling`; see
        ``docs/heads.md``, "Class imbalance"). ``"none"``: fit on the rows as given.
        ``"oversample"``: wrap the head in :class:`RandomOversampler` (after the tf-idf step for
        ``sparse`` and ``counts`` input). ``"class_weight"``: ``class_weight="balanced"`` on the
        head (unless ``params`` sets ``class_weight``).
    **params
        Parameters of the head's estimator (see its class docstring).

    Returns
    -------
    sklearn estimator (unfitted)

    Raises
    ------
    UnknownNameError
        Unknown head, input kind or resampling name (with suggestions).
    ConfigError
        The head does not accept ``input_kind``, or a parameter name is not the head's.
    """
    if name not in HEADS:
        raise unknown_name("head", name, HEADS)
    if input_kind not in INPUT_KINDS:
        raise unknown_name("input kind", input_kind, INPUT_KINDS)
    info = HEADS[name]
    if resampling == "default":
        resampling = info.resampling
    if resampling not in RESAMPLINGS:
        raise unknown_name("resampling option", resampling, ("default", *RESAMPLINGS))
    accepts = "sparse" if input_kind == "counts" else input_kind
    if accepts not in info.inputs:
        takers = sorted(h.name for h in HEADS.values() if accepts in h.inputs)
        hint = (
            "; for tf-idf on raw texts use input_kind='sparse'"
            if input_kind == "text" and "sparse" in info.inputs
            else ""
        )
        raise ConfigError(
            f"head {name!r} does not accept input kind {input_kind!r} (it accepts "
            f"{', '.join(sorted(info.inputs))}); heads that accept {input_kind!r}: "
            f"{', '.join(takers) or 'none yet'}{hint}"
        )
    params = dict(params)
    if resampling == "class_weight":
        params.setdefault("class_weight", "balanced")
    head = info.factory(random_state=random_state, **params)
    if resampling == "oversample":
        head = RandomOversampler(head, random_state=random_state)
    if input_kind in ("sparse", "counts"):
        from sklearn.pipeline import Pipeline

        tfidf = make_tfidf_vectorizer() if input_kind == "sparse" else TfidfFromCounts()
        head = Pipeline([("tfidf", tfidf), ("head", head)])
    return head
