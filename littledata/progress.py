"""Progress bars that library code may use and only the command line turns on.

Library code never prints. Long loops wrap their iterables in :func:`track`; it shows a tqdm bar on
stderr (rate and ETA) only while :func:`enabled` is true, which the CLI sets for its commands or a
user sets with :func:`show_progress`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")

_ENABLED: ContextVar[bool] = ContextVar("littledata_progress", default=False)


def enabled() -> bool:
    """Return whether progress bars are shown."""
    return _ENABLED.get()


def set_enabled(flag: bool) -> None:
    """Turn progress bars on or off for the current context."""
    _ENABLED.set(flag)


@contextlib.contextmanager
def show_progress(flag: bool = True) -> Iterator[None]:
    """Show (or hide) progress bars inside a ``with`` block."""
    token = _ENABLED.set(flag)
    try:
        yield
    finally:
        _ENABLED.reset(token)


def track(
    iterable: Iterable[T], total: int | None = None, desc: str = "", unit: str = "it", **kwargs: Any
) -> Iterator[T]:
    """Iterate over ``iterable``, showing a progress bar when enabled."""
    yield from tqdm(
        iterable,
        total=total,
        desc=desc,
        unit=unit,
        disable=not enabled(),
        dynamic_ncols=True,
        **kwargs,
    )


def bar(total: int | None = None, desc: str = "", unit: str = "it", **kwargs: Any) -> tqdm:
    """Return a manual progress bar (call ``.update(n)``; use as a context manager)."""
    return tqdm(
        total=total, desc=desc, unit=unit, disable=not enabled(), dynamic_ncols=True, **kwargs
    )
