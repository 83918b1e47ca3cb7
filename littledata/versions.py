"""Versions of littledata and the libraries that shape its results (recorded with every result)."""

from __future__ import annotations

import platform
from importlib import metadata

_LIBRARIES = (
    "littledata",
    "numpy",
    "scipy",
    "scikit-learn",
    "torch",
    "transformers",
    "sentence-transformers",
    "onnxruntime",
)


def library_versions() -> dict[str, str]:
    """Return ``{name: version}`` for littledata, Python and the numeric libraries it uses."""
    out = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "not installed"
    return out
