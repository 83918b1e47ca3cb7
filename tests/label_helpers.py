"""Shared pieces of the labeling app's tests: a fast made-up featurizer and a small pool."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


class HashFeaturizer:
    """Word hashing into 64 dense dimensions (L2-normalised): instant, deterministic."""

    name = "hash64"
    kind = "dense"
    dim = 64
    fingerprint = "hash64-test-v1"

    def transform(self, texts: Sequence[str]) -> np.ndarray:
        from sklearn.feature_extraction.text import HashingVectorizer

        vec = HashingVectorizer(n_features=self.dim, alternate_sign=False, norm="l2")
        return vec.transform(list(texts)).toarray().astype(np.float32)


def pool(n: int = 60) -> list[str]:
    """Texts of two kinds (good / bad words), distinct."""
    good = ["great", "lovely", "wonderful", "superb", "fine"]
    bad = ["awful", "terrible", "horrid", "dreadful", "poor"]
    out = []
    for i in range(n):
        words = good if i % 2 == 0 else bad
        out.append(f"{words[i % 5]} {words[(i // 2) % 5]} film number {i}")
    return out


def truth(text: str) -> str:
    return (
        "pos"
        if any(w in text for w in ("great", "lovely", "wonderful", "superb", "fine"))
        else "neg"
    )


def write_reviews(path, n: int = 80, labeled: int = 4) -> list[str]:
    """A CSV of ``n`` reviews, the first ``labeled`` with their label; returns the texts."""
    import csv

    texts = pool(n)
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["text", "label"])
        for i, t in enumerate(texts):
            w.writerow([t, truth(t) if i < labeled else ""])
    return texts


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(args: list[str], port: int, env: dict | None = None, timeout: float = 120.0):
    """Run ``littledata label serve ARGS --port PORT`` and wait until it answers."""
    import os
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "littledata"), "label", *args, "--port", str(port)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"the server ended: {proc.stdout.read()}")  # type: ignore[union-attr]
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/config", timeout=2).status_code in (
                200,
                401,
            ):
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise RuntimeError("the server did not start in time")


def stop_server(proc, sig=None) -> None:
    import signal

    proc.send_signal(sig or signal.SIGTERM)
    try:
        proc.wait(30)
    except Exception:
        proc.kill()
        proc.wait(10)
