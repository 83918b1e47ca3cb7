"""The saved-model folder: a JSON manifest and the head's arrays in safetensors, checksummed.

Layout of a model folder::

    manifest.json       format name and version, littledata version, task, labels in order,
                        featurizer (name, options, kind, fingerprint), head (registry name,
                        parameters, resampling, learned plain values), files with sha256,
                        training data digest and size, library versions
    head.safetensors    the head's learned arrays (numbers only; no pickle, no code)

This module writes and reads such a folder and checks it: the format name and version, that every
file the manifest lists is there with its size and sha256, that file names are plain names inside
the folder. It knows nothing of heads or featurizers; :class:`~littledata.models.TextClassifier`
builds the manifest and rebuilds the model from it.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from littledata.errors import (
    ArtifactError,
    ArtifactIntegrityError,
    ArtifactVersionError,
    ConfigError,
)
from littledata.heads.state import c_order

__all__ = [
    "ARRAYS_FILE",
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST_FILE",
    "check_model_path",
    "read_manifest",
    "read_model_folder",
    "write_model_folder",
]

FORMAT = "littledata-model"
FORMAT_VERSION = 1
"""Version of the folder layout and manifest; a reader refuses versions it does not know."""
MANIFEST_FILE = "manifest.json"
ARRAYS_FILE = "head.safetensors"


def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):  # not every platform can open a folder
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def write_model_folder(
    path: str | os.PathLike[str],
    manifest: Mapping[str, Any],
    arrays: Mapping[str, np.ndarray],
    *,
    overwrite: bool = False,
) -> Path:
    """Write a model folder at ``path``: ``arrays`` to :data:`ARRAYS_FILE`, then the manifest
    (``manifest`` plus ``format``, ``format_version`` and ``files`` with sizes and sha256).

    The folder is built beside ``path`` under a temporary name and renamed into place, so a crash
    never leaves a half-written model at ``path``. An existing ``path`` is replaced only with
    ``overwrite=True``, and only if it is a model folder or empty (never another folder).

    Raises
    ------
    ConfigError
        ``path`` exists (without ``overwrite``) or is not a model folder; a value in
        ``manifest`` is not plain JSON.
    """
    from safetensors.numpy import save as safetensors_bytes

    path = check_model_path(path, overwrite=overwrite)
    data = safetensors_bytes({k: c_order(np.asarray(v)) for k, v in arrays.items()})
    body = {
        **manifest,
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "files": {ARRAYS_FILE: {"bytes": len(data), "sha256": _sha256_bytes(data)}},
    }
    try:
        text = json.dumps(body, indent=2, sort_keys=True, allow_nan=False) + "\n"
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"the model's manifest is not plain JSON: {exc}") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent))
    try:
        _write_file(tmp / ARRAYS_FILE, data)
        _write_file(tmp / MANIFEST_FILE, text.encode("utf-8"))
        os.chmod(tmp, 0o777 & ~_umask())
        _fsync_dir(tmp)
        if path.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{path.name}.", suffix=".old", dir=path.parent))
            os.replace(path, old / "model")
            os.replace(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, path)
        _fsync_dir(path.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path


def check_model_path(path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
    """``path`` as a Path, after checking a model folder may be written there: nothing is
    there, or (with ``overwrite``) a saved model or an empty folder (never another folder).

    Raises
    ------
    ConfigError
        Something is at ``path`` that may not be replaced.
    """
    path = Path(path)
    if path.exists():
        if not overwrite:
            raise ConfigError(
                f"{path} already exists; choose another folder or pass overwrite=True (--overwrite)"
            )
        if not path.is_dir() or (any(path.iterdir()) and not (path / MANIFEST_FILE).is_file()):
            raise ConfigError(
                f"{path} exists and is not a saved model; it is left alone. Choose another folder."
            )
    return path


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def read_manifest(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The manifest of the model folder ``path``, after checking its format name and version.

    Checks no other file (see :func:`read_model_folder`); e.g. for listing models.

    Raises
    ------
    ArtifactError
        ``path`` is not a folder or has no manifest.
    ArtifactIntegrityError
        The manifest is not valid JSON (truncated or altered).
    ArtifactVersionError
        The manifest is not a littledata model's, or of a format version this code cannot read.
    """
    folder = Path(path)
    file = folder / MANIFEST_FILE
    if not folder.is_dir():
        raise ArtifactError(
            f"{folder} is not a folder; a saved model is a folder with {MANIFEST_FILE}"
        )
    if not file.is_file():
        raise ArtifactError(
            f"{folder} is not a littledata model: it has no {MANIFEST_FILE} "
            "(save one with TextClassifier.save)"
        )
    try:
        manifest = json.loads(file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise ArtifactIntegrityError(
            f"{file} is not valid JSON (truncated or altered?): {exc}"
        ) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        found = manifest.get("format") if isinstance(manifest, dict) else None
        raise ArtifactVersionError(
            f"{folder} is not a littledata model (its {MANIFEST_FILE} has format {found!r}, "
            f"expected {FORMAT!r})"
        )
    version = manifest.get("format_version")
    if not isinstance(version, int) or isinstance(version, bool) or version != FORMAT_VERSION:
        raise ArtifactVersionError(
            f"{folder} is a littledata model of format version {version!r}; this littledata "
            f"reads version {FORMAT_VERSION}. "
            + (
                "Upgrade littledata to load it."
                if isinstance(version, int) and version > FORMAT_VERSION
                else "Retrain and save the model again."
            )
        )
    return manifest


def read_model_folder(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read and check a model folder: ``(manifest, arrays)``.

    Every file the manifest lists must be a plain name inside the folder, present, of the listed
    size and sha256; the arrays are read with safetensors (no pickle).

    Raises
    ------
    ArtifactError, ArtifactVersionError
        As :func:`read_manifest`; also a manifest whose file list is not the expected one.
    ArtifactIntegrityError
        A file is missing, truncated or altered.
    """
    from safetensors import SafetensorError
    from safetensors.numpy import load as safetensors_load

    folder = Path(path)
    manifest = read_manifest(folder)
    files = manifest.get("files")
    if not isinstance(files, dict) or set(files) != {ARRAYS_FILE}:
        listed = sorted(files) if isinstance(files, dict) else files
        raise ArtifactError(
            f"{folder / MANIFEST_FILE} lists files {listed!r}; expected only {ARRAYS_FILE}"
        )
    entry = files[ARRAYS_FILE]
    if not isinstance(entry, dict) or not isinstance(entry.get("sha256"), str):
        raise ArtifactError(f"{folder / MANIFEST_FILE} has no sha256 for {ARRAYS_FILE}")
    file = folder / ARRAYS_FILE
    if not file.is_file():
        raise ArtifactIntegrityError(
            f"{file} is missing; the model folder is incomplete (copy the whole folder)"
        )
    data = file.read_bytes()
    if len(data) != entry.get("bytes"):
        raise ArtifactIntegrityError(
            f"{file} has {len(data)} bytes, the manifest says {entry.get('bytes')}: the file is "
            "truncated or altered"
        )
    if _sha256_bytes(data) != entry["sha256"]:
        raise ArtifactIntegrityError(
            f"{file} does not match the sha256 in its manifest: the file was altered"
        )
    try:
        arrays = safetensors_load(data)
    except SafetensorError as exc:
        raise ArtifactIntegrityError(f"{file} is not a valid safetensors file: {exc}") from None
    return manifest, arrays
