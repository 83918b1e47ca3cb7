"""Labels that remember their names, so integer labels from different files cannot be mixed up.

A dataset stores single-label targets as integer indices into its ``label_names``. Two files loaded
one by one get two vocabularies: train ``cat, dog, emu`` is ``0, 1, 2``, a test file with only
``dog, emu`` is ``0, 1``, and comparing the integers scores ``dog`` against ``cat``. So the labels
of every :class:`~littledata.datasets.base.Dataset` split are a :class:`LabelArray`: an ``int64``
array (it indexes, counts and saves like one) that carries its ``label_names``. Wherever labels
cross from one part to another, names are compared, not integers:

- a head fitted on a ``LabelArray`` learns the names: its ``classes_`` and ``predict`` are label
  names (:func:`named` in ``check_fit_input``);
- :func:`~littledata.experiments.metrics.compute_metrics` compares names (:func:`align`) and
  refuses to compare label names with bare integers, whose vocabulary it cannot know;
- ``labels_a == labels_b`` compares names when the two vocabularies differ, and
  :func:`numpy.concatenate` refuses labels of different vocabularies;
- the active learner turns taught ``LabelArray`` labels into names before checking them against
  its label set.

A saved model keeps ``classes_`` (names) and can check labels it is given with :func:`align`.
Loading a train and a test file together (``load_dataset(train=..., test=...)``) gives both one
vocabulary in the first place.

Why not ``pandas.Categorical``: it carries codes and categories too, but ``numpy.asarray`` of it
gives the names, so every integer use of the labels (counting, sampling, indexing) would change.

>>> y = LabelArray([2, 0], ["cat", "dog", "emu"])
>>> y.names().tolist(), y.tolist()
(['emu', 'cat'], [2, 0])
>>> bool((y == LabelArray([1, 0], ["cat", "emu"]))[0])  # emu == emu, by name
True
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from littledata.errors import DataFormatError


class LabelVocabularyError(DataFormatError):
    """Labels encoded with one vocabulary met labels (or classes) whose vocabulary is unknown
    or different, where comparing them would silently give wrong answers."""


class LabelArray(np.ndarray):
    """``int64`` label indices that carry their ``label_names`` (the vocabulary, index order).

    Slicing and fancy indexing keep the names; arithmetic and reductions give plain arrays;
    ``numpy.asarray`` gives the plain indices. ``==`` and ``!=`` compare names when the other
    side is a ``LabelArray`` with other names, or strings.
    """

    label_names: tuple[str, ...]

    def __new__(cls, indices: Any, label_names: Sequence[str]) -> LabelArray:
        arr = np.asarray(indices)
        if arr.size and arr.dtype.kind not in "iu":
            raise DataFormatError(f"label indices must be integers; got dtype {arr.dtype}")
        names = tuple(str(n) for n in label_names)
        if len(set(names)) != len(names):
            raise DataFormatError(f"label names must be distinct; got {list(names)}")
        arr = arr.astype(np.int64, copy=False)
        if arr.size and (arr.min() < 0 or arr.max() >= len(names)):
            raise DataFormatError(
                f"label indices must lie in 0..{len(names) - 1} (one per label name); "
                f"got {int(arr.min())}..{int(arr.max())}"
            )
        obj = arr.view(cls)
        obj.label_names = names
        return obj

    def __array_finalize__(self, obj: Any) -> None:
        self.label_names = getattr(obj, "label_names", ())

    def names(self) -> np.ndarray:
        """Each row's label name (a string array of the same shape)."""
        table = np.array(self.label_names, dtype=str)
        return table[np.asarray(self)] if len(table) else np.asarray(self).astype(str)

    def __array_ufunc__(self, ufunc: Any, method: str, *inputs: Any, **kwargs: Any) -> Any:
        if ufunc in (np.equal, np.not_equal) and method == "__call__" and len(inputs) == 2:
            a, b = inputs
            if _compare_by_name(a, b):
                return ufunc(named(a), named(b), **kwargs)
        plain = tuple(np.asarray(x) if isinstance(x, LabelArray) else x for x in inputs)
        if "out" in kwargs:
            kwargs["out"] = tuple(
                np.asarray(x) if isinstance(x, LabelArray) else x for x in kwargs["out"]
            )
        return getattr(ufunc, method)(*plain, **kwargs)

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        if func is np.concatenate:
            parts = args[0] if args else kwargs.get("arrays", ())
            vocabularies = {vocabulary(p) for p in parts}
            if len(vocabularies) > 1:
                raise LabelVocabularyError(
                    "Cannot concatenate labels encoded with different label names "
                    f"({_show(vocabularies)}): their integers mean different labels. Load the "
                    "files together (load_dataset(train=..., test=...) or a list of files) so "
                    "they share one vocabulary, or concatenate their .names()."
                )
            out = super().__array_function__(func, types, args, kwargs)
            names = vocabularies.pop()
            return LabelArray(out, names) if names is not None else np.asarray(out)
        return super().__array_function__(func, types, args, kwargs)

    def __reduce__(self) -> Any:
        ctor, args, state = super().__reduce__()  # type: ignore[misc]
        return ctor, args, (state, self.label_names)

    def __setstate__(self, state: Any) -> None:
        inner, self.label_names = state
        super().__setstate__(inner)

    def __repr__(self) -> str:
        return f"LabelArray({np.asarray(self).tolist()!r}, label_names={list(self.label_names)!r})"


