"""Serving: many models over one encoder, over HTTP (FastAPI on uvicorn).

>>> from littledata.serve import ModelSet, create_app  # doctest: +SKIP
>>> models = ModelSet.load(["sentiment=models/sentiment", "models/topic"])  # doctest: +SKIP
>>> app = create_app(models)  # doctest: +SKIP

- :mod:`littledata.serve.models`: :class:`ModelSet`, saved model folders with each distinct
  featurizer loaded once;
- :mod:`littledata.serve.batching`: :class:`EncoderBatcher`, micro-batching of concurrent
  requests for an encoder;
- :mod:`littledata.serve.app`: :func:`create_app`, the HTTP API (imports FastAPI);
- :mod:`littledata.serve.run`: :func:`serve`, which checks the address and token and runs uvicorn.

``littledata serve MODEL_DIR...`` is the command line; docs/serving.md walks from a CSV to an
endpoint. FastAPI and uvicorn are imported only when an app is built or run.
"""

from __future__ import annotations

from typing import Any

from littledata.serve.batching import EncoderBatcher
from littledata.serve.models import ModelSet, ServedModel

__all__ = ["EncoderBatcher", "Limits", "ModelSet", "ServedModel", "create_app", "serve"]


def __getattr__(name: str) -> Any:
    if name in ("create_app", "Limits"):
        from littledata.serve import app

        return getattr(app, name)
    if name == "serve":
        from littledata.serve.run import serve

        return serve
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
