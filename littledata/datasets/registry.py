"""The dataset registry: a plain dict of :class:`DatasetSpec` filled by :func:`register`."""

from __future__ import annotations

from littledata.datasets.base import DatasetSpec
from littledata.errors import unknown_name

DATASETS: dict[str, DatasetSpec] = {}


def register(spec: DatasetSpec) -> DatasetSpec:
    """Add ``spec`` to the registry (its name must be new) and return it."""
    if spec.name in DATASETS:
        raise ValueError(f"dataset {spec.name!r} is registered twice")
    DATASETS[spec.name] = spec
    return spec


def _ensure_catalog() -> None:
    # The catalog module registers the built-in datasets on import.
    import littledata.datasets.catalog  # noqa: F401


def get_spec(name: str) -> DatasetSpec:
    """Return the spec registered as ``name``; unknown names raise with the closest suggestions."""
    _ensure_catalog()
    try:
        return DATASETS[name]
    except KeyError:
        raise unknown_name("dataset", name, DATASETS) from None


def list_specs() -> list[DatasetSpec]:
    """Return every registered spec, sorted by name."""
    _ensure_catalog()
    return [DATASETS[k] for k in sorted(DATASETS)]
