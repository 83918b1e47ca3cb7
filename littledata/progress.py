"""Progress that library code may report and only the command line turns on: one place for all.

Library code never prints. Long loops wrap their iterables in :func:`track` or update a
:func:`bar`; nothing is shown unless :func:`enabled`, which the CLI sets for its commands (or a
user with :func:`show_progress`). How it is shown depends on where it goes:

- a terminal: a live tqdm bar (rate and ETA);
- not a terminal (a log file, CI): plain lines, at most one per :data:`PLAIN_INTERVAL` seconds per
  bar and one when it ends, without carriage returns or escape codes (:class:`PlainBar`).

A long run with several phases (the benchmark) opens one :class:`RunDisplay`: an overall bar
weighted by estimated work (seconds of a cost model, :mod:`littledata.experiments.estimate`) with
the current step beneath it, and its ETA refined by the measured-to-estimated time of the work
done so far. While it is open, every :func:`bar` anywhere (a featurizer's, a download's) reports
on its step line instead of drawing a bar of its own; finished steps collapse into one summary
line each (:meth:`RunDisplay.note`).
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterable, Iterator
from contextvars import ContextVar
from typing import IO, Any, TypeVar

from tqdm.auto import tqdm

T = TypeVar("T")

OFF, LIVE, PLAIN = "off", "live", "plain"
_MODE: ContextVar[str] = ContextVar("littledata_progress", default=OFF)
_DISPLAY: ContextVar[RunDisplay | None] = ContextVar("littledata_run_display", default=None)

PLAIN_INTERVAL = float(os.environ.get("LITTLEDATA_PROGRESS_INTERVAL", "30"))
"""Seconds between two plain progress lines of one bar (``$LITTLEDATA_PROGRESS_INTERVAL``)."""

MEASURED_SHARE = 0.02
"""Share of a kind's estimated work that must be done before its measured speed replaces the
estimate in the ETA (:meth:`RunDisplay.ratio`)."""


def enabled() -> bool:
    """Return whether progress is shown."""
    return _MODE.get() != OFF


def mode() -> str:
    """``off``, ``live`` (a terminal: bars) or ``plain`` (periodic lines)."""
    return _MODE.get()


def _mode_for(flag: bool, plain: bool | None) -> str:
    if not flag:
        return OFF
    if plain is None:
        plain = not sys.stderr.isatty()
    return PLAIN if plain else LIVE


def set_enabled(flag: bool, *, plain: bool | None = None) -> None:
    """Turn progress on or off for the current context; ``plain``: periodic lines instead of
    bars (default: when stderr is not a terminal)."""
    _MODE.set(_mode_for(flag, plain))


@contextlib.contextmanager
def show_progress(flag: bool = True, *, plain: bool | None = None) -> Iterator[None]:
    """Show (or hide) progress inside a ``with`` block (``plain`` as in :func:`set_enabled`)."""
    token = _MODE.set(_mode_for(flag, plain))
    try:
        yield
    finally:
        _MODE.reset(token)


def format_duration(seconds: float | None) -> str:
    """``0:42``, ``12:05``, ``3:02:09``; ``?`` when unknown."""
    if seconds is None or seconds != seconds or seconds < 0:
        return "?"
    s = round(seconds)
    h, rest = divmod(s, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class PlainBar:
    """A bar for logs: ``desc: k/total unit (p%), elapsed, ETA`` lines, no control characters.

    The same small interface as tqdm's that littledata uses: ``update``, ``set_postfix``,
    ``close``, ``n``, ``total``, and use as a context manager.
    """

    def __init__(
        self,
        total: float | None = None,
        desc: str = "",
        unit: str = "it",
        stream: IO[str] | None = None,
        interval: float | None = None,
        **_: Any,
    ) -> None:
        self.total, self.desc, self.unit, self.n = total, desc, unit, 0.0
        self.stream = stream
        self.interval = PLAIN_INTERVAL if interval is None else interval
        self.t0 = self._last = time.monotonic()
        self.postfix = ""
        self.closed = False

    def __enter__(self) -> PlainBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: float = 1) -> None:
        self.n += n
        now = time.monotonic()
        if now - self._last >= self.interval:
            self._last = now
            self._write()

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            self._write(final=True)

    def line(self) -> str:
        elapsed = time.monotonic() - self.t0
        done = f"{_num(self.n)}" + (f"/{_num(self.total)}" if self.total else "")
        parts = [f"{self.desc}: {done} {self.unit}"]
        if self.total:
            parts[0] += f" ({100 * self.n / self.total:.0f}%)"
        parts.append(f"elapsed {format_duration(elapsed)}")
        if self.total and 0 < self.n < self.total:
            parts.append(f"ETA {format_duration(elapsed * (self.total - self.n) / self.n)}")
        if self.postfix:
            parts.append(self.postfix)
        return ", ".join(parts)

    def _write(self, final: bool = False) -> None:
        stream = self.stream or sys.stderr
        stream.write(_clean(self.line()) + "\n")
        stream.flush()


def _num(x: float | None) -> str:
    return "?" if x is None else (f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}")


def _clean(text: str) -> str:
    """``text`` without control characters (a log line never moves the cursor)."""
    return "".join(c for c in text if c.isprintable() or c == " ")


def track(
    iterable: Iterable[T], total: int | None = None, desc: str = "", unit: str = "it", **kwargs: Any
) -> Iterator[T]:
    """Iterate over ``iterable``, showing progress when enabled."""
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with bar(total=total, desc=desc, unit=unit, **kwargs) as b:
        for item in iterable:
            yield item
            b.update(1)


def bar(total: float | None = None, desc: str = "", unit: str = "it", **kwargs: Any) -> Any:
    """Return a manual progress bar (call ``.update(n)``; use as a context manager).

    Inside an open :class:`RunDisplay` the bar reports on the display's current step line.
    """
    display = _DISPLAY.get()
    if display is not None and enabled():
        return display.sub_bar(total=total, desc=desc, unit=unit)
    if _MODE.get() == PLAIN:
        return PlainBar(total=total, desc=desc, unit=unit, **kwargs)
    return tqdm(
        total=total, desc=desc, unit=unit, disable=not enabled(), dynamic_ncols=True, **kwargs
    )


class _SubBar:
    """A bar opened inside a :class:`RunDisplay`: its progress goes to the current step."""

    def __init__(self, display: RunDisplay, total: float | None, desc: str, unit: str) -> None:
        self.display, self.total, self.desc, self.unit, self.n = display, total, desc, unit, 0.0
        self.postfix = ""

    def __enter__(self) -> _SubBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def update(self, n: float = 1) -> None:
        self.n += n
        self.display._sub_progress(self, n)

    def set_postfix(self, refresh: bool = True, **values: Any) -> None:
        self.postfix = ", ".join(f"{k}={v}" for k, v in values.items())

    def set_postfix_str(self, text: str, refresh: bool = True) -> None:
        self.postfix = text

    def close(self) -> None:
        pass


class RunDisplay:
    """One display for a long run: an overall bar by estimated work and the current step.

    Parameters
    ----------
    total_work: the run's estimated work (seconds of the cost model).
    desc: the overall bar's name.
    stream: where to write (default stderr); live (a rich progress display) or plain lines
        according to :func:`mode`.

    Steps (:meth:`step`) carry their estimated ``work`` and a ``kind`` (``features``,
    ``trials``), optionally with a part after a slash (``features/minilm``: one featurizer's
    sets); the ETA multiplies each kind's remaining estimate by that kind's measured time per
    estimated second so far, so a cost model that is off for this machine is corrected as the run
    goes. Progress inside a step counts as it is reported (a featurizer's batches), so the first
    batches of an encoder already calibrate its speed, long before its first set is done.

    A part not measured yet takes its kind's ratio over the parts measured so far (a machine
    busier than the cost model assumed slows every encoder); a kind not started yet keeps its own
    estimate: the kinds' errors are not alike (an encoder's speed says nothing about a head's),
    so one kind's error is not carried over to another.
    """

    def __init__(
        self,
        total_work: float,
        desc: str = "benchmark",
        *,
        stream: IO[str] | None = None,
        interval: float | None = None,
    ) -> None:
        self.total = max(float(total_work), 1e-9)
        self.desc = desc
        self.stream = stream
        self.interval = PLAIN_INTERVAL if interval is None else interval
        self.t0 = time.monotonic()
        self.done = 0.0
        self._kind_total: dict[str, float] = {}
        self._kind_done: dict[str, float] = {}
        self._kind_time: dict[str, float] = {}
        self._step: _Step | None = None
        self._last_line = 0.0
        self._live: Any = None
        self._token: Any = None
        self.history: list[tuple[float, float, float | None]] = []
        """``(elapsed seconds, fraction of the work done, ETA seconds)`` at every update."""

    def plan(self, kind: str, work: float) -> None:
        """Declare ``work`` of ``kind`` ahead (so the ETA knows what remains of each kind)."""
        self._kind_total[kind] = self._kind_total.get(kind, 0.0) + float(work)

    # -- life ------------------------------------------------------------------------------------
    def __enter__(self) -> RunDisplay:
        if enabled():
            self._token = _DISPLAY.set(self)
            if mode() == LIVE:
                self._start_live()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._token is not None:
            _DISPLAY.reset(self._token)
            self._token = None
        if self._live is not None:
            self._live.stop()
            self._live = None

    def _start_live(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn

        console = Console(file=self.stream or sys.stderr)
        self._live = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[info]}"),
            console=console,
            transient=True,
        )
        self._overall = self._live.add_task(self.desc, total=self.total, info="")
        self._current = self._live.add_task("", total=1.0, info="")
        self._live.start()

    # -- work ------------------------------------------------------------------------------------
    @contextlib.contextmanager
    def step(
        self, desc: str, work: float, *, kind: str = "", inner_total: float | None = None
    ) -> Iterator[_Step]:
        """A step of ``work`` estimated seconds; progress inside it comes from :meth:`_Step.
        update` or from bars opened inside it (``inner_total``: their units in all, when the
        step holds several bars, e.g. two featurizations)."""
        step = _Step(self, desc, float(work), kind, inner_total)
        previous, self._step = self._step, step
        try:
            yield step
        finally:
            step.finish()
            self._step = previous

    def note(self, line: str) -> None:
        """A finished part of the run, in one line above the bars (or one plain line)."""
        if not enabled():
            return
        if self._live is not None:
            self._live.console.print(line, markup=False, highlight=False)
        else:
            self._write(line)

    def sub_bar(self, total: float | None, desc: str, unit: str) -> _SubBar:
        return _SubBar(self, total, desc, unit)

    def _sub_progress(self, sub: _SubBar, n: float) -> None:
        step = self._step
        if step is None:
            return
        if step.inner_total:
            step.credit(step.work * n / step.inner_total)
        elif sub.total:
            step.credit(step.work * n / sub.total)
        if sub.postfix:  # the bar's own words (a featurizer's: texts done of all)
            step.status = f"{sub.desc} {sub.postfix}"
        else:
            step.status = f"{sub.desc} {_num(sub.n)}/{_num(sub.total)} {sub.unit}".strip()
        self.refresh()

    def _credit(self, kind: str, amount: float) -> None:
        self.done = min(self.total, self.done + amount)
        self._kind_done[kind] = self._kind_done.get(kind, 0.0) + amount

    # -- what is shown ---------------------------------------------------------------------------
    def eta(self) -> float | None:
        """Seconds left: per kind (and part), remaining estimate × measured seconds per
        estimated second (:meth:`ratio`; the run's ratio for work of no declared kind; ``None``
        before any work is done)."""
        elapsed = time.monotonic() - self.t0
        if self.done <= 0:
            return None
        overall = elapsed / self.done
        kinds = set(self._kind_total) | set(self._kind_done)
        left = 0.0
        planned = 0.0
        for kind in kinds:
            total = self._kind_total.get(kind, 0.0)
            planned += total
            left += max(0.0, total - self._kind_done.get(kind, 0.0)) * self.ratio(kind)
        left += max(0.0, self.total - max(planned, self.done)) * overall
        return left

    def ratio(self, kind: str) -> float:
        """Measured seconds per estimated second of ``kind`` (``features/minilm``): its own once
        more than :data:`MEASURED_SHARE` of it is done, else its family's (``features``, over
        all its parts done so far) once that is, else 1 (the estimate as it stands)."""
        family = kind.split("/", 1)[0]
        known = set(self._kind_total) | set(self._kind_done)
        members = [k for k in known if k.split("/", 1)[0] == family]
        for keys in ([kind], members):
            total = sum(self._kind_total.get(k, 0.0) for k in keys)
            done = sum(self._kind_done.get(k, 0.0) for k in keys)
            spent = sum(self._kind_time.get(k, 0.0) for k in keys)
            if done > MEASURED_SHARE * total and done > 0 and spent > 0:
                return spent / done
        return 1.0

    def fraction(self) -> float:
        return self.done / self.total

    def line(self) -> str:
        elapsed = time.monotonic() - self.t0
        head = (
            f"[{100 * self.fraction():3.0f}%] {self.desc}: elapsed {format_duration(elapsed)}, "
            f"ETA {format_duration(self.eta())}"
        )
        step = self._step
        if step is not None:
            head += f" | {step.desc}" + (f": {step.status}" if step.status else "")
        return head

    def refresh(self, force: bool = False) -> None:
        now = time.monotonic()
        eta = self.eta()
        self.history.append((now - self.t0, self.fraction(), eta))
        if not enabled():
            return
        if self._live is not None:
            step = self._step
            info = f"elapsed {format_duration(now - self.t0)}, ETA {format_duration(eta)}"
            self._live.update(self._overall, completed=self.done, info=info)
            if step is not None:
                self._live.update(
                    self._current,
                    description=f"  {step.desc}",
                    completed=min(1.0, step.credited / step.work) if step.work else 0.0,
                    info=step.status,
                )
            return
        if force or now - self._last_line >= self.interval:
            self._last_line = now
            self._write(self.line())

    def _write(self, line: str) -> None:
        stream = self.stream or sys.stderr
        stream.write(_clean(line) + "\n")
        stream.flush()


class _Step:
    """A step of a :class:`RunDisplay` (see :meth:`RunDisplay.step`)."""

    def __init__(
        self, display: RunDisplay, desc: str, work: float, kind: str, inner_total: float | None
    ) -> None:
        self.display, self.desc, self.work, self.kind = display, desc, work, kind
        self.inner_total = inner_total
        self.credited = 0.0
        self.status = ""
        self.t0 = time.monotonic()
        self._timed = self.t0

    def credit(self, amount: float) -> None:
        """Count ``amount`` estimated seconds of this step as done (never more than its work)."""
        amount = max(0.0, min(amount, self.work - self.credited))
        self.credited += amount
        now = time.monotonic()
        d = self.display
        d._kind_time[self.kind] = d._kind_time.get(self.kind, 0.0) + (now - self._timed)
        self._timed = now
        d._credit(self.kind, amount)

    def update(self, work: float, status: str = "") -> None:
        """``work`` estimated seconds of this step are done; ``status``: what it is at."""
        self.credit(work)
        if status:
            self.status = status
        self.display.refresh()

    def finish(self) -> None:
        self.credit(self.work - self.credited)
        self.display.refresh()
