"""Datasets for active learning: load one and check its task type supports the loop."""

from __future__ import annotations

from littledata.datasets.base import Dataset
from littledata.datasets.source import DataSource
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


def load_active_dataset(
    name: str | Dataset | DataSource,
    *,
    mirror: str | None = None,
    labels: str = "required",
    splits_itself: bool = False,
) -> Dataset:
    """Load a registry dataset or a user's file (a path, or a
    :class:`~littledata.datasets.source.DataSource` with its reading options), or take a loaded
    dataset (e.g. a user's train and test files), and check active learning supports its task.

    ``labels="optional"``: a user's rows without a label load too (split ``"unlabeled"``), for
    a pool a person labels. ``splits_itself``: the caller holds out a test split itself when
    the file has none (the simulation), so its absence is not warned about.
    """
    if isinstance(name, Dataset):
        ds = name
    else:
        source = DataSource.parse(name)
        ds = source.load(mirror=mirror, labels=labels, splits_itself=splits_itself)
    check_active_task(ds.name, str(ds.task))
    return ds
