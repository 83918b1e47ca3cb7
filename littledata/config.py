"""Where littledata keeps its files.

Everything littledata writes lives under one *data home*: ``$LITTLEDATA_HOME`` when set, otherwise a
per-user cache folder (``~/.cache/littledata`` on Linux). Inside it:

``datasets/<folder>/<file>``  raw upstream files, laid out exactly like a mirror folder
``features/``                 the feature cache (``.npy`` + JSON metadata)
``models/``                   encoders rebuilt from packaged parts, saved heads
``results.sqlite``            the benchmark and active-learning results store
``reports/``                  HTML reports
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

HOME_ENV = "LITTLEDATA_HOME"
MIRROR_ENV = "LITTLEDATA_MIRROR"


def _make_dir(path: Path) -> Path:
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        from littledata.errors import ConfigError

        where = exc.filename or path
        raise ConfigError(
            f"Cannot use {where} as littledata's data home: {exc.strerror or exc}. Set "
            f"${HOME_ENV} to a folder you can write to (it is created if missing)."
        ) from None
    return path


def data_home() -> Path:
    """Return the data home folder (created if missing).

    Raises :class:`~littledata.errors.ConfigError` when it cannot be used (a file, not writable).
    """
    env = os.environ.get(HOME_ENV)
    home = Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("littledata"))
    return _make_dir(home)


def subdir(name: str) -> Path:
    """Return ``data_home() / name``, created if missing (ConfigError when it cannot be)."""
    return _make_dir(data_home() / name)


def default_mirror() -> str | None:
    """Return the mirror named by ``$LITTLEDATA_MIRROR`` (a folder or base URL), if any."""
    value = os.environ.get(MIRROR_ENV, "").strip()
    return value or None
