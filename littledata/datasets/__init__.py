"""Datasets: the registry of real datasets, download with verification, parsers, user files."""

from __future__ import annotations

from littledata.datasets.base import Dataset, DatasetSpec, RemoteFile, Split, Task
from littledata.datasets.loading import load_dataset
from littledata.datasets.registry import DATASETS, get_spec, list_specs, register


def _load_catalog() -> None:
    # registers the built-in datasets: single-label, then those of the other task types
    from littledata.datasets import catalog, catalog_tasks  # noqa: F401


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
