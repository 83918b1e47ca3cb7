"""The thread limit reaches every BLAS/OpenMP pool, also one loaded after its first use."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap


def test_a_pool_loaded_after_the_first_limit_is_limited_too() -> None:
    # In a fresh interpreter: limit once (the controller is made and kept), then import torch,
    # which loads its own OpenMP runtime; the next limit must cover that runtime as well.
    code = textwrap.dedent(
        """
        import json
        import numpy
        from threadpoolctl import threadpool_info
        from littledata.threads import thread_limit

        with thread_limit(1):
            pass
        before = len(threadpool_info())
        import torch  # noqa: F401
        after = len(threadpool_info())
        with thread_limit(1):
            seen = {(i["filepath"], i["num_threads"]) for i in threadpool_info()}
        print(json.dumps([before, after, sorted(n for _, n in seen)]))
        """
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300
    ).stdout
    before, after, counts = json.loads(out.strip().splitlines()[-1])
    assert after > before  # torch brought a pool the first controller never saw
    assert counts == [1] * len(counts)  # every pool, old and new, at one thread
