"""The on-disk feature cache: a dataset is encoded once per featurizer, ever.

Layout: ``data_home()/features/<featurizer fp[:16]>-<texts fp[:16]>.npy`` (the float32 matrix) and
``.json`` beside it (featurizer name, full fingerprint, options, texts fingerprint, shape, dtype,
creation time, library versions, an optional label such as ``sst2/train``, the sha256 of the
``.npy`` bytes and of the ``.index``), ``.index`` (the texts' index: per row, the first 16 bytes
of the sha256 of its text) and ``.lock``, the entry's lock file (``flock``, see below).

Subsets are hits: when no entry holds exactly the requested texts, the entries of the same
featurizer whose indexes hold every requested text (one entry, or several together) give the
rows, each entry verified as a direct read is (below) and its index against its checksum; the
gathered matrix is published as an entry of its own (``derived_from`` in its JSON) without
calling the encoder. So featurizing a dataset's splits and then benchmarking it with a capped
pool (a subset of the train split) encodes every text once. Entries written before the index
existed have none and serve exact hits only.

Writing: the matrix is filled batch by batch straight into a memory-mapped temporary ``.npy``
(``np.lib.format.open_memmap``) in the cache folder, so featurizing 100k texts never holds more
than one batch of activations beside the output; the file is checksummed and fsynced, the JSON is
written (atomically), and only then is the ``.npy`` renamed into place: an entry is published by
that one rename. A ``.npy`` at its final name always has its metadata; a JSON without its ``.npy``
is an interrupted write.

Concurrency: each entry has a lock file, held

- exclusively by the process writing the entry (from before it computes until it has verified what
  it published), so a second process that wants the same features waits and then reads the first
  one's result instead of computing them again, and no reader ever sees half an entry;
- shared by a process reading the entry (while it verifies it), and by a benchmark run for as long
  as its worker processes may open the file (:func:`hold`);
- exclusively, without waiting, by ``cache clear`` and by a writer that replaces a corrupt entry:
  an entry that any process writes or holds is left alone;
- shared, without waiting, by a writer that copies rows out of the entry into a subset's new
  entry (an entry another process is writing or clearing is simply not used).

Reading returns the ``.npy`` memory-mapped read-only, after these checks (any failure is logged
and the features recomputed, replacing the entry; a bad entry is never used):

- the JSON parses and names the same featurizer fingerprint and texts fingerprint;
- the ``.npy`` header parses, and its shape and dtype equal the JSON's;
- the file size equals header + data (catches a truncated or padded file);
- the sha256 of the whole file equals the JSON's: computed **once per process per file** (memoized
  by path, size and modification time) at about 1-2 ms per MB (sst2 train, 6920 x 384 float32 =
  10.6 MB: ~10 ms); later reads in the same process cost only the JSON and header checks (<1 ms).

Leftovers: the temporary ``.npy`` of a featurization that was killed stays locked only while its
process lives; the next write to the cache (and ``cache clear``, and the start of a benchmark run)
removes the abandoned ones (:func:`remove_abandoned`).

Why this module is longer than the project's ~600-line guide: it is one protocol (per-entry
locks, metadata before the matrix, atomic publish, held entries, subset indexes, verification,
clearing) that is only safe as a whole; split, a reader of one half could not see that the other
half keeps the invariants that concurrent writers and ``cache clear`` rely on.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from littledata.features.base import BaseFeaturizer, Featurizer
from littledata.io import FileLock, locked_temp_file, remove_if_abandoned

logger = logging.getLogger(__name__)

_VERIFIED: dict[tuple[str, int, int], str] = {}


@dataclass(frozen=True)
class CacheEntry:
    """One cached matrix, as ``littledata cache ls`` lists it."""

    key: str
    featurizer: str
    fingerprint: str
    texts_fingerprint: str
    label: str
    shape: tuple[int, ...]
    bytes: int
    created: str
    path: Path


def cache_dir() -> Path:
    """``data_home()/features`` (created if missing)."""
    from littledata.config import subdir

    return subdir("features")


def entry_key(featurizer_fp: str, texts_fp: str) -> str:
    """File stem of the entry for a (featurizer fingerprint, texts fingerprint) pair."""
    return f"{featurizer_fp[:16]}-{texts_fp[:16]}"


INDEX_DIGEST_BYTES = 16
"""Bytes of a text's sha256 kept in an entry's index (128 bits: collisions are not a concern)."""

ENTRY_SUFFIXES = (".npy", ".json", ".index")
"""The files of an entry (besides its ``.lock``), in the order they are removed."""


def text_digests(texts: Sequence[str]) -> bytes:
    """The index of ``texts``: per text, the first 16 bytes of the sha256 of its UTF-8 bytes."""
    import hashlib

    k = INDEX_DIGEST_BYTES
    out = bytearray(len(texts) * k)
    for i, text in enumerate(texts):
        digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).digest()
        out[i * k : (i + 1) * k] = digest[:k]
    return bytes(out)


def _remove(stem: Path) -> None:
    for suffix in ENTRY_SUFFIXES:  # the reverse of publishing: never a .npy without metadata
        with contextlib.suppress(FileNotFoundError):
            stem.with_suffix(suffix).unlink()


def _sha256_fd(path: Path) -> str:
    from littledata.io import sha256_file

    return sha256_file(path)


def _lock(stem: Path) -> FileLock:
    return FileLock(stem.with_suffix(".lock"))


def load(featurizer_fp: str, texts_fp: str, shape: tuple[int, ...]) -> np.ndarray | None:
    """Return the cached matrix (read-only memory map), or None when absent or not trustworthy.

    Waits while another process writes this entry. Never removes anything: a bad entry is
    replaced by the next :func:`store`.
    """
    stem = cache_dir() / entry_key(featurizer_fp, texts_fp)
    if not stem.with_suffix(".npy").exists() and not stem.with_suffix(".json").exists():
        return None
    lock = _lock(stem)
    _wait_shared(lock, stem)
    try:
        return _verified(stem, featurizer_fp, texts_fp, shape)
    finally:
        lock.release()


def _verified(
    stem: Path, featurizer_fp: str, texts_fp: str, shape: tuple[int, ...], *, quiet: bool = False
) -> np.ndarray | None:
    """The entry at ``stem`` memory-mapped if it is complete and verifies, else None (logged)."""
    npy, meta_path = stem.with_suffix(".npy"), stem.with_suffix(".json")
    problem = ""
    arr: np.ndarray | None = None
    try:
        meta = json.loads(meta_path.read_text("utf-8"))
        if not isinstance(meta, dict):
            problem = f"its metadata is a JSON {type(meta).__name__}, not an object"
        elif meta.get("fingerprint") != featurizer_fp or meta.get("texts_fingerprint") != texts_fp:
            problem = "its metadata names another featurizer or other texts"
        elif tuple(meta.get("shape", ())) != tuple(shape) or meta.get("dtype") != "float32":
            problem = f"its metadata shape {meta.get('shape')} differs from the expected {shape}"
        else:
            arr = np.load(npy, mmap_mode="r", allow_pickle=False)
            assert isinstance(arr, np.memmap)
            st = os.stat(npy)
            if arr.shape != tuple(shape) or arr.dtype != np.float32:
                problem = f"the .npy holds {arr.shape} {arr.dtype}, expected {shape} float32"
            elif st.st_size != arr.offset + arr.nbytes:
                problem = f"the .npy is {st.st_size} bytes, expected {arr.offset + arr.nbytes}"
            else:
                memo = (str(npy), st.st_size, st.st_mtime_ns)
                sha = _VERIFIED.get(memo)
                if sha is None:
                    sha = _sha256_fd(npy)
                if sha != meta.get("sha256"):
                    problem = "the .npy checksum does not match its metadata"
                else:
                    _VERIFIED[memo] = sha
    except FileNotFoundError as exc:
        if not npy.exists() and not meta_path.exists():
            return None  # absent
        missing = "its metadata" if exc.filename == str(meta_path) else "its .npy file"
        problem = f"{missing} is missing (an interrupted write)"
    except (ValueError, OSError, EOFError, TypeError, AssertionError) as exc:
        problem = f"it cannot be read ({type(exc).__name__}: {exc})"
    if problem:
        log = logger.debug if quiet else logger.warning
        log("Feature cache entry %s is corrupt: %s; recomputing.", stem.name, problem)
        return None
    return arr


def store(
    featurizer: Featurizer,
    texts: Sequence[str],
    texts_fp: str,
    *,
    batch_size: int | None = None,
    label: str = "",
) -> np.ndarray:
    """Compute ``featurizer`` on ``texts`` into a new cache entry; return it memory-mapped.

    When another process is writing the same entry, waits for it and returns its result. When
    the entry exists but does not verify and another process holds it (a benchmark run uses it),
    the features are computed in memory and returned without being cached.
    """
    fp = featurizer.fingerprint
    directory = cache_dir()
    stem = directory / entry_key(fp, texts_fp)
    shape = output_shape(featurizer, len(texts))
    remove_abandoned()
    lock = _lock(stem)
    held_by_readers = 0
    while True:
        if lock.acquire(blocking=False):
            try:
                arr = _verified(stem, fp, texts_fp, shape, quiet=True)
                if arr is not None:  # another process published it meanwhile
                    return arr
                _remove(stem)  # an interrupted or corrupt entry that nobody holds
                try:
                    index = text_digests(texts)
                    gathered = _gather(fp, index, shape, stem)
                    return _write(
                        featurizer, texts, texts_fp, stem, shape, batch_size, label, index, gathered
                    )
                except BaseException:
                    lock.unlink()  # a failed write leaves nothing behind, not even its lock file
                    raise
            finally:
                lock.release()
        if lock.acquire(shared=True, blocking=False):  # readers hold it, no writer
            try:
                arr = _verified(stem, fp, texts_fp, shape, quiet=True)
            finally:
                lock.release()
            if arr is not None:
                return arr
            held_by_readers += 1
            if held_by_readers * _HELD_POLL_S >= _HELD_WAIT_S:
                logger.warning(
                    "Feature cache entry %s does not verify and another process holds it; "
                    "computing %s features without caching them.", stem.name, featurizer.name,
                )  # fmt: skip
                return _compute_in_memory(featurizer, texts, batch_size)
            time.sleep(_HELD_POLL_S)
            continue
        # another process is writing this entry: wait for it, then look again
        _wait_shared(lock, stem)
        lock.release()


def _wait_shared(lock: FileLock, stem: Path, quiet_s: float = 1.0) -> None:
    """Take ``lock`` shared, waiting as long as a writer holds it (saying so after ``quiet_s``:
    a ``cache clear`` holds it only for a moment)."""
    deadline = time.monotonic() + quiet_s
    while not lock.acquire(shared=True, blocking=False):
        if time.monotonic() > deadline:
            logger.warning(
                "Another process is computing the features of cache entry %s; waiting for it.",
                stem.name,
            )
            lock.acquire(shared=True)
            return
        time.sleep(0.02)


_HELD_POLL_S = 0.1
_HELD_WAIT_S = 2.0


def _compute_in_memory(
    featurizer: Featurizer, texts: Sequence[str], batch_size: int | None
) -> np.ndarray:
    if isinstance(featurizer, BaseFeaturizer):
        out = featurizer.transform(texts, batch_size=batch_size)
    else:
        out = np.asarray(featurizer.transform(texts), dtype=np.float32)
    _check_finite(out, featurizer.name)
    return out


class _Part(NamedTuple):
    """Rows ``src`` of the entry at ``stem`` go to rows ``dst`` of the new entry."""

    stem: Path
    texts_fp: str
    n: int
    src: np.ndarray
    dst: np.ndarray


class _Gathered(NamedTuple):
    parts: list[_Part]

    @property
    def sources(self) -> list[str]:
        return [p.stem.name for p in self.parts]


def _gather(
    featurizer_fp: str, index: bytes, shape: tuple[int, ...], stem: Path
) -> _Gathered | None:
    """Where to find every text of ``index`` (:func:`text_digests`) among the other entries of
    the same featurizer (by their indexes), or None when they do not hold them all.

    Only indexes are read here (each checked against its checksum, its entry held shared while
    it is read); the rows are copied, and their entries verified, by :func:`_copy_rows`.
    """
    import hashlib

    candidates = []
    for meta_path in stem.parent.glob(f"{featurizer_fp[:16]}-*.json"):
        if meta_path.with_suffix("") == stem:
            continue
        try:
            meta = json.loads(meta_path.read_text("utf-8"))
            n = int(meta["n_texts"])
            usable = (
                meta.get("fingerprint") == featurizer_fp
                and isinstance(meta.get("index_sha256"), str)
                and isinstance(meta.get("texts_fingerprint"), str)
                and tuple(meta.get("shape", ())) == (n, *shape[1:])
            )
        except (OSError, ValueError, KeyError, TypeError, AttributeError):
            continue
        if usable:
            candidates.append((n, meta_path.with_suffix(""), meta))
    if not candidates:
        return None
    wanted = np.frombuffer(index, dtype=f"S{INDEX_DIGEST_BYTES}")
    missing = np.arange(len(wanted))
    parts: list[_Part] = []
    for n, source, meta in sorted(candidates, key=lambda c: (-c[0], c[1].name)):
        if not len(missing):
            break
        lock = _lock(source)
        if not lock.acquire(shared=True, blocking=False):  # being written or cleared
            continue
        try:
            theirs = source.with_suffix(".index").read_bytes()
        except OSError:
            continue
        finally:
            lock.release()
        if len(theirs) != n * INDEX_DIGEST_BYTES or (
            hashlib.sha256(theirs).hexdigest() != meta["index_sha256"]
        ):
            logger.warning("Feature cache index %s.index is corrupt; not using it.", source.name)
            continue
        have = np.frombuffer(theirs, dtype=f"S{INDEX_DIGEST_BYTES}")
        order = np.argsort(have, kind="stable")
        at = np.searchsorted(have[order], wanted[missing])
        at = np.minimum(at, n - 1)
        hit = have[order][at] == wanted[missing]
        if hit.any():
            parts.append(
                _Part(source, str(meta["texts_fingerprint"]), n, order[at[hit]], missing[hit])
            )
            missing = missing[~hit]
    if len(missing):
        return None
    return _Gathered(parts)


def _copy_rows(gathered: _Gathered, out: np.ndarray, featurizer_fp: str, block: int = 4096) -> bool:
    """Copy the rows :func:`_gather` found into ``out``; False (``out`` half filled) when an
    entry is now being written or cleared by another process, or no longer verifies."""
    for part in gathered.parts:
        lock = _lock(part.stem)
        if not lock.acquire(shared=True, blocking=False):
            return False
        try:
            shape = (part.n, *out.shape[1:])
            arr = _verified(part.stem, featurizer_fp, part.texts_fp, shape, quiet=True)
            if arr is None:
                return False
            for b in range(0, len(part.dst), block):
                out[part.dst[b : b + block]] = arr[part.src[b : b + block]]
            del arr
        finally:
            lock.release()
    return True


def _write(
    featurizer: Featurizer,
    texts: Sequence[str],
    texts_fp: str,
    stem: Path,
    shape: tuple[int, ...],
    batch_size: int | None,
    label: str,
    index: bytes,
    gathered: _Gathered | None = None,
) -> np.ndarray:
    """Compute (or, with ``gathered``, copy) and publish the entry at ``stem``; the caller holds
    its lock exclusively."""
    import hashlib

    from littledata.io import atomic_write_bytes, atomic_write_json
    from littledata.versions import library_versions

    fp = featurizer.fingerprint
    npy, meta_path = stem.with_suffix(".npy"), stem.with_suffix(".json")
    index_path = stem.with_suffix(".index")
    # the temporary file stays locked while the encoder fills it, so that cleanup in another
    # process leaves it alone (littledata.io.remove_if_abandoned)
    with locked_temp_file(stem.parent, f".{stem.name}.", ".npy.tmp") as (_, tmp):
        try:
            out = np.lib.format.open_memmap(tmp, mode="w+", dtype=np.float32, shape=shape)
            if gathered is not None and _copy_rows(gathered, out, fp):
                logger.info(
                    "Feature cache: %d texts taken from the rows of %d cached entries",
                    len(texts), len(gathered.parts),
                )  # fmt: skip
            elif isinstance(featurizer, BaseFeaturizer):
                gathered = None
                featurizer.transform(texts, out=out, batch_size=batch_size)
            else:
                gathered = None
                out[...] = np.asarray(featurizer.transform(texts), dtype=np.float32)
            _check_finite(out, featurizer.name)
            out.flush()
            del out
            with open(tmp, "rb+") as fh:
                os.fsync(fh.fileno())
            sha = _sha256_fd(tmp)
            meta: dict[str, Any] = {
                "featurizer": featurizer.name,
                "fingerprint": fp,
                "kind": featurizer.kind,
                "options": getattr(featurizer, "options", {}),
                "texts_fingerprint": texts_fp,
                "n_texts": len(texts),
                "label": label,
                "shape": list(shape),
                "dtype": "float32",
                "sha256": sha,
                "index_sha256": hashlib.sha256(index).hexdigest(),
                "created": _dt.datetime.now(_dt.UTC).isoformat(timespec="seconds"),
                "versions": library_versions(),
            }
            if gathered is not None:
                meta["derived_from"] = gathered.sources
            atomic_write_bytes(index_path, index)  # the index and the metadata first ...
            atomic_write_json(meta_path, meta)
            os.replace(tmp, npy)  # ... then the matrix: this rename publishes the entry
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            if not npy.exists():
                for leftover in (meta_path, index_path):
                    with contextlib.suppress(FileNotFoundError):
                        leftover.unlink()
            raise
    st = os.stat(npy)
    _VERIFIED[(str(npy), st.st_size, st.st_mtime_ns)] = sha
    arr = _verified(stem, fp, texts_fp, shape)
    if arr is None:  # pragma: no cover - only a process that ignores the lock could do this
        raise OSError(f"the feature cache entry {npy} vanished right after it was written")
    return arr


def hold(path: str | os.PathLike[str], stack: contextlib.ExitStack) -> bool:
    """Keep the cache entry whose ``.npy`` is ``path`` from being removed until ``stack`` closes.

    For a process that hands the path to others who open it later (the benchmark's worker
    processes): ``cache clear`` and :func:`store` leave a held entry alone. Returns False (and
    holds nothing) when the entry is gone already.
    """
    stem = Path(path).with_suffix("")
    lock = _lock(stem)
    lock.acquire(shared=True)
    if not (stem.with_suffix(".npy").exists() and stem.with_suffix(".json").exists()):
        lock.release()
        return False
    stack.callback(lock.release)
    return True


def remove_abandoned() -> tuple[int, int]:
    """Remove the temporary files that killed writers left in the cache folder (never one that a
    live process is writing). Returns (files removed, bytes freed)."""
    removed, freed = 0, 0
    for leftover in cache_dir().glob(".*.tmp"):
        try:
            size = leftover.stat().st_size
        except FileNotFoundError:
            continue
        if remove_if_abandoned(leftover):
            removed += 1
            freed += size
    if removed:
        logger.info(
            "Removed %d temporary files left in the feature cache by killed writers", removed
        )
    return removed, freed


def _check_finite(out: np.ndarray, name: str, block: int = 1 << 18) -> None:
    """Raise FloatingPointError on a NaN or infinity, checked ~``block`` values at a time."""
    rows = max(1, block // max(1, int(np.prod(out.shape[1:]))))
    for r0 in range(0, len(out), rows):
        if not np.isfinite(out[r0 : r0 + rows]).all():
            raise FloatingPointError(f"{name} produced NaN or infinite values")


def output_shape(featurizer: Featurizer, n: int) -> tuple[int, ...]:
    """Shape of ``featurizer``'s features for ``n`` texts (what a cache entry must hold)."""
    if isinstance(featurizer, BaseFeaturizer):
        return featurizer.output_shape(n)
    if featurizer.kind == "layers":
        raise TypeError("a 'layers' featurizer must subclass BaseFeaturizer to be cached")
    return (n, featurizer.dim)


