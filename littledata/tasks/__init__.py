"""Task types: one class per kind of prediction (see :mod:`littledata.tasks.base`).

>>> from littledata.tasks import get_task_type
>>> get_task_type("single-label").summary
'one label per text'
"""

from littledata.tasks.base import TaskType
from littledata.tasks.registry import (
    TASK_TYPES,
    get_task_type,
    head_task_problem,
    register_task_type,
    task_summary,
)
from littledata.tasks.single_label import SingleLabel

__all__ = [
    "TASK_TYPES",
    "SingleLabel",
    "TaskType",
    "get_task_type",
    "head_task_problem",
    "register_task_type",
    "task_summary",
]
