"""Datasets: the registry of real datasets, download with verification, parsers, user files."""

from __future__ import annotations

from littledata.datasets.base import Dataset, DatasetSpec, RemoteFile, Split, Task
from littledata.datasets.loading import load_dataset
from littledata.datasets.registry import DATASETS, get_spec, list_specs, register


def _load_catalog() -> None:
    import littledata.datasets.catalog  # noqa: F401  (registers the built-in datasets)


DATASETS.set_loader(_load_catalog)

__all__ = [
    "Dataset",
    "DatasetSpec",
    "RemoteFile",
    "Split",
    "Task",
    "get_spec",
    "list_specs",
    "load_dataset",
    "register",
]
