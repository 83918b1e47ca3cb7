"""Who is labeling: annotator names, and per-annotator tokens that identify them.

Without per-annotator tokens each annotator names themself (every request's body carries an
``annotator`` name; an optional shared token only keeps strangers out). With them, a request's
bearer token *is* the annotator: the page asks no name, and a body naming someone else is refused.

The tokens come from a small file (read as data, never run) or from the command line::

    # annotators.toml                      // annotators.json
    [annotators]                           {"annotators": {"alice": "7f3c...",
    alice = "7f3c..."                                      "bob": "a91e..."}}
    bob = "a91e..."

(the ``annotators`` table may be left out: then the file's top level maps names to tokens), or
``--annotator-token alice=7f3c...`` given once per annotator.
"""

from __future__ import annotations

import json
import re
import secrets
import tomllib
from collections.abc import Iterable, Mapping
from pathlib import Path

from littledata.errors import ConfigError

__all__ = [
    "ANNOTATOR",
    "RESERVED",
    "check_annotators",
    "identify",
    "parse_annotator_tokens",
    "read_annotators",
]

ANNOTATOR = r"^[A-Za-z0-9][A-Za-z0-9 _.@+-]{0,99}$"
"""What an annotator's name may be (1-100 characters; letters, digits, `` _.@+-``)."""

RESERVED = ("file",)
"""Names the app gives itself: ``file`` answered the labels a data file came with."""

_TOKEN = re.compile(r"^[!-~]{8,200}$")  # printable ASCII, no spaces: it travels in a header


def check_annotators(tokens: Mapping[str, str], where: str) -> dict[str, str]:
    """``tokens`` (name -> token) checked: valid names, none reserved, tokens of 8-200
    printable characters without spaces, no token shared by two names. ``where`` names the
    source in the messages."""
    out: dict[str, str] = {}
    for name, token in tokens.items():
        if not isinstance(name, str) or not re.match(ANNOTATOR, name):
            raise ConfigError(
                f"{where}: {name!r} is not an annotator name (1-100 letters, digits, spaces or "
                "_.@+-, starting with a letter or digit)."
            )
        if name in RESERVED:
            raise ConfigError(f"{where}: the annotator name {name!r} is reserved; choose another.")
        if not isinstance(token, str) or not _TOKEN.match(token):
            raise ConfigError(
                f"{where}: the token of {name} must be 8-200 printable characters without "
                "spaces (e.g. from `python -c 'import secrets; print(secrets.token_urlsafe())'`)."
            )
        out[name] = token
    if not out:
        raise ConfigError(f"{where} names no annotator.")
    if len(set(out.values())) != len(out):
        raise ConfigError(f"{where}: two annotators have the same token; give each their own.")
    return out


def read_annotators(path: str | Path) -> dict[str, str]:
    """The annotators of a ``.toml`` or ``.json`` file (see the module docstring), checked."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".toml", ".json"):
        raise ConfigError(f"Cannot tell the format of {path.name}: end it in .toml or .json.")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"There is no annotators file {path}.") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{path} is not UTF-8 text; save it as UTF-8.") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    try:
        data = tomllib.loads(text) if suffix == ".toml" else json.loads(text)
    except (tomllib.TOMLDecodeError, json.JSONDecodeError) as exc:
        raise ConfigError(f"{path} is not valid {suffix[1:].upper()}: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("annotators"), dict) and len(data) == 1:
        data = data["annotators"]
    if not isinstance(data, dict):
        raise ConfigError(f"{path} must map each annotator's name to their token.")
    return check_annotators(data, str(path))


def parse_annotator_tokens(pairs: Iterable[str]) -> dict[str, str]:
    """``["alice=TOKEN", ...]`` (``--annotator-token``) as name -> token, checked."""
    out: dict[str, str] = {}
    for pair in pairs:
        name, sep, token = pair.partition("=")
        if not sep:
            raise ConfigError(f"--annotator-token takes NAME=TOKEN; got {pair!r}.")
        if name.strip() in out:
            raise ConfigError(f"--annotator-token names {name.strip()} twice.")
        out[name.strip()] = token
    return check_annotators(out, "--annotator-token")


def identify(tokens: Mapping[str, str], given: str) -> str | None:
    """The annotator whose token is ``given`` (``None``: no one's). Compares with every token
    in constant time, so the answer's timing does not tell how much of a token was right."""
    found = None
    for name, token in tokens.items():
        if secrets.compare_digest(given.encode(), token.encode()):
            found = name
    return found
