"""The dataset registry: :data:`DATASETS`, a :class:`~littledata.registry.Registry` of
:class:`DatasetSpec` filled by :func:`register`.

The built-in specs (:mod:`littledata.datasets.catalog`) are registered on the first read of the
registry; ``littledata.datasets`` tells it how (this module does not import the catalog).
"""

from __future__ import annotations

from littledata.datasets.base import DatasetSpec
from littledata.registry import Registry

DATASETS: Registry[DatasetSpec] = Registry("dataset")


def register(spec: DatasetSpec) -> DatasetSpec:
    """Add ``spec`` to the registry and return it.

    Raises
    ------
    DuplicateNameError: a dataset with that name is already registered.
    """
    return DATASETS.add(spec.name, spec)


def get_spec(name: str) -> DatasetSpec:
    """Return the spec registered as ``name``; unknown names raise with the closest suggestions."""
    return DATASETS.get(name)


def list_specs() -> list[DatasetSpec]:
    """Return every registered spec, sorted by name."""
    return [DATASETS[k] for k in DATASETS.names()]
