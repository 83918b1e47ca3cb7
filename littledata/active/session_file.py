"""Reading an :class:`~littledata.active.learner.ActiveLearner` session file safely.

A session file is plain JSON that anyone may hand over, so it is checked key by key before
anything is built from it, and it can only *select* among registered names:

- the head by its registry name, with parameters checked against that head's constructor
  (:mod:`littledata.heads.saved`); no module, class or function named in the file is imported
  or called;
- the query strategies by their registry names, with the parameters their constructors take;
- the featurizer by a registered name, a sentence-transformers model id or a local model folder
  (a model folder's weights are read as data, never as code).

Anything else (an unknown key, a value of the wrong type, a label row outside the pool) is a
:class:`~littledata.errors.DataFormatError` or :class:`~littledata.errors.ConfigError` naming
the file.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from littledata.errors import ConfigError, DataFormatError, LittleDataError

__all__ = ["FORMAT", "FORMAT_VERSION", "head_from_session", "read_session", "strategy_from_session"]

FORMAT = "littledata-active-learner"
FORMAT_VERSION = 2
"""1: labels and history; 2: adds the pending batch, skipped rows and the head's search state."""

_REQUIRED = ("format", "head", "strategy", "cold_start", "seed", "classes", "pool", "labeled")
_OPTIONAL = (
    "version",
    "task",
    "featurizer",
    "round",
    "retune_growth",
    "tuned",
    "search",
    "pending",
    "skipped",
    "history",
)
_POOL_KEYS = (
    "source",
    "n",
    "texts",
    "dataset",
    "split",
    "texts_fingerprint",
    "features_sha256",
)
_RECOVER_HEAD = (
    "To resume the session anyway, pass head=... to ActiveLearner.load() (an unfitted "
    "estimator, e.g. make_head('logreg'))."
)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_label(value: Any) -> bool:
    return isinstance(value, str) or _is_int(value)


def _is_label_list(value: Any) -> bool:
    return isinstance(value, list) and all(_is_label(v) for v in value)


def read_session(path: str | Path) -> dict[str, Any]:
    """Read and check the session file at ``path``; return its state (a dict).

    Raises
    ------
    DataFormatError: the file is missing, not UTF-8 JSON, not a session, written by a newer
        littledata, or a key is unknown, missing or of the wrong type.
    """
    path = Path(path)
    try:
        text = path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        raise DataFormatError(f"No saved session at {path}.") from None
    except IsADirectoryError:
        raise DataFormatError(f"{path} is a folder, not a saved session.") from None
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path} is not a saved session (not UTF-8 text: {exc}).") from None
    except OSError as exc:
        raise DataFormatError(f"Cannot read the session file {path}: {exc.strerror}.") from None
    try:
        state = json.loads(text)
    except json.JSONDecodeError as exc:
        raise DataFormatError(f"{path} is not a saved session (invalid JSON: {exc}).") from None
    if not isinstance(state, dict) or state.get("format") != FORMAT:
        raise DataFormatError(f"{path} is not an ActiveLearner session file.")
    version = state.get("version", 0)
    if not _is_int(version):
        raise DataFormatError(f"{path}: 'version' must be an integer, got {version!r}.")
    if version > FORMAT_VERSION:
        raise DataFormatError(
            f"{path} was written by a newer littledata (format {version}); upgrade."
        )
    _check_state(state, path)
    return state


