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


def data_home() -> Path:
    """Return the data home folder (created if missing)."""
    env = os.environ.get(HOME_ENV)
    home = Path(env).expanduser() if env else Path(platformdirs.user_cache_dir("littledata"))
    home.mkdir(parents=True, exist_ok=True)
    return home


def subdir(name: str) -> Path:
    """Return ``data_home() / name``, created if missing."""
    path = data_home() / name
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_mirror() -> str | None:
    """Return the mirror named by ``$LITTLEDATA_MIRROR`` (a folder or base URL), if any."""
    value = os.environ.get(MIRROR_ENV, "").strip()
    return value or None
