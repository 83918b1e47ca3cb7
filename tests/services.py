"""Outside services some integration tests need (a PostgreSQL server, headless Chromium).

Without them those tests are skipped on a developer's machine; under CI
(``LITTLEDATA_REQUIRE_SERVICES=1``, set by ``.ci/run``, which installs them) their absence is a
failure, so that "CI proves it against a real server" can never pass by skipping.
"""

from __future__ import annotations

import importlib
import os
import shutil
from pathlib import Path
from types import ModuleType
from typing import NoReturn

import pytest

REQUIRE_ENV = "LITTLEDATA_REQUIRE_SERVICES"


def unavailable(reason: str) -> NoReturn:
    """Skip the test for ``reason``; fail it instead under ``LITTLEDATA_REQUIRE_SERVICES=1``."""
    if os.environ.get(REQUIRE_ENV) == "1":
        pytest.fail(f"{reason} ({REQUIRE_ENV}=1: this test must run here, not be skipped)")
    pytest.skip(reason)


def require_module(name: str, install: str) -> ModuleType:
    """The module ``name``, or :func:`unavailable` saying how to install it."""
    try:
        return importlib.import_module(name)
    except ImportError:
        unavailable(f"{name} is not installed ({install})")


def chromium_path() -> Path:
    """Debian's Chromium (``apt-get install chromium``), or :func:`unavailable`."""
    path = Path(shutil.which("chromium") or "/usr/bin/chromium")
    if not path.exists():
        unavailable("Chromium is not installed (apt-get install chromium)")
    return path
