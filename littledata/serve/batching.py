"""Micro-batching for an encoder: concurrent requests share one encoder call.

An :class:`EncoderBatcher` owns one featurizer and one worker thread. Requests hand their texts
to :meth:`EncoderBatcher.submit` and get a future; the worker takes the first waiting request,
gathers every other request that arrives within ``max_wait`` seconds (up to ``max_batch``
texts), encodes them all in one call and hands each request its rows. While the encoder is busy,
new requests queue up and form the next batch, so under load the encoder runs on batches as it
does offline. The worker waits ``max_wait`` for more requests only while requests come
together (the last batch held more than one): a client sending one request at a time never
waits. Small batches (``small_batch`` texts or fewer) are encoded on one thread: for one short
text the second thread's hand-offs cost about what it saves, and on a busy machine threads that
wait for each other make a call several times slower. Work that is not a list of texts (the
token features of a tagger's sentences) goes through :meth:`EncoderBatcher.call`: run by the same
worker thread, in turn, but not batched with other requests.

Nothing here knows about HTTP (see :mod:`littledata.serve.app`).
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["BatchStats", "EncoderBatcher"]


@dataclass
class BatchStats:
    """Counts of the work an :class:`EncoderBatcher` did: requests, encoder calls, texts, and
    the batches for which the worker waited ``max_wait`` for more requests."""

    requests: int = 0
    batches: int = 0
    texts: int = 0
    largest_batch: int = 0
    waited: int = 0
    encode_seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        with self.lock:
            return {
                "requests": self.requests,
                "batches": self.batches,
                "texts": self.texts,
                "largest_batch": self.largest_batch,
                "waited": self.waited,
                "encode_seconds": round(self.encode_seconds, 6),
            }


_STOP = object()


@dataclass(frozen=True)
class _Job:
    """A call the worker runs alone (:meth:`EncoderBatcher.call`), with its texts' count."""

    fn: Any
    future: Future[Any]
    texts: int


class EncoderBatcher:
    """One featurizer behind a queue: concurrent :meth:`submit` calls are encoded together.

    Parameters
    ----------
    featurizer : featurizer
        Used only from the worker thread.
    max_batch : int, default=64
        Most texts per encoder call (a single larger request is encoded alone, whole).
    max_wait : float, default=0.002
        Seconds the worker waits for more requests after the first one of a batch, while
        requests come together (see the module's docstring).
    small_batch : int, default=4
        Batches of at most this many texts are encoded with the BLAS/OpenMP pools limited to one
        thread (0: never).
    """

    def __init__(
        self,
        featurizer: Any,
        *,
        max_batch: int = 64,
        max_wait: float = 0.002,
        small_batch: int = 4,
    ) -> None:
        if max_batch < 1:
            raise ValueError(f"max_batch must be 1 or more; got {max_batch}")
        if max_wait < 0:
            raise ValueError(f"max_wait must be 0 or more; got {max_wait}")
        if small_batch < 0:
            raise ValueError(f"small_batch must be 0 or more; got {small_batch}")
        self.featurizer = featurizer
        self.max_batch = int(max_batch)
        self.max_wait = float(max_wait)
        self.small_batch = int(small_batch)
        self._together = False  # did the last batch hold more than one request?
        self.stats = BatchStats()
        self._queue: queue.Queue[Any] = queue.Queue()
        self._thread = threading.Thread(
            target=self._run, name=f"encoder-{getattr(featurizer, 'name', '?')}", daemon=True
        )
        self._closed = False
        self._thread.start()

    def submit(self, texts: list[str]) -> Future[Any]:
        """A future of the features of ``texts`` (rows in order, as :func:`featurize` gives)."""
        future: Future[Any] = Future()
        if self._closed:
            future.set_exception(RuntimeError("the encoder is shut down"))
            return future
        self._queue.put((list(texts), future))
        return future

    def call(self, fn: Any, *, texts: int = 0) -> Future[Any]:
        """A future of ``fn(featurizer)``, run by the worker thread between batches (alone: for
        encoder work other than :func:`featurize` of texts, such as token features).
        ``texts`` counts in :attr:`stats`."""
        future: Future[Any] = Future()
        if self._closed:
            future.set_exception(RuntimeError("the encoder is shut down"))
            return future
        self._queue.put(_Job(fn, future, int(texts)))
        return future

    def warm_up(self) -> None:
        """Encode one text in the calling thread, so the encoder loads its weights before the
        first request rather than while it waits.

        Call it from the thread that loaded the model (the server's main thread), not the
        worker's: with PyTorch's OpenMP runtime we measured encoder calls from the thread that
        ran the encoder's first call several times slower on a busy machine than calls from
        any other thread (which is why the worker never runs the first one).
        """
        from littledata.features import featurize
        from littledata.threads import thread_limit

        featurize(["warm-up"], self.featurizer, cache=False)
        with thread_limit(1):  # finds the thread pools once, before the first small batch
            pass

    def close(self, timeout: float = 5.0) -> None:
        """Stop the worker after the requests already queued."""
        if not self._closed:
            self._closed = True
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def _gather(self, first: Any) -> tuple[list[Any], bool, list[_Job]]:
        batch, n, jobs = [first], len(first[0]), []
        wait = self.max_wait if self._together else 0.0
        deadline = time.perf_counter() + wait
        while n < self.max_batch:
            remaining = deadline - time.perf_counter()
            try:
                if remaining > 0:
                    item = self._queue.get(timeout=remaining)
                else:
                    item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is _STOP:
                return batch, True, jobs
            if isinstance(item, _Job):  # run after this batch
                jobs.append(item)
                continue
            if n + len(item[0]) > self.max_batch:
                self._encode(batch)  # full: this one starts the next batch
                batch, n = [item], len(item[0])
                deadline = time.perf_counter() + wait
                continue
            batch.append(item)
            n += len(item[0])
        if wait:
            with self.stats.lock:
                self.stats.waited += 1
        return batch, False, jobs

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is _STOP:
                return
            if isinstance(first, _Job):
                self._call(first)
                continue
            batch, stop, jobs = self._gather(first)
            self._encode(batch)
            for job in jobs:
                self._call(job)
            if stop:
                return

    def _call(self, job: _Job) -> None:
        start = time.perf_counter()
        try:
            result = job.fn(self.featurizer)
        except BaseException as exc:  # the request learns of it; the worker lives on
            job.future.set_exception(exc)
            return
        self._count(1, job.texts, time.perf_counter() - start)
        job.future.set_result(result)

    def _count(self, requests: int, texts: int, took: float) -> None:
        with self.stats.lock:
            self.stats.requests += requests
            self.stats.batches += 1
            self.stats.texts += texts
            self.stats.largest_batch = max(self.stats.largest_batch, texts)
            self.stats.encode_seconds += took

    def _encode(self, batch: list[Any]) -> None:
        from littledata.features import featurize
        from littledata.threads import thread_limit

        texts = [t for item, _ in batch for t in item]
        self._together = len(batch) > 1
        start = time.perf_counter()
        try:
            with thread_limit(1 if len(texts) <= self.small_batch else None):
                features = featurize(texts, self.featurizer, cache=False)
        except BaseException as exc:  # every waiting request learns of it; the worker lives on
            for _, future in batch:
                future.set_exception(exc)
            return
        self._count(len(batch), len(texts), time.perf_counter() - start)
        offset = 0
        for item, future in batch:
            rows = features[offset : offset + len(item)]
            offset += len(item)
            future.set_result(np.asarray(rows) if hasattr(rows, "shape") else rows)
