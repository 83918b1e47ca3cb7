"""A fitted head as (JSON-able metadata, numpy arrays), and back: the head-state protocol.

Every head can hand over what it learned as a :class:`HeadState` and take it back:

- the heads of this package (``ProbabilisticHead`` subclasses, ``RandomOversampler``,
  ``TfidfFromCounts``) have two methods, ``get_fitted_state()`` and ``set_fitted_state(state)``;
- the scikit-learn estimators that heads are made of (``Pipeline``, ``TfidfVectorizer``,
  ``TfidfTransformer``, ``LogisticRegression``, ``LinearSVC``, ``CalibratedClassifierCV``) get the
  same two operations from adapters in this module, keyed by their exact class.

:func:`export_state` and :func:`import_state` pick whichever applies. A state is always restored
*into* an unfitted estimator that code built (from the head registry, see
:func:`littledata.heads.make_head`): the structure of the model comes from the registry and the
code, and only numbers, labels and plain values come from the state. Nothing in a state names a
class or a function, so a state read from a file can never make littledata import or call
anything. Arrays keep their dtype, shape and memory order, so a restored head computes exactly
the same probabilities as the one that was saved.

>>> import numpy as np
>>> from littledata.heads import make_head
>>> X, y = np.eye(4, dtype=np.float32), ["a", "a", "b", "b"]
>>> head = make_head("centroid").fit(X, y)
>>> state = export_state(head)
>>> sorted(state.arrays)
['centroids_', 'temperature_']
>>> copy = import_state(make_head("centroid"), state)
>>> bool(np.array_equal(copy.predict_proba(X), head.predict_proba(X)))
True
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import scipy.sparse as sp

from littledata.errors import ArtifactError, ConfigError

__all__ = [
    "HeadState",
    "export_state",
    "import_state",
    "pack",
    "unpack",
]

SEP = "/"
"""Separates the parts of a nested array name, e.g. ``head/estimator_/coef_``."""

_LABEL_KINDS = "biufUO"  # bool, int, unsigned, float, str, object (of str) labels


@dataclass(frozen=True)
class HeadState:
    """What a fitted head learned: JSON-able ``meta`` and a flat dict of numpy ``arrays``.

    Attributes
    ----------
    meta : dict
        Plain JSON values only (str, int, bool, None, finite float, lists and dicts of them):
        the class labels, scalar attributes, and how the arrays are laid out.
    arrays : dict of str to ndarray
        Numeric or boolean arrays (no object or string dtype), keyed by attribute name; nested
        estimators' arrays are prefixed with their attribute name and ``/``.
    """

    meta: dict[str, Any] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)

    def nbytes(self) -> int:
        """Total bytes of the arrays."""
        return int(sum(a.nbytes for a in self.arrays.values()))


def _broken(message: str) -> ArtifactError:
    return ArtifactError(f"saved head state does not fit the head: {message}")


# -- plain values ---------------------------------------------------------------------------------


def json_value(value: Any, what: str) -> Any:
    """``value`` as plain JSON (numpy scalars become Python ones; tuples become lists).

    Raises a :class:`~littledata.errors.ConfigError` for anything else (an estimator, a function,
    a dict with non-string keys, a non-finite float), naming ``what``.
    """
    if isinstance(value, np.generic):
        value = value.item()
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        if not np.isfinite(value):
            raise ConfigError(f"{what} is {value!r}; only finite numbers can be saved")
        return value
    if isinstance(value, list | tuple):
        return [json_value(v, f"{what}[{i}]") for i, v in enumerate(value)]
    if isinstance(value, dict):
        bad = [k for k in value if not isinstance(k, str)]
        if bad:
            raise ConfigError(
                f"{what} is a dict with non-string keys ({bad[0]!r}); it cannot be saved as "
                "JSON. Use string keys (e.g. string labels) or leave the setting at its default."
            )
        return {k: json_value(v, f"{what}[{k!r}]") for k, v in value.items()}
    raise ConfigError(
        f"{what} is a {type(value).__name__}; only plain values (numbers, strings, lists, "
        "dicts) can be saved"
    )


def labels_to_json(classes: np.ndarray) -> dict[str, Any]:
    """Class labels as ``{"values": [...], "dtype": "<U3"}`` (JSON scalars, in order)."""
    classes = np.asarray(classes)
    if classes.dtype.kind not in _LABEL_KINDS:
        raise ConfigError(f"labels of dtype {classes.dtype} cannot be saved")
    values = [json_value(v, "label") for v in classes.tolist()]
    if any(isinstance(v, list | dict) for v in values):
        raise ConfigError("labels must be numbers or strings to be saved")
    return {"values": values, "dtype": classes.dtype.str}


def labels_from_json(spec: Any) -> np.ndarray:
    """Inverse of :func:`labels_to_json`: the labels as an array of their saved dtype."""
    if not isinstance(spec, Mapping) or not isinstance(spec.get("values"), list):
        raise _broken("the labels are not a list")
    values = spec["values"]
    if any(not (v is None or isinstance(v, bool | int | float | str)) for v in values):
        raise _broken("a label is not a number or a string")
    try:
        dtype = np.dtype(str(spec.get("dtype", "")))
    except TypeError:
        raise _broken(f"unknown label dtype {spec.get('dtype')!r}") from None
    if dtype.kind not in _LABEL_KINDS:
        raise _broken(f"labels of dtype {dtype} are not allowed")
    if dtype.kind == "O":
        out = np.empty(len(values), dtype=object)
        out[:] = values
        return out
    try:
        out = np.asarray(values, dtype=dtype)
    except (TypeError, ValueError, OverflowError):
        raise _broken(f"the labels do not fit dtype {dtype}") from None
    if out.tolist() != values:  # e.g. a string cut short by a too narrow dtype
        raise _broken(f"the labels do not fit dtype {dtype}")
    return out


# -- arrays ---------------------------------------------------------------------------------------


def _put(out: dict[str, np.ndarray], name: str, value: Any) -> dict[str, Any]:
    """Store ``value`` (array, CSR matrix or list of them) under ``name``; return its layout."""
    if sp.issparse(value):
        csr = value.tocsr()
        for part in ("data", "indices", "indptr"):
            out[f"{name}{SEP}{part}"] = c_order(np.asarray(getattr(csr, part)))
        kind = "csr_array" if isinstance(value, sp.sparray) else "csr_matrix"
        return {"kind": kind, "shape": [int(s) for s in csr.shape]}
    if isinstance(value, list | tuple):
        return {
            "kind": "list",
            "items": [_put(out, f"{name}{SEP}{i}", v) for i, v in enumerate(value)],
        }
    arr = np.asarray(value)
    if arr.dtype.kind not in "biuf":
        raise ConfigError(f"attribute {name} has dtype {arr.dtype}; only numbers can be saved")
    order = "F" if arr.ndim > 1 and arr.flags.f_contiguous and not arr.flags.c_contiguous else "C"
    out[name] = c_order(arr)
    return {"kind": "array", "order": order}


def c_order(arr: np.ndarray) -> np.ndarray:
    """``arr`` in C order (a copy only when needed; unlike ``np.ascontiguousarray``, a 0-d array
    stays 0-d)."""
    return arr if arr.flags.c_contiguous else arr.copy(order="C")


def _get(arrays: Mapping[str, np.ndarray], name: str, layout: Any) -> Any:
    """Inverse of :func:`_put`."""
    if not isinstance(layout, Mapping):
        raise _broken(f"no layout for {name}")
    kind = layout.get("kind")
    if kind == "list":
        items = layout.get("items")
        if not isinstance(items, list):
            raise _broken(f"bad list layout for {name}")
        return [_get(arrays, f"{name}{SEP}{i}", item) for i, item in enumerate(items)]
    if kind in ("csr_matrix", "csr_array"):
        parts = [_array(arrays, f"{name}{SEP}{p}") for p in ("data", "indices", "indptr")]
        shape = layout.get("shape")
        if not (
            isinstance(shape, list) and len(shape) == 2 and all(isinstance(s, int) for s in shape)
        ):
            raise _broken(f"bad shape for {name}")
        cls = sp.csr_array if kind == "csr_array" else sp.csr_matrix
        try:
            out = cls(tuple(parts), shape=tuple(shape))
            out.check_format(full_check=True)
        except (ValueError, TypeError) as exc:
            raise _broken(f"{name} is not a valid sparse matrix ({exc})") from None
        return out
    if kind == "array":
        arr = _array(arrays, name)
        return np.asfortranarray(arr) if layout.get("order") == "F" else arr
    raise _broken(f"unknown layout {kind!r} for {name}")


def _array(arrays: Mapping[str, np.ndarray], name: str) -> np.ndarray:
    if name not in arrays:
        raise _broken(f"array {name!r} is missing")
    arr = arrays[name]
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biuf":
        raise _broken(f"array {name!r} is not numeric")
    return arr


def _names_under(arrays: Iterable[str], prefix: str) -> set[str]:
    return {k for k in arrays if k == prefix or k.startswith(prefix + SEP)}


# -- packing attributes ---------------------------------------------------------------------------


def pack(
    est: Any,
    *,
    arrays: Iterable[str] = (),
    floats: Iterable[str] = (),
    values: Iterable[str] = (),
    estimators: Iterable[str] = (),
) -> HeadState:
    """The state of ``est`` from the attributes it names.

    ``arrays``: ndarray / CSR / list-of-array attributes; ``floats``: float scalars (stored as 0-d
    float64 arrays, so NaN survives); ``values``: bool / int / str / None scalars (in the JSON);
    ``estimators``: fitted sub-estimators (their own states, nested). ``classes_``,
    ``n_features_in_`` and ``feature_names_in_`` are added when ``est`` has them.
    """
    meta: dict[str, Any] = {}
    out: dict[str, np.ndarray] = {}
    if hasattr(est, "classes_"):
        meta["classes"] = labels_to_json(est.classes_)
    if hasattr(est, "n_features_in_"):
        meta["n_features_in"] = int(est.n_features_in_)
    if hasattr(est, "feature_names_in_"):
        meta["feature_names_in"] = [str(n) for n in est.feature_names_in_]
    meta["arrays"] = {name: _put(out, name, getattr(est, name)) for name in arrays}
    for name in floats:
        out[name] = np.asarray(float(getattr(est, name)), dtype=np.float64)
    meta["values"] = {name: json_value(getattr(est, name), name) for name in values}
    subs: dict[str, Any] = {}
    for name in estimators:
        sub = export_state(getattr(est, name))
        subs[name] = sub.meta
        out.update({f"{name}{SEP}{k}": v for k, v in sub.arrays.items()})
    if subs:
        meta["estimators"] = subs
    return HeadState(meta, out)


def unpack(
    est: Any,
    state: HeadState,
    *,
    arrays: Iterable[str] = (),
    floats: Iterable[str] = (),
    values: Iterable[str] = (),
    estimators: Mapping[str, Callable[[], Any]] | None = None,
) -> Any:
    """Set on ``est`` the attributes :func:`pack` saved; returns ``est``.

    ``estimators`` maps each sub-estimator attribute to a function that builds it unfitted (called
    after the plain attributes are set, so it can depend on them); its state is then imported.
    Every named attribute must be in ``state`` and ``state`` must hold nothing else.
    """
    meta, stored = state.meta, state.arrays
    if not isinstance(meta, Mapping):
        raise _broken("its metadata is not a JSON object")
    arrays, floats, values = list(arrays), list(floats), list(values)
    estimators = dict(estimators or {})
    layouts = meta.get("arrays", {})
    if not isinstance(layouts, Mapping) or set(layouts) != set(arrays):
        raise _broken(
            f"{type(est).__name__} expects arrays {sorted(arrays)}, the state has "
            f"{sorted(layouts) if isinstance(layouts, Mapping) else layouts!r}"
        )
    used: set[str] = set()
    for name in arrays:
        setattr(est, name, _get(stored, name, layouts[name]))
        used |= _names_under(stored, name)
    for name in floats:
        arr = _array(stored, name)
        if arr.shape != ():
            raise _broken(f"{name} is not a scalar")
        setattr(est, name, float(arr))
        used.add(name)
    plain = meta.get("values", {})
    if not isinstance(plain, Mapping) or set(plain) != set(values):
        raise _broken(f"{type(est).__name__} expects values {sorted(values)}")
    for name in values:
        value = plain[name]
        if not (value is None or isinstance(value, bool | int | float | str)):
            raise _broken(f"{name} is not a plain value")
        setattr(est, name, value)
    if "classes" in meta:
        est.classes_ = labels_from_json(meta["classes"])
    if "n_features_in" in meta:
        n = meta["n_features_in"]
        if not isinstance(n, int) or isinstance(n, bool) or n < 0:
            raise _broken("n_features_in is not a count")
        est.n_features_in_ = n
    if "feature_names_in" in meta:
        names = meta["feature_names_in"]
        if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
            raise _broken("feature_names_in is not a list of strings")
        est.feature_names_in_ = np.asarray(names, dtype=object)
    subs = meta.get("estimators", {})
    if not isinstance(subs, Mapping) or set(subs) != set(estimators):
        raise _broken(f"{type(est).__name__} expects sub-estimators {sorted(estimators)}")
    for name, build in estimators.items():
        if not isinstance(subs[name], Mapping):
            raise _broken(f"the state of {name} is not a JSON object")
        prefix = f"{name}{SEP}"
        sub_arrays = {k[len(prefix) :]: v for k, v in stored.items() if k.startswith(prefix)}
        setattr(est, name, import_state(build(), HeadState(dict(subs[name]), sub_arrays)))
        used |= {k for k in stored if k.startswith(prefix)}
    extra = sorted(set(stored) - used)
    if extra:
        raise _broken(f"unexpected arrays {extra[:5]} for {type(est).__name__}")
    return est


# -- dispatch -------------------------------------------------------------------------------------

_Exporter = Callable[[Any], HeadState]
_Importer = Callable[[Any, HeadState], Any]
_ADAPTERS: dict[type, tuple[_Exporter, _Importer]] = {}


def export_state(est: Any) -> HeadState:
    """The learned state of a fitted head (or of one of the estimators a head is made of).

    Raises a :class:`~littledata.errors.ConfigError` for an estimator that has no state protocol
    (e.g. a plain scikit-learn model passed to the active learner by object).
    """
    if hasattr(est, "get_fitted_state"):
        return est.get_fitted_state()  # type: ignore[no-any-return]
    adapters = _adapters()
    if type(est) in adapters:
        return adapters[type(est)][0](est)
    raise ConfigError(
        f"{type(est).__name__} cannot be saved: only the registered heads "
        "(littledata.heads.HEADS) and the estimators they are made of can"
    )


def import_state(est: Any, state: HeadState) -> Any:
    """Restore ``state`` into ``est``, an unfitted estimator of the same construction; returns it.

    Raises :class:`~littledata.errors.ArtifactError` when the state does not fit ``est`` (other
    attributes, other sub-estimators, other pipeline steps).
    """
    if hasattr(est, "set_fitted_state"):
        return est.set_fitted_state(state)
    adapters = _adapters()
    if type(est) in adapters:
        return adapters[type(est)][1](est, state)
    raise ConfigError(f"{type(est).__name__} cannot be restored from a saved state")


# -- adapters for the scikit-learn estimators heads are made of ------------------------------------


def _pipeline_get(pipe: Any) -> HeadState:
    names = [name for name, _ in pipe.steps]
    sub = pack(_Steps(pipe), estimators=names)
    return HeadState({**sub.meta, "steps": names}, sub.arrays)


def _pipeline_set(pipe: Any, state: HeadState) -> Any:
    names = [name for name, _ in pipe.steps]
    if state.meta.get("steps") != names:
        raise _broken(f"pipeline steps {state.meta.get('steps')!r}, expected {names!r}")
    holder = _Steps(pipe)
    meta = {k: v for k, v in state.meta.items() if k != "steps"}
    unpack(holder, HeadState(meta, state.arrays), estimators={n: holder.step(n) for n in names})
    return pipe


class _Steps:
    """Exposes a pipeline's steps as attributes, so :func:`pack` / :func:`unpack` can nest them."""

    def __init__(self, pipe: Any) -> None:
        self.__dict__["_pipe"] = pipe

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["_pipe"].named_steps[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        # steps are restored in place; a pipeline has no learned attributes of its own
        if value is not self._pipe.named_steps.get(name):
            raise RuntimeError(f"cannot set {name!r} on a pipeline's steps")

    def step(self, name: str) -> Callable[[], Any]:
        return lambda: self._pipe.named_steps[name]


def _encode_strings(values: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Strings as one uint8 array of their UTF-8 bytes and int64 end offsets."""
    encoded = [v.encode("utf-8", "surrogatepass") for v in values]
    ends = np.cumsum([len(b) for b in encoded], dtype=np.int64)
    return np.frombuffer(b"".join(encoded), dtype=np.uint8).copy(), ends


def _decode_strings(data: np.ndarray, ends: np.ndarray) -> list[str]:
    if data.dtype != np.uint8 or ends.dtype != np.int64 or data.ndim != 1 or ends.ndim != 1:
        raise _broken("the vocabulary is not UTF-8 bytes with int64 offsets")
    if len(ends) and (ends[-1] != len(data) or np.any(np.diff(ends) < 0) or ends[0] < 0):
        raise _broken("the vocabulary offsets do not match its bytes")
    raw = data.tobytes()
    starts = np.r_[0, ends[:-1]] if len(ends) else ends
    try:
        return [
            raw[s:e].decode("utf-8", "surrogatepass") for s, e in zip(starts, ends, strict=True)
        ]
    except UnicodeDecodeError:
        raise _broken("the vocabulary is not valid UTF-8") from None


def _tfidf_vectorizer_get(vec: Any) -> HeadState:
    terms = sorted(vec.vocabulary_, key=vec.vocabulary_.__getitem__)
    if [vec.vocabulary_[t] for t in terms] != list(range(len(terms))):
        raise ConfigError("the tf-idf vocabulary's columns are not 0..n-1; it cannot be saved")
    data, ends = _encode_strings(terms)
    state = pack(vec, values=("fixed_vocabulary_",), estimators=())
    sub = export_state(vec._tfidf)
    arrays = {"vocabulary_/utf8": data, "vocabulary_/ends": ends}
    arrays.update({f"_tfidf{SEP}{k}": v for k, v in sub.arrays.items()})
    return HeadState({**state.meta, "vocabulary": len(terms), "tfidf": sub.meta}, arrays)


def _tfidf_vectorizer_set(vec: Any, state: HeadState) -> Any:
    from sklearn.feature_extraction.text import TfidfTransformer

    meta = dict(state.meta)
    n_terms, sub_meta = meta.pop("vocabulary", None), meta.pop("tfidf", None)
    arrays = dict(state.arrays)
    terms = _decode_strings(_array(arrays, "vocabulary_/utf8"), _array(arrays, "vocabulary_/ends"))
    if len(terms) != n_terms or len(set(terms)) != len(terms):
        raise _broken("the tf-idf vocabulary has the wrong size or repeated terms")
    del arrays["vocabulary_/utf8"], arrays["vocabulary_/ends"]
    prefix = f"_tfidf{SEP}"
    sub_arrays = {k[len(prefix) :]: arrays.pop(k) for k in list(arrays) if k.startswith(prefix)}
    unpack(vec, HeadState(meta, arrays), values=("fixed_vocabulary_",))
    vec.vocabulary_ = {t: i for i, t in enumerate(terms)}
    tfidf = TfidfTransformer(
        norm=vec.norm, use_idf=vec.use_idf, smooth_idf=vec.smooth_idf, sublinear_tf=vec.sublinear_tf
    )
    if not isinstance(sub_meta, Mapping):
        raise _broken("the tf-idf weights are missing")
    vec._tfidf = import_state(tfidf, HeadState(dict(sub_meta), sub_arrays))
    return vec


def _tfidf_transformer_get(t: Any) -> HeadState:
    return pack(t, arrays=("idf_",) if hasattr(t, "idf_") else ())


def _tfidf_transformer_set(t: Any, state: HeadState) -> Any:
    return unpack(t, state, arrays=("idf_",) if t.use_idf else ())


_LOGREG = {"arrays": ("coef_", "intercept_", "n_iter_")}
_LINEAR_SVC = {"arrays": ("coef_", "intercept_"), "values": ("n_iter_",)}


def _calibrated_get(ccv: Any) -> HeadState:
    parts = [_CalibratedParts(c) for c in ccv.calibrated_classifiers_]
    state = pack(ccv)
    arrays = dict(state.arrays)
    metas = []
    for i, part in enumerate(parts):
        sub = pack(
            part, arrays=("classes", "a_", "b_"), values=("method",), estimators=("estimator",)
        )
        metas.append(sub.meta)
        arrays.update(
            {f"calibrated_classifiers_{SEP}{i}{SEP}{k}": v for k, v in sub.arrays.items()}
        )
    return HeadState({**state.meta, "calibrated_classifiers": metas}, arrays)


def _calibrated_set(ccv: Any, state: HeadState) -> Any:
    from sklearn.base import clone
    from sklearn.calibration import _CalibratedClassifier, _SigmoidCalibration

    if ccv.method != "sigmoid":
        raise ConfigError("only sigmoid (Platt) calibration can be restored")
    meta = dict(state.meta)
    metas = meta.pop("calibrated_classifiers", None)
    if not isinstance(metas, list) or not metas:
        raise _broken("no calibrated classifiers")
    arrays = dict(state.arrays)
    ccv.calibrated_classifiers_ = []
    for i, sub_meta in enumerate(metas):
        prefix = f"calibrated_classifiers_{SEP}{i}{SEP}"
        sub_arrays = {k[len(prefix) :]: arrays.pop(k) for k in list(arrays) if k.startswith(prefix)}
        part = _CalibratedParts(None)
        unpack(
            part,
            HeadState(dict(sub_meta), sub_arrays),
            arrays=("classes", "a_", "b_"),
            values=("method",),
            estimators={"estimator": lambda: clone(ccv.estimator)},
        )
        if part.method != "sigmoid" or len(part.a_) != len(part.b_):
            raise _broken("a calibrator is not a sigmoid per class")
        calibrators = []
        for a, b in zip(part.a_, part.b_, strict=True):
            cal = _SigmoidCalibration()
            cal.a_, cal.b_ = a, b  # np.float64, as fitted
            calibrators.append(cal)
        ccv.calibrated_classifiers_.append(
            _CalibratedClassifier(
                part.estimator, calibrators, classes=part.classes, method="sigmoid"
            )
        )
    unpack(ccv, HeadState(meta, arrays))
    return ccv


class _CalibratedParts:
    """The fitted pieces of one ``sklearn.calibration._CalibratedClassifier`` (sigmoid method)."""

    def __init__(self, fitted: Any) -> None:
        if fitted is None:
            return
        self.estimator = fitted.estimator
        self.classes = np.asarray(fitted.classes)
        self.method = fitted.method
        self.a_ = np.array([c.a_ for c in fitted.calibrators], dtype=np.float64)
        self.b_ = np.array([c.b_ for c in fitted.calibrators], dtype=np.float64)


def _attributes_adapter(spec: Mapping[str, tuple[str, ...]]) -> tuple[_Exporter, _Importer]:
    return (lambda est: pack(est, **spec)), (lambda est, state: unpack(est, state, **spec))


def _adapters() -> dict[type, tuple[_Exporter, _Importer]]:
    """The adapters, built on first use (keeps scikit-learn's submodules out of import time)."""
    if not _ADAPTERS:
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.feature_extraction.text import TfidfTransformer, TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import Pipeline
        from sklearn.svm import LinearSVC

        _ADAPTERS.update(
            {
                Pipeline: (_pipeline_get, _pipeline_set),
                TfidfVectorizer: (_tfidf_vectorizer_get, _tfidf_vectorizer_set),
                TfidfTransformer: (_tfidf_transformer_get, _tfidf_transformer_set),
                LogisticRegression: _attributes_adapter(_LOGREG),
                LinearSVC: _attributes_adapter(_LINEAR_SVC),
                CalibratedClassifierCV: (_calibrated_get, _calibrated_set),
            }
        )
    return _ADAPTERS
