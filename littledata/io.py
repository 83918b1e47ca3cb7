"""Crash-safe file writes, checksums, file locks and the cleanup of what killed writers left.

Anything that must survive a crash is written to a temporary file in the destination folder, flushed
to disk and renamed into place, so a reader sees either the old file or the complete new one. The
temporary file stays locked (``flock``) while its writer lives, so the leftovers of a writer that
was killed can be told from files still being written, and removed (:func:`remove_if_abandoned`,
:func:`remove_abandoned_temps`, :func:`remove_abandoned_dirs`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import numpy as np

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

TEMP_GRACE_S = 5.0
"""A temporary file younger than this is never removed (its writer may not hold its lock yet)."""
TEMP_STALE_S = 24 * 3600.0
"""Where file locks do not exist (Windows), a temporary file older than this counts as abandoned."""


@contextlib.contextmanager
def atomic_open(path: str | os.PathLike[str], mode: str = "wb", **kwargs: Any) -> Iterator[IO[Any]]:
    """Open a temporary file next to ``path``; on success, fsync it and rename it onto ``path``.

    On any exception the temporary file is removed and ``path`` is left untouched. The temporary
    file (``.<name>.<random>.tmp``) stays locked until the rename, and the temporary files that
    killed writes of the same ``path`` left behind are removed first
    (:func:`remove_abandoned_temps`).
    """
    if "r" in mode or "a" in mode:
        raise ValueError("atomic_open is for writing whole files only")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_abandoned_temps(path)
    with locked_temp_file(path.parent, f".{path.name}.", ".tmp") as (fd, tmp):
        try:
            with os.fdopen(fd, mode, closefd=False, **kwargs) as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)  # before the lock is released
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise


def _temp_pattern(filename: str) -> re.Pattern[str]:
    # mkstemp's random part is letters, digits and "_": never a dot, so "a" does not match "a.b"'s.
    return re.compile(re.escape(f".{filename}.") + r"[A-Za-z0-9_]+\.tmp")


def remove_abandoned_temps(target: str | os.PathLike[str]) -> list[Path]:
    """Remove the temporary files (``.<name>.<random>.tmp``) that killed writes of ``target`` left
    beside it; files a live writer holds are kept. Returns the paths removed."""
    target = Path(target)
    pattern = _temp_pattern(target.name)
    try:
        candidates = [p for p in target.parent.iterdir() if pattern.fullmatch(p.name)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [p for p in candidates if remove_if_abandoned(p)]


def remove_abandoned_temps_in(
    folder: str | os.PathLike[str], suffixes: tuple[str, ...]
) -> list[Path]:
    """Remove the temporary files that killed :func:`atomic_open` writes of files ending in one
    of ``suffixes`` (e.g. ``(".png", ".svg")``) left in ``folder``; live writers' are kept."""
    ends = "|".join(re.escape(x) for x in suffixes)
    pattern = re.compile(r"\..+(?:" + ends + r")\.[A-Za-z0-9_]+\.tmp")
    try:
        candidates = [p for p in Path(folder).iterdir() if pattern.fullmatch(p.name)]
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [p for p in candidates if remove_if_abandoned(p)]


