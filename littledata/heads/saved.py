"""Heads named in files (saved active-learning sessions, saved models): registered names only.

A file littledata reads never names code. A head is written as data that selects one of the
registered heads (:data:`littledata.heads.HEADS`) and gives its parameters:

- ``{"name": "logreg", "params": {...}}``: a head built by :func:`~littledata.heads.make_head`
  (the reader adds the seed as ``random_state``);
- ``{"class": "logreg", "params": {...}}``: an estimator of that registered head's class with
  exactly these constructor parameters (what :func:`estimator_spec` writes for an estimator
  object, e.g. ``CVLogisticRegression(Cs=[0.1, 1.0])``).

Reading checks the name against the registry and every parameter against the head's
constructor: an unknown name or parameter, or a value of the wrong type, is a
:class:`~littledata.errors.ConfigError` that says what is allowed. Nothing named in a file is
imported or called; a dotted path written by an older littledata
(``{"estimator": "littledata.heads.logreg.CVLogisticRegression", ...}``) is only compared, as a
string, with the classes of the registered heads.

>>> from littledata.heads.logreg import CVLogisticRegression
>>> spec = estimator_spec(CVLogisticRegression(cv=5))
>>> spec["class"], spec["params"]["cv"]
('logreg', 5)
>>> estimator_from_spec(spec).get_params()["cv"]
5
>>> estimator_from_spec({"estimator": "os.system", "params": {}})  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
littledata.errors.ConfigError: The head 'os.system' in the file is not a registered head...
"""

from __future__ import annotations

import collections.abc
import functools
import math
import types
import typing
from collections.abc import Mapping
from typing import Any

from littledata.errors import ConfigError, unknown_name
from littledata.heads import HEADS

__all__ = ["check_head_params", "estimator_from_spec", "estimator_spec", "registered_class_name"]

_SEQUENCES = (list, tuple, collections.abc.Sequence)


@functools.cache
def _classes() -> dict[str, type]:
    """The estimator class of each registered head (its factory called with no parameters)."""
    return {name: type(info.factory()) for name, info in HEADS.items()}


def _dotted(cls: type) -> str:
    return f"{cls.__module__}.{cls.__qualname__}"


def registered_class_name(estimator: Any) -> str | None:
    """The registered head whose factory builds ``estimator``'s class (``None`` if none does)."""
    for name, cls in _classes().items():
        if type(estimator) is cls:
            return name
    return None


def _is_data(value: Any) -> bool:
    """Whether ``value`` is plain JSON data (what ``json.loads`` gives)."""
    if value is None or isinstance(value, (bool, int, str)):
        return True
    if isinstance(value, float):
        return True
    if isinstance(value, (list, tuple)):
        return all(_is_data(v) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_data(v) for k, v in value.items())
    return False


