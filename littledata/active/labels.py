"""The label state of an active-learning session: what is labeled, handed out and skipped.

:class:`LabelState` is the part of a session that a person (or a web page driving one) changes:

- **labeled** rows, in the order they were taught, each with its label (an index into the label
  set; for a multi-label session, the set of its labels' indices; for sequence labeling, the
  tag index of each word) and the round in which it was taught;
- the **pending** batch: rows a query handed out and nobody has answered yet. ``teach`` removes
  taught rows from it; with ``only_pending=True`` it refuses rows that were not handed out (a
  stale or foreign row id from a page), so a label can only answer a question that was asked;
- **skipped** rows: handed out and set aside (a person was not sure). They are not labeled and
  are not offered again by queries until :meth:`LabelState.unskip`.

It round-trips through JSON (:meth:`LabelState.to_json`, :meth:`LabelState.from_json`) and checks
every batch completely before it changes anything.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import Any

import numpy as np

from littledata.errors import ConfigError, DataFormatError

__all__ = ["LabelState", "check_label_set", "jsonable"]


def jsonable(value: Any) -> Any:
    """A numpy scalar as the plain Python value (labels are saved as JSON)."""
    if isinstance(value, np.generic):
        return value.item()
    return value


def check_label_set(classes: Sequence[Hashable] | None) -> list[Any]:
    """The label set as a list of strings or integers (ConfigError when it is unusable)."""
    if classes is None:
        raise ConfigError(
            "ActiveLearner needs the label set: pass classes=[...] (every label a person may "
            "give), or use ActiveLearner.from_dataset(...) which reads it from the dataset."
        )
    out = [jsonable(c) for c in classes]
    if len(out) < 2:
        raise ConfigError(f"classes needs at least two labels, got {out}.")
    if len(set(out)) != len(out):
        raise ConfigError(f"classes holds a label twice: {out}.")
    for c in out:
        if not isinstance(c, (str, int)) or isinstance(c, bool):
            raise ConfigError(
                f"Labels must be strings or integers (saved as JSON), got {c!r} "
                f"({type(c).__name__})."
            )
    return out


class LabelState:
    """Labels, the pending batch and skipped rows of a pool of ``n_pool`` rows.

    Parameters
    ----------
    classes: the label set (strings or integers); every label given must be one of them.
    n_pool: the number of pool rows; rows are ``0 .. n_pool - 1``.
    kind: what an example's label is: ``"one"`` (a label from ``classes``), ``"set"``
        (multi-label: a list of labels from ``classes``, possibly empty; :attr:`codes` is a 0/1
        matrix, a column per class) or ``"sequence"`` (sequence labeling: a tag from ``classes``
        per word, in order; :attr:`codes` is the padded tag matrix of
        :func:`~littledata.tasks.sequence_labeling.pad_tags`).
    """

    KINDS = ("one", "set", "sequence")

    def __init__(self, classes: Sequence[Hashable], n_pool: int, *, kind: str = "one") -> None:
        self.classes: list[Any] = check_label_set(classes)
        self.n_pool = int(n_pool)
        if kind not in self.KINDS:
            raise ConfigError(f"kind must be one of {', '.join(self.KINDS)}, got {kind!r}.")
        self.kind = kind
        self.multi = kind != "one"
        """Whether an example's label is a list (of labels, or of word tags)."""
        self._code = {c: i for i, c in enumerate(self.classes)}
        self._is_labeled = np.zeros(self.n_pool, dtype=bool)
        self._labeled: list[int] = []
        self._codes: list[Any] = []  # an int per row; a tuple of ints when multi
        self._rounds: list[int] = []
        self.pending: dict[int, int] = {}
        """Rows handed out and not answered yet -> the round that handed them out."""
        self.skipped: dict[int, int] = {}
        """Rows set aside -> the round they were handed out in."""

    # -- reading --------------------------------------------------------------------------------

    @property
    def n_labeled(self) -> int:
        """Number of labeled rows."""
        return len(self._labeled)

    @property
    def labeled_indices(self) -> np.ndarray:
        """Labeled rows, in the order they were taught."""
        return np.asarray(self._labeled, dtype=np.int64)

    @property
    def codes(self) -> np.ndarray:
        """Labels of :attr:`labeled_indices` as indices into :attr:`classes`; for a multi-label
        state a 0/1 ``uint8`` matrix (labeled rows x classes)."""
        if self.kind == "sequence":
            from littledata.tasks.sequence_labeling import pad_tags

            return pad_tags(self._codes)
        if self.multi:
            out = np.zeros((len(self._codes), len(self.classes)), dtype=np.uint8)
            for i, codes in enumerate(self._codes):
                out[i, list(codes)] = 1
            return out
        return np.asarray(self._codes, dtype=np.int64)

    def _value(self, code: Any) -> Any:
        """A stored code as the label a person gave (a list of labels when multi)."""
        if self.multi:
            return [self.classes[c] for c in code]
        return self.classes[code]

    @property
    def labels(self) -> list[Any]:
        """Labels of :attr:`labeled_indices` (values from :attr:`classes`; lists when multi)."""
        return [self._value(c) for c in self._codes]

    @property
    def rounds(self) -> list[int]:
        """The round each labeled row was taught in (-1: before the first query)."""
        return list(self._rounds)

    def is_labeled(self, row: int) -> bool:
        """Whether pool row ``row`` has a label."""
        return bool(self._is_labeled[row])

    def unlabeled_indices(self, *, include_skipped: bool = False) -> np.ndarray:
        """Rows without a label, ascending; skipped rows only with ``include_skipped``."""
        free = ~self._is_labeled
        if self.skipped and not include_skipped:
            free = free.copy()
            free[list(self.skipped)] = False
        return np.flatnonzero(free)

    def n_labeled_classes(self) -> int:
        """How many classes have at least one label."""
        if self.multi:
            return len({c for codes in self._codes for c in codes})
        return len(set(self._codes))

    def model_ready(self) -> bool:
        """Whether the labels can teach a head anything: two classes labeled, or for a
        multi-label state a class that some labeled rows have and others lack."""
        if self.kind != "set":
            return self.n_labeled_classes() >= 2
        y = self.codes
        return bool(len(y)) and bool((y.min(axis=0) != y.max(axis=0)).any())

    def counts(self) -> dict[Any, int]:
        """Labels so far per class (every class of the label set, in its order)."""
        if self.kind == "sequence":
            flat = [c for codes in self._codes for c in codes]
            tally = np.bincount(np.asarray(flat, dtype=np.int64), minlength=len(self.classes))
            return {c: int(n) for c, n in zip(self.classes, tally, strict=True)}
        if self.multi:
            tally = self.codes.sum(axis=0) if self._codes else np.zeros(len(self.classes), int)
            return {c: int(n) for c, n in zip(self.classes, tally, strict=True)}
        tally = np.bincount(np.asarray(self._codes, dtype=np.int64), minlength=len(self.classes))
        return {c: int(n) for c, n in zip(self.classes, tally, strict=True)}

    # -- checks ---------------------------------------------------------------------------------

    def codes_of(self, labels: Sequence[Any]) -> list[Any]:
        """Label-set indices of ``labels`` (DataFormatError for a label outside the set); for a
        multi-label state each label is a list of labels, and its code a sorted tuple."""
        if self.multi:
            out_sets: list[Any] = []
            for item in labels:
                if isinstance(item, (str, int, np.integer)) or not hasattr(item, "__iter__"):
                    what = (
                        "a list of labels (possibly empty)"
                        if self.kind == "set"
                        else "a list of tags, one per word"
                    )
                    task = "multi-label" if self.kind == "set" else "sequence labeling"
                    raise DataFormatError(
                        f"This session is {task}: each example's label is {what}, e.g. "
                        f"[{item!r}]; got {item!r}."
                    )
                codes = self._codes_one(list(item))
                out_sets.append(tuple(codes if self.kind == "sequence" else sorted(set(codes))))
            return out_sets
        return self._codes_one(labels)

    def _codes_one(self, labels: Sequence[Any]) -> list[int]:
        out = []
        for label in labels:
            label = jsonable(label)
            try:
                if isinstance(label, bool):  # True == 1 in Python; a label set holds no booleans
                    raise KeyError(label)
                out.append(self._code[label])
            except (KeyError, TypeError):
                raise DataFormatError(
                    f"Label {label!r} is not in the label set {self.classes}; use one of them "
                    "(or start a learner whose classes include it)."
                ) from None
        return out

    def check_rows(self, rows: Sequence[int]) -> list[int]:
        """``rows`` as ints, each inside the pool (DataFormatError otherwise)."""
        out = []
        for r in rows:
            if isinstance(r, bool) or not isinstance(r, (int, np.integer)):
                raise DataFormatError(f"A pool row is an integer, got {r!r} ({type(r).__name__}).")
            if not 0 <= int(r) < self.n_pool:
                raise DataFormatError(
                    f"Index {int(r)} is outside the pool (rows 0..{self.n_pool - 1})."
                )
            out.append(int(r))
        return out

    def _check_pending(self, rows: Sequence[int]) -> None:
        stale = [r for r in rows if r not in self.pending]
        if stale:
            raise DataFormatError(
                f"Example {stale[0]} was not handed out by the last query (or was answered or "
                "skipped already); label the examples the learner asked for."
            )

    # -- changing -------------------------------------------------------------------------------

    def hand_out(self, rows: Sequence[int], round_: int) -> None:
        """Record a query's batch as pending (replacing the previous pending batch)."""
        self.pending = {int(r): int(round_) for r in rows}

    def teach(
        self, rows: Sequence[int], labels: Sequence[Any], round_: int, *, only_pending: bool = False
    ) -> None:
        """Label ``rows``; the whole batch is checked first (see :meth:`ActiveLearner.teach`)."""
        if len(rows) == 0:
            raise ConfigError("Nothing to teach: the batch is empty (batch size 0).")
        if len(rows) != len(labels):
            raise DataFormatError(
                f"{len(rows)} examples but {len(labels)} labels; give one label per example."
            )
        rows = self.check_rows(rows)
        codes = self.codes_of(labels)
        seen: set[int] = set()
        for r in rows:
            if self._is_labeled[r]:
                old = self._value(self._codes[self._labeled.index(r)])
                raise DataFormatError(
                    f"Example {r} is already labeled ({old!r}); each example is taught once. "
                    "Use relabel() to change a label."
                )
            if r in seen:
                raise DataFormatError(f"Example {r} appears twice in this batch; teach it once.")
            seen.add(r)
        if only_pending:
            self._check_pending(rows)
        for r, c in zip(rows, codes, strict=True):
            self._labeled.append(r)
            self._codes.append(c)
            self._rounds.append(int(round_))
            self._is_labeled[r] = True
            self.pending.pop(r, None)
            self.skipped.pop(r, None)

    def relabel(self, rows: Sequence[int], labels: Sequence[Any]) -> None:
        """Change the labels of rows taught before (a person's correction)."""
        if len(rows) != len(labels):
            raise DataFormatError(f"{len(rows)} examples but {len(labels)} labels.")
        rows = self.check_rows(rows)
        codes = self.codes_of(labels)
        for r in rows:
            if not self._is_labeled[r]:
                raise DataFormatError(f"Example {r} is not labeled yet; use teach() for it.")
        position = {r: k for k, r in enumerate(self._labeled)}
        for r, c in zip(rows, codes, strict=True):
            self._codes[position[r]] = c

    def skip(self, rows: Sequence[int]) -> None:
        """Set pending rows aside: they stay unlabeled and queries stop offering them."""
        rows = self.check_rows(rows)
        self._check_pending(rows)
        for r in rows:
            self.skipped[r] = self.pending.pop(r)

    def unskip(self, rows: Sequence[int] | None = None) -> None:
        """Offer skipped rows (all of them by default) to queries again."""
        for r in self.check_rows(list(self.skipped) if rows is None else rows):
            self.skipped.pop(r, None)

    def undo(self) -> tuple[int, Any]:
        """Remove the last label taught and return ``(row, label)``; the row is pending again."""
        if not self._labeled:
            raise ConfigError("Nothing to undo: no example is labeled.")
        row, code, round_ = self._labeled.pop(), self._codes.pop(), self._rounds.pop()
        self._is_labeled[row] = False
        self.pending[row] = max(round_, 0)
        return row, self._value(code)

    # -- JSON -----------------------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """The state as JSON-able data (labels by name, not by index)."""
        return {
            "labeled": [
                [r, self._value(c), k]
                for r, c, k in zip(self._labeled, self._codes, self._rounds, strict=True)
            ],
            "pending": [[r, k] for r, k in self.pending.items()],
            "skipped": [[r, k] for r, k in self.skipped.items()],
        }

    @classmethod
    def from_json(
        cls,
        data: Mapping[str, Any],
        classes: Sequence[Hashable],
        n_pool: int,
        *,
        kind: str = "one",
    ) -> LabelState:
        """Rebuild a state written by :meth:`to_json` (every row and label checked)."""
        state = cls(classes, n_pool, kind=kind)
        try:
            for row, label, round_ in data.get("labeled", []):
                (r,) = state.check_rows([row])
                if state._is_labeled[r]:
                    raise DataFormatError(f"Example {r} is labeled twice in the saved session.")
                state._labeled.append(r)
                state._codes.append(state.codes_of([label])[0])
                state._rounds.append(int(round_))
                state._is_labeled[r] = True
            for key in ("pending", "skipped"):
                for row, round_ in data.get(key, []):
                    (r,) = state.check_rows([row])
                    getattr(state, key)[r] = int(round_)
        except (TypeError, ValueError) as exc:
            raise DataFormatError(f"The saved labels are malformed: {exc}") from None
        return state
