"""Reports: learning curves, rank tables and the self-contained HTML page of a benchmark.

>>> from littledata.report import write_report
>>> path = write_report(out_dir="bench-report")  # doctest: +SKIP
"""

from __future__ import annotations

from littledata.report.bench import default_report_dir, write_report

__all__ = ["default_report_dir", "write_report"]
