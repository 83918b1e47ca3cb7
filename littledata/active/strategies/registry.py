"""The strategy registry: :data:`STRATEGIES`, the :func:`register_strategy` decorator, the
categories, and :func:`get_strategy` / :func:`list_strategies`."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from littledata.active.strategies.base import QueryStrategy
from littledata.errors import ConfigError
from littledata.registry import Registry

__all__ = [
    "ALIASES",
    "CATEGORIES",
    "RANKING_CATEGORIES",
    "STRATEGIES",
    "StrategyInfo",
    "get_strategy",
    "list_strategies",
    "register_strategy",
    "strategy_names",
]

CATEGORIES: dict[str, str] = {
    "baseline": "what every other strategy must beat",
    "uncertainty": "the rows the head is least sure of",
    "disagreement": "the rows a committee of heads disputes",
    "diversity": "rows that cover the pool, from the features alone",
    "hybrid": "uncertain and diverse, or learned",
    "cold-start": "a first batch with no labels",
    "wrapper": "runs another strategy",
}
"""Every strategy's ``category``, with what its strategies pick."""

RANKING_CATEGORIES: tuple[str, ...] = (
    "baseline",
    "uncertainty",
    "disagreement",
    "diversity",
    "hybrid",
)
"""Categories of the strategies that rank a pool with labels: what "all strategies" means (not
the cold start, which is a first batch, nor wrappers around another strategy)."""


def _normalise(name: str) -> str:
    return name.strip().lower().replace("_", "-")


STRATEGIES: Registry[type[QueryStrategy]] = Registry("query strategy", aliases_normalize=_normalise)
"""Registered strategies by name (filled by :func:`register_strategy`)."""

ALIASES: Mapping[str, str] = STRATEGIES.aliases
"""``{alias: name}`` (``qbc``, ``coreset``, ``lc``, ...), read-only."""

S = TypeVar("S", bound=type[QueryStrategy])


def register_strategy(name: str, *, category: str, aliases: Iterable[str] = ()) -> Callable[[S], S]:
    """Class decorator: register a :class:`QueryStrategy` subclass under ``name`` (and
    ``aliases``) in ``category`` (a key of :data:`CATEGORIES`).

    Raises
    ------
    DuplicateNameError: the name or an alias is taken.
    ConfigError: an unknown category.
    """
    if category not in CATEGORIES:
        raise ConfigError(
            f"Unknown strategy category {category!r}; categories: {', '.join(CATEGORIES)}."
        )

    def decorate(cls: S) -> S:
        STRATEGIES.add(name, cls, aliases=aliases)
        cls.name = name
        cls.category = category
        return cls

    return decorate


def get_strategy(name: str | QueryStrategy, **params: Any) -> QueryStrategy:
    """Build the strategy registered as ``name`` with ``params``.

    Names are case-insensitive, ``_`` and ``-`` are the same, and a few aliases work (``qbc``,
    ``coreset``, ``lc``). A :class:`QueryStrategy` instance is returned as it is.

    Raises
    ------
    UnknownNameError: no strategy has that name (the message suggests close names).
    ConfigError: a parameter the strategy does not take, or a bad value.

    Examples
    --------
    >>> get_strategy("committee", n_members=3)
    Committee(n_members=3, disagreement='vote')
    """
    if isinstance(name, QueryStrategy):
        if params:
            raise ConfigError("Pass parameters to a strategy's constructor, not with an instance.")
        return name
    key = STRATEGIES.resolve(name)
    cls = STRATEGIES[key]
    signature = inspect.signature(cls.__init__).parameters
    accepted = [p for p in signature if p not in ("self", "base_params")]
    # a wrapper that takes **kwargs passes them on to the strategy it wraps
    takes_any = cls.__init__ is not object.__init__ and any(
        p.kind is p.VAR_KEYWORD for p in signature.values()
    )
    unknown = [] if takes_any else sorted(set(params) - set(accepted))
    if unknown:
        raise ConfigError(
            f"Strategy {key!r} has no parameter {', '.join(map(repr, unknown))}; "
            f"it takes: {', '.join(accepted) or 'no parameters'}."
        )
    return cls(**params)


@dataclass(frozen=True)
class StrategyInfo:
    """What :func:`list_strategies` shows about a registered strategy."""

    name: str
    category: str
    needs_model: bool
    needs_proba: bool
    description: str
    cls: type[QueryStrategy]
    tasks: tuple[str, ...] = ("single-label",)
    """The task types it handles (``QueryStrategy.tasks``)."""


def list_strategies() -> list[StrategyInfo]:
    """Return every registered strategy, sorted by name."""
    out = []
    for name in STRATEGIES.names():
        cls = STRATEGIES[name]
        doc = cls.summary or " ".join((cls.__doc__ or "").split("\n\n")[0].split())
        needs_model = cls.needs_model if isinstance(cls.needs_model, bool) else False
        needs_proba = cls.needs_proba if isinstance(cls.needs_proba, bool) else False
        tasks = tuple(cls.tasks)
        out.append(StrategyInfo(name, cls.category, needs_model, needs_proba, doc, cls, tasks))
    return out


def strategy_names(categories: Iterable[str] = RANKING_CATEGORIES) -> list[str]:
    """The registered strategies in ``categories`` (default: those that rank a labeled pool,
    what the command line's ``all`` means), sorted by name."""
    wanted = set(categories)
    bad = wanted - set(CATEGORIES)
    if bad:
        raise ConfigError(
            f"Unknown strategy categories {sorted(bad)}; categories: {', '.join(CATEGORIES)}."
        )
    return [n for n in STRATEGIES.names() if STRATEGIES[n].category in wanted]
