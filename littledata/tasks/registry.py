"""The registry of task types (:data:`TASK_TYPES`) and its decorator."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from littledata.errors import ConfigError, unknown_name
from littledata.tasks.base import TaskType

__all__ = [
    "TASK_TYPES",
    "get_task_type",
    "head_serves",
    "head_task_problem",
    "register_task_type",
    "task_metrics",
    "task_summary",
]

TASK_TYPES: dict[str, TaskType] = {}
"""Task name (``Dataset.task``) -> its :class:`~littledata.tasks.base.TaskType` instance."""

T = TypeVar("T", bound=type[TaskType])


def register_task_type(cls: T) -> T:
    """Class decorator: register one instance of ``cls`` under ``cls.name`` (no duplicates)."""
    if not cls.name:
        raise ValueError(f"{cls.__name__} has no name")
    if cls.name in TASK_TYPES:
        raise ValueError(f"a task type named {cls.name!r} is already registered")
    TASK_TYPES[cls.name] = cls()
    return cls


def get_task_type(name: str) -> TaskType:
    """The task type of a dataset's task (``str(dataset.task)``).

    Raises :class:`~littledata.errors.ConfigError` for a task littledata has no task type for
    yet, and an unknown-name error for a name that is no task at all.
    """
    name = str(name)
    if name in TASK_TYPES:
        return TASK_TYPES[name]
    from littledata.datasets.base import Task

    if name in {t.value for t in Task}:
        raise ConfigError(
            f"littledata cannot train or score {name} tasks yet ({Task(name).summary}); "
            f"supported: {', '.join(sorted(TASK_TYPES))}."
        )
    raise unknown_name("task", name, TASK_TYPES)


def head_serves(task: str, head_tasks: Sequence[str]) -> bool:
    """Whether a head serving ``head_tasks`` serves ``task``: it lists the task, or the task's
    type adapts heads of a task it lists (:attr:`~littledata.tasks.base.TaskType.head_task`:
    sentence pairs and multi-label take every single-label head)."""
    if task in head_tasks:
        return True
    task_type = TASK_TYPES.get(str(task))
    return bool(task_type and task_type.head_task and task_type.head_task in head_tasks)


def head_task_problem(task: str, head: str, head_tasks: Sequence[str], dataset: str) -> str:
    """The explanation for a head that does not serve the dataset's task, e.g. "dataset 'msrp'
    is sentence-pair (a label per pair of texts); head 'logreg' predicts one label per text
    (single-label only)"."""
    what = " or ".join(task_summary(t) for t in head_tasks) or "nothing"
    return (
        f"dataset {dataset!r} is {task} ({task_summary(task)}); head {head!r} predicts {what} "
        f"({', '.join(head_tasks)} only)"
    )


def task_summary(task: str) -> str:
    """What a task predicts in a few words: its task type's summary, or the dataset task's."""
    from littledata.datasets.base import Task

    if task in TASK_TYPES:
        return TASK_TYPES[task].summary
    try:
        return Task(task).summary
    except ValueError:
        return task


def task_metrics(task: str, wanted: Sequence[str]) -> list[str]:
    """The metrics of ``wanted`` (the first one the primary) that ``task`` measures; when it
    does not measure the primary, its task type's own primary (first metric) leads instead.

    >>> task_metrics("sequence-labeling", ["macro_f1", "accuracy", "entity_f1"])
    ['entity_f1']
    >>> task_metrics("single-label", ["macro_f1", "accuracy", "entity_f1"])
    ['macro_f1', 'accuracy']
    """
    task_type = TASK_TYPES.get(str(task))
    if task_type is None:
        return list(wanted)
    own = [m for m in wanted if m in task_type.metrics]
    if wanted and wanted[0] not in task_type.metrics:
        own = [task_type.metrics[0], *(m for m in own if m != task_type.metrics[0])]
    return own
