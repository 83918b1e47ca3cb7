"""The models a server holds: saved model folders, each distinct featurizer loaded once.

:meth:`ModelSet.load` reads each folder's manifest, builds the featurizer it names (one object
per distinct name, options and fingerprint, however many heads share it) and loads the head
against that object, so ten heads on MiniLM hold one MiniLM. Nothing here knows about HTTP.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from littledata.errors import ConfigError

__all__ = ["ModelSet", "ServedModel", "parse_model_arg"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


@dataclass(frozen=True)
class ServedModel:
    """One loaded model: its name in URLs, folder, :class:`~littledata.models.TextClassifier`,
    manifest, and the key of the featurizer it shares with others."""

    name: str
    path: Path
    model: Any
    manifest: dict[str, Any]
    encoder: str

    @property
    def task(self) -> str:
        """The model's task (``single-label``, ``sentence-pair``, ``multi-label``)."""
        return str(self.model.TASK)

    @property
    def inputs(self) -> str:
        """What a request sends it: ``"pairs"`` of texts for a sentence-pair model, else
        ``"texts"``."""
        return str(self.model.INPUTS)

    @property
    def classes(self) -> list[Any]:
        """The label names, in the order of the probability columns."""
        return [c.item() if hasattr(c, "item") else c for c in self.model.classes_]

    def summary(self) -> dict[str, Any]:
        """What ``GET /v1/models`` shows of it."""
        return {
            "name": self.name,
            "task": self.task,
            "inputs": self.inputs,
            "classes": self.classes,
            "featurizer": self.manifest.get("featurizer", {}).get("name"),
            "head": self.manifest.get("head", {}).get("name"),
            "metrics": self.manifest.get("metrics", {}),
            "manifest": {k: v for k, v in self.manifest.items() if k != "head"}
            | {"head": {k: v for k, v in self.manifest.get("head", {}).items() if k != "state"}},
        }


def parse_model_arg(value: str | os.PathLike[str]) -> tuple[str, Path]:
    """``NAME=FOLDER`` or ``FOLDER`` (named after the folder) as ``(name, folder)``."""
    text = os.fspath(value)
    name, sep, folder = text.partition("=")
    if not sep or not _NAME.match(name):
        name, folder = Path(text).name, text
    if not _NAME.match(name):
        raise ConfigError(
            f"{text!r}: a model's name is used in URLs and may hold letters, digits, '.', '_' and "
            "'-'; name it with NAME=FOLDER"
        )
    return name, Path(folder)


def _encoder_key(manifest: Mapping[str, Any]) -> str:
    fz = manifest.get("featurizer") or {}
    return json.dumps(
        [fz.get("name"), fz.get("options") or {}, fz.get("fingerprint")], sort_keys=True
    )


class ModelSet:
    """Models by name, and the featurizers they use (each once).

    Attributes
    ----------
    models : dict of str to ServedModel
    encoders : dict of str to featurizer
        One featurizer per distinct (name, options, fingerprint).
    """

    def __init__(self, models: Mapping[str, ServedModel], encoders: Mapping[str, Any]) -> None:
        self.models = dict(models)
        self.encoders = dict(encoders)

    @classmethod
    def load(
        cls,
        folders: Sequence[str | os.PathLike[str] | tuple[str, str | os.PathLike[str]]],
        *,
        featurizers: Mapping[str, Any] | None = None,
    ) -> ModelSet:
        """Load model folders (``"NAME=FOLDER"``, a folder, or ``(name, folder)``).

        ``featurizers`` maps a featurizer name to an already-built featurizer to use for the
        models naming it (its fingerprint is checked as always); others are built from the
        manifest with :func:`~littledata.features.get_featurizer`.

        Raises
        ------
        ConfigError
            No folders, a name given twice, a name unfit for URLs.
        ArtifactError
            A folder is not a model, is altered, or names another featurizer than it finds.
        """
        from littledata.models import load_model
        from littledata.models.artifact import read_manifest

        if not folders:
            raise ConfigError("Name at least one model folder to serve.")
        given = dict(featurizers or {})
        models: dict[str, ServedModel] = {}
        encoders: dict[str, Any] = {}
        for item in folders:
            name, folder = (
                (item[0], Path(item[1])) if isinstance(item, tuple) else parse_model_arg(item)
            )
            if name in models:
                raise ConfigError(
                    f"Two models are named {name!r} ({models[name].path} and {folder}); name them "
                    "apart with NAME=FOLDER."
                )
            manifest = read_manifest(folder)
            key = _encoder_key(manifest)
            fz = encoders.get(key)
            if fz is None:
                spec = manifest.get("featurizer") or {}
                fz = given.get(str(spec.get("name")))
                if fz is None:
                    fz = _build_featurizer(folder, spec)
            model = load_model(folder, featurizer=fz)
            encoders.setdefault(key, fz)
            models[name] = ServedModel(name, folder, model, manifest, key)
        return cls(models, encoders)

    def __iter__(self) -> Iterator[ServedModel]:
        return iter(self.models.values())

    def __len__(self) -> int:
        return len(self.models)


def _build_featurizer(folder: Path, spec: Mapping[str, Any]) -> Any:
    from littledata.errors import ArtifactError
    from littledata.features import get_featurizer

    name, options = spec.get("name"), spec.get("options") or {}
    if not isinstance(name, str) or not isinstance(options, dict):
        raise ArtifactError(f"{folder}: the manifest names no featurizer")
    try:
        return get_featurizer(name, **options)
    except TypeError as exc:
        raise ArtifactError(
            f"{folder}: featurizer {name!r} cannot be built with options {options!r}: {exc}"
        ) from None
