"""Task types: one class per kind of prediction (see :mod:`littledata.tasks.base`).

>>> from littledata.tasks import get_task_type
>>> get_task_type("single-label").summary
'one label per text'
"""

from littledata.tasks.base import TaskType
from littledata.tasks.multi_label import MultiLabel
from littledata.tasks.registry import (
    TASK_TYPES,
    get_task_type,
    head_serves,
    head_task_problem,
    register_task_type,
    task_metrics,
    task_summary,
)
from littledata.tasks.sentence_pair import SentencePair, pair_features
from littledata.tasks.sequence_labeling import SequenceLabeling
from littledata.tasks.single_label import SingleLabel

__all__ = [
    "TASK_TYPES",
    "MultiLabel",
    "SentencePair",
    "SequenceLabeling",
    "SingleLabel",
    "TaskType",
    "get_task_type",
    "head_serves",
    "head_task_problem",
    "pair_features",
    "register_task_type",
    "task_metrics",
    "task_summary",
]
