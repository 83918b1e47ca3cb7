"""Crash-safe file writes and checksums.

Anything that must survive a crash is written to a temporary file in the destination folder, flushed
to disk and renamed into place, so a reader sees either the old file or the complete new one.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
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

    On any exception the temporary file is removed and ``path`` is left untouched.
    """
    if "r" in mode or "a" in mode:
        raise ValueError("atomic_open is for writing whole files only")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        # mkstemp creates the file 0600; give it the mode a plain open() would (0666 & ~umask).
        os.chmod(tmp, 0o666 & ~_umask())
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


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
