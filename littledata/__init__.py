"""littledata: transfer learning and active learning for NLP problems with little labeled data."""

from __future__ import annotations

from littledata.datasets.loading import load_dataset
from littledata.errors import LittleDataError

__version__ = "0.1.0"

__all__ = ["LittleDataError", "__version__", "load_dataset"]
