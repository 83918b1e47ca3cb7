"""Commands: active (see littledata.cli)."""

from __future__ import annotations

from littledata.cli.app import app  # noqa: F401
