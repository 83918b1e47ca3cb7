"""Run the HTTP API: check the address and token, load the models, start uvicorn."""

from __future__ import annotations

import ipaddress
import logging
import os
from collections.abc import Sequence
from typing import Any

from littledata.errors import ConfigError

__all__ = ["TOKEN_ENV", "check_address", "is_loopback", "serve"]

TOKEN_ENV = "LITTLEDATA_TOKEN"
"""Environment variable read for the bearer token when none is given."""

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    """Whether ``host`` is this machine only (``localhost``, ``127.0.0.0/8``, ``::1``)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_address(host: str, port: int, token: str | None) -> None:
    """Refuse a port out of range, and a non-loopback address without a bearer token.

    Raises
    ------
    ConfigError
        With what to do instead.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ConfigError(f"--port must be between 0 and 65535; got {port!r}")
    if token is not None and not token.strip():
        raise ConfigError("The bearer token is empty; give a non-empty --token")
    if not is_loopback(host) and token is None:
        raise ConfigError(
            f"Serving on {host} lets other machines reach the models: give a bearer token with "
            f"--token (or ${TOKEN_ENV}), or bind to 127.0.0.1."
        )


def serve(
    model_dirs: Sequence[str | os.PathLike[str]],
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    token: str | None = None,
    limits: Any = None,
    max_batch: int = 64,
    max_wait: float = 0.002,
    log_level: str = "info",
) -> None:
    """Load ``model_dirs`` and serve them until interrupted (blocks).

    ``token`` defaults to ``$LITTLEDATA_TOKEN``; without one only a loopback address is allowed.
    See :func:`littledata.serve.app.create_app` for the rest.
    """
    import uvicorn

    from littledata.serve.app import create_app
    from littledata.serve.models import ModelSet

    token = token if token is not None else os.environ.get(TOKEN_ENV) or None
    check_address(host, port, token)
    if isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1:
        raise ConfigError(f"--max-batch must be 1 or more; got {max_batch!r}")
    if not max_wait >= 0:
        raise ConfigError(f"--batch-wait-ms must be 0 or more; got {max_wait * 1000!r}")
    models = ModelSet.load(list(model_dirs))
    app = create_app(models, token=token, limits=limits, max_batch=max_batch, max_wait=max_wait)
    log.info("serving %d models on %d encoders", len(models), len(models.encoders))
    uvicorn.run(app, host=host, port=port, log_level=log_level)