class FileLock:
    """A shared or exclusive ``flock`` on a small lock file, which may be removed and re-created.

    Several processes may hold it shared (readers) or one exclusively (a writer, or a process
    removing what the lock guards). The lock ends when :meth:`release` is called or the process
    dies, however it dies. A holder of the exclusive lock may :meth:`unlink` the lock file; a
    process that was waiting for the removed file notices and locks the new one, so two holders
    can never each believe they hold it exclusively.

    Where ``flock`` does not exist (Windows) or the lock file cannot be created (a read-only
    folder), :meth:`acquire` succeeds without locking anything.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self._fd: int | None = None
        self._held = False

    @property
    def held(self) -> bool:
        """Whether this object holds the lock (or pretends to, where locks do not exist)."""
        return self._held

    def acquire(self, *, shared: bool = False, blocking: bool = True) -> bool:
        """Take the lock; return False when ``blocking`` is False and another process holds a
        conflicting lock."""
        if self._held:
            raise RuntimeError(f"{self.path} is already held by this FileLock")
        if fcntl is None:  # pragma: no cover - Windows
            self._held = True
            return True
        op = (fcntl.LOCK_SH if shared else fcntl.LOCK_EX) | (0 if blocking else fcntl.LOCK_NB)
        while True:
            try:
                fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
            except OSError:
                try:
                    fd = os.open(self.path, os.O_RDONLY)
                except OSError:  # a read-only folder without the lock file: nothing to lock
                    self._held = True
                    return True
            try:
                fcntl.flock(fd, op)
            except BlockingIOError:
                os.close(fd)
                return False
            except BaseException:
                os.close(fd)
                raise
            try:  # the file we locked may have been removed (and re-created) meanwhile
                same = os.path.samestat(os.fstat(fd), os.stat(self.path))
            except FileNotFoundError:
                same = False
            if same:
                self._fd, self._held = fd, True
                return True
            os.close(fd)

    def release(self) -> None:
        """Release the lock (nothing happens when it is not held)."""
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor releases the flock
        self._fd, self._held = None, False

    def unlink(self) -> None:
        """Remove the lock file; call it only while holding the lock exclusively."""
        with contextlib.suppress(FileNotFoundError):
            self.path.unlink()

    def __enter__(self) -> FileLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


@contextlib.contextmanager
def locked_temp_dir(prefix: str, parent: str | os.PathLike[str] | None = None) -> Iterator[Path]:
    """A temporary folder (in ``parent``, default the system's temp folder) that holds a locked
    ``.lock`` file while the block runs, and is removed afterwards.

    Once its process is gone (even after ``kill -9``), :func:`remove_abandoned_dirs` removes it.
    """
    folder = Path(tempfile.mkdtemp(prefix=prefix, dir=parent))
    lock = FileLock(folder / ".lock")
    try:
        lock.acquire()
        yield folder
    finally:
        lock.release()
        shutil.rmtree(folder, ignore_errors=True)


def remove_abandoned_dirs(prefix: str, parent: str | os.PathLike[str] | None = None) -> list[Path]:
    """Remove the folders of :func:`locked_temp_dir` named ``<prefix><random>`` in ``parent``
    (default: the system's temp folder) whose process is gone; returns the folders removed.

    A folder younger than :data:`TEMP_GRACE_S` is kept (its process may not have locked it yet);
    one without a lock file (an older version made it) counts as abandoned after
    :data:`TEMP_STALE_S`.
    """
    root = Path(parent) if parent is not None else Path(tempfile.gettempdir())
    removed: list[Path] = []
    # mkdtemp's random part: letters, digits and "_" (so "<prefix>time-..." is not one of them)
    pattern = re.compile(re.escape(prefix) + r"[A-Za-z0-9_]+")
    try:
        candidates = [p for p in root.iterdir() if pattern.fullmatch(p.name) and p.is_dir()]
    except FileNotFoundError:
        return removed
    for folder in candidates:
        try:
            age = time.time() - folder.stat().st_mtime
        except FileNotFoundError:
            continue
        if age < TEMP_GRACE_S:
            continue
        lock_path = folder / ".lock"
        if not lock_path.exists():
            if age >= TEMP_STALE_S:
                shutil.rmtree(folder, ignore_errors=True)
                removed.append(folder)
            continue
        lock = FileLock(lock_path)
        if not lock.acquire(blocking=False):
            continue  # its run is alive
        try:
            shutil.rmtree(folder, ignore_errors=True)
            removed.append(folder)
        finally:
            lock.release()
    return removed


@contextlib.contextmanager
def locked_temp_file(
    directory: str | os.PathLike[str], prefix: str, suffix: str = ".tmp"
) -> Iterator[tuple[int, Path]]:
    """Create a temporary file in ``directory`` and hold an exclusive lock (``flock``) on it.

    Yields ``(fd, path)``; the lock is released when the block exits (after the caller renamed the
    file into place, or removed it). While a writer holds it, :func:`remove_if_abandoned` keeps
    the file; once its process is gone (even after ``kill -9``) the file counts as abandoned. The
    file gets the mode a plain ``open()`` gives (0666 & ~umask), not mkstemp's 0600.
    """
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.chmod(tmp, 0o666 & ~_umask())
        yield fd, Path(tmp)
    finally:
        os.close(fd)  # releases the lock


def remove_if_abandoned(path: str | os.PathLike[str]) -> bool:
    """Remove the temporary file ``path`` if no live writer holds it; return whether it did.

    A file younger than :data:`TEMP_GRACE_S` is always kept (its writer may be about to lock it);
    an older one is removed when its lock can be taken, i.e. the process that made it with
    :func:`locked_temp_file` has finished or died.
    """
    path = Path(path)
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return False
    if age < TEMP_GRACE_S:
        return False
    if fcntl is None:  # pragma: no cover - Windows
        if age < TEMP_STALE_S:
            return False
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return True
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return False  # a live writer holds it
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
        return True
    finally:
        os.close(fd)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> None:
    """Write ``data`` to ``path`` atomically."""
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_open(path, "w", encoding="utf-8") as fh:
        fh.write(text)


def atomic_write_json(path: str | os.PathLike[str], obj: Any) -> None:
    """Write ``obj`` as indented JSON to ``path`` atomically."""
    atomic_write_text(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def atomic_save_npy(path: str | os.PathLike[str], array: np.ndarray) -> None:
    """Save ``array`` in ``.npy`` format to ``path`` atomically (never pickles)."""
    with atomic_open(path, "wb") as fh:
        np.save(fh, array, allow_pickle=False)


def sha256_file(path: str | os.PathLike[str], chunk_size: int = 1 << 20) -> str:
    """Return the hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()