def _check_state(state: Mapping[str, Any], path: Path) -> None:
    def bad(what: str) -> DataFormatError:
        return DataFormatError(f"{path} is not a valid session file: {what}.")

    unknown = sorted(set(state) - {*_REQUIRED, *_OPTIONAL})
    if unknown:
        raise bad(f"unknown key(s) {', '.join(map(repr, unknown))}")
    missing = [k for k in _REQUIRED if k not in state]
    if missing:
        raise bad(f"missing key(s) {', '.join(map(repr, missing))}")
    fz = state.get("featurizer")
    if fz is not None:
        if not isinstance(fz, dict) or set(fz) - {"name", "options", "fingerprint"}:
            raise bad("'featurizer' must be null or {name, options, fingerprint}")
        if not isinstance(fz.get("name"), (str, type(None))):
            raise bad("the featurizer's 'name' must be a string")
        if not isinstance(fz.get("options") or {}, dict):
            raise bad("the featurizer's 'options' must be an object")
        if not isinstance(fz.get("fingerprint"), (str, type(None))):
            raise bad("the featurizer's 'fingerprint' must be a string")
    if not isinstance(state["head"], dict):
        raise bad("'head' must be an object")
    for key in ("strategy", "cold_start"):
        spec = state[key]
        if not isinstance(spec, dict) or not isinstance(spec.get("name"), str):
            raise bad(f"{key!r} must be an object with a 'name'")
        if not isinstance(spec.get("params", {}), dict) or set(spec) - {"name", "params"}:
            raise bad(f"{key!r} must be {{name, params}} with params an object")
    if not _is_int(state["seed"]):
        raise bad("'seed' must be an integer")
    classes = state["classes"]
    if not isinstance(classes, list) or not all(_is_label(c) for c in classes):
        raise bad("'classes' must be a list of strings or integers")
    pool = state["pool"]
    if not isinstance(pool, dict) or set(pool) - set(_POOL_KEYS):
        raise bad(f"'pool' must be an object with keys among {', '.join(_POOL_KEYS)}")
    if pool.get("source") not in ("texts", "dataset", "features"):
        raise bad("the pool's 'source' must be 'texts', 'dataset' or 'features'")
    if not _is_int(pool.get("n")) or pool["n"] < 0:
        raise bad("the pool's 'n' must be a count")
    texts = pool.get("texts")
    if texts is not None and (
        not isinstance(texts, list) or not all(isinstance(t, str) for t in texts)
    ):
        raise bad("the pool's 'texts' must be a list of strings")
    for key in ("dataset", "split", "texts_fingerprint", "features_sha256"):
        if not isinstance(pool.get(key), (str, type(None))):
            raise bad(f"the pool's {key!r} must be a string")
    if pool["source"] == "dataset" and not (pool.get("dataset") and pool.get("split")):
        raise bad("a dataset pool needs 'dataset' and 'split'")
    if not isinstance(state.get("task", "single-label"), str):
        raise bad("'task' must be a task type's name")
    task = "multi" if state.get("task") == "multi-label" else "single"
    labeled = state["labeled"]
    if not isinstance(labeled, list):
        raise bad("'labeled' must be a list")
    for item in labeled:
        if not (
            isinstance(item, list)
            and len(item) == 3
            and _is_int(item[0])
            and 0 <= item[0] < pool["n"]
            and (_is_label(item[1]) if task == "single" else _is_label_list(item[1]))
            and _is_int(item[2])
        ):
            what = "label" if task == "single" else "list of labels"
            raise bad(f"'labeled' holds {item!r}; each entry is [pool row, {what}, round]")
    if len({item[0] for item in labeled}) != len(labeled):
        raise bad("'labeled' holds a pool row twice")
    for key in ("pending", "skipped"):
        rows = state.get(key, [])
        if not isinstance(rows, list) or not all(
            isinstance(item, list)
            and len(item) == 2
            and _is_int(item[0])
            and 0 <= item[0] < pool["n"]
            and _is_int(item[1])
            for item in rows
        ):
            raise bad(f"{key!r} must be a list of [pool row, round]")
    if not _is_int(state.get("round", 0)) or state.get("round", 0) < 0:
        raise bad("'round' must be a count")
    growth = state.get("retune_growth", 0.25)
    if not _is_number(growth) or not growth >= 0:
        raise bad("'retune_growth' must be a number >= 0")
    tuned = state.get("tuned")
    if tuned is not None and not (
        isinstance(tuned, dict)
        and set(tuned) == {"C", "n_labeled"}
        and _is_number(tuned["C"])
        and tuned["C"] > 0
        and _is_int(tuned["n_labeled"])
    ):
        raise bad("'tuned' must be null or {C: a positive number, n_labeled: a count}")
    search = state.get("search")
    if search is not None and not (
        isinstance(search, dict)
        and set(search) == {"C", "n_rows"}
        and _is_number(search["C"])
        and search["C"] > 0
        and _is_int(search["n_rows"])
    ):
        raise bad("'search' must be null or {C: a positive number, n_rows: a count}")
    history = state.get("history", [])
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise bad("'history' must be a list of objects")


def head_from_session(spec: Mapping[str, Any], path: str | Path) -> tuple[Any, dict[str, Any]]:
    """The head a session's ``head`` entry selects: ``(name, params)`` for a head given by name,
    ``(estimator, {})`` for an estimator of a registered head's class.

    Raises
    ------
    ConfigError: the entry names no registered head, or its parameters do not fit the head
        (the message says how to resume the session anyway).
    """
    from littledata.heads.saved import check_head_params, estimator_from_spec

    where = f"the session file {path}"
    try:
        if "name" in spec:
            if set(spec) - {"name", "params"}:
                raise ConfigError(f"The head in {where} must be {{name, params}}.")
            return spec["name"], check_head_params(spec["name"], spec.get("params"), where=where)
        if "unregistered" in spec:
            raise ConfigError(
                f"The session's head {spec['unregistered']!r} is not a registered head, so "
                f"{where} cannot rebuild it."
            )
        if set(spec) - {"class", "estimator", "params"}:
            raise ConfigError(f"The head in {where} must be {{class, params}}.")
        return estimator_from_spec(spec, where=where), {}
    except LittleDataError as exc:
        raise ConfigError(f"{exc} {_RECOVER_HEAD}") from None


def strategy_from_session(spec: Mapping[str, Any], path: str | Path) -> Any:
    """The query strategy a session's ``strategy`` / ``cold_start`` entry selects (by registry
    name; a parameter the strategy does not take, or a bad value, is a ConfigError)."""
    from littledata.active.strategies import get_strategy

    try:
        return get_strategy(spec["name"], **spec.get("params", {}))
    except LittleDataError:
        raise
    except (TypeError, ValueError, KeyError) as exc:
        raise ConfigError(
            f"The strategy {spec['name']!r} in the session file {path} has invalid parameters: "
            f"{exc}."
        ) from None