def vocabulary(y: Any) -> tuple[str, ...] | None:
    """The label names ``y`` carries (a :class:`LabelArray`), else ``None``."""
    return y.label_names if isinstance(y, LabelArray) else None


def named(y: Any) -> np.ndarray:
    """``y`` as label names when it carries them, else ``numpy.asarray(y)`` unchanged."""
    return y.names() if isinstance(y, LabelArray) else np.asarray(y)


def as_names(y: Any) -> Any:
    """``y``'s label names when it carries them, else ``y`` itself, unchanged (a list stays a
    list, a scalar a scalar)."""
    return y.names() if isinstance(y, LabelArray) else y


def _compare_by_name(a: Any, b: Any) -> bool:
    va, vb = vocabulary(a), vocabulary(b)
    if va is not None and vb is not None:
        return va != vb
    other = b if va is not None else a
    return _kind(np.asarray(other)) == "names"


def _kind(values: np.ndarray) -> str:
    """``"names"`` (strings), ``"numbers"`` (integers, floats, booleans) or ``"other"``."""
    if values.dtype.kind in "US":
        return "names"
    if values.dtype.kind in "biuf":
        return "numbers"
    if values.dtype.kind == "O" and values.size:
        items = values.ravel().tolist()
        if all(isinstance(v, str) for v in items):
            return "names"
        if all(isinstance(v, (int, float, np.number)) for v in items):
            return "numbers"
    return "other"


def _show(vocabularies: Any) -> str:
    def one(v: tuple[str, ...] | None) -> str:
        if v is None:
            return "bare integers"
        shown = ", ".join(v[:6]) + (", ..." if len(v) > 6 else "")
        return f"[{shown}]"

    return " vs ".join(sorted(one(v) for v in vocabularies))


def align(y_true: Any, classes: Any) -> tuple[np.ndarray, np.ndarray]:
    """``(y_true, classes)`` made comparable: label names wherever one side carries them.

    Labels that carry names (a :class:`LabelArray`) become names; so do ``classes`` that carry
    them. Then names are compared with names and integers with integers; names against bare
    integers raise :class:`LabelVocabularyError`: the integers' vocabulary is unknown, and
    guessing it is how a test file missing a class gets scored against the wrong labels.

    >>> y, c = align(LabelArray([1, 2], ["cat", "dog", "emu"]), ["dog", "emu"])
    >>> y.tolist(), c.tolist()
    (['dog', 'emu'], ['dog', 'emu'])
    """
    y, c = named(y_true), named(classes)
    ky, kc = _kind(y), _kind(c)
    if {ky, kc} == {"names", "numbers"}:
        if ky == "names":
            where = (
                "y_true carries label names"
                if vocabulary(y_true) is not None
                else "y_true holds label names"
            )
            raise LabelVocabularyError(
                f"{where} ({', '.join(map(str, np.unique(y)[:5]))}, ...) but the classes are "
                f"integers ({', '.join(map(str, c[:5]))}, ...) whose label names are unknown: "
                "they may index another file's vocabulary. Fit the head on labels that keep "
                "their names (a dataset split's labels, or the names themselves), or, if you "
                "know both use one encoding, compare integers with numpy.asarray(y_true)."
            )
        raise LabelVocabularyError(
            f"y_true holds integers ({', '.join(map(str, np.unique(y)[:5]))}, ...) whose label "
            f"names are unknown, but the classes are label names "
            f"({', '.join(map(str, c[:5]))}, ...). Pass labels that keep their names (a dataset "
            "split's labels, LabelArray(indices, label_names), or the names themselves)."
        )
    return y, c


__all__ = ["LabelArray", "LabelVocabularyError", "align", "as_names", "named", "vocabulary"]
