"""The spec's ``[report]`` table: what the report shows besides the benchmark's trials.

Today one key, ``active``: the active-learning runs (``littledata active simulate``) the report
adds, as filters on their configuration (:data:`ACTIVE_FILTER_KEYS`)::

    [report]
    active = {strategy = ["margin", "random"], dataset = "trec"}   # runs matching all of these
    # active = "all"                                   # every run in the store
    # active = ["dataset=trec", "strategy=margin"]     # as `littledata report --active` takes them

The table is part of the spec (``ExperimentSpec.report``), so it is stored with each run and
``littledata report`` after ``littledata bench --spec`` shows the same runs; ``littledata report
--active`` replaces it (:func:`active_filters` reads both).
"""

from __future__ import annotations

import difflib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from littledata.errors import ConfigError

__all__ = ["ACTIVE_FILTER_KEYS", "REPORT_KEYS", "ReportSettings", "active_filters", "parse_value"]

ACTIVE_FILTER_KEYS = (
    "dataset",
    "featurizer",
    "head",
    "head_params",
    "resampling",
    "strategy",
    "strategy_params",
    "seed",
    "init",
    "init_strategy",
    "batch",
    "budget",
    "subsample",
    "pool_cap",
    "test_cap",
    "cap_seed",
    "pool_size",
    "test_size",
    "reference_size",
    "source_fingerprint",
    "stop_set_size",
    "stop_threshold",
    "stop_window",
    "retune_growth",
    "role",
)
"""The configuration fields of an active-learning run (``littledata active simulate``) that
``[report] active`` and ``littledata report --active`` filter on."""

_FILTER_VALUE = (str, int, float, bool)


@dataclass(frozen=True)
class ReportSettings:
    """The spec's ``[report]`` table: what the report shows besides the benchmark's trials.

    ``active``: the active-learning runs to add, as ``(field, accepted values)`` pairs that a run
    must all match (``()``: every run in the store); ``None``: no active-learning section.
    """

    active: tuple[tuple[str, tuple[Any, ...]], ...] | None = None

    def active_filters(self) -> dict[str, list[Any]] | None:
        """``active`` as store filters (``{}``: every run; ``None``: no section)."""
        return None if self.active is None else {k: list(v) for k, v in self.active}

    def to_value(self) -> dict[str, Any]:
        """The table as plain data (``{}`` when it holds nothing), read back by :meth:`parse`."""
        if self.active is None:
            return {}
        return {"active": {k: list(v) for k, v in self.active} if self.active else "all"}

    @classmethod
    def parse(cls, value: Any) -> ReportSettings:
        """Validate a spec's ``report`` value (a table; see the module docstring)."""
        if isinstance(value, ReportSettings):
            return value
        if not isinstance(value, Mapping):
            shown = repr(value) if len(repr(value)) <= 80 else repr(value)[:77] + "..."
            raise ConfigError(
                f"Spec key 'report' has an invalid value {shown}: it must be a table. Allowed: "
                '[report] active = {strategy = ["margin"], dataset = "trec"} (the '
                'active-learning runs the report adds: a table of run fields, "all", "none", '
                'or a list such as ["dataset=trec"]).'
            )
        for key in value:
            if key not in REPORT_KEYS:
                close = difflib.get_close_matches(str(key), REPORT_KEYS, n=1, cutoff=0.5)
                hint = f" Did you mean: {close[0]}?" if close else ""
                raise ConfigError(
                    f"Unknown key {key!r} in the spec's [report] table.{hint} Valid keys: "
                    f"{', '.join(REPORT_KEYS)}."
                )
        filters = active_filters(value.get("active"), where="Spec key 'report.active'")
        active = None if filters is None else tuple((k, tuple(v)) for k, v in filters.items())
        return cls(active=active)


REPORT_KEYS = ("active",)


def active_filters(value: Any, *, where: str = "--active") -> dict[str, list[Any]] | None:
    """Which active-learning runs the report shows, as store filters.

    ``value``: ``"all"`` (or ``true``) for every run; ``None``, ``false`` or ``"none"`` for no
    section; a table ``{field: value or [values]}``; or a list of ``"FIELD=VALUE"`` strings (as
    ``littledata report --active`` takes them; one field given twice accepts either value).
    The fields are those of :data:`ACTIVE_FILTER_KEYS`. Returns ``{}`` for every run, ``None``
    for none.

    >>> active_filters(["dataset=trec", "strategy=margin", "strategy=random"])
    {'dataset': ['trec'], 'strategy': ['margin', 'random']}
    >>> active_filters({"seed": 0}), active_filters("all"), active_filters("none")
    ({'seed': [0]}, {}, None)

    Raises :class:`ConfigError` naming ``where`` and the bad field or value.
    """
    allowed = (
        '"all", "none", a table of run fields such as {strategy = ["margin", "random"], '
        'dataset = "trec"}, or a list such as ["dataset=trec", "strategy=margin"]; fields: '
        + ", ".join(ACTIVE_FILTER_KEYS)
    )
    if value is None or value is False or value == "none" or value == ["none"]:
        return None
    if value is True or value == "all" or value == ["all"]:
        return {}
    pairs: list[tuple[str, Any]] = []
    if isinstance(value, Mapping):
        pairs = [(str(k), v) for k, v in value.items()]
    elif isinstance(value, (list, tuple)) and value:
        for item in value:
            key, sep, text = item.partition("=") if isinstance(item, str) else ("", "", "")
            if not sep or not key.strip():
                raise ConfigError(
                    f"{where} takes FIELD=VALUE filters (e.g. dataset=trec), 'all' or 'none'; "
                    f"got {item!r}."
                )
            pairs.append((key.strip().replace("-", "_"), parse_value(text.strip())))
    else:
        raise ConfigError(f"{where} has an invalid value {value!r}. Allowed: {allowed}.")
    out: dict[str, list[Any]] = {}
    for key, wanted in pairs:
        if key not in ACTIVE_FILTER_KEYS:
            close = difflib.get_close_matches(key, ACTIVE_FILTER_KEYS, n=1, cutoff=0.5)
            hint = f" Did you mean {close[0]!r}?" if close else ""
            raise ConfigError(
                f"{where}: {key!r} is no field of an active-learning run.{hint} Fields: "
                f"{', '.join(ACTIVE_FILTER_KEYS)}."
            )
        items = list(wanted) if isinstance(wanted, (list, tuple)) else [wanted]
        if not items or not all(isinstance(v, _FILTER_VALUE) for v in items):
            raise ConfigError(
                f"{where}: the filter {key!r} has an invalid value {wanted!r}. Allowed: a "
                "string, a number or true/false, or a non-empty list of them."
            )
        accepted = out.setdefault(key, [])
        for item in items:
            if item not in accepted:
                accepted.append(item)
    return out


def parse_value(text: str) -> Any:
    """A command-line value: TOML when it reads as TOML (``3``, ``false``, ``[20, 50]``), else
    a comma-separated value as a list, else the string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        pass
    if "," in text:
        return [parse_value(part.strip()) for part in text.split(",") if part.strip()]
    return text
