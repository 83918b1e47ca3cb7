"""Datasets for active learning: load one and check its task type supports the loop."""

from __future__ import annotations

from littledata.datasets.base import Dataset
from littledata.errors import ConfigError
from littledata.tasks import TASK_TYPES

__all__ = ["check_active_task", "load_active_dataset"]


def check_active_task(name: str, task: str) -> None:
    """Raise a ConfigError when datasets of ``task`` cannot be used for active learning."""
    task_type = TASK_TYPES.get(str(task))
    if task_type is None or not task_type.active_learning:
        supported = sorted(n for n, t in TASK_TYPES.items() if t.active_learning)
        raise ConfigError(
            f"Active learning here needs a dataset of a task it supports "
            f"({', '.join(supported)}); {name!r} is {task}."
        )


def load_active_dataset(name: str | Dataset, *, mirror: str | None = None) -> Dataset:
    """Load a registry dataset (or a user's file; or take a loaded dataset, e.g. a user's train
    and test files) and check active learning supports its task."""
    from littledata.datasets.loading import load_dataset

    ds = name if isinstance(name, Dataset) else load_dataset(name, mirror=mirror)
    check_active_task(ds.name, str(ds.task))
    return ds