def _fits(hint: Any, value: Any) -> bool:
    """Whether a JSON value is acceptable for a constructor parameter annotated ``hint``."""
    if hint is Any:
        return _is_data(value)
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        return any(_fits(arm, value) for arm in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if origin is typing.Literal:
        return value in typing.get_args(hint)
    if origin in _SEQUENCES:
        args = [a for a in typing.get_args(hint) if a is not Ellipsis] or [Any]
        return isinstance(value, (list, tuple)) and all(_fits(args[0], v) for v in value)
    if origin in (dict, collections.abc.Mapping):
        return isinstance(value, dict) and _is_data(value)
    return False  # a class, a callable, ...: nothing a file can hold


def _hint_text(hint: Any) -> str:
    if typing.get_origin(hint) is None and isinstance(hint, type):
        return hint.__name__
    return str(hint).replace("typing.", "").replace("collections.abc.", "")


def check_head_params(
    name: str, params: Any, *, exact: bool = False, where: str = "the file"
) -> dict[str, Any]:
    """Validate ``params`` (from a file) for the registered head ``name``; return them ready for
    the constructor (lists for sequence parameters become tuples).

    ``exact``: the parameters of an estimator object (``random_state`` included); otherwise the
    parameters :func:`~littledata.heads.make_head` takes besides ``random_state``.

    Raises
    ------
    UnknownNameError: ``name`` is not a registered head.
    ConfigError: ``params`` is not an object, names a parameter the head does not have, or holds
        a value of the wrong type.
    """
    if not isinstance(name, str):
        raise ConfigError(f"The head in {where} must be a registered head name, got {name!r}.")
    if name not in HEADS:
        raise unknown_name("head", name, HEADS)
    if params is None:
        params = {}
    if not isinstance(params, Mapping):
        raise ConfigError(f"The head parameters in {where} must be an object, got {params!r}.")
    cls = _classes()[name]
    valid = set(cls().get_params(deep=False))
    if not exact:
        valid.discard("random_state")
    unknown = sorted(set(params) - valid)
    if unknown:
        raise ConfigError(
            f"The head {name!r} in {where} has no parameter {', '.join(map(repr, unknown))}; "
            f"valid parameters: {', '.join(sorted(valid)) or 'none'}."
        )
    try:
        hints = typing.get_type_hints(cls.__init__)
    except Exception:  # annotations that do not resolve: check the values as data only
        hints = {}
    out: dict[str, Any] = {}
    for key, value in params.items():
        hint = hints.get(key, Any)
        if isinstance(value, float) and not math.isfinite(value) and hint is not Any:
            ok = False
        else:
            ok = _fits(hint, value)
        if not ok:
            raise ConfigError(
                f"The head {name!r} in {where} has an invalid value for {key!r}: {value!r} "
                f"(expected {_hint_text(hint)})."
            )
        if isinstance(value, list) and typing.get_origin(hint) in _SEQUENCES:
            value = tuple(value)
        out[key] = value
    if getattr(cls, "_parameter_constraints", None):  # scikit-learn's own checks
        try:
            cls(**out)._validate_params()
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"The head {name!r} in {where}: {exc}") from None
    return out


def estimator_spec(estimator: Any) -> dict[str, Any]:
    """The JSON-able spec of an unfitted estimator of a registered head's class:
    ``{"class": <head name>, "params": <constructor parameters>}``.

    Raises
    ------
    ConfigError: the estimator's class is not a registered head's, or a parameter is not plain
        data (e.g. another estimator), so no file can rebuild it.
    """
    name = registered_class_name(estimator)
    if name is None:
        raise ConfigError(
            f"{_dotted(type(estimator))} is not the class of a registered head, so a file cannot "
            f"rebuild it; registered heads: {', '.join(sorted(HEADS))}."
        )
    params = {k: _plain(v) for k, v in estimator.get_params(deep=False).items()}
    if not _is_data(params):
        raise ConfigError(
            f"A parameter of {type(estimator).__name__} is not plain data, so a file cannot "
            "rebuild it."
        )
    return {"class": name, "params": params}


def _plain(value: Any) -> Any:
    if hasattr(value, "item") and getattr(value, "ndim", None) == 0:  # numpy scalars
        return value.item()
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def estimator_from_spec(spec: Any, *, where: str = "the file") -> Any:
    """Build the unfitted estimator a spec from :func:`estimator_spec` describes.

    Also reads the ``{"estimator": "<module>.<class>", "params": {...}}`` form older versions
    wrote, when the dotted name is the class of a registered head (compared as text; nothing
    is imported).

    Raises
    ------
    ConfigError: the spec names no registered head, or its parameters do not fit the head.
    """
    if not isinstance(spec, Mapping):
        raise ConfigError(f"The head in {where} must be an object, got {spec!r}.")
    name = spec.get("class")
    if name is None and "estimator" in spec:
        dotted = str(spec["estimator"])
        name = next((n for n, cls in _classes().items() if _dotted(cls) == dotted), None)
        if name is None:
            raise ConfigError(
                f"The head {dotted!r} in {where} is not a registered head, and files may only "
                f"name registered heads ({', '.join(sorted(HEADS))}); nothing named in a file "
                "is imported."
            )
        if spec.get("params") is None:
            raise ConfigError(f"The head {dotted!r} in {where} was saved without parameters.")
    if not isinstance(name, str):
        raise ConfigError(f"The head in {where} names no registered head.")
    params = check_head_params(name, spec.get("params"), exact=True, where=where)
    return HEADS[name].factory(**params)
