"""One small registry API for everything littledata looks up by name.

Datasets, featurizers, heads, query strategies and metrics each keep a :class:`Registry`: a
read-only mapping from name to entry, filled by its module's own decorator or ``register``
function. Adding one is one definition in one file; the registry refuses a name that is
already taken and answers an unknown name with the closest names.

>>> colours = Registry("colour", aliases_normalize=str.lower)
>>> colours.add("red", "#f00", aliases=["rouge"])
'#f00'
>>> colours.get("Rouge"), "red" in colours, colours["red"], list(colours)
('#f00', True, '#f00', ['red'])
>>> colours.get("rde")
Traceback (most recent call last):
...
littledata.errors.UnknownNameError: Unknown colour 'rde'. Did you mean: red? Available: red.
>>> colours.add("red", "#e00")
Traceback (most recent call last):
...
littledata.errors.DuplicateNameError: colour 'red' is already registered; choose another name.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Generic, TypeVar, overload

from littledata.errors import DuplicateNameError, unknown_name

__all__ = ["Registry"]

T = TypeVar("T")
D = TypeVar("D")
_MISSING: Any = object()


class Registry(Mapping[str, T], Generic[T]):
    """Named entries of one kind (``"dataset"``, ``"head"``, ...).

    Reading works as with a dict: ``name in reg``, ``reg[name]`` (``KeyError`` when missing),
    ``len(reg)``, iteration in registration order, ``keys()``, ``items()``, ``values()``.
    :meth:`get` differs from ``dict.get``: without a default an unknown name raises
    :class:`~littledata.errors.UnknownNameError` with "did you mean" suggestions, so a caller
    never has to build that message itself.

    Parameters
    ----------
    kind: what an entry is, for messages (``"query strategy"``).
    aliases_normalize: applied to a name before alias and name lookup in :meth:`get` and
        :meth:`resolve` (e.g. case folding); ``[]`` and ``in`` use exact names.
    loader: called once, before the first read or addition, to register the built-in entries
        (a module's import); lets a registry fill itself lazily without importing that module.
    """

    def __init__(
        self,
        kind: str,
        *,
        aliases_normalize: Callable[[str], str] | None = None,
        loader: Callable[[], Any] | None = None,
    ) -> None:
        self.kind = kind
        self._entries: dict[str, T] = {}
        self._aliases: dict[str, str] = {}
        self._normalize = aliases_normalize
        self._loader = loader

    # -- filling ---------------------------------------------------------------------------------

    def set_loader(self, loader: Callable[[], Any]) -> None:
        """Call ``loader`` once before the next read or addition (see the class docstring)."""
        self._loader = loader

    def _load(self) -> None:
        if self._loader is not None:
            loader, self._loader = self._loader, None  # cleared first: the loader adds entries
            loader()

    def add(self, name: str, entry: T, *, aliases: Iterable[str] = ()) -> T:
        """Register ``entry`` as ``name`` (and under ``aliases``) and return it.

        Raises
        ------
        DuplicateNameError: ``name`` or an alias is already a registered name or alias.
        """
        self._load()
        aliases = tuple(aliases)
        for taken in (name, *aliases):
            if taken in self._entries or taken in self._aliases:
                raise DuplicateNameError(
                    f"{self.kind} {taken!r} is already registered; choose another name."
                )
        if len(set((name, *aliases))) != 1 + len(aliases):
            raise DuplicateNameError(f"{self.kind} {name!r} lists the same alias twice.")
        self._entries[name] = entry
        for alias in aliases:
            self._aliases[alias] = name
        return entry

    def add_alias(self, alias: str, name: str) -> None:
        """Let ``alias`` stand for the registered ``name`` in :meth:`get` and :meth:`resolve`."""
        self._load()
        if name not in self._entries:
            raise unknown_name(self.kind, name, self._entries)
        if alias in self._entries or alias in self._aliases:
            raise DuplicateNameError(
                f"{self.kind} {alias!r} is already registered; choose another name."
            )
        self._aliases[alias] = name

    def remove(self, name: str) -> T:
        """Unregister ``name`` and its aliases and return its entry (tests, plugins)."""
        self._load()
        entry = self._entries.pop(name)
        for alias in [a for a, n in self._aliases.items() if n == name]:
            del self._aliases[alias]
        return entry

    # -- reading ---------------------------------------------------------------------------------

    def __getitem__(self, name: str) -> T:
        self._load()
        return self._entries[name]

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        self._load()
        return iter(list(self._entries))

    def __len__(self) -> int:
        self._load()
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self)} entries)"

    @property
    def aliases(self) -> Mapping[str, str]:
        """``{alias: name}``, read-only."""
        self._load()
        return MappingProxyType(self._aliases)

    def names(self) -> list[str]:
        """The registered names (aliases not included), sorted."""
        return sorted(self)

    def resolve(self, name: str) -> str:
        """The registered name that ``name`` (a name or an alias) stands for.

        Raises
        ------
        UnknownNameError: neither a name nor an alias (the message suggests close names).
        """
        self._load()
        key = self._normalize(name) if self._normalize else name
        key = self._aliases.get(key, key)
        if key not in self._entries:
            raise unknown_name(self.kind, name, self._entries)
        return key

    @overload
    def get(self, name: str) -> T: ...

    @overload
    def get(self, name: str, default: D) -> T | D: ...

    def get(self, name: str, default: Any = _MISSING) -> Any:
        """The entry registered as ``name`` (or an alias of it).

        With ``default`` an unknown name returns it (as ``dict.get``); without, it raises
        :class:`~littledata.errors.UnknownNameError` naming the closest registered names.
        """
        try:
            return self._entries[self.resolve(name)]
        except LookupError:
            if default is _MISSING:
                raise
            return default
