"""Limits on the BLAS / OpenMP thread pools (through threadpoolctl) for small numeric work.

A head's fit on a few hundred rows is a chain of small matrix products. On a quiet machine one
thread is about as fast as several; on a busy one, threads that wait for each other made a
384-row logistic-regression fit 20x slower (see ``BENCHMARKS.md``). So the heads limit the
thread pools to one thread around their own fits and predictions when the problem is small
(``threads="auto"``, :func:`auto_threads`), and the benchmark workers and the active learner
limit them for their whole run.
"""

from __future__ import annotations

import contextlib
import sys
from typing import Any

#: ``"auto"`` limits to one thread when the input has at most this many cells (rows x features,
#: or stored values of a sparse matrix).
AUTO_MAX_CELLS = 4_000_000

_CONTROLLER: Any = None
_MODULES_SEEN = -1


def _controller() -> Any:
    """A threadpoolctl controller that knows every thread pool loaded so far.

    Inspecting the loaded libraries takes milliseconds, so the controller is kept; but a pool
    loaded after it was made (torch brings its own OpenMP runtime) would escape its limits, so
    it is made again whenever Python modules were imported since (native libraries come with
    module imports).
    """
    global _CONTROLLER, _MODULES_SEEN
    if _CONTROLLER is None or len(sys.modules) != _MODULES_SEEN:
        from threadpoolctl import ThreadpoolController

        _CONTROLLER = ThreadpoolController()
        _MODULES_SEEN = len(sys.modules)
    return _CONTROLLER


def thread_limit(threads: int | None) -> contextlib.AbstractContextManager[Any]:
    """Limit BLAS/OpenMP threads to ``threads`` inside a ``with`` block (``None``: no limit)."""
    if threads is None:
        return contextlib.nullcontext()
    return _controller().limit(limits=int(threads))  # type: ignore[no-any-return]


def input_cells(X: Any) -> int:
    """Rows x features of an array (stored values of a sparse matrix; 0 when unknown)."""
    nnz = getattr(X, "nnz", None)
    if nnz is not None:
        return int(nnz)
    shape = getattr(X, "shape", None)
    if not shape:
        return 0
    cells = 1
    for n in shape:
        cells *= int(n)
    return cells


def auto_threads(threads: int | str | None, X: Any) -> int | None:
    """The thread limit for work on ``X``: ``"auto"`` gives 1 for at most :data:`AUTO_MAX_CELLS`
    cells and ``None`` (no limit) above; an integer is kept; ``None`` means no limit."""
    if threads == "auto":
        return 1 if input_cells(X) <= AUTO_MAX_CELLS else None
    return threads  # type: ignore[return-value]
