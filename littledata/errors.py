"""Errors a user can cause.

Every error that bad input, a bad name or a broken file can cause is a :class:`LittleDataError`
subclass whose message says what was wrong and how to fix it. The command line prints that
message without a traceback; library users can catch the whole family with one ``except``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable


class LittleDataError(Exception):
    """Base class of every error a user can cause (bad input, unknown name, broken file)."""


class UnknownNameError(LittleDataError, LookupError):
    """A dataset, featurizer, head, strategy or other registered name does not exist."""


class DuplicateNameError(LittleDataError, ValueError):
    """A dataset, featurizer, head, strategy or metric is registered under a name already taken."""


class DataFormatError(LittleDataError, ValueError):
    """A file or an input does not have the expected shape, columns, encoding or values."""


class ConfigError(LittleDataError, ValueError):
    """A setting, option or spec file value is invalid."""


class DownloadError(LittleDataError, OSError):
    """A file could not be fetched from upstream or from a mirror."""


class ChecksumError(DownloadError):
    """A fetched file's sha256 does not match the one the registry pins."""


class MissingDependencyError(LittleDataError, ImportError):
    """An optional package needed for the requested feature is not installed."""


class ArtifactError(LittleDataError, ValueError):
    """A saved model folder cannot be used: not a littledata model, or its parts do not fit."""


class ArtifactIntegrityError(ArtifactError):
    """A file of a saved model is missing, truncated or altered (its sha256 differs)."""


class ArtifactVersionError(ArtifactError):
    """A saved model has a format name or version this littledata cannot read."""


class FeaturizerMismatchError(ArtifactError):
    """A saved model's featurizer is not the one it was trained with (fingerprints differ)."""


class DatabaseError(LittleDataError):
    """A database (results store, labeling session) failed: it cannot be opened or reached, or
    it broke while in use. The two kinds below are also a :class:`DataFormatError` (the file is
    not a usable database) and a :class:`ConfigError` (it cannot be opened or reached)."""


class DatabaseUnusableError(DataFormatError, DatabaseError):
    """The database file is not a database, or is corrupt."""


class DatabaseUnavailableError(ConfigError, DatabaseError):
    """The database cannot be opened or reached (a missing path, a server down, a lock held
    too long)."""


def unknown_name(kind: str, name: str, choices: Iterable[str]) -> UnknownNameError:
    """Build an :class:`UnknownNameError` that suggests the closest valid names.

    >>> str(unknown_name("dataset", "sst", ["sst2", "subj", "trec"]))  # doctest: +ELLIPSIS
    "Unknown dataset 'sst'. Did you mean: sst2? ..."
    """
    choices = sorted(choices)
    close = difflib.get_close_matches(name, choices, n=3, cutoff=0.5)
    close += [c for c in choices if name.lower() in c.lower() and c not in close][: 3 - len(close)]
    msg = f"Unknown {kind} {name!r}."
    if close:
        msg += f" Did you mean: {', '.join(close)}?"
    msg += f" Available: {', '.join(choices)}."
    return UnknownNameError(msg)