def entries() -> list[CacheEntry]:
    """Every complete entry of the cache (newest first); unreadable metadata is skipped."""
    out: list[CacheEntry] = []
    for meta_path in cache_dir().glob("*.json"):
        npy = meta_path.with_suffix(".npy")
        try:
            if not npy.exists():
                continue  # being written, or an interrupted write
            meta = json.loads(meta_path.read_text("utf-8"))
            out.append(
                CacheEntry(
                    key=meta_path.stem,
                    featurizer=str(meta.get("featurizer", "?")),
                    fingerprint=str(meta.get("fingerprint", "")),
                    texts_fingerprint=str(meta.get("texts_fingerprint", "")),
                    label=str(meta.get("label", "")),
                    shape=tuple(meta.get("shape", ())),
                    bytes=npy.stat().st_size + meta_path.stat().st_size + _size_of(npy),
                    created=str(meta.get("created", "")),
                    path=npy,
                )
            )
        except (OSError, ValueError, AttributeError):
            logger.warning("Unreadable feature cache metadata %s", meta_path)
    return sorted(out, key=lambda e: e.created, reverse=True)


def _size_of(npy: Path) -> int:
    """The size of the entry's index (0 when it has none)."""
    try:
        return npy.with_suffix(".index").stat().st_size
    except FileNotFoundError:
        return 0


