"""The registry of task types (:data:`TASK_TYPES`) and its decorator."""

from __future__ import annotations

from typing import TypeVar

from littledata.errors import ConfigError, unknown_name
from littledata.tasks.base import TaskType

__all__ = ["TASK_TYPES", "get_task_type", "register_task_type"]

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