def entry_meta(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The metadata of the entry whose ``.npy`` is ``path`` (``{}`` when unreadable), e.g. to
    tell whether its rows came from other entries (``derived_from``)."""
    try:
        meta = json.loads(Path(path).with_suffix(".json").read_text("utf-8"))
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


class Cleared(NamedTuple):
    """What :func:`clear` did."""

    removed: int
    """Entries removed."""
    freed: int
    """Bytes freed (entries, interrupted writes and abandoned temporary files)."""
    in_use: int
    """Entries kept because another process was writing or using them."""


def clear(featurizer: str | None = None) -> Cleared:
    """Delete the entries of ``featurizer`` (its registry name, an alias such as ``default``, or a
    fingerprint prefix of 8+ characters), or all.

    An entry that another process is writing or using (a running benchmark) is kept and counted
    in ``in_use``. Clearing everything also removes interrupted writes and the temporary files
    that killed writers left.
    """
    from littledata.features.base import ALIASES

    name = ALIASES.get(featurizer, featurizer) if featurizer is not None else None
    removed, freed, in_use = 0, 0, 0
    complete = {e.path.with_suffix(""): e for e in entries()}
    stems = dict.fromkeys(complete)
    if featurizer is None:  # interrupted writes too, and lock files of removed entries
        for pattern in ("*.json", "*.npy", "*.index", "*.lock"):
            stems.update(dict.fromkeys(p.with_suffix("") for p in cache_dir().glob(pattern)))
    for stem in stems:
        entry = complete.get(stem)
        if featurizer is not None and not (
            entry is not None
            and (
                entry.featurizer in (featurizer, name)
                or (len(featurizer) >= 8 and entry.fingerprint.startswith(featurizer))
            )
        ):
            continue
        lock = _lock(stem)
        if not lock.acquire(blocking=False):
            in_use += entry is not None
            continue
        try:
            for suffix in ENTRY_SUFFIXES:
                with contextlib.suppress(FileNotFoundError):
                    freed += stem.with_suffix(suffix).stat().st_size
                    stem.with_suffix(suffix).unlink()
            removed += entry is not None
            lock.unlink()
        finally:
            lock.release()
    if featurizer is None:
        freed += remove_abandoned()[1]
    if in_use:
        logger.info("Kept %d feature cache entries that running processes are using", in_use)
    return Cleared(removed, freed, in_use)
